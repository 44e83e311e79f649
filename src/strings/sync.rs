//! Messages of snapshot, merge, conflicts and resolve.

use super::{Lang, pick};
use crate::text::one_line;

macro_rules! msg {
    ($($name:ident => $zh:literal, $en:literal;)+) => {
        $(pub fn $name(l: Lang) -> &'static str { pick(l, $zh, $en) })+
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
    own_database => "这就是本数据库自身，无需合并（未做备份）", "is this database itself: nothing to merge (no backup taken)";
    no_such_file => "文件不存在（或不是普通文件）", "no such file (or not a regular file)";
    cannot_copy => "无法复制到暂存区", "cannot copy it to the staging folder";
    integrity_failed => "完整性检查未通过", "the integrity check failed";
    bad_device_id => "缺少或无效的设备编号（meta.device_id）", "missing or invalid device id (meta.device_id)";
    revision => "版本", "revision";
    visit => "调查", "visit";
    tombstone_without_visit => "删除了一条不存在的调查（无父版本的删除）", "deletes a visit that does not exist (a deletion without parents)";
    second_root => "这条调查已有一个无父版本的起始版本；第二个起始版本被拒绝", "the visit already has a first revision (one without parents); a second one is refused";
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
    read_only_database => "数据库文件是只读的，无法写入；请去掉文件的只读属性（Windows：文件属性；Linux：chmod u+w），或把它复制到可写的文件夹后用 --db 指定", "the database file is read-only, so nothing can be written; make the file writable (Windows: file properties; Linux: chmod u+w) or copy it to a writable folder and name it with --db";
    folder_not_writable => "无法在数据库所在文件夹中写入（数据库需要在此写入 -wal、-shm 文件和 backups/）；请修改文件夹权限，或用 --db 选择可写的文件夹", "cannot write in the database's folder (the database needs to write its -wal and -shm files and backups/ there); make the folder writable or choose a writable folder with --db";
    no_such_visit => "没有这条调查", "no such visit";
    no_conflict => "这条调查没有待解决的冲突", "this visit has no open conflict";
    not_a_head => "不是这条调查的冲突版本之一（或前缀不唯一）；可选：", "is not one of the visit's conflicting revisions (or the prefix is ambiguous); choose from:";
    deletion_needs_take => "修改与删除冲突：请用 --take 选择整个版本", "an edit conflicts with a deletion: choose a whole side with --take";
    fields_unresolved => "以下冲突字段尚未选择（用 --field 字段=版本，或 --take 版本）：", "these conflicting fields have no choice yet (use --field FIELD=REV, or --take REV):";
    field_on_deleted => "所取版本已删除，不能再逐字段选择", "the side taken is a deletion; fields cannot be taken on top of it";
    no_such_field => "未知字段", "unknown field";
    heads_changed => "显示之后冲突已有变化（又合并了别的版本），请重新查看再处理", "the conflict has changed since it was shown (another side was merged); look at it again";
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

/// A size in bytes for people: MB with one decimal (KB below 1 MB).
pub fn size(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} KB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / 1048576.0)
    }
}

pub fn no_space(l: Lang, needed: u64, free: u64) -> String {
    match l {
        Lang::Zh => format!(
            "磁盘空间不足：需要约 {}，仅剩 {}；未写入任何数据。请清理磁盘（如删除旧备份）后重试",
            size(needed),
            size(free)
        ),
        Lang::En => format!(
            "not enough disk space: about {} needed, {} free; nothing was written. Free some space (e.g. old backups) and try again",
            size(needed),
            size(free)
        ),
    }
}

pub fn too_many_heads(l: Lang, heads: usize, max: usize) -> String {
    match l {
        Lang::Zh => format!("合并后将有 {heads} 个相互冲突的版本（上限 {max}），疑为恶意或损坏文件"),
        Lang::En => {
            format!("would have {heads} conflicting versions after the merge (at most {max}): hostile or broken")
        }
    }
}

