//! Staging a file from elsewhere: copied and hashed, its header read, opened
//! read-only with SQLite's defences on, and checked whole (quick_check,
//! application_id, user_version, the exact schema objects, a device id)
//! before a single row is trusted.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use super::MAX_VALUE_BYTES;
use super::backup::SPACE_MARGIN;
use crate::store::error::{Refusal, StoreError};
use crate::store::fsutil::{ensure_space, hex, remove_with_sidecars};
use crate::store::{APPLICATION_ID, SCHEMA_VERSION, Store};

/// A staged copy of a file, removed (with its sidecars) when dropped.
struct Staged {
    path: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        remove_with_sidecars(&self.path);
    }
}

/// The name of a staged copy, unique to this process and file.
fn staged_name(n: usize) -> String {
    format!("{STAGED_PREFIX}{}-{n}.db", std::process::id())
}
const STAGED_PREFIX: &str = "staged-";

/// The staging folder held for one merge command (a shared lock on
/// `staging/.lock`); when dropped, the last merge out removes the folder.
pub(super) struct StagingHeld {
    lock: Option<std::fs::File>,
    dir: PathBuf,
}

/// Holds the staging folder for a merge. When no other merge holds it
/// (an exclusive lock is free), staged copies found there are left by a
/// merge that was killed: they are removed. Then the folder is held shared,
/// so that a merge starting meanwhile leaves this one's copies alone. On a
/// file system without locks the folder is used as before, uncleaned.
pub(super) fn hold_staging(staging: &Path) -> Result<StagingHeld> {
    let lock_path = staging.join(".lock");
    // A merge finishing meanwhile may remove the lock file just opened: retry.
    for _ in 0..100 {
        std::fs::create_dir_all(staging).with_context(|| staging.display().to_string())?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| staging.display().to_string())?;
        if lock.try_lock().is_ok() {
            remove_stale_staged(staging);
            // Dropping to shared: no other merge can have staged a file meanwhile.
            let _unlock_then_share = lock.unlock();
        }
        if lock.lock_shared().is_err() {
            break;
        }
        if still_at(&lock, &lock_path) {
            return Ok(StagingHeld { lock: Some(lock), dir: staging.to_path_buf() });
        }
    }
    Ok(StagingHeld { lock: None, dir: staging.to_path_buf() })
}

impl Drop for StagingHeld {
    fn drop(&mut self) {
        let Some(lock) = self.lock.take() else { return };
        // The last merge out (the exclusive lock is free) removes the folder.
        // Only where a removed lock file can be told apart (see `still_at`).
        let _unlock = lock.unlock();
        let lock_path = self.dir.join(".lock");
        if cfg!(unix) && lock.try_lock().is_ok() && still_at(&lock, &lock_path) {
            remove_stale_staged(&self.dir);
            let _cleanup = std::fs::remove_file(&lock_path);
            let _cleanup = std::fs::remove_dir(&self.dir);
        }
    }
}

/// Whether `lock` is still the file at `path` (not removed by a merge that finished).
#[cfg(unix)]
fn still_at(lock: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (lock.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Elsewhere the lock file is never removed, so it is always the one.
#[cfg(not(unix))]
fn still_at(_lock: &std::fs::File, _path: &Path) -> bool {
    true
}

/// Removes every staged copy (and sidecar) in the staging folder.
fn remove_stale_staged(staging: &Path) {
    let Ok(entries) = std::fs::read_dir(staging) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(STAGED_PREFIX) {
            let _cleanup = std::fs::remove_file(e.path());
        }
    }
}

/// A file that passed the checks that need only the file itself.
pub(super) struct Checked {
    pub conn: Connection,
    pub hash: String,
    pub source_device: String,
    _staged: Staged,
}

/// Copies `src` to `dst`, hashing the bytes on the way (the file is read once).
fn copy_hashing(src: &Path, dst: &Path) -> std::io::Result<String> {
    use std::io::Write;
    let mut from = std::fs::File::open(src)?;
    let mut to = std::fs::File::create(dst)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    to.flush()?;
    Ok(hex(&h.finalize()))
}

/// A URI for a local path, escaping what URIs give meaning to.
fn file_uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// The SQLite header's verdict: not SQLite, or truncated.
fn check_header(path: &Path) -> Result<Option<Refusal>> {
    let len = std::fs::metadata(path)?.len();
    let mut head = [0u8; 100];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut head)?;
    if n < 16 || &head[..16] != b"SQLite format 3\0" {
        return Ok(Some(Refusal::NotSqlite));
    }
    if n < 100 {
        return Ok(Some(Refusal::Truncated));
    }
    let page_size = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65536u64,
        p => p as u64,
    };
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Ok(Some(Refusal::NotSqlite));
    }
    let pages = u32::from_be_bytes([head[28], head[29], head[30], head[31]]) as u64;
    let valid_for = u32::from_be_bytes([head[92], head[93], head[94], head[95]]);
    let change = u32::from_be_bytes([head[24], head[25], head[26], head[27]]);
    if len % page_size != 0 || (valid_for == change && pages > 0 && len < pages * page_size) {
        return Ok(Some(Refusal::Truncated));
    }
    Ok(None)
}

