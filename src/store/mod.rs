//! The SQLite store: opening, the revision graph, the current tables.

pub mod browse;
pub mod bundle;
pub mod checks;
pub mod conflict;
pub mod csvio;
mod diagnostics;
pub mod error;
pub mod figures;
pub mod fsutil;
pub mod live;
mod payload;
pub mod review;
pub mod revisions;
pub mod roster;
pub mod summary;
pub mod sync;
pub mod textin;
pub mod trend;
pub mod trust;
pub mod views;

use std::path::Path;

use anyhow::Result;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use error::StoreError;

/// The one schema, embedded.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// The schema version this program writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 6;
/// How long a statement waits for another connection's lock.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// `PRAGMA application_id` of a ruralsan database ('RSNA'); also set in schema.sql.
pub const APPLICATION_ID: i64 = 0x5253_4E41;

/// All division codes under a prefix ("" → every code) as the half-open
/// range `[lo, hi)`: codes are digits, and `:` follows `9`. The one
/// convention of the store for "all codes under this prefix".
pub fn code_range(prefix: &str) -> (String, String) {
    (prefix.to_string(), format!("{prefix}:"))
}

/// An open ruralsan database.
pub struct Store {
    conn: Connection,
    device: String,
    identity: crate::identity::Identity,
    editor: String,
    progress: Box<dyn Progress>,
    /// Which backups merges keep.
    retention: crate::domain::settings::BackupRetention,
    /// The visits with a check, kept while the data and the settings stay
    /// the same (`checks::Store::flagged`): every summary marks them.
    flagged: std::sync::Mutex<Option<checks::FlaggedCache>>,
    /// The other connections reading for this store right now (a summary's
    /// threads): an [`live::Interrupt`] stops them too.
    readers: live::Readers,
    /// The village of each visit with an open conflict, for one state of
    /// the data (`views::Store::conflicted_villages`).
    conflicts: std::sync::Mutex<Option<(live::DataStamp, views::Conflicted)>>,
}

/// Where long work (import, merge, export, report, a slow summary) reports
/// how far it got. The store knows no terminal: the command line supplies a
/// progress bar, everything else [`NoProgress`].
pub trait Progress: Send + Sync {
    /// Work `what` of `total` steps (0: unknown) begins.
    fn start(&self, what: Work<'_>, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The work is over.
    fn finish(&self);
}

/// What long work is under way: the store says what, the caller says it in
/// words (strings::progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work<'a> {
    /// Reading or writing one file of a bundle (its name in the bundle).
    File(&'a str),
    /// Checking and writing an import's visits.
    WriteVisits,
    /// Computing the per-visit figures from the current tables.
    Figures,
    /// Adding up a summary.
    Summary,
    /// Checking the revisions of a file to merge (its path).
    RevisionsChecked(&'a str),
    /// Updating the visits a merged file touched (its path).
    VisitsUpdated(&'a str),
}

/// One piece of long work reported to a [`Progress`]: started when made,
/// its steps passed on in batches, finished when dropped. Steps may come
/// from several threads.
pub(crate) struct Phase<'a> {
    progress: &'a dyn Progress,
    pending: std::sync::atomic::AtomicU64,
}

impl<'a> Phase<'a> {
    const BATCH: u64 = 1024;

    pub(crate) fn new(progress: &'a dyn Progress, what: Work<'_>, total: u64) -> Phase<'a> {
        progress.start(what, total);
        Phase { progress, pending: std::sync::atomic::AtomicU64::new(0) }
    }

    pub(crate) fn step(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        if self.pending.fetch_add(1, Relaxed) + 1 >= Self::BATCH {
            let n = self.pending.swap(0, Relaxed);
            if n > 0 {
                self.progress.advance(n);
            }
        }
    }

    /// `n` long steps are done: passed on at once, not batched.
    pub(crate) fn done(&self, n: u64) {
        self.progress.advance(n);
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        self.progress.advance(*self.pending.get_mut());
        self.progress.finish();
    }
}

/// Sets the journal mode (`delete`, `wal`) if no other connection is using
/// the database (leaving WAL mode needs that), without waiting for one;
/// whether the mode is now `mode`.
pub(crate) fn try_journal_mode(conn: &Connection, mode: &str) -> Result<bool> {
    conn.busy_timeout(std::time::Duration::ZERO)?;
    let set = conn.query_row(&format!("PRAGMA journal_mode = {mode}"), [], |r| r.get::<_, String>(0));
    conn.busy_timeout(BUSY_TIMEOUT)?;
    use rusqlite::ffi::ErrorCode::{DatabaseBusy, DatabaseLocked};
    match set {
        Ok(now) => Ok(now.eq_ignore_ascii_case(mode)),
        Err(e) if matches!(e.sqlite_error_code(), Some(DatabaseBusy | DatabaseLocked)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Work<'_>, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

impl Store {
    /// Opens (creating if missing) the database at `path`, refusing files that
    /// are not ruralsan databases or were written by a newer ruralsan.
    ///
    /// The installation's identity comes from its folder (`$RURALSAN_HOME`
    /// or the platform data folder), made there on first use.
    ///
    /// A database that cannot be written is refused here, at once, saying
    /// why: a folder that takes no new files (the `-wal` and `-shm`
    /// sidecars live there) or a read-only database file. Found later, the
    /// first would read as "not a ruralsan database" and the second would
    /// make a merge's backup wait forever.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, &crate::identity::Identity::load_default()?)
    }

    /// As [`Store::open`], signing as `identity`.
    pub fn open_with(path: &Path, identity: &crate::identity::Identity) -> Result<Store> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::CannotCreateFolder { path: dir.to_path_buf(), source })?;
        fsutil::ensure_writable_folder(dir)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::CannotOpen { path: path.to_path_buf(), source })?;
        refuse_read_only(&conn, path)?;
        Store::setup(conn, &path.display().to_string(), true, identity)
    }

