//! Errors for people: the store's and the domain's error values rendered in
//! Chinese or English. The CLI and the terminal UI call these; nothing below
//! the edge chooses words.

use super::sync as s;
use super::trust as t;
use super::{Lang, pick};
use crate::domain::merge::ApplyError;
use crate::domain::validate::LineProblem;
#[cfg(test)]
use crate::domain::validate::Reason;
use crate::store::error::{FileRefused, Refusal, Refused, ResolveError, RowReason, StoreError};
use crate::text::{one_line, safe_path};

/// An error and its causes on one line, `outer: inner: …` (as `{e:#}`
/// prints them), each known error value in the language `l`.
pub fn render(e: &anyhow::Error, l: Lang) -> String {
    e.chain().map(|c| cause(c, l)).collect::<Vec<_>>().join(": ")
}

/// An error as the message line of a screen shows it: `错误: …`.
pub fn error_line(e: &anyhow::Error, l: Lang) -> String {
    format!("{}: {}", super::tui::error(l), render(e, l))
}

/// One link of an error chain.
pub fn cause(c: &(dyn std::error::Error + 'static), l: Lang) -> String {
    if let Some(x) = c.downcast_ref::<StoreError>() {
        store_error(x, l)
    } else if let Some(x) = c.downcast_ref::<crate::store::review::ReviewError>() {
        super::checks::review_error(x, l)
    } else if let Some(x) = c.downcast_ref::<ResolveError>() {
        resolve_error(x, l)
    } else if let Some(x) = c.downcast_ref::<Refused>() {
        refused(x, l)
    } else if let Some(x) = c.downcast_ref::<FileRefused>() {
        file_refused(x, l)
    } else if c.downcast_ref::<crate::tui::supervisor::live::WorkerStopped>().is_some() {
        pick(l, "统计计算线程已停止，请重新打开程序", "the figures worker stopped: restart the program").to_string()
    } else {
        c.to_string()
    }
}

pub fn store_error(e: &StoreError, l: Lang) -> String {
    use StoreError::*;
    match e {
        CannotCreateFolder { path, .. } => {
            format!("{}: {}", pick(l, "无法创建目录", "cannot create folder"), safe_path(path))
        }
        CannotOpen { path, .. } => {
            format!("{}: {}", pick(l, "无法打开数据库", "cannot open the database"), safe_path(path))
        }
        ReadOnlyDatabase { path } => format!("{}: {}", path.display(), s::read_only_database(l)),
        FolderNotWritable { path, source } => {
            format!("{}: {} ({source})", path.display(), s::folder_not_writable(l))
        }
        NoSpace { path, needed, free } => format!("{}: {}", path.display(), s::no_space(l, *needed, *free)),
        NotRuralsan { name } => {
            format!(
                "{name}: {}",
                pick(l, "不是 ruralsan 数据库，拒绝打开", "is not a ruralsan database; refusing to open it")
            )
        }
        NewerSchema { name, version, supported, app } => {
            format!("{name}: {}", s::newer_version(l, *version, *supported, app.as_deref()))
        }
        NoWal { name } => format!("{name}: {}", pick(l, "无法启用 WAL 日志模式", "cannot switch to WAL journal mode")),
        Schema { detail } => {
            format!("{}: {detail}", pick(l, "无法建立数据库结构", "cannot set up the database schema"))
        }
        NotAFolder { path } => format!("{}: {}", safe_path(path), pick(l, "不是文件夹", "is not a folder")),
        SnapshotExists { path } => format!("{}: {}", safe_path(path), s::snapshot_exists(l)),
        BadPath { path } => format!("{}: {}", safe_path(path), s::bad_path(l)),
        SnapshotFailed { path, .. } => format!("{}: {}", safe_path(path), s::snapshot_failed(l)),
        SnapshotCheckFailed { path, detail } => {
            format!("{}: {} ({detail})", safe_path(path), s::snapshot_check_failed(l))
        }
        BackupFailed { path, .. } => format!("{}: {}", safe_path(path), s::backup_failed(l)),
        CannotCopy { path, .. } => format!("{}: {}", safe_path(path), s::cannot_copy(l)),
        CorruptParents { rev_id, detail } => match l {
            Lang::Zh => format!("版本 {rev_id} 的父版本列表无法读取：{detail}"),
            Lang::En => format!("revision {rev_id} has an unreadable parent list: {detail}"),
        },
        CorruptClock { value } => match l {
            Lang::Zh => format!("数据库中的时钟值 {value:?} 无效"),
            Lang::En => format!("the stored clock stamp {value:?} is not a clock stamp"),
        },
        NotADemoDatabase { path } => format!(
            "{}: {}",
            path.display(),
            pick(
                l,
                "这个数据库里有真实的调查记录，演示不会往里添加生成的数据；请去掉 --db（演示使用自己的文件）或指定一个新文件",
                "holds real visits; the demo never adds generated visits to it (leave out --db: the demo uses its own file, or name a new file)"
            )
        ),
        CorruptPayload { rev_id, visit_id, detail } => {
            format!("revision {rev_id} of visit {visit_id} has an unreadable payload: {detail}")
        }
        CorruptCurrent { visit_id, value } => match l {
            Lang::Zh => format!("调查 {visit_id} 的当前数据含有无法识别的值 {value:?}"),
            Lang::En => format!("a current table of visit {visit_id} holds an unknown value {value:?}"),
        },
    }
}

pub fn resolve_error(e: &ResolveError, l: Lang) -> String {
    use ResolveError::*;
    match e {
        NoSuchVisit { visit_id } => format!("{visit_id}: {}", s::no_such_visit(l)),
        NoConflict { visit_id } => format!("{visit_id}: {}", s::no_conflict(l)),
        NotAHead { rev, heads } => format!("{rev}: {} {}", s::not_a_head(l), heads.join(", ")),
        Apply { visit_id, error } => match error {
            ApplyError::DeletionNeedsTake => format!("{visit_id}: {}", s::deletion_needs_take(l)),
            ApplyError::FieldOnDeleted => format!("{visit_id}: {}", s::field_on_deleted(l)),
            ApplyError::NoSuchField(field) => format!("{field}: {}", s::no_such_field(l)),
            ApplyError::Unresolved(fields) => format!("{visit_id}: {} {}", s::fields_unresolved(l), fields.join(", ")),
            ApplyError::NotAVisit(detail) => format!("{visit_id}: {} ({detail})", s::result_unreadable(l)),
        },
        BreaksRule { visit_id, problem } => {
            format!("{visit_id}: {} {}: {}", s::result_breaks_rule(l), problem.field, problem.reason.message(l))
        }
        FieldSyntax { item } => format!("--field {item}: {}", s::field_syntax(l)),
        HeadsChanged { visit_id } => format!("{visit_id}: {}", s::heads_changed(l)),
    }
}

/// One refused cell: `file:line: column: reason` (`file: reason` for the
/// file as a whole, line 0).
pub fn line_problem(p: &LineProblem, l: Lang) -> String {
    let (file, column) = (one_line(&p.file), one_line(&p.column));
    match p.line {
        0 => format!("{file}: {}", p.reason.message(l)),
        n => format!("{file}:{n}: {column}: {}", p.reason.message(l)),
    }
}

/// A refused bundle: every problem listed, then the count.
pub fn refused(r: &Refused, l: Lang) -> String {
    let mut out = String::new();
    for p in &r.problems {
        out.push_str(&line_problem(p, l));
        out.push('\n');
    }
    if r.total > r.problems.len() {
        out.push_str(&format!("… {}\n", r.total - r.problems.len()));
    }
    out.push_str(&format!("{} {}", r.total, pick(l, "个问题，未写入任何数据", "problem(s); nothing was written")));
    out
}

fn row_reason(w: &RowReason, l: Lang) -> String {
    use RowReason::*;
    match w {
        TombstoneWithoutVisit => s::tombstone_without_visit(l).into(),
        SecondRoot => s::second_root(l).into(),
        BadRevId => s::bad_rev_id(l).into(),
        BadHlc => s::bad_hlc(l).into(),
        ParentsUnsorted => s::parents_unsorted(l).into(),
        ParentMissing(p) => s::parent_missing(l, p),
        MergeNeedsParents => s::merge_needs_parents(l).into(),
        DeletedWithPayload => s::deleted_with_payload(l).into(),
        PayloadUnreadable(e) => format!("{} ({e})", s::payload_unreadable(l)),
        PayloadNotCanonical => s::payload_not_canonical(l).into(),
        Rule(r) => r.message(l),
        Roster { code, reason } => format!("{code} {}", reason.message(l)),
        RevIdMismatch => s::rev_id_mismatch(l).into(),
        SignatureFormat => crate::strings::trust::signature_format(l).into(),
    }
}

/// Why a file to merge was refused, in one line.
pub fn refusal(r: &Refusal, l: Lang) -> String {
    use Refusal::*;
    match r {
        NoSuchFile => s::no_such_file(l).into(),
        LiveDatabase => s::live_database(l).into(),
        OwnDatabase => s::own_database(l).into(),
        NotSqlite => s::not_sqlite(l).into(),
        Truncated => s::truncated(l).into(),
        ValueTooBig { max_bytes } => s::value_too_big(l, *max_bytes),
        Corrupt { detail } => format!("{} ({detail})", s::corrupt(l)),
        Unreadable { detail } => format!("{} ({detail})", s::unreadable(l)),
        WrongApplicationId(id) => s::wrong_application_id(l, *id),
        NewerSchema { version, supported, app } => s::newer_version(l, *version, *supported, app.as_deref()),
        OlderSchema { version, supported } => s::older_version(l, *version, *supported),
        IntegrityFailed { detail } => format!("{}: {detail}", s::integrity_failed(l)),
        SchemaDiffers { extra, missing_or_changed } => s::schema_differs(l, extra, missing_or_changed),
        BadDeviceId => s::bad_device_id(l).into(),
        Revision { rev, visit, field, why } => {
            format!("{} {rev} ({} {visit}): {field}: {}", s::revision(l), s::visit(l), row_reason(why, l))
        }
        RevisionColumns { rev, detail } => format!("{} {rev}: parents/deleted: {detail}", s::revision(l)),
        RosterCode { code } => format!("roster {code}: code: {}", s::bad_code(l)),
        RosterRow { code } => format!("roster {code}: {}", s::bad_roster_row(l)),
        AreaRow { code } => format!("area {code}: {}", s::bad_roster_row(l)),
        Relabelled { rev, fields } => t::relabelled(l, rev, fields),
        ForgedMerge { rev } => t::forged_merge(l, rev),
        Unsigned { rev, crew } => t::unsigned(l, rev, crew),
        BadSignature { rev, crew, fingerprint } => t::bad_signature(l, rev, crew, fingerprint),
        NotEnrolled { crew, fingerprint, revisions } => t::not_enrolled(l, crew, fingerprint, *revisions),
        Revoked { crew, fingerprint, revisions } => t::revoked(l, crew, fingerprint, *revisions),
        FutureStamp { crew, fingerprint, ahead_ms } => t::future_stamp(l, crew, fingerprint, *ahead_ms),
        TooManyHeads { visit, heads, max } => {
            format!("{} {visit}: {}", s::visit(l), s::too_many_heads(l, *heads, *max))
        }
        ForeignRoster { units, first } => s::foreign_roster(l, *units, first),
        Review { review, visit, why } => crate::strings::checks::review_refused(l, review, visit, why),
    }
}

/// A refused file: each reason, the count of those not listed, the verdict.
pub fn file_refused(r: &FileRefused, l: Lang) -> String {
    let file = one_line(&r.file);
    let r = &FileRefused { file, reasons: r.reasons.clone(), total: r.total };
    let mut out = String::new();
    for why in &r.reasons {
        out.push_str(&format!("{}: {}\n", r.file, refusal(why, l)));
    }
    if r.total > r.reasons.len() {
        out.push_str(&format!("{}: … {} {}\n", r.file, r.total - r.reasons.len(), s::more_problems(l)));
    }
    out.push_str(&format!("{}: {}", r.file, s::file_refused(l)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_renders_each_known_value_in_the_language() {
        let e: anyhow::Error = StoreError::NotAFolder { path: "x".into() }.into();
        let e = e.context("outer");
        assert_eq!(render(&e, Lang::En), "outer: x: is not a folder");
        assert_eq!(render(&e, Lang::Zh), "outer: x: 不是文件夹");
        let r = Refused {
            problems: vec![LineProblem { file: "a.csv".into(), line: 2, column: "b".into(), reason: Reason::Required }],
            total: 3,
        };
        assert_eq!(refused(&r, Lang::En), "a.csv:2: b: is required\n… 2\n3 problem(s); nothing was written");
    }
}