/// The schema objects of a fresh ruralsan database.
/// A schema object: type, name, table name, SQL.
type SchemaObject = (String, String, String, Option<String>);

fn expected_schema() -> Result<Vec<SchemaObject>> {
    let fresh = Store::open_in_memory()?;
    Ok(schema_objects(&fresh.conn)?)
}

fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<SchemaObject>> {
    let mut st = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect()
}

/// Opens a staged file read-only with SQLite's defences on.
fn open_defended(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        file_uri(path) + "?immutable=1",
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)?;
    conn.set_limit(Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON; PRAGMA mmap_size = 0;")?;
    Ok(conn)
}

/// The oldest schema version a file to merge may have: older ones are
/// upgraded (in the staging copy) by the same migration that upgrades a
/// database on open. Laptops in a county are never all upgraded on one day.
pub const MIN_MERGE_VERSION: i64 = 1;

/// Upgrades the staging copy (never the original) of a file written by an
/// older ruralsan, with SQLite's defences on; the exact schema check that
/// follows then judges the result. A file not ours, newer, or failing its
/// integrity check is left as it is for the checks to refuse.
fn upgrade_staged(path: &Path) -> Result<Option<Refusal>> {
    let conn = match Connection::open_with_flags(
        file_uri(path),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => return Ok(Some(sqlite_reason(&e))),
    };
    let upgrade = || -> rusqlite::Result<Option<Refusal>> {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
        conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)?;
        conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
        conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON; PRAGMA mmap_size = 0;")?;
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if app_id != APPLICATION_ID || !(MIN_MERGE_VERSION..=SCHEMA_VERSION).contains(&version) {
            return Ok(None);
        }
        if version < SCHEMA_VERSION {
            let quick: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
            if quick != "ok" {
                return Ok(Some(Refusal::IntegrityFailed { detail: quick }));
            }
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;\n{}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;",
                crate::store::SCHEMA_SQL
            ))?;
        }
        // A database file copied as it is (not a snapshot) keeps its current
        // revisions' payloads in its current rows (store/payload.rs): put
        // back in the copy before any check reads them. The checks judge the
        // result: a payload not made, or made other than it was hashed, is
        // refused there.
        let _unfilled_are_refused_by_the_checks = crate::store::payload::fill_all(&conn);
        Ok(None)
    };
    match upgrade() {
        Ok(r) => Ok(r),
        Err(e) => Ok(Some(sqlite_reason(&e))),
    }
}

/// Why SQLite would not read a file.
pub(super) fn sqlite_reason(e: &rusqlite::Error) -> Refusal {
    use rusqlite::ffi::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(TooBig) => Refusal::ValueTooBig { max_bytes: MAX_VALUE_BYTES as usize },
        Some(NotADatabase) => Refusal::NotSqlite,
        Some(DatabaseCorrupt) => Refusal::Corrupt { detail: e.to_string() },
        _ => Refusal::Unreadable { detail: e.to_string() },
    }
}

/// What staging found.
pub(super) enum Staging {
    Refused(Refusal),
    /// Merged before (same hash): when, and under which name.
    Already(String, String),
    Checked(Checked),
}

/// Copies and hashes a file, stops there when `local` logged its hash
/// already, else opens and checks it on its own.
pub(super) fn stage_and_check(src: &Path, staging: &Path, n: usize, local: &Connection) -> Result<Staging> {
    if !src.is_file() {
        return Ok(Staging::Refused(Refusal::NoSuchFile));
    }
    let mut wal = src.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Ok(Staging::Refused(Refusal::LiveDatabase));
    }
    std::fs::create_dir_all(staging).with_context(|| staging.display().to_string())?;
    ensure_space(staging, std::fs::metadata(src).map(|m| m.len()).unwrap_or(0) + SPACE_MARGIN)?;
    let staged = Staged { path: staging.join(staged_name(n)) };
    let hash =
        copy_hashing(src, &staged.path).map_err(|source| StoreError::CannotCopy { path: src.to_path_buf(), source })?;
    let done: Option<(String, String)> = local
        .query_row("SELECT merged_at, file_name FROM merge_log WHERE file_hash = ?1", [&hash], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((at, first)) = done {
        return Ok(Staging::Already(at, first));
    }
    Ok(match check_staged(staged, hash)? {
        Ok(c) => Staging::Checked(c),
        Err(why) => Staging::Refused(why),
    })
}