    /// A fresh in-memory database with a fresh identity, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let id = crate::identity::Identity::generate("test");
        Store::setup(Connection::open_in_memory()?, ":memory:", false, &id)
    }

    fn setup(conn: Connection, name: &str, wal: bool, identity: &crate::identity::Identity) -> Result<Store> {
        let not_ours = || StoreError::NotRuralsan { name: name.to_string() };
        // Reading the header is the first access: a file that is not SQLite fails here.
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|_| not_ours())?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|_| not_ours())?;
        let objects: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).map_err(|_| not_ours())?;
        if app_id != APPLICATION_ID && (app_id != 0 || objects > 0) {
            return Err(not_ours().into());
        }
        if version > SCHEMA_VERSION {
            let app = written_by(&conn);
            return Err(
                StoreError::NewerSchema { name: name.to_string(), version, supported: SCHEMA_VERSION, app }.into()
            );
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        if wal {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::NoWal { name: name.to_string() }.into());
            }
        }
        // A 64 MB page cache: big imports and aggregates stay in memory, and
        // memory stays bounded. More cached statements than the default 16, so
        // the import loop never re-parses its SQL.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;
             PRAGMA cache_size = -65536; PRAGMA temp.cache_size = -8192;",
        )?;
        conn.set_prepared_statement_cache_capacity(128);
        register_rules(&conn)?;
        if version < SCHEMA_VERSION {
            migrate(&conn)?;
        }
        let device = identity.key_id();
        // The file says which installation last opened it (merge_log's source
        // device); the device of a revision is its signer, recorded with it.
        // Written only when it differs: opening never takes the write lock otherwise.
        let held: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0)).optional()?;
        if held.as_deref() != Some(device.as_str()) && !conn.is_readonly(rusqlite::MAIN_DB)? {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('device_id', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [&device],
            )?;
        }
        // Which program wrote the file last: an older one meeting it says what to install.
        let app: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'app_version'", [], |r| r.get(0)).optional()?;
        if app.as_deref() != Some(env!("CARGO_PKG_VERSION")) && !conn.is_readonly(rusqlite::MAIN_DB)? {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('app_version', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [env!("CARGO_PKG_VERSION")],
            )?;
        }
        let editor = default_editor(identity);
        Ok(Store {
            conn,
            device,
            identity: identity.clone(),
            editor,
            progress: Box::new(NoProgress),
            retention: Default::default(),
            flagged: Default::default(),
            readers: Default::default(),
            conflicts: Default::default(),
        })
    }

    /// This installation's identity.
    pub fn identity(&self) -> &crate::identity::Identity {
        &self.identity
    }

    /// Who is typing: recorded as the editor of each revision made here.
    pub fn editor(&self) -> &str {
        &self.editor
    }

    /// Sets the editor (`--editor`); blank leaves it as it was.
    pub fn set_editor(&mut self, editor: &str) {
        if !editor.trim().is_empty() {
            self.editor = editor.trim().to_string();
        }
    }

    /// Reports the progress of long work to `p` from now on.
    pub fn set_progress(&mut self, p: Box<dyn Progress>) {
        self.progress = p;
    }

    pub(crate) fn progress(&self) -> &dyn Progress {
        self.progress.as_ref()
    }

    /// The database file (`None` for an in-memory database).
    pub fn path(&self) -> Option<&Path> {
        self.conn.path().filter(|p| !p.is_empty()).map(Path::new)
    }

    /// Refuses before writing when the database's folder has less free
    /// space than `bytes` (plus a margin); nothing to check in memory.
    pub(crate) fn ensure_room(&self, bytes: u64) -> Result<()> {
        if let Some(db) = self.path() {
            let dir = db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            fsutil::ensure_space(dir, bytes.saturating_add(sync::SPACE_MARGIN))?;
        }
        Ok(())
    }

    /// This installation's device id: its public key (64 hex digits).
    pub fn device(&self) -> &str {
        &self.device
    }

    /// A value from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// Codes of the roster's administrative villages, in code order (at most `limit`).
    pub fn village_codes(&self, limit: Option<usize>) -> Result<Vec<String>> {
        // SQLite reads a negative LIMIT as no limit.
        let limit = limit.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let mut st = self.conn.prepare("SELECT code FROM roster WHERE is_village ORDER BY code LIMIT ?1")?;
        Ok(st.query_map([limit], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
    }

    /// The revision a visit's current rows come from (`None`: no such visit, or deleted).
    pub fn current_revision(&self, visit_id: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT rev_id FROM visit WHERE visit_id = ?1", [visit_id], |r| r.get(0)).optional()?)
    }

    /// Whether any visit was ever saved or merged here.
    pub fn has_revisions(&self) -> Result<bool> {
        Ok(self.conn.prepare_cached("SELECT 1 FROM revision LIMIT 1")?.exists([])?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// The program version a (newer) file says wrote it, if it reads as one:
/// the file may be hostile, so only a short version-like text is taken.
pub(crate) fn written_by(conn: &Connection) -> Option<String> {
    let v: String = conn.query_row("SELECT value FROM meta WHERE key = 'app_version'", [], |r| r.get(0)).ok()?;
    let version_like = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+');
    (!v.is_empty() && v.len() <= 32 && v.chars().all(version_like)).then_some(v)
}

/// SQLite opens a file it may not write read-only, silently: say so now.
fn refuse_read_only(conn: &Connection, path: &Path) -> Result<()> {
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::ReadOnlyDatabase { path: path.to_path_buf() }.into());
    }
    Ok(())
}

/// Applies the schema in one transaction and stamps the version. The schema
/// statements are idempotent, so running this twice is harmless.
///
/// Version 3 added the per-visit figures, made here from the current tables
/// (all of them: a database from before version 3 has none). Version 4
/// added the revision's crew and signature: a revision table without them
/// is set aside, made anew from schema.sql (so that its SQL text is the
/// schema's, as the merge's schema check expects) and copied back with crew
/// and signature empty (legacy revisions). Version 5 keeps the current
/// revision's payload once, in the current rows (store/payload.rs).
/// Version 6 added the `review` table, which the schema's `CREATE TABLE IF
/// NOT EXISTS` makes: nothing else to do.
fn migrate(conn: &Connection) -> Result<()> {
    let from: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let run = || -> Result<()> {
        let old_revisions: bool = conn.query_row(
            "SELECT count(*) = 1 AND NOT EXISTS (SELECT 1 FROM pragma_table_info('revision') WHERE name = 'signature')
             FROM sqlite_schema WHERE type = 'table' AND name = 'revision'",
            [],
            |r| r.get(0),
        )?;
        let (set_aside, copy_back) = if old_revisions {
            (
                "ALTER TABLE revision RENAME TO revision_v3; DROP INDEX IF EXISTS revision_visit;",
                "INSERT INTO revision (rev_id, visit_id, parents, payload, deleted, hlc, device, author, crew, signature)
                   SELECT rev_id, visit_id, parents, payload, deleted, hlc, device, author, '', '' FROM revision_v3;
                 DROP TABLE revision_v3;",
            )
        } else {
            ("", "")
        };
        conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{set_aside}\n{SCHEMA_SQL}\n{copy_back}"))?;
        figures::rebuild(conn, &crate::domain::settings::ManureCoefficients::default(), &NoProgress)?;
        // Version 5: the current revision's payload is kept once, in the
        // current rows (store/payload.rs). Self-contained: it needs only the
        // revision and current tables of any earlier version.
        if from < 5 {
            payload::elide_all(conn)?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"))?;
        Ok(())
    };
    run().map_err(|source| {
        // The schema error is the one to report; a failed rollback leaves
        // nothing behind either, as the connection is then dropped.
        let _rollback = conn.execute_batch("ROLLBACK");
        StoreError::Schema { detail: source.to_string() }.into()
    })
}

/// Domain rules that SQL statements use as functions, so that each is
/// written once, in the domain.
fn register_rules(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("rs_normal_served", 2, flags, |ctx| {
        let status = ctx.get_raw(0).as_str().ok().and_then(crate::domain::FacilityStatus::parse);
        Ok(crate::domain::indicators::normal_served(status, ctx.get(1)?))
    })?;
    browse::register(conn)?;
    conn.create_scalar_function("rs_black_odor", 4, flags, |ctx| {
        Ok(crate::domain::indicators::meets_black_odor(ctx.get(0)?, ctx.get(1)?, ctx.get(2)?, ctx.get(3)?))
    })?;
    Ok(())
}

/// The editor when none is given: `$RURALSAN_EDITOR`, else the computer's
/// user name, else the crew name.
fn default_editor(identity: &crate::identity::Identity) -> String {
    ["RURALSAN_EDITOR", "USER", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty() && v.chars().count() <= 60 && !v.chars().any(char::is_control))
        .unwrap_or_else(|| identity.crew())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_sqlite_may_only_read_is_refused_at_open() {
        // Tests run as root, whom file modes do not stop: the read-only
        // open SQLite falls back to for a read-only file is made directly.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.db");
        drop(Store::open(&p).unwrap());
        let ro = Connection::open_with_flags(&p, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let e = refuse_read_only(&ro, &p).unwrap_err();
        assert!(matches!(e.downcast_ref::<StoreError>(), Some(StoreError::ReadOnlyDatabase { path }) if *path == p));
        let rw = Connection::open(&p).unwrap();
        refuse_read_only(&rw, &p).unwrap();
    }

    #[test]
    fn schema_applies_twice() {
        let s = Store::open_in_memory().unwrap();
        migrate(&s.conn).unwrap();
        let v: i64 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let a: i64 = s.conn.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(a, APPLICATION_ID);
    }

    /// A version 2 database (revisions without crew and signature) opens as
    /// version 4: its revisions kept as legacy ones, its revision table the
    /// schema's own, so a snapshot of it passes the merge's schema check.
    #[test]
    fn a_version_2_database_is_upgraded_keeping_its_revisions() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA application_id = 1381191233;
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
             CREATE TABLE revision (
               rev_id   TEXT PRIMARY KEY,
               visit_id TEXT NOT NULL,
               parents  TEXT NOT NULL,
               payload  TEXT NOT NULL,
               deleted  INTEGER NOT NULL CHECK (deleted IN (0, 1)),
               hlc      TEXT NOT NULL,
               device   TEXT NOT NULL,
               author   TEXT NOT NULL
             ) STRICT;
             CREATE INDEX revision_visit ON revision (visit_id);
             INSERT INTO revision VALUES ('r1', 'v1', '[]', '', 1, '1700000000000.00000', 'old-device', '陈静');
             PRAGMA user_version = 2;",
        )
        .unwrap();
        let id = crate::identity::Identity::generate("t");
        let s = Store::setup(conn, "old", false, &id).unwrap();
        let row: (String, String, String, String) = s
            .conn
            .query_row("SELECT device, author, crew, signature FROM revision WHERE rev_id = 'r1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(row, ("old-device".into(), "陈静".into(), String::new(), String::new()));
        let schema = |c: &Connection| -> Vec<(String, Option<String>)> {
            let mut st =
                c.prepare("SELECT name, sql FROM sqlite_schema WHERE tbl_name = 'revision' ORDER BY name").unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<rusqlite::Result<_>>().unwrap()
        };
        let fresh = Store::open_in_memory().unwrap();
        assert_eq!(schema(&s.conn), schema(&fresh.conn));
    }
}
