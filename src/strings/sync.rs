//! Messages of snapshot, merge, conflicts and resolve (issue 4).

use super::t;

macro_rules! msg {
    ($($name:ident => $zh:literal, $en:literal;)+) => {
        $(pub fn $name() -> &'static str { t($zh, $en) })+
    };
}

msg! {
    more_problems => "个问题未列出", "more problems not listed";
    file_refused => "拒绝合并此文件，本地数据库未作任何改动", "file refused; the local database was not changed";
    not_sqlite => "不是 SQLite 数据库文件", "is not an SQLite database file";
    truncated => "文件不完整（被截断）", "the file is truncated (incomplete copy)";
    corrupt => "数据库文件已损坏", "the database file is corrupt";
    unreadable => "无法读取数据库文件", "the database file cannot be read";
    live_database => "旁边有 -wal 文件：这是正在使用的数据库，不是快照；请在原电脑上用 ruralsan snapshot 生成快照", "has a -wal file beside it: it is a database in use, not a snapshot; make one with ruralsan snapshot on its laptop";
    no_such_file => "文件不存在（或不是普通文件）", "no such file (or not a regular file)";
    cannot_copy => "无法复制到暂存区", "cannot copy it to the staging folder";
    integrity_failed => "完整性检查未通过", "the integrity check failed";
    bad_device_id => "缺少或无效的设备编号（meta.device_id）", "missing or invalid device id (meta.device_id)";
    revision => "版本", "revision";
    visit => "调查", "visit";
    bad_text => "为空、过长或含控制字符", "is empty, too long or holds control characters";
    bad_rev_id => "应为 32 位小写十六进制", "is not 32 lowercase hex digits";
    bad_hlc => "时间戳格式无效", "is not a clock stamp";
    parents_unsorted => "父版本列表未排序或有重复", "parent list is not sorted or holds duplicates";
    merge_needs_parents => "自动合并版本至少应有两个父版本", "an automatic merge needs at least two parents";
    deleted_with_payload => "已删除的版本不应带内容", "a deletion must carry no content";
    payload_unreadable => "内容无法解析", "the content cannot be read";
    payload_not_canonical => "内容不是规范格式", "the content is not in canonical form";
    rev_id_mismatch => "版本编号与内容不符（内容被改动过）", "does not match the content (the content was altered)";
    bad_code => "应为 12 位统计用区划代码", "is not a 12-digit division code";
    bad_roster_row => "名录行无效", "invalid roster row";
    revisions_checked => "个版本已检查", "revisions checked";
    visits_updated => "条调查已更新", "visits updated";
    snapshot_exists => "文件已存在；请换一个文件名或先删除它", "already exists; choose another name or delete it first";
    bad_path => "路径无效", "is not a usable path";
    snapshot_failed => "无法写入快照", "cannot write the snapshot";
    snapshot_check_failed => "快照检查未通过，已删除", "the snapshot failed its check and was removed";
    backup_failed => "无法备份本地数据库，未合并", "cannot back up the local database; nothing merged";
    no_such_visit => "没有这条调查", "no such visit";
    no_conflict => "这条调查没有待解决的冲突", "this visit has no open conflict";
    not_a_head => "不是这条调查的冲突版本之一（或前缀不唯一）；可选：", "is not one of the visit's conflicting revisions (or the prefix is ambiguous); choose from:";
    deletion_needs_take => "修改与删除冲突：请用 --take 选择整个版本", "an edit conflicts with a deletion: choose a whole side with --take";
    fields_unresolved => "以下冲突字段尚未选择（用 --field 字段=版本，或 --take 版本）：", "these conflicting fields have no choice yet (use --field FIELD=REV, or --take REV):";
    field_on_deleted => "所取版本已删除，不能再逐字段选择", "the side taken is a deletion; fields cannot be taken on top of it";
    no_such_field => "没有这个字段", "no such field";
    result_unreadable => "合成结果无效", "the combined result is not a valid visit";
    result_breaks_rule => "合成结果不符合规则：", "the combined result breaks a rule:";
    dry_run => "【试运行，未写入】", "[dry run, nothing written] ";
    backup_taken => "合并前已备份本地数据库：", "backup of the local database taken before merging:";
    open_conflicts => "待解决冲突", "open conflicts";
    no_open_conflicts => "没有待解决的冲突", "no open conflicts";
    deleted_value => "（已删除）", "(deleted)";
    absent_value => "（无）", "(absent)";
    base_value => "原值", "was";
    resolved => "已解决，新版本：", "resolved; new revision:";
    some_refused => "个文件被拒绝", "file(s) refused";
    field_syntax => "应写成 字段=版本，如 households=3f2a", "must be FIELD=REV, e.g. households=3f2a";
}

pub fn value_too_big(max: usize) -> String {
    match super::lang() {
        super::Lang::Zh => format!("含有超过 {} MB 的值，疑为恶意或损坏文件", max / (1024 * 1024)),
        super::Lang::En => format!("holds a value larger than {} MB: hostile or broken", max / (1024 * 1024)),
    }
}

pub fn wrong_application_id(id: i64) -> String {
    match super::lang() {
        super::Lang::Zh => format!("不是 ruralsan 数据库（application_id = {id}）"),
        super::Lang::En => format!("is not a ruralsan database (application_id = {id})"),
    }
}

pub fn newer_version(v: i64, ours: i64) -> String {
    match super::lang() {
        super::Lang::Zh => format!("由更新版本的 ruralsan 写入（数据库版本 {v}，本程序支持 {ours}），请升级 ruralsan"),
        super::Lang::En => format!(
            "was written by a newer ruralsan (schema version {v}, this program supports {ours}); please upgrade ruralsan"
        ),
    }
}

pub fn older_version(v: i64, ours: i64) -> String {
    match super::lang() {
        super::Lang::Zh => format!("数据库版本 {v} 不受支持（本程序为 {ours}）；请先用本程序打开它"),
        super::Lang::En => {
            format!("schema version {v} is not supported (this program writes {ours}); open it with this program first")
        }
    }
}

pub fn schema_differs(extra: &[String], missing: &[String]) -> String {
    let (e, m) = (extra.join(", "), missing.join(", "));
    match super::lang() {
        super::Lang::Zh => format!("数据库结构与 ruralsan 不符（多出：{e}；缺少或不同：{m}）"),
        super::Lang::En => format!("the schema is not ruralsan's (extra: {e}; missing or different: {m})"),
    }
}

pub fn parent_missing(p: &str) -> String {
    match super::lang() {
        super::Lang::Zh => format!("父版本 {p} 不在文件中"),
        super::Lang::En => format!("parent {p} is not in the file"),
    }
}

/// One merged file: counts in a sentence.
#[allow(clippy::too_many_arguments)]
pub fn merged_line(
    file: &str,
    revisions: u64,
    new_revisions: u64,
    new_visits: u64,
    auto_merged: u64,
    conflicts: u64,
    roster_added: u64,
    device: &str,
    dry_run: bool,
) -> String {
    let (zh, en) = if dry_run { ("可合并", "would merge") } else { ("已合并", "merged") };
    match super::lang() {
        super::Lang::Zh => format!(
            "{file}：{zh}（设备 {device}）{revisions} 个版本，其中新版本 {new_revisions} 个；新调查 {new_visits} 条，自动合并 {auto_merged} 条，冲突 {conflicts} 条；名录新增 {roster_added} 个单位"
        ),
        super::Lang::En => format!(
            "{file}: {en} (device {device}) {revisions} revisions, {new_revisions} new; {new_visits} new visits, {auto_merged} auto-merged, {conflicts} in conflict; {roster_added} roster units added"
        ),
    }
}

pub fn roster_name_differs(code: &str, here: &str, there: &str) -> String {
    match super::lang() {
        super::Lang::Zh => format!("  名录名称不一致（未覆盖）{code}：本地“{here}”，文件“{there}”"),
        super::Lang::En => {
            format!("  roster name differs (kept ours) {code}: here \"{here}\", in the file \"{there}\"")
        }
    }
}

pub fn more_names_differ(n: usize) -> String {
    match super::lang() {
        super::Lang::Zh => format!("  ……另有 {n} 个名录名称不一致"),
        super::Lang::En => format!("  … {n} more roster names differ"),
    }
}

pub fn already_merged_line(file: &str, at: &str, first: &str) -> String {
    match super::lang() {
        super::Lang::Zh => format!("{file}：此前已合并（{at}，当时文件名 {first}），相同文件，未作改动"),
        super::Lang::En => format!("{file}: already merged ({at}, then named {first}); same file, nothing changed"),
    }
}

pub fn snapshot_line(path: &str, bytes: u64, revisions: i64, visits: i64) -> String {
    match super::lang() {
        super::Lang::Zh => {
            format!("{path}：快照已写入并通过完整性检查（{bytes} 字节，{visits} 条调查，{revisions} 个版本）")
        }
        super::Lang::En => {
            format!("{path}: snapshot written and checked ({bytes} bytes, {visits} visits, {revisions} revisions)")
        }
    }
}

pub fn conflict_header(village: &str, name: &str, visit: &str, n: usize) -> String {
    match super::lang() {
        super::Lang::Zh => format!("{village} {name}  调查 {visit}：{n} 个冲突字段"),
        super::Lang::En => format!("{village} {name}  visit {visit}: {n} conflicting field(s)"),
    }
}

pub fn side_line(rev: &str, value: &str, device: &str, author: &str, time: &str) -> String {
    match super::lang() {
        super::Lang::Zh => format!("      {rev}  {value}    （设备 {device}，{author}，{time}）"),
        super::Lang::En => format!("      {rev}  {value}    (device {device}, {author}, {time})"),
    }
}

pub fn resolve_hint() -> &'static str {
    t(
        "解决：ruralsan resolve 调查编号 --take 版本   或   --field 字段=版本 …",
        "settle with: ruralsan resolve VISIT_ID --take REV   or   --field FIELD=REV …",
    )
}

/// The summary table's warning line.
pub fn summary_conflicts(lang: super::Lang, n: i64) -> String {
    match lang {
        super::Lang::Zh => format!("⚠ {n} 条调查有待解决的冲突；指标暂按确定性胜出版本计算（ruralsan conflicts 查看）"),
        super::Lang::En => format!(
            "⚠ {n} visit(s) with open conflicts; indicators use the deterministic winner meanwhile (see ruralsan conflicts)"
        ),
    }
}
