//! Fuzzing merge with mutated crew databases, driven by proptest: random
//! byte changes and truncations of a valid snapshot never panic, and a
//! refused file leaves the county database exactly as it was.
//!
//! Default: a quick run. A long run: `PROPTEST_CASES=20000 cargo test --release --test fuzz_merge`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::sync::{FileOutcome, MergeOptions};

struct Fixture {
    _dir: tempfile::TempDir,
    crew: Vec<u8>,
    county: PathBuf,
}

/// A crew snapshot with a few dozen visits and a county database, made once.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let roster = common::sample("sample").join("villages.csv");
        let mut crew = Store::open(&dir.path().join("crew.db")).unwrap();
        crew.import_roster(&roster).unwrap();
        let codes: Vec<String> = common::sql(&crew)
            .prepare("SELECT code FROM roster WHERE is_village ORDER BY code LIMIT 40")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut rng = Rng::new(5);
        for code in &codes {
            let v = random_visit(&mut rng, code, "2024-03-01");
            crew.save_visit("王芳", &rng.uuid(), Some(&v)).unwrap();
        }
        let snap = dir.path().join("crew-snap.db");
        crew.snapshot(&snap).unwrap();
        let county = dir.path().join("county.db");
        let mut c = Store::open(&county).unwrap();
        c.import_roster(&roster).unwrap();
        drop(c);
        let pristine = dir.path().join("county-pristine.db");
        Store::open(&county).unwrap().snapshot(&pristine).unwrap();
        Fixture { crew: std::fs::read(&snap).unwrap(), county: pristine, _dir: dir }
    })
}

#[derive(Debug, Clone)]
enum Op {
    Set(usize, u8),
    SetHeader(usize, u8),
    Truncate(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Op::Set(i.index(usize::MAX), b)),
        2 => (0usize..100, any::<u8>()).prop_map(|(i, b)| Op::SetHeader(i, b)),
        1 => any::<prop::sample::Index>().prop_map(|i| Op::Truncate(i.index(usize::MAX))),
    ]
}

fn merge(county: &Path, crew: &Path) -> (Store, ruralsan::store::sync::MergeReport) {
    let mut s = Store::open(county).unwrap();
    let r = s.merge_files(&[crew.to_path_buf()], MergeOptions::default()).unwrap();
    (s, r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn mutated_crew_files_never_panic_or_half_write(ops in prop::collection::vec(op(), 1..8)) {
        let f = fixture();
        let mut bytes = f.crew.clone();
        for op in ops {
            match op {
                Op::Set(i, b) => { let n = bytes.len(); if n > 0 { bytes[i % n] = b; } }
                Op::SetHeader(i, b) => { if i < bytes.len() { bytes[i] = b; } }
                Op::Truncate(i) => { let n = bytes.len() + 1; bytes.truncate(i % n); }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let county = dir.path().join("county.db");
        std::fs::copy(&f.county, &county).unwrap();
        let crew = dir.path().join("stick.db");
        std::fs::write(&crew, &bytes).unwrap();
        let before = common::dump(&Store::open(&county).unwrap());
        let (store, report) = merge(&county, &crew);
        match &report.files[0] {
            FileOutcome::Refused(_) => prop_assert_eq!(common::dump(&store), before),
            FileOutcome::Merged(_) | FileOutcome::AlreadyMerged { .. } => {
                let check: String = common::sql(&store).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
                prop_assert_eq!(check, "ok");
            }
        }
    }
}