/// Where the backups are and how many are kept.
pub fn backups_kept(l: Lang, dir: &str, last: u32, months: u32, pruned: u64) -> String {
    match l {
        Lang::Zh => format!(
            "备份保存在 {dir}（保留最近 {last} 个，以及近 {months} 个月每月最新的一个；本次清理旧备份 {pruned} 个）"
        ),
        Lang::En => format!(
            "backups are kept in {dir} (the last {last}, and the newest of each of the last {months} months; {pruned} old backup(s) removed now)"
        ),
    }
}

pub fn value_too_big(l: Lang, max: usize) -> String {
    match l {
        Lang::Zh => format!("含有超过 {} MB 的值，疑为恶意或损坏文件", max / (1024 * 1024)),
        Lang::En => format!("holds a value larger than {} MB: hostile or broken", max / (1024 * 1024)),
    }
}

pub fn wrong_application_id(l: Lang, id: i64) -> String {
    match l {
        Lang::Zh => format!("不是 ruralsan 数据库（application_id = {id}）"),
        Lang::En => format!("is not a ruralsan database (application_id = {id})"),
    }
}

pub fn newer_version(l: Lang, v: i64, ours: i64, app: Option<&str>) -> String {
    let mine = env!("CARGO_PKG_VERSION");
    match (l, app) {
        (Lang::Zh, Some(a)) => format!(
            "由更新版本的 ruralsan {a} 写入（数据库版本 {v}，本程序 {mine} 支持 {ours}），请安装 ruralsan {a} 或更新版本"
        ),
        (Lang::Zh, None) => {
            format!("由更新版本的 ruralsan 写入（数据库版本 {v}，本程序 {mine} 支持 {ours}），请升级 ruralsan")
        }
        (Lang::En, Some(a)) => format!(
            "was written by ruralsan {a} (schema version {v}; this program, {mine}, supports {ours}): install ruralsan {a} or newer"
        ),
        (Lang::En, None) => format!(
            "was written by a newer ruralsan (schema version {v}; this program, {mine}, supports {ours}): please upgrade ruralsan"
        ),
    }
}

pub fn foreign_roster(l: Lang, units: usize, first: &[String]) -> String {
    let more = if units > first.len() { "…" } else { "" };
    let codes = first.join(", ");
    match l {
        Lang::Zh => format!(
            "含 {units} 个不在本地名录中的村（或社区）的调查：{codes}{more}；合并不会改动名录，名录只能用 roster import 更新"
        ),
        Lang::En => format!(
            "holds visits of {units} unit(s) not villages of the local roster: {codes}{more}; a merge never changes the roster (use roster import)"
        ),
    }
}

pub fn older_version(l: Lang, v: i64, ours: i64) -> String {
    match l {
        Lang::Zh => format!("数据库版本 {v} 不受支持（本程序为 {ours}）；请先用本程序打开它"),
        Lang::En => {
            format!("schema version {v} is not supported (this program writes {ours}); open it with this program first")
        }
    }
}

pub fn schema_differs(l: Lang, extra: &[String], missing: &[String]) -> String {
    let (e, m) = (extra.join(", "), missing.join(", "));
    match l {
        Lang::Zh => format!("数据库结构与 ruralsan 不符（多出：{e}；缺少或不同：{m}）"),
        Lang::En => format!("the schema is not ruralsan's (extra: {e}; missing or different: {m})"),
    }
}

pub fn parent_missing(l: Lang, p: &str) -> String {
    match l {
        Lang::Zh => format!("父版本 {p} 不在文件中"),
        Lang::En => format!("parent {p} is not in the file"),
    }
}

/// One merged file: counts in a sentence.
#[allow(clippy::too_many_arguments)]
pub fn merged_line(
    l: Lang,
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
    match l {
        Lang::Zh => format!(
            "{file}：{zh}（设备 {device}）{revisions} 个版本，其中新版本 {new_revisions} 个；新调查 {new_visits} 条，自动合并 {auto_merged} 条，冲突 {conflicts} 条；名录新增 {roster_added} 个单位"
        ),
        Lang::En => format!(
            "{file}: {en} (device {device}) {revisions} revisions, {new_revisions} new; {new_visits} new visits, {auto_merged} auto-merged, {conflicts} in conflict; {roster_added} roster units added"
        ),
    }
}

