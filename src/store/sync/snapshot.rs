//! Snapshots to carry on the USB stick, and the backup taken before a merge.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::store::error::StoreError;
use crate::store::fsutil::{commit_file, remove_with_sidecars};
use crate::store::{APPLICATION_ID, SCHEMA_VERSION, Store};

/// What a snapshot wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub revisions: i64,
    pub visits: i64,
}

impl Store {
    /// Writes a consistent, self-contained copy of the database to `dest`
    /// (with `VACUUM INTO`, safe while the app has the database open),
    /// checks its integrity and leaves no sidecar files.
    pub fn snapshot(&self, dest: &Path) -> Result<SnapshotReport> {
        if dest.exists() {
            return Err(StoreError::SnapshotExists { path: dest.to_path_buf() }.into());
        }
        let bad_path = || StoreError::BadPath { path: dest.to_path_buf() };
        let name = dest.file_name().ok_or_else(bad_path)?;
        let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".partial");
        let tmp = dir.join(tmp_name);
        let remove_tmp = || remove_with_sidecars(&tmp);
        remove_tmp();
        let result = (|| -> Result<SnapshotReport> {
            let tmp_str = tmp.to_str().ok_or_else(bad_path)?;
            self.conn
                .execute("VACUUM INTO ?1", [tmp_str])
                .map_err(|source| StoreError::SnapshotFailed { path: dest.to_path_buf(), source })?;
            let (revs, visits) = {
                let c = Connection::open(&tmp)?;
                let _: String = c.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
                // Every payload in full on the stick (store/payload.rs).
                crate::store::payload::fill_all(&c)?;
                let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
                let app: i64 = c.query_row("PRAGMA application_id", [], |r| r.get(0))?;
                let ver: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if ok != "ok" || app != APPLICATION_ID || ver != SCHEMA_VERSION {
                    return Err(StoreError::SnapshotCheckFailed { path: dest.to_path_buf(), detail: ok }.into());
                }
                let revs: i64 = c.query_row("SELECT count(*) FROM revision", [], |r| r.get(0))?;
                let visits: i64 = c.query_row("SELECT count(*) FROM visit", [], |r| r.get(0))?;
                (revs, visits)
            };
            commit_file(&tmp, dest).with_context(|| dest.display().to_string())?;
            let bytes = std::fs::metadata(dest)?.len();
            Ok(SnapshotReport { path: dest.to_path_buf(), bytes, revisions: revs, visits })
        })();
        remove_tmp();
        result
    }
}
