//! What a screen that stays open needs to keep its figures live without
//! waiting on them: a second, read-only connection to the same file for a
//! worker thread (WAL lets it read while the app writes), a stamp of the
//! data that changes with every commit, and a handle that stops a running
//! query from another thread.

use std::path::Path;

use anyhow::Result;
use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags};

use super::Store;
use super::error::StoreError;

/// Which data a figure was computed from: equal stamps, equal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DataStamp {
    /// `PRAGMA data_version`: changes when another connection commits.
    pub others: i64,
    /// Rows this connection has changed (its own commits).
    pub own: u64,
}

/// Stops the query running on a store's connection, from any thread.
pub struct Interrupt(InterruptHandle, Readers);

impl Interrupt {
    /// The running query (if any) fails with an interruption, which
    /// [`is_interrupted`] recognises; the next query runs normally. So do
    /// the queries of the store's other reading connections.
    pub fn interrupt(&self) {
        self.0.interrupt();
        for (_, r) in &self.1.list().open {
            r.interrupt();
        }
    }
}

/// The connections a store reads with besides its own, while they read.
#[derive(Clone, Default)]
pub(crate) struct Readers(std::sync::Arc<std::sync::Mutex<ReaderList>>);

#[derive(Default)]
pub(crate) struct ReaderList {
    next: u64,
    open: Vec<(u64, InterruptHandle)>,
}

/// A reading connection made known to the store's [`Interrupt`] while this
/// lives.
pub(crate) struct Reader<'a> {
    pub(crate) conn: Connection,
    id: u64,
    readers: &'a Readers,
}

impl Readers {
    fn list(&self) -> std::sync::MutexGuard<'_, ReaderList> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a read-only connection to `path`, interruptible with the store.
    pub(crate) fn open(&self, path: &Path) -> Result<Reader<'_>> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| StoreError::CannotOpen { path: path.to_path_buf(), source })?;
        let mut list = self.list();
        let id = list.next;
        list.next += 1;
        list.open.push((id, conn.get_interrupt_handle()));
        Ok(Reader { conn, id, readers: self })
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.readers.list().open.retain(|(id, _)| *id != self.id);
    }
}

/// Whether an error is a query stopped by [`Interrupt::interrupt`].
pub fn is_interrupted(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<rusqlite::Error>()
            .is_some_and(|r| r.sqlite_error_code() == Some(ErrorCode::OperationInterrupted))
    })
}

impl Store {
    /// A read-only connection to a database another `Store` has opened (and
    /// so created and migrated): for reading on another thread.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|source| StoreError::CannotOpen { path: path.to_path_buf(), source })?;
        Store::setup(conn, &path.display().to_string(), true, &crate::identity::Identity::load_default()?)
    }

    /// The stamp of the data as this connection sees it now.
    pub fn data_stamp(&self) -> Result<DataStamp> {
        let others = self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        Ok(DataStamp { others, own: self.conn.total_changes() })
    }

    /// A handle that stops this connection's running query.
    pub fn interrupt_handle(&self) -> Interrupt {
        Interrupt(self.conn.get_interrupt_handle(), self.readers.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_changes_with_own_writes_and_with_other_connections_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let a = Store::open(&path).unwrap();
        let b = Store::open(&path).unwrap();
        let s0 = a.data_stamp().unwrap();
        assert_eq!(a.data_stamp().unwrap(), s0, "reading changes nothing");
        a.set_meta("x", "1").unwrap();
        let s1 = a.data_stamp().unwrap();
        assert_ne!(s1, s0, "own write");
        b.set_meta("x", "2").unwrap();
        let s2 = a.data_stamp().unwrap();
        assert_ne!(s2.others, s1.others, "another connection's commit");
        let r = Store::open_read_only(&path).unwrap();
        assert_eq!(r.meta("x").unwrap().as_deref(), Some("2"));
        assert!(r.set_meta("x", "3").is_err(), "read-only");
    }

    /// Runs a long query on `conn` that calls `interrupt` from inside
    /// (the deterministic way to have it stop mid-run); its error.
    fn stopped_midway(conn: &Connection, interrupt: Interrupt) -> anyhow::Error {
        conn.create_scalar_function("stop", 0, rusqlite::functions::FunctionFlags::SQLITE_UTF8, move |_| {
            interrupt.interrupt();
            Ok(0)
        })
        .unwrap();
        conn.query_row(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
             SELECT sum(stop() + i) FROM n",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_err()
        .into()
    }

    #[test]
    fn the_store_interrupt_stops_its_other_readers_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let reader = store.readers.open(store.path().unwrap()).unwrap();
        let e = stopped_midway(&reader.conn, store.interrupt_handle());
        assert!(is_interrupted(&e), "{e:?}");
        assert_eq!(store.readers.list().open.len(), 1);
        drop(reader);
        assert_eq!(store.readers.list().open.len(), 0, "a closed reader is forgotten");
    }

    #[test]
    fn an_interrupted_query_is_recognised() {
        let store = Store::open_in_memory().unwrap();
        let e = stopped_midway(&store.conn, store.interrupt_handle());
        assert!(is_interrupted(&e), "{e:?}");
        assert!(!is_interrupted(&anyhow::anyhow!("other")));
        // The next query runs.
        assert_eq!(store.conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).unwrap(), 1);
    }
}
