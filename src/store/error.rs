//! The store's errors, as values: what went wrong, with the file, line,
//! field and reason. Words for people are the edge's job (`strings::errors`
//! renders these in Chinese or English); the `Display` texts here are plain
//! English for logs and debugging.

use std::path::PathBuf;

use crate::domain::merge::ApplyError;
use crate::domain::validate::{LineProblem, Problem, Reason};

/// A failure of the store that a person must read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create folder: {}", path.display())]
    CannotCreateFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database: {}", path.display())]
    CannotOpen {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The database file can be read but not written (a read-only file or
    /// medium): refused at open, before anything tries to write.
    #[error("{}: the database file is read-only", path.display())]
    ReadOnlyDatabase { path: PathBuf },
    /// The folder of the database does not take new files (its `-wal` and
    /// `-shm` sidecars, backups and staging live there).
    #[error("{}: cannot write in this folder", path.display())]
    FolderNotWritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not enough free space where a backup, merge or import would write.
    #[error("{}: not enough free space ({needed} bytes needed, {free} free)", path.display())]
    NoSpace { path: PathBuf, needed: u64, free: u64 },
    #[error("{name}: is not a ruralsan database")]
    NotRuralsan { name: String },
    #[error("{name}: was written by a newer ruralsan (schema version {version}, this program supports {supported})")]
    /// `app`: the program version that wrote the file, when it says (install that or newer).
    NewerSchema { name: String, version: i64, supported: i64, app: Option<String> },
    #[error("{name}: cannot switch to WAL journal mode")]
    NoWal { name: String },
    #[error("cannot set up the database schema: {detail}")]
    Schema { detail: String },
    #[error("{}: is not a folder", path.display())]
    NotAFolder { path: PathBuf },
    #[error("{}: already exists", path.display())]
    SnapshotExists { path: PathBuf },
    #[error("{}: is not a usable path", path.display())]
    BadPath { path: PathBuf },
    #[error("{}: cannot write the snapshot", path.display())]
    SnapshotFailed {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: the snapshot failed its check ({detail})", path.display())]
    SnapshotCheckFailed { path: PathBuf, detail: String },
    #[error("{}: cannot back up the local database", path.display())]
    BackupFailed {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: cannot copy it to the staging folder", path.display())]
    CannotCopy {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A stored revision whose parent list does not read: its heads would be wrong.
    #[error("revision {rev_id}: unreadable parent list ({detail})")]
    CorruptParents { rev_id: String, detail: String },
    /// The stored clock (`meta.hlc`) does not read.
    #[error("the stored clock stamp {value:?} is not a clock stamp")]
    CorruptClock { value: String },
    /// `demo` pointed at a database holding visits it did not generate.
    #[error("{}: holds real visits; the demo never adds generated visits to it", path.display())]
    NotADemoDatabase { path: PathBuf },
    /// A stored revision whose content does not read.
    #[error("revision {rev_id} of visit {visit_id} has an unreadable payload ({detail})")]
    CorruptPayload { rev_id: String, visit_id: String, detail: String },
    /// A row of a current table holds a value no domain type reads (the
    /// per-visit figures cannot be computed from it).
    #[error("a current table of visit {visit_id} holds an unknown value {value:?}")]
    CorruptCurrent { visit_id: String, value: String },
}

/// Why `resolve` cannot settle a conflict.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    #[error("{visit_id}: no such visit")]
    NoSuchVisit { visit_id: String },
    #[error("{visit_id}: this visit has no open conflict")]
    NoConflict { visit_id: String },
    /// `rev` names none (or several) of the heads.
    #[error("{rev}: is not one of the visit's conflicting revisions; choose from: {}", heads.join(", "))]
    NotAHead { rev: String, heads: Vec<String> },
    #[error("{visit_id}: {error}")]
    Apply { visit_id: String, error: ApplyError },
    #[error("{visit_id}: the combined result breaks a rule: {}", problem.field)]
    BreaksRule { visit_id: String, problem: Problem },
    /// The heads changed since the person chose (a merge brought another side).
    #[error("{visit_id}: the conflict has changed since it was shown; look at it again")]
    HeadsChanged { visit_id: String },
    /// A `--field` argument not of the form FIELD=REV.
    #[error("--field {item}: must be FIELD=REV")]
    FieldSyntax { item: String },
}

/// A bundle or file refused whole, with every problem found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{total} problem(s); nothing was written")]
pub struct Refused {
    pub problems: Vec<LineProblem>,
    pub total: usize,
}

/// Why a revision read from a file is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum RowReason {
    /// A deletion without parents: the visit it deletes exists neither
    /// here nor in the file.
    TombstoneWithoutVisit,
    /// A revision without parents for a visit that already has one (here or
    /// in the file): a visit has one history.
    SecondRoot,
    BadRevId,
    BadHlc,
    ParentsUnsorted,
    ParentMissing(String),
    MergeNeedsParents,
    DeletedWithPayload,
    PayloadUnreadable(String),
    PayloadNotCanonical,
    /// A rule of the visit.
    Rule(Reason),
    /// The village code, refused by the local roster.
    Roster {
        code: String,
        reason: Reason,
    },
    RevIdMismatch,
    /// A signature that is not 128 hex digits.
    SignatureFormat,
}

/// Why a file to merge is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    NoSuchFile,
    LiveDatabase,
    /// The file is this database itself: nothing to merge (and no backup taken).
    OwnDatabase,
    NotSqlite,
    Truncated,
    ValueTooBig {
        max_bytes: usize,
    },
    Corrupt {
        detail: String,
    },
    Unreadable {
        detail: String,
    },
    WrongApplicationId(i64),
    NewerSchema {
        version: i64,
        supported: i64,
        /// The program version that wrote the file, when it says.
        app: Option<String>,
    },
    OlderSchema {
        version: i64,
        supported: i64,
    },
    IntegrityFailed {
        detail: String,
    },
    SchemaDiffers {
        extra: Vec<String>,
        missing_or_changed: Vec<String>,
    },
    BadDeviceId,
    /// A field of a revision (ids shortened for display).
    Revision {
        rev: String,
        visit: String,
        field: &'static str,
        why: RowReason,
    },
    /// The parents or deleted column of a revision does not read.
    RevisionColumns {
        rev: String,
        detail: String,
    },
    RosterCode {
        code: String,
    },
    RosterRow {
        code: String,
    },
    AreaRow {
        code: String,
    },
    /// A revision held here whose metadata the file states differently (a
    /// re-labelled revision): which of stamp, device, crew, editor, signature differ.
    Relabelled {
        rev: String,
        fields: Vec<&'static str>,
    },
    /// A revision that says it is an automatic merge (signed by nobody) but
    /// is not exactly the merge of its parents this program makes.
    ForgedMerge {
        rev: String,
    },
    /// A revision new here without a signature (README "Identity and enrolment").
    Unsigned {
        rev: String,
        crew: String,
    },
    /// A revision whose signature is not its device key's signature of its metadata.
    BadSignature {
        rev: String,
        crew: String,
        fingerprint: String,
    },
    /// Records (revisions and reviews) signed by a key this database has
    /// not enrolled (once per key; `revisions` counts both).
    NotEnrolled {
        crew: String,
        fingerprint: String,
        revisions: u64,
    },
    /// Revisions signed by a key revoked here (once per key).
    Revoked {
        crew: String,
        fingerprint: String,
        revisions: u64,
    },
    /// Revisions stamped more than a day ahead of this computer's clock
    /// (once per key, the furthest ahead).
    FutureStamp {
        crew: String,
        fingerprint: String,
        ahead_ms: i64,
    },
    /// After the merge a visit would have more heads (conflicting versions)
    /// than anyone can settle: a hostile or broken file.
    TooManyHeads {
        visit: String,
        heads: usize,
        max: usize,
    },
    /// Revisions of units outside the local roster (or of communities): the
    /// roster changes only by `roster import`. Their count and the first codes.
    ForeignRoster {
        units: usize,
        first: Vec<String>,
    },
    /// A review the file holds (ids shortened for display).
    Review {
        review: String,
        visit: String,
        why: ReviewReason,
    },
}

/// Why a review read from a file is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewReason {
    /// A column that does not read or breaks its rule.
    Field(&'static str),
    /// The id is not the hash of the review.
    IdMismatch,
    /// The revision it judged is held neither here nor in the file (or is of another visit).
    UnknownRevision(String),
    Unsigned,
    /// The signature is not the device key's signature of the review.
    BadSignature {
        fingerprint: String,
    },
    /// Held here with another signature.
    Relabelled,
}

/// A file to merge, refused whole, with the reasons.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: file refused ({total} problem(s))")]
pub struct FileRefused {
    pub file: String,
    pub reasons: Vec<Refusal>,
    pub total: usize,
}
