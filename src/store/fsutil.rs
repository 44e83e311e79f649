//! File helpers, once each: hex encoding, atomic file replacement (synced
//! file and folder), removal of a database file with its sidecars.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Lowercase hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The folder holding `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A temporary name beside `path`, hidden, unique to this process.
pub fn temp_beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    folder_of(path).join(format!(".{name}.{}.{suffix}", std::process::id()))
}

/// Moves a finished file `tmp` over `dest`: the file is synced, renamed,
/// and the folder synced, so that after a crash `dest` is either the old
/// file or the whole new one.
pub fn commit_file(tmp: &Path, dest: &Path) -> std::io::Result<()> {
    File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, dest)?;
    File::open(folder_of(dest))?.sync_all()
}

/// Writes `dest` whole or not at all: `write` fills a temporary file beside
/// it, which [`commit_file`] then moves into place. On failure the
/// temporary file is removed and `dest` is untouched.
pub fn write_atomic<T>(dest: &Path, write: impl FnOnce(&mut File) -> Result<T>) -> Result<T> {
    let tmp = temp_beside(dest, "tmp");
    let result = (|| -> Result<T> {
        let mut f = File::create(&tmp).with_context(|| tmp.display().to_string())?;
        let out = write(&mut f)?;
        drop(f);
        commit_file(&tmp, dest)?;
        Ok(out)
    })();
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        remove_file_if_exists(&tmp);
    }
    result.with_context(|| dest.display().to_string())
}

/// The size of a file, 0 when it does not exist.
pub fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The total size of the regular files directly in a folder.
pub fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

/// Refuses, before anything is written, when the file system holding
/// `dir` has less than `needed` bytes free for this user. When the free
/// space cannot be read the write goes ahead: it is all-or-nothing anyway,
/// and a full disk then fails it cleanly.
pub fn ensure_space(dir: &Path, needed: u64) -> std::result::Result<(), super::StoreError> {
    match fs4::available_space(dir) {
        Ok(free) if free < needed => Err(super::StoreError::NoSpace { path: dir.to_path_buf(), needed, free }),
        _ => Ok(()),
    }
}

/// Checks that new files can be made in `dir` (a database needs its `-wal`
/// and `-shm` sidecars there) by making and removing a hidden probe file.
pub fn ensure_writable_folder(dir: &Path) -> std::result::Result<(), super::StoreError> {
    let probe = temp_beside(&dir.join("ruralsan-probe"), "tmp");
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(f) => {
            drop(f);
            remove_file_if_exists(&probe);
            Ok(())
        }
        // A probe left by a process killed at just this moment.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            remove_file_if_exists(&probe);
            Ok(())
        }
        Err(source) => Err(super::StoreError::FolderNotWritable { path: dir.to_path_buf(), source }),
    }
}

/// Removes a file that may not exist. Cleanup only: a file left behind is
/// harmless, and the caller's own outcome is what it reports.
fn remove_file_if_exists(path: &Path) {
    let _cleanup = std::fs::remove_file(path);
}

/// Removes a database file and its `-wal`, `-shm` and `-journal` sidecars
/// (cleanup of staging and temporary copies; missing files are fine).
pub fn remove_with_sidecars(path: &Path) {
    remove_file_if_exists(path);
    for ext in ["-wal", "-shm", "-journal"] {
        let mut p = path.to_path_buf().into_os_string();
        p.push(ext);
        remove_file_if_exists(Path::new(&p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }

    #[test]
    fn space_beyond_the_disk_is_refused_with_both_figures() {
        let dir = tempfile::tempdir().unwrap();
        ensure_space(dir.path(), 1).unwrap();
        match ensure_space(dir.path(), u64::MAX) {
            Err(super::super::StoreError::NoSpace { needed, free, path }) => {
                assert_eq!((needed, path.as_path()), (u64::MAX, dir.path()));
                assert!(free > 0 && free < u64::MAX);
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_folder_that_takes_no_files_is_named() {
        let dir = tempfile::tempdir().unwrap();
        ensure_writable_folder(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the probe is removed");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_takes_no_files_even_for_root() {
        let e = ensure_writable_folder(Path::new("/proc")).unwrap_err();
        assert!(
            matches!(e, super::super::StoreError::FolderNotWritable { ref path, .. } if path == Path::new("/proc"))
        );
    }

    #[test]
    fn write_atomic_replaces_whole_or_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "old").unwrap();
        let failed = write_atomic(&p, |f| -> Result<()> {
            use std::io::Write;
            f.write_all(b"half")?;
            anyhow::bail!("stop")
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        write_atomic(&p, |f| {
            use std::io::Write;
            Ok(f.write_all(b"new")?)
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }
}