pub fn roster_name_differs(l: Lang, code: &str, here: &str, there: &str) -> String {
    match l {
        Lang::Zh => format!("  名录名称不一致（未覆盖）{code}：本地“{here}”，文件“{there}”"),
        Lang::En => {
            format!("  roster name differs (kept ours) {code}: here \"{here}\", in the file \"{there}\"")
        }
    }
}

pub fn more_names_differ(l: Lang, n: usize) -> String {
    match l {
        Lang::Zh => format!("  ……另有 {n} 个名录名称不一致"),
        Lang::En => format!("  … {n} more roster names differ"),
    }
}

pub fn already_merged_line(l: Lang, file: &str, at: &str, first: &str) -> String {
    match l {
        Lang::Zh => format!("{file}：此前已合并（{at}，当时文件名 {first}），相同文件，未作改动"),
        Lang::En => format!("{file}: already merged ({at}, then named {first}); same file, nothing changed"),
    }
}

pub fn snapshot_line(l: Lang, path: &str, bytes: u64, revisions: i64, visits: i64) -> String {
    match l {
        Lang::Zh => {
            format!("{path}：快照已写入并通过完整性检查（{bytes} 字节，{visits} 条调查，{revisions} 个版本）")
        }
        Lang::En => {
            format!("{path}: snapshot written and checked ({bytes} bytes, {visits} visits, {revisions} revisions)")
        }
    }
}

pub fn conflict_header(l: Lang, village: &str, name: &str, visit: &str, n: usize) -> String {
    match l {
        Lang::Zh => format!("{village} {name}  调查 {visit}：{n} 个冲突字段"),
        Lang::En => format!("{village} {name}  visit {visit}: {n} conflicting field(s)"),
    }
}

/// One side of a conflicting field: its value, then crew, editor, time and
/// the file it arrived in (`None`: made here).
pub fn side_line(l: Lang, rev: &str, value: &str, crew: &str, author: &str, time: &str, file: Option<&str>) -> String {
    let crew = crate::text::one_line(if crew.is_empty() { "?" } else { crew });
    let author = crate::text::one_line(author);
    match l {
        Lang::Zh => {
            let file = file.map_or("本机".to_string(), |f| format!("来自 {}", crate::text::one_line(f)));
            format!("      {rev}  {value}    （{crew}，录入 {author}，{time}，{file}）")
        }
        Lang::En => {
            let file = file.map_or("made here".to_string(), |f| format!("from {}", crate::text::one_line(f)));
            format!("      {rev}  {value}    ({crew}, editor {author}, {time}, {file})")
        }
    }
}

pub fn resolve_hint(l: Lang) -> &'static str {
    pick(
        l,
        "解决：ruralsan resolve 调查编号 --take 版本   或   --field 字段=版本 …",
        "settle with: ruralsan resolve VISIT_ID --take REV   or   --field FIELD=REV …",
    )
}

/// The summary table's warning line.
pub fn summary_conflicts(lang: Lang, n: i64) -> String {
    match lang {
        Lang::Zh => format!("⚠ {n} 条调查有待解决的冲突；指标暂按确定性胜出版本计算（ruralsan conflicts 查看）"),
        Lang::En => format!(
            "⚠ {n} visit(s) with open conflicts; indicators use the deterministic winner meanwhile (see ruralsan conflicts)"
        ),
    }
}

