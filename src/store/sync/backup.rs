//! Backups of the local database, taken just before a merge writes: whole
//! or absent (written under a temporary name, synced, then renamed), only
//! after free space was checked, and kept within a stated bound.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use rusqlite::{Connection, OpenFlags};

use crate::domain::settings::BackupRetention;
use crate::store::Store;
use crate::store::error::StoreError;
use crate::store::fsutil::{commit_file, ensure_space, file_size, remove_with_sidecars, temp_beside};

/// Slack added to every free-space estimate (SQLite's journals, the folder).
pub const SPACE_MARGIN: u64 = 1024 * 1024;
/// The time stamp in a backup's name.
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// Where the backups are and what the bound removed.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupsKept {
    pub dir: PathBuf,
    pub keep: BackupRetention,
    /// Old backups removed after this one was taken.
    pub pruned: u64,
}

/// The backups folder of a database file: `backups/` beside it.
pub fn backups_dir(db: &Path) -> PathBuf {
    db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("backups")
}

fn stem_of(db: &Path) -> String {
    db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "ruralsan".into())
}

/// The time a backup of database `stem` was taken, from its name
/// (`{stem}-YYYYMMDDTHHMMSSZ.db` or `…Z-N.db`); `None` for any other file.
pub fn backup_time(stem: &str, name: &str) -> Option<NaiveDateTime> {
    let rest = name.strip_prefix(stem)?.strip_prefix('-')?.strip_suffix(".db")?;
    let (stamp, n) = rest.split_at_checked(16)?;
    if !(n.is_empty() || n.strip_prefix('-').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))) {
        return None;
    }
    NaiveDateTime::parse_from_str(stamp, STAMP).ok()
}

/// N of a backup named `…Z-N.db` (the N+1th taken in its second); 0 otherwise.
fn same_second_count(name: &str) -> u64 {
    let stem = name.strip_suffix(".db").unwrap_or(name);
    stem.rsplit_once('-').and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}

/// The backups to remove under `keep`: all but the newest `keep.last`, and
/// but the newest of each of the `keep.months` calendar months up to
/// `today`'s. Backups are (name, time); within a second the counter in the
/// name orders them, so the verdict does not depend on the order of the list.
pub fn to_remove(backups: &[(String, NaiveDateTime)], keep: BackupRetention, today: NaiveDate) -> Vec<String> {
    let mut newest_first: Vec<&(String, NaiveDateTime)> = backups.iter().collect();
    // Within one second, `…Z-2.db` was taken after `…Z-1.db`, after `…Z.db`.
    let key = |(name, at): &(String, NaiveDateTime)| (*at, same_second_count(name), name.clone());
    newest_first.sort_by_key(|b| std::cmp::Reverse(key(b)));
    let month_index = |d: NaiveDate| d.year() as i64 * 12 + d.month0() as i64;
    let this_month = month_index(today);
    let mut months_seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, (name, at)) in newest_first.into_iter().enumerate() {
        let m = month_index(at.date());
        let recent_month = (0..keep.months as i64).contains(&(this_month - m));
        let newest_of_month = recent_month && months_seen.insert(m);
        if i >= keep.last as usize && !newest_of_month {
            out.push(name.clone());
        }
    }
    out.sort();
    out
}

impl Store {
    /// Sets which backups merges keep (default: [`BackupRetention::default`]).
    pub fn set_backup_retention(&mut self, keep: BackupRetention) {
        self.retention = keep;
    }

    /// Bytes of the database file and its write-ahead log (0 in memory).
    pub(crate) fn database_bytes(&self) -> u64 {
        self.path().map_or(0, database_bytes)
    }

    /// Which backups merges keep.
    pub fn backup_retention(&self) -> BackupRetention {
        self.retention
    }

    /// Takes a backup of the local database into `backups/` beside it and
    /// removes the backups the bound no longer keeps; `None` for an
    /// in-memory database. See [`Store::take_backup`].
    pub fn backup_local(&self) -> Result<Option<PathBuf>> {
        Ok(self.take_backup()?.map(|(p, _)| p))
    }

    /// Takes a backup: free space checked first, written under a temporary
    /// name from its own read-only connection (so it holds the last
    /// committed state even while this connection has a merge under way),
    /// synced and renamed; then old backups beyond the bound are removed.
    pub fn take_backup(&self) -> Result<Option<(PathBuf, BackupsKept)>> {
        match self.path() {
            Some(db) => take_backup(db, self.retention).map(Some),
            None => Ok(None),
        }
    }
}

/// Bytes of a database file and its write-ahead log.
fn database_bytes(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    file_size(db) + file_size(Path::new(&wal))
}