fn check_staged(staged: Staged, hash: String) -> Result<std::result::Result<Checked, Refusal>> {
    if let Some(why) = check_header(&staged.path)? {
        return Ok(Err(why));
    }
    if let Some(why) = upgrade_staged(&staged.path)? {
        return Ok(Err(why));
    }
    let conn = match open_defended(&staged.path) {
        Ok(c) => c,
        Err(e) => return Ok(Err(sqlite_reason(&e))),
    };
    let want = expected_schema()?;
    let checks = || -> std::result::Result<std::result::Result<String, Refusal>, rusqlite::Error> {
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        if app_id != APPLICATION_ID {
            return Ok(Err(Refusal::WrongApplicationId(app_id)));
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            let app = crate::store::written_by(&conn);
            return Ok(Err(Refusal::NewerSchema { version, supported: SCHEMA_VERSION, app }));
        }
        if version != SCHEMA_VERSION {
            // Older than any upgrade this program knows (or the upgrade did not take).
            return Ok(Err(Refusal::OlderSchema { version, supported: SCHEMA_VERSION }));
        }
        let quick: Vec<String> = {
            let mut st = conn.prepare("PRAGMA quick_check(20)")?;
            st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        if quick.first().map(String::as_str) != Some("ok") {
            return Ok(Err(Refusal::IntegrityFailed { detail: quick.join("; ") }));
        }
        let got = schema_objects(&conn)?;
        if got != want {
            let name = |(t, n, _, _): &SchemaObject| format!("{t} {n}");
            let known: HashSet<&str> = want.iter().map(|w| w.1.as_str()).collect();
            let extra: Vec<String> =
                got.iter().filter(|o| !want.contains(o) && !known.contains(o.1.as_str())).map(name).collect();
            let missing_or_changed: Vec<String> = want.iter().filter(|w| !got.contains(w)).map(name).collect();
            return Ok(Err(Refusal::SchemaDiffers { extra, missing_or_changed }));
        }
        let device: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0)).optional()?;
        match device {
            Some(d) if super::check::name_check(&d).is_ok() => Ok(Ok(d)),
            _ => Ok(Err(Refusal::BadDeviceId)),
        }
    };
    match checks() {
        Err(e) => Ok(Err(sqlite_reason(&e))),
        Ok(Err(why)) => Ok(Err(why)),
        Ok(Ok(source_device)) => Ok(Ok(Checked { conn, hash, source_device, _staged: staged })),
    }
}

/// A reason to refuse the file found while reading it (SQLite refused a row).
#[derive(Debug, thiserror::Error)]
#[error("the file cannot be read")]
pub(super) struct FileRefusedReason(pub Refusal);

/// SQLite would not give a row of the file: the file is bad.
pub(super) fn bad_file(e: rusqlite::Error) -> anyhow::Error {
    FileRefusedReason(sqlite_reason(&e)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_left_by_a_killed_merge_are_removed_when_no_merge_holds_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir_all(&staging).unwrap();
        for f in ["staged-999999-0.db", "staged-999999-0.db-wal", "staged-999999-1.db-journal"] {
            std::fs::write(staging.join(f), b"left by a killed merge").unwrap();
        }
        std::fs::write(staging.join("keep.txt"), b"not ours").unwrap();
        let first = hold_staging(&staging).unwrap();
        let names = |d: &Path| {
            let mut v: Vec<String> =
                std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            v.sort();
            v
        };
        assert_eq!(names(&staging), vec![".lock", "keep.txt"]);
        // A second merge while the first holds the folder removes nothing of the first's.
        std::fs::write(staging.join(staged_name(0)), b"in use").unwrap();
        let second = hold_staging(&staging).unwrap();
        assert!(staging.join(staged_name(0)).exists(), "a copy in use was removed");
        drop(first);
        assert!(staging.join(".lock").exists(), "removed while another merge holds the folder");
        drop(second);
        // The last one out removed the lock file; the folder stays only for the file not ours.
        assert_eq!(names(&staging), vec!["keep.txt"]);
        std::fs::remove_file(staging.join("keep.txt")).unwrap();
        drop(hold_staging(&staging).unwrap());
        assert!(!staging.exists(), "an empty staging folder is removed");
    }

    #[test]
    fn header_checks_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        std::fs::write(&p, b"hello, not a database at all").unwrap();
        assert_eq!(check_header(&p).unwrap(), Some(Refusal::NotSqlite));
        assert_eq!(file_uri(Path::new("/a b/c?d#e%f")), "file:/a b/c%3fd%23e%25f");
    }
}