/// The merge report for people: what was merged (stdout) and what was refused (stderr).
pub fn render_merge(r: &crate::store::sync::MergeReport, l: Lang) -> (String, String) {
    use crate::store::sync::FileOutcome;
    let (mut out, mut err) = (String::new(), String::new());
    if r.dry_run {
        out.push_str(dry_run(l));
        out.push('\n');
    }
    if let Some(b) = &r.backup {
        out.push_str(&format!("{} {}\n", backup_taken(l), one_line(&b.display().to_string())));
    }
    if let Some(k) = &r.backups {
        out.push_str(&backups_kept(l, &k.dir.display().to_string(), k.keep.last, k.keep.months, k.pruned));
        out.push('\n');
    }
    for f in &r.files {
        match f {
            FileOutcome::Merged(x) => {
                out.push_str(&merged_line(
                    l,
                    &one_line(&x.file),
                    x.revisions,
                    x.new_revisions,
                    x.new_visits,
                    x.auto_merged,
                    x.conflicts,
                    x.roster_added,
                    &one_line(&x.source_device),
                    r.dry_run,
                ));
                out.push('\n');
                if x.new_reviews > 0 {
                    out.push_str(&crate::strings::checks::reviews_merged(l, x.new_reviews));
                    out.push('\n');
                }
                for (code, here, there) in x.roster_names_differ.iter().take(10) {
                    out.push_str(&roster_name_differs(l, code, &one_line(here), &one_line(there)));
                    out.push('\n');
                }
                if x.roster_names_differ.len() > 10 {
                    out.push_str(&more_names_differ(l, x.roster_names_differ.len() - 10));
                    out.push('\n');
                }
            }
            FileOutcome::AlreadyMerged { file, merged_at, first_name } => {
                out.push_str(&already_merged_line(l, &one_line(file), merged_at, &one_line(first_name)));
                out.push('\n');
            }
            FileOutcome::Refused(x) => {
                err.push_str(&super::errors::file_refused(x, l));
                err.push('\n');
            }
        }
    }
    out.push_str(&format!("{}: {}\n", open_conflicts(l), r.open_conflicts));
    (out, err)
}

/// What long work is under way, for a progress bar.
pub fn progress_label(l: Lang, w: crate::store::Work<'_>) -> String {
    use crate::store::Work;
    let name = |n: &str| one_line(n);
    match w {
        Work::File(f) => name(f),
        Work::WriteVisits => pick(l, "检查并写入调查", "checking and writing visits").to_string(),
        Work::Figures => pick(l, "计算每次调查的指标", "computing per-visit figures").to_string(),
        Work::Summary => pick(l, "汇总", "summary").to_string(),
        Work::RevisionsChecked(f) => format!("{}: {}", name(f), revisions_checked(l)),
        Work::VisitsUpdated(f) => format!("{}: {}", name(f), visits_updated(l)),
    }
}

/// The words after a progress bar's time left.
pub fn time_left(l: Lang) -> &'static str {
    pick(l, "剩余", "left")
}

/// A conflicting value for people.
fn show(l: Lang, v: &Option<serde_json::Value>, field: &str) -> String {
    use crate::store::conflict::DELETED_FIELD;
    use serde_json::Value;
    match v {
        None if field == DELETED_FIELD => deleted_value(l).to_string(),
        None => absent_value(l).to_string(),
        Some(Value::Bool(false)) if field == DELETED_FIELD => "—".to_string(),
        Some(Value::String(x)) => format!("{x:?}"),
        Some(x) => x.to_string(),
    }
}

/// A clock stamp as a UTC time for people.
fn show_hlc(hlc: &str) -> String {
    let ms: i64 = hlc.split('.').next().and_then(|w| w.parse().ok()).unwrap_or(0);
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| hlc.to_string())
}

/// The conflicts list for people.
pub fn render_conflicts(list: &[crate::store::conflict::Conflict], l: Lang) -> String {
    if list.is_empty() {
        return format!("{}\n", no_open_conflicts(l));
    }
    let mut out = String::new();
    for c in list {
        let (name, visit) = (one_line(&c.village_name), one_line(&c.visit_id));
        out.push_str(&conflict_header(l, &c.village_code, &name, &visit, c.fields.len()));
        out.push('\n');
        for f in &c.fields {
            out.push_str(&format!("    {}  ({} {})\n", f.field, base_value(l), show(l, &f.base, &f.field)));
            for side in &f.sides {
                out.push_str(&side_line(
                    l,
                    &side.rev_id,
                    &show(l, &side.value, &f.field),
                    &one_line(&side.crew),
                    &one_line(&side.author),
                    &show_hlc(&side.hlc),
                    side.file.as_deref(),
                ));
                out.push('\n');
            }
        }
    }
    out.push_str(&format!("{}: {}\n{}\n", open_conflicts(l), list.len(), resolve_hint(l)));
    out
}
