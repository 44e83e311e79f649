//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod strategies;
pub mod tmux;

use std::path::{Path, PathBuf};

use ruralsan::store::Store;

/// A connection of the test's own on a store's database, for assertions and
/// for setting up states the program never makes. The store keeps its own
/// connection private; this opens the same file (an in-memory store is read
/// through a snapshot of it, so writes there do not reach the store).
pub struct Sql {
    pub conn: rusqlite::Connection,
    _copy: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Sql {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        &self.conn
    }
}

pub fn sql(store: &Store) -> Sql {
    match store.path() {
        Some(p) => {
            let conn = rusqlite::Connection::open(p).unwrap();
            conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            Sql { conn, _copy: None }
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("copy.db");
            store.snapshot(&p).unwrap();
            Sql { conn: rusqlite::Connection::open(&p).unwrap(), _copy: Some(dir) }
        }
    }
}

/// The repository's copy of a shared sample bundle.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Every row of every table, in a fixed order: two databases with equal
/// dumps hold the same data.
pub fn dump(store: &Store) -> String {
    dump_tables(store, None)
}

/// The dump of the current tables and the roster only (what export/import must preserve).
pub fn dump_current(store: &Store) -> String {
    dump_tables(store, Some(&["roster", "area", "visit", "facility", "farm", "water_body"]))
}

fn dump_tables(store: &Store, only: Option<&[&str]>) -> String {
    let c = &sql(store).conn;
    let mut tables: Vec<(String, String)> = c
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    if let Some(only) = only {
        tables.retain(|(n, _)| only.contains(&n.as_str()));
    }
    let mut out = String::new();
    for (name, sql) in tables {
        out.push_str(&sql);
        out.push('\n');
        // The current tables carry the revision that produced them; the
        // visible content is what must match across databases.
        let cols: Vec<String> = c
            .prepare(&format!("SELECT name FROM pragma_table_info('{name}') ORDER BY cid"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let cols: Vec<String> = cols.into_iter().filter(|c| only.is_none() || c != "rev_id").collect();
        let list = cols.join(", ");
        let mut st = c.prepare(&format!("SELECT {list} FROM {name} ORDER BY {list}")).unwrap();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let vals: Vec<String> = (0..cols.len()).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect();
            out.push_str(&vals.join("|"));
            out.push('\n');
        }
    }
    out
}

pub fn count(store: &Store, table: &str) -> i64 {
    sql(store).query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

/// Writes a bundle of the given files into a fresh temporary folder.
pub fn write_bundle(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// The per-visit figures table equals the figures computed afresh from the
/// current tables with the coefficients the table records (defaults unless a
/// summary asked for others): no visit's row missing, extra or different.
pub fn assert_figures_match(store: &Store) {
    assert_eq!(store.figures_mismatches().unwrap(), vec![], "figures rows that differ from the current visits");
}

/// Appends every row of `sql` to `out`, a line each (cells as SQLite gives
/// them): for comparing a database's content before and after.
pub fn dump_rows(c: &rusqlite::Connection, sql: &str, out: &mut String) {
    let mut st = c.prepare(sql).unwrap();
    let n = st.column_count();
    let mut rows = st.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        for i in 0..n {
            out.push_str(&format!("{:?}|", r.get_ref(i).unwrap()));
        }
        out.push('\n');
    }
}

/// A fresh copy of `pristine` at `db`, without the log, journal or shared
/// memory files an earlier run left beside it.
pub fn fresh_copy(pristine: &Path, db: &Path) {
    for ext in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    std::fs::copy(pristine, db).unwrap();
}

/// Kills `child` with SIGKILL after a random wait of up to `span_ms` (round 0
/// at once, before it can have committed anything) and reaps it.
pub fn kill_midway(child: &mut std::process::Child, round: u64, rng: &mut ruralsan::generate::Rng, span_ms: i64) {
    let wait = if round == 0 { 0 } else { rng.range(0, span_ms) as u64 };
    std::thread::sleep(std::time::Duration::from_millis(wait));
    child.kill().unwrap();
    child.wait().unwrap();
}
