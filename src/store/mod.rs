//! The SQLite store: opening, the revision graph, the current tables.

pub mod browse;
pub mod bundle;
pub mod conflict;
pub mod csvio;
pub mod figures;
pub mod revisions;
pub mod roster;
pub mod summary;
pub mod sync;

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::strings::t;

/// The one schema, embedded.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// The schema version this program writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 3;
/// `PRAGMA application_id` of a ruralsan database ('RSNA'); also set in schema.sql.
pub const APPLICATION_ID: i64 = 0x5253_4E41;

/// An open ruralsan database.
pub struct Store {
    pub conn: Connection,
    device: String,
    progress: Box<dyn Progress>,
}

/// Where long work (import, merge, export, report, a slow summary) reports
/// how far it got. The store knows no terminal: the command line supplies a
/// progress bar, everything else [`NoProgress`].
pub trait Progress {
    /// Work called `what` of `total` steps (0: unknown) begins.
    fn start(&self, what: &str, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The work is over.
    fn finish(&self);
}

/// One piece of long work reported to a [`Progress`]: started when made,
/// its steps passed on in batches, finished when dropped.
pub(crate) struct Phase<'a> {
    progress: &'a dyn Progress,
    pending: std::cell::Cell<u64>,
}

impl<'a> Phase<'a> {
    const BATCH: u64 = 1024;

    pub(crate) fn new(progress: &'a dyn Progress, what: &str, total: u64) -> Phase<'a> {
        progress.start(what, total);
        Phase { progress, pending: std::cell::Cell::new(0) }
    }

    pub(crate) fn step(&self) {
        let n = self.pending.get() + 1;
        if n == Self::BATCH {
            self.progress.advance(n);
            self.pending.set(0);
        } else {
            self.pending.set(n);
        }
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        self.progress.advance(self.pending.get());
        self.progress.finish();
    }
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

impl Store {
    /// Opens (creating if missing) the database at `path`, refusing files that
    /// are not ruralsan databases or were written by a newer ruralsan.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: {}", t("无法创建目录", "cannot create folder"), dir.display()))?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("{}: {}", t("无法打开数据库", "cannot open the database"), path.display()))?;
        Store::setup(conn, &path.display().to_string(), true)
    }

    /// A fresh in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Store::setup(Connection::open_in_memory()?, ":memory:", false)
    }

    fn setup(conn: Connection, name: &str, wal: bool) -> Result<Store> {
        let not_ours = || {
            anyhow!(
                "{name}: {}",
                t("不是 ruralsan 数据库，拒绝打开", "is not a ruralsan database; refusing to open it")
            )
        };
        // Reading the header is the first access: a file that is not SQLite fails here.
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|_| not_ours())?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|_| not_ours())?;
        let objects: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).map_err(|_| not_ours())?;
        if app_id != APPLICATION_ID && (app_id != 0 || objects > 0) {
            return Err(not_ours());
        }
        if version > SCHEMA_VERSION {
            bail!(
                "{name}: {} {version}{} {SCHEMA_VERSION}{}",
                t("由更新版本的 ruralsan 写入（数据库版本", "was written by a newer ruralsan (schema version"),
                t("，本程序支持", ", this program supports"),
                t("），请升级 ruralsan", "); please upgrade ruralsan"),
            );
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        if wal {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                bail!("{name}: {}", t("无法启用 WAL 日志模式", "cannot switch to WAL journal mode"));
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
        if version < SCHEMA_VERSION {
            migrate(&conn)?;
        }
        let device = device_id(&conn)?;
        Ok(Store { conn, device, progress: Box::new(NoProgress) })
    }

    /// Reports the progress of long work to `p` from now on.
    pub fn set_progress(&mut self, p: Box<dyn Progress>) {
        self.progress = p;
    }

    pub(crate) fn progress(&self) -> &dyn Progress {
        self.progress.as_ref()
    }

    /// This database's device id, made on first open.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// A value from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

/// Applies the schema in one transaction and stamps the version. The schema
/// statements are idempotent, so running this twice is harmless. The
/// per-visit figures are made from the current tables (all of them: a
/// database from before version 3 has none).
fn migrate(conn: &Connection) -> Result<()> {
    let fail =
        |e: &dyn std::fmt::Display| anyhow!("{}: {e}", t("无法建立数据库结构", "cannot set up the database schema"));
    conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| fail(&e))?;
    let run = || -> Result<()> {
        conn.execute_batch(SCHEMA_SQL)?;
        figures::rebuild(conn, &crate::domain::settings::ManureCoefficients::default(), &NoProgress)?;
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))?;
        Ok(())
    };
    run().map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        fail(&e)
    })
}

fn device_id(conn: &Connection) -> Result<String> {
    let existing: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0)).optional()?;
    match existing {
        Some(d) => Ok(d),
        None => {
            let d = uuid::Uuid::new_v4().to_string();
            conn.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?1)", [&d])?;
            Ok(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_applies_twice() {
        let s = Store::open_in_memory().unwrap();
        migrate(&s.conn).unwrap();
        let v: i64 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let a: i64 = s.conn.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(a, APPLICATION_ID);
    }
}