/// As [`Store::take_backup`], for the database file `db`.
pub(super) fn take_backup(db: &Path, keep: BackupRetention) -> Result<(PathBuf, BackupsKept)> {
    let dir = backups_dir(db);
    std::fs::create_dir_all(&dir).map_err(|source| StoreError::CannotCreateFolder { path: dir.clone(), source })?;
    let stem = stem_of(db);
    // Partial backups of a run that was killed: never a real backup.
    remove_partial_backups(&dir, &stem);
    ensure_space(&dir, database_bytes(db) + SPACE_MARGIN)?;
    let stamp = chrono::Utc::now().format(STAMP);
    let mut path = dir.join(format!("{stem}-{stamp}.db"));
    let mut i = 1;
    while path.exists() {
        path = dir.join(format!("{stem}-{stamp}-{i}.db"));
        i += 1;
    }
    let tmp = temp_beside(&path, "partial");
    let written = (|| -> Result<()> {
        let failed = |source| StoreError::BackupFailed { path: path.clone(), source };
        let src = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(failed)?;
        src.busy_timeout(crate::store::BUSY_TIMEOUT).map_err(failed)?;
        let tmp_str = tmp.to_str().ok_or_else(|| StoreError::BadPath { path: tmp.clone() })?;
        src.execute("VACUUM INTO ?1", [tmp_str]).map_err(failed)?;
        drop(src);
        commit_file(&tmp, &path).with_context(|| path.display().to_string())?;
        Ok(())
    })();
    if let Err(e) = written {
        remove_with_sidecars(&tmp);
        return Err(e);
    }
    let pruned = prune_backups(&dir, &stem, keep)?;
    Ok((path, BackupsKept { dir, keep, pruned }))
}

/// Removes the backups of database `stem` that the bound no longer keeps.
fn prune_backups(dir: &Path, stem: &str, keep: BackupRetention) -> Result<u64> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(at) = backup_time(stem, &name) {
            found.push((name, at));
        }
    }
    let today = chrono::Utc::now().date_naive();
    let mut pruned = 0;
    for name in to_remove(&found, keep, today) {
        if std::fs::remove_file(dir.join(&name)).is_ok() {
            pruned += 1;
        }
    }
    Ok(pruned)
}

/// Removes `.{stem}-….partial` files of backups that never finished.
fn remove_partial_backups(dir: &Path, stem: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = format!(".{stem}-");
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".partial") {
            remove_with_sidecars(&e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn backup_names_are_read_back_and_other_files_ignored() {
        assert_eq!(backup_time("county", "county-20250601T080000Z.db"), Some(at("2025-06-01 08:00")));
        assert_eq!(backup_time("county", "county-20250601T080000Z-3.db"), Some(at("2025-06-01 08:00")));
        for other in [
            "county-20250601T080000Z.db-wal",
            ".county-20250601T080000Z.db.77.partial",
            "county-x0250601T080000Z.db",
            "county-20250601T080000Z-.db",
            "other-20250601T080000Z.db",
            "county.db",
        ] {
            assert_eq!(backup_time("county", other), None, "{other}");
        }
    }

    #[test]
    fn the_last_ten_and_the_newest_of_each_recent_month_are_kept() {
        // A county merging daily for 400 days, up to 2025-06-15.
        let today = NaiveDate::from_ymd_opt(2025, 6, 15).unwrap();
        let backups: Vec<(String, NaiveDateTime)> = (0..400)
            .map(|d| {
                let t = (today - chrono::Days::new(d)).and_hms_opt(9, 0, 0).unwrap();
                (format!("county-{}.db", t.format(STAMP)), t)
            })
            .collect();
        let gone = to_remove(&backups, BackupRetention::default(), today);
        let kept: Vec<&str> =
            backups.iter().map(|(n, _)| n.as_str()).filter(|n| !gone.iter().any(|g| g == n)).collect();
        // The last 10 days (June 6–15, June's newest among them), then the
        // last day of each of the 11 months before June: 12 months in all.
        let mut want: Vec<String> =
            (0..10).map(|d| format!("county-{}T090000Z.db", (today - chrono::Days::new(d)).format("%Y%m%d"))).collect();
        for (y, m, last) in [
            (2025, 5, 31),
            (2025, 4, 30),
            (2025, 3, 31),
            (2025, 2, 28),
            (2025, 1, 31),
            (2024, 12, 31),
            (2024, 11, 30),
            (2024, 10, 31),
            (2024, 9, 30),
            (2024, 8, 31),
            (2024, 7, 31),
        ] {
            want.push(format!("county-{y:04}{m:02}{last:02}T090000Z.db"));
        }
        let mut kept_sorted: Vec<String> = kept.iter().map(|s| s.to_string()).collect();
        kept_sorted.sort();
        want.sort();
        assert_eq!(kept_sorted, want);
        assert_eq!(gone.len(), 400 - 21);
    }

    #[test]
    fn fewer_backups_than_the_bound_are_all_kept_and_order_does_not_matter() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 15).unwrap();
        let mut b = vec![
            ("c-20250601T080000Z.db".to_string(), at("2025-06-01 08:00")),
            ("c-20250601T080000Z-1.db".to_string(), at("2025-06-01 08:00")),
            ("c-20230101T080000Z.db".to_string(), at("2023-01-01 08:00")),
        ];
        assert!(to_remove(&b, BackupRetention::default(), today).is_empty());
        let keep = BackupRetention { last: 1, months: 0 };
        let gone = to_remove(&b, keep, today);
        b.reverse();
        assert_eq!(to_remove(&b, keep, today), gone);
        assert_eq!(gone, vec!["c-20230101T080000Z.db".to_string(), "c-20250601T080000Z.db".to_string()]);
        assert_eq!(same_second_count("c-20250601T080000Z-12.db"), 12);
        assert_eq!(same_second_count("c-20250601T080000Z.db"), 0);
    }
}
