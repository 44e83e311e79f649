//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod tmux;

use std::path::{Path, PathBuf};

use ruralsan::store::Store;

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
    let c = &store.conn;
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
    store.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
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
/// summary asked for others).
pub fn assert_figures_match(store: &Store) {
    let c = ruralsan::domain::settings::ManureCoefficients::default();
    let stored = ruralsan::store::figures::stored(&store.conn).unwrap();
    let fresh = ruralsan::store::figures::recomputed(&store.conn, &c).unwrap();
    assert_eq!(stored.len(), fresh.len(), "figures rows vs current visits");
    for (id, f) in &fresh {
        assert_eq!(stored.get(id), Some(f), "figures of visit {id}");
    }
}
