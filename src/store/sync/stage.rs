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
use crate::store::error::{Refusal, StoreError};
use crate::store::fsutil::{hex, remove_with_sidecars};
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
    let staged = Staged { path: staging.join(format!("staged-{}-{n}.db", std::process::id())) };
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
            return Ok(Err(Refusal::NewerSchema { version, supported: SCHEMA_VERSION }));
        }
        if version != SCHEMA_VERSION {
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
    fn header_checks_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        std::fs::write(&p, b"hello, not a database at all").unwrap();
        assert_eq!(check_header(&p).unwrap(), Some(Refusal::NotSqlite));
        assert_eq!(file_uri(Path::new("/a b/c?d#e%f")), "file:/a b/c%3fd%23e%25f");
    }
}
