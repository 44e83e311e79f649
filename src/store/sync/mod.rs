//! Sync by USB stick (DESIGN.md "Files from elsewhere are untrusted"):
//! snapshots to carry, and the merge of other crews' databases.
//!
//! A file to merge is copied to a staging file, hashed, opened read-only on
//! its own connection with SQLite's defences on, checked (header, quick_check,
//! application_id, user_version, the exact schema objects) and every row is
//! read through the same validation as typed input. Anything wrong refuses the
//! whole file and leaves the local database as it was. The merge of one file
//! is one transaction: set union of revisions, roster codes added, the touched
//! visits re-materialised (merging automatically what merges cleanly).

mod backup;
mod check;
mod merge;
mod snapshot;
mod stage;

use std::path::{Path, PathBuf};

use anyhow::Result;
use rusqlite::{TransactionBehavior, params};

use super::conflict;
pub use super::error::{FileRefused, Refusal};
use super::fsutil::ensure_space;
use super::revisions;
use super::trust::Gate;
use super::{NoProgress, Phase, Progress, Store, Work};
pub use backup::{BackupsKept, SPACE_MARGIN, backup_time, backups_dir, to_remove};
use check::Problems;
use merge::{merge_reviews, merge_revisions, merge_roster};
pub use snapshot::SnapshotReport;
use stage::{FileRefusedReason, Staging, hold_staging, stage_and_check};

/// Largest string or blob read from a file from elsewhere (bytes). A visit's
/// payload is a few kilobytes; anything near this is hostile or broken.
pub const MAX_VALUE_BYTES: i32 = 4 * 1024 * 1024;
/// Write-ahead log pages before a checkpoint during a merge (~256 MB of 4 KB pages).
const MERGE_CHECKPOINT_PAGES: i64 = 65_536;
/// Most problems listed for a refused file; the rest are counted.
const MAX_LISTED: usize = 50;
/// Most heads (conflicting versions) one visit may have after a merge: a
/// person settles a conflict between a few; thousands come from a hostile
/// or broken file, and would make every listing of conflicts slow.
pub const MAX_HEADS_PER_VISIT: usize = 1_000;

/// What merging one file did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    pub file: String,
    pub hash: String,
    pub source_device: String,
    pub revisions: u64,
    pub new_revisions: u64,
    pub new_visits: u64,
    pub touched_visits: u64,
    pub auto_merged: u64,
    pub conflicts: u64,
    pub roster_added: u64,
    /// Roster units whose name differs here and there: (code, here, there).
    pub roster_names_differ: Vec<(String, String, String)>,
    /// Keys enrolled by this merge (`--enrol-new`, or certified by an
    /// installation trusted here): name and key.
    pub enrolled: Vec<super::trust::Enrolled>,
    /// Unsigned revisions from before schema version 4 accepted (`--adopt-legacy`).
    pub adopted_legacy: u64,
    /// Reviews new here.
    pub new_reviews: u64,
}

/// The fate of one file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    Merged(FileReport),
    /// The same file (by hash) was merged before: nothing changed.
    AlreadyMerged {
        file: String,
        merged_at: String,
        first_name: String,
    },
    Refused(FileRefused),
}

/// What a merge command did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeReport {
    pub files: Vec<FileOutcome>,
    /// The backup of the local database taken before writing.
    pub backup: Option<PathBuf>,
    /// Where the backups are, and how many old ones this merge removed.
    pub backups: Option<BackupsKept>,
    pub open_conflicts: i64,
    pub dry_run: bool,
}

impl MergeReport {
    pub fn refused(&self) -> usize {
        self.files.iter().filter(|f| matches!(f, FileOutcome::Refused(_))).count()
    }
}

/// How to merge.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeOptions {
    /// Check and report only; write nothing.
    pub dry_run: bool,
    /// Report progress to the store's [`Progress`] (a bar on a terminal).
    pub progress: bool,
    /// Enrol every unknown signer of the files (after showing their names
    /// and fingerprints; `merge --enrol-new`).
    pub enrol_new: bool,
    /// Accept unsigned revisions from before schema version 4 (the
    /// changeover; `merge --adopt-legacy`), counted in the report.
    pub adopt_legacy: bool,
}

