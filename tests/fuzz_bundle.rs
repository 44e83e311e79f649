//! Fuzzing the CSV bundle reader, driven by proptest: random byte-level
//! mutations of a valid bundle never panic and never half-write — the import
//! either succeeds or is refused with the database exactly as it was.
//!
//! Default: a quick run. A long run: `PROPTEST_CASES=200000 cargo test --release --test fuzz_bundle`.

mod common;

use common::*;
use proptest::prelude::*;
use ruralsan::store::Store;
use ruralsan::store::bundle::Refused;

const FILES: [&str; 5] = ["villages.csv", "visits.csv", "facilities.csv", "farms.csv", "water_bodies.csv"];

/// The first rows of each file of the messy sample (BOM, shuffled columns, Chinese labels).
fn seed_bundle() -> Vec<Vec<u8>> {
    FILES
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(sample("sample-messy").join(f)).unwrap();
            let lines: Vec<&str> =
                text.split_inclusive('\n').take(if *f == "villages.csv" { 400 } else { 25 }).collect();
            lines.concat().into_bytes()
        })
        .collect()
}

#[derive(Debug, Clone)]
enum Op {
    Delete(usize, usize),
    Insert(usize, usize, Vec<u8>),
    Truncate(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let interesting = prop::sample::select(vec![
        b",".to_vec(),
        b"\"".to_vec(),
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"-".to_vec(),
        b"9999999999999999999999".to_vec(),
        "\u{feff}".as_bytes().to_vec(),
        "村".as_bytes().to_vec(),
        vec![0xff, 0xfe],
        vec![0],
        b"NaN".to_vec(),
        b"1e309".to_vec(),
        b"2099-01-01".to_vec(),
    ]);
    prop_oneof![
        (0..FILES.len(), any::<prop::sample::Index>()).prop_map(|(f, i)| Op::Delete(f, i.index(usize::MAX))),
        (0..FILES.len(), any::<prop::sample::Index>(), interesting).prop_map(|(f, i, b)| Op::Insert(
            f,
            i.index(usize::MAX),
            b
        )),
        (0..FILES.len(), any::<prop::sample::Index>()).prop_map(|(f, i)| Op::Truncate(f, i.index(usize::MAX))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn mutated_bundles_never_panic_or_half_write(ops in prop::collection::vec(op(), 1..6)) {
        let mut files = seed_bundle();
        for op in ops {
            match op {
                Op::Delete(f, i) => { let n = files[f].len(); if n > 0 { files[f].remove(i % n); } }
                Op::Insert(f, i, b) => { let n = files[f].len() + 1; let at = i % n; files[f].splice(at..at, b); }
                Op::Truncate(f, i) => { let n = files[f].len() + 1; files[f].truncate(i % n); }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in FILES.iter().zip(&files) {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let mut store = Store::open_in_memory().unwrap();
        let before = dump(&store);
        match store.import_bundle(dir.path(), false) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(e.downcast_ref::<Refused>().is_some(), "not a refusal: {e:#}");
                prop_assert_eq!(dump(&store), before);
            }
        }
    }
}