impl Store {
    /// The staging folder for files to merge.
    fn staging_dir(&self) -> PathBuf {
        match self.conn.path().filter(|p| !p.is_empty()) {
            Some(p) => Path::new(p).parent().unwrap_or(Path::new(".")).join("staging"),
            None => std::env::temp_dir().join("ruralsan-staging"),
        }
    }

    /// Merges other ruralsan databases into this one, each file in one
    /// transaction; a refused file changes nothing.
    pub fn merge_files(&mut self, files: &[PathBuf], opts: MergeOptions) -> Result<MergeReport> {
        self.merge_files_after(files, opts, None)
    }

    /// As [`Store::merge_files`], continuing a merge whose backup was already
    /// taken (`backup`): the terminal UI merges file by file to show its
    /// progress, and one backup before the first file is enough.
    pub fn merge_files_after(
        &mut self,
        files: &[PathBuf],
        opts: MergeOptions,
        backup: Option<PathBuf>,
    ) -> Result<MergeReport> {
        let mut report = MergeReport { dry_run: opts.dry_run, backup, ..Default::default() };
        let staging = self.staging_dir();
        let _held = hold_staging(&staging)?;
        // Each file's transaction rewrites pages all over the database
        // (visit ids are random); copying them back after every file doubled
        // the writes. Checkpoint when the log passes ~256 MB, and once at the end.
        self.conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {MERGE_CHECKPOINT_PAGES}"))?;
        // A dry run merges every file, in order, inside one transaction rolled
        // back at the end: what it reports is what the merge will do.
        if opts.dry_run {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let mut run = || -> Result<()> {
            for (n, path) in files.iter().enumerate() {
                let outcome = self.merge_one(path, &staging, n, opts, (&mut report.backup, &mut report.backups))?;
                report.files.push(outcome);
            }
            Ok(())
        };
        let mut result = run();
        if opts.dry_run {
            match conflict::open_conflicts(&self.conn) {
                Ok(n) => report.open_conflicts = n,
                Err(e) => result = result.and(Err(e)),
            }
            self.conn.execute_batch("ROLLBACK")?;
        }
        self.conn.execute_batch("PRAGMA wal_autocheckpoint = 1000")?;
        result?;
        if !opts.dry_run {
            // Without waiting: another program reading the database keeps the log for now.
            self.conn.busy_timeout(std::time::Duration::ZERO)?;
            let checkpoint = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            self.conn.busy_timeout(super::BUSY_TIMEOUT)?;
            use rusqlite::ffi::ErrorCode::{DatabaseBusy, DatabaseLocked};
            match checkpoint {
                Err(e) if !matches!(e.sqlite_error_code(), Some(DatabaseBusy | DatabaseLocked)) => return Err(e.into()),
                _ => {}
            }
        }
        if !opts.dry_run {
            report.open_conflicts = conflict::open_conflicts(&self.conn)?;
        }
        Ok(report)
    }

    fn merge_one(
        &mut self,
        path: &Path,
        staging: &Path,
        n: usize,
        opts: MergeOptions,
        (backup, backups): (&mut Option<PathBuf>, &mut Option<BackupsKept>),
    ) -> Result<FileOutcome> {
        let name = path.display().to_string();
        let refuse = |reasons: Vec<Refusal>, total: usize| {
            Ok(FileOutcome::Refused(FileRefused { file: name.clone(), reasons, total }))
        };
        let own = self.path().and_then(|p| std::fs::canonicalize(p).ok());
        if own.is_some() && std::fs::canonicalize(path).ok() == own {
            return refuse(vec![Refusal::OwnDatabase], 1);
        }
        let checked = match stage_and_check(path, staging, n, &self.conn)? {
            Staging::Checked(c) => c,
            Staging::Refused(why) => return refuse(vec![why], 1),
            Staging::Already(merged_at, first_name) => {
                return Ok(FileOutcome::AlreadyMerged { file: name, merged_at, first_name });
            }
        };
        // Room for what the merge writes (its log holds each page written,
        // about the file's size twice) and for the backup still to take.
        if !opts.dry_run
            && let Some(db) = self.path()
        {
            let dir = db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let file_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let backup_bytes = if backup.is_none() { self.database_bytes() } else { 0 };
            ensure_space(dir, 2 * file_bytes + backup_bytes + SPACE_MARGIN)?;
        }
        let report = FileReport {
            file: name.clone(),
            hash: checked.hash.clone(),
            source_device: checked.source_device.clone(),
            ..Default::default()
        };
        let progress = self.progress.as_ref();
        if opts.dry_run {
            // Inside the dry run's outer transaction (rolled back at the end):
            // this file's changes stay for the next file to meet, so the dry
            // run of several files reports what the merge of them will do.
            let sp = self.conn.savepoint()?;
            let out = merge_checked(&sp, &checked, &name, opts, report, progress, &self.identity)?;
            if matches!(out, FileOutcome::Merged(_)) {
                sp.commit()?;
            }
            Ok(out)
        } else {
            let (db_path, retention) = (self.path().map(Path::to_path_buf), self.retention);
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = merge_checked(&tx, &checked, &name, opts, report, progress, &self.identity)?;
            if matches!(out, FileOutcome::Merged(_)) {
                // The backup is taken only now, once the file passed every check,
                // just before the merge is written: from its own connection, it
                // holds the database as last committed, without this transaction.
                if backup.is_none()
                    && let Some(db) = &db_path
                {
                    let (path, kept) = backup::take_backup(db, retention)?;
                    *backup = Some(path);
                    *backups = Some(kept);
                }
                tx.commit()?;
            }
            Ok(out)
        }
    }
}

/// Merges one checked file inside the caller's transaction (or savepoint):
/// refused whole, or merged.
fn merge_checked(
    tx: &rusqlite::Connection,
    checked: &stage::Checked,
    name: &str,
    opts: MergeOptions,
    mut report: FileReport,
    progress: &dyn Progress,
    me: &crate::identity::Identity,
) -> Result<FileOutcome> {
    let refuse = |reasons: Vec<Refusal>, total: usize| {
        Ok(FileOutcome::Refused(FileRefused { file: name.to_string(), reasons, total }))
    };
    let mut problems = Problems::default();
    let mut gate = Gate::load(tx, &checked.conn, &me.key_id(), opts.enrol_new, opts.adopt_legacy)?;
    let read = (|| -> Result<(Vec<String>, String)> {
        merge_roster(tx, &checked.conn, &mut report, &mut problems)?;
        if problems.total > 0 {
            return Ok((Vec::new(), String::new()));
        }
        let out = merge_revisions(tx, &checked.conn, name, opts, &mut gate, &mut report, &mut problems, progress)?;
        if problems.total == 0 {
            report.new_reviews = merge_reviews(tx, &checked.conn, &mut gate, &mut problems)?;
        }
        Ok(out)
    })();
    let (touched, max_hlc) = match read {
        Ok(x) => x,
        Err(e) => match e.downcast::<FileRefusedReason>() {
            Ok(r) => return refuse(vec![r.0], 1),
            Err(e) => return Err(e),
        },
    };
    for why in gate.finish() {
        problems.push(why);
    }
    if problems.total > 0 {
        return refuse(problems.list, problems.total);
    }
    report.enrolled = gate.record(tx, me, &checked.hash)?;
    report.adopted_legacy = gate.adopted_legacy;
    let quiet = NoProgress;
    let bar =
        Phase::new(if opts.progress { progress } else { &quiet }, Work::VisitsUpdated(name), touched.len() as u64);
    let mut too_many = Vec::new();
    for visit_id in &touched {
        let r = conflict::refresh(tx, visit_id)?;
        report.auto_merged += r.auto_merged as u64;
        report.conflicts += r.conflict as u64;
        if r.heads > MAX_HEADS_PER_VISIT {
            too_many.push(Refusal::TooManyHeads {
                visit: check::short(visit_id),
                heads: r.heads,
                max: MAX_HEADS_PER_VISIT,
            });
        }
        bar.step();
    }
    drop(bar);
    if !too_many.is_empty() {
        let total = too_many.len();
        too_many.truncate(MAX_LISTED);
        return refuse(too_many, total);
    }
    report.touched_visits += touched.len() as u64;
    if !max_hlc.is_empty() {
        revisions::observe_hlc(tx, &max_hlc)?;
    }
    tx.execute(
        "INSERT INTO merge_log (file_hash, source_device, merged_at, file_name, revisions, new_revisions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            checked.hash,
            checked.source_device,
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            name,
            report.revisions as i64,
            report.new_revisions as i64
        ],
    )?;
    Ok(FileOutcome::Merged(report))
}
