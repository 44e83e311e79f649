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
        // Issue 12: formula starts and the text mark, tabs, lone CRs,
        // Excel's dates and codes, GB18030 bytes and broken sequences.
        b"'=".to_vec(),
        b"\t".to_vec(),
        b"\r".to_vec(),
        b"2025/3/1".to_vec(),
        b"4.30202E+11".to_vec(),
        vec![0xb4, 0xe5],
        vec![0x81],
        vec![0xef, 0xbb, 0xbf],
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

fn mutate(ops: Vec<Op>) -> Vec<Vec<u8>> {
    let mut files = seed_bundle();
    for op in ops {
        match op {
            Op::Delete(f, i) => {
                let n = files[f].len();
                if n > 0 {
                    files[f].remove(i % n);
                }
            }
            Op::Insert(f, i, b) => {
                let n = files[f].len() + 1;
                let at = i % n;
                files[f].splice(at..at, b);
            }
            Op::Truncate(f, i) => {
                let n = files[f].len() + 1;
                files[f].truncate(i % n);
            }
        }
    }
    files
}

/// Imports the files into a fresh store: its dump, or the problems. A
/// refusal must be a `Refused` and leave the database exactly as it was.
fn import(files: &[Vec<u8>]) -> Result<String, Vec<ruralsan::domain::validate::LineProblem>> {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in FILES.iter().zip(files) {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let mut store = Store::open_in_memory().unwrap();
    let before = dump(&store);
    match store.import_bundle(dir.path(), false) {
        Ok(_) => Ok(dump_current(&store)),
        Err(e) => {
            let problems =
                e.downcast_ref::<Refused>().unwrap_or_else(|| panic!("not a refusal: {e:#}")).problems.clone();
            assert_eq!(dump(&store), before, "a refused bundle changed the database");
            Err(problems)
        }
    }
}

/// The text re-saved the way Excel saves it on Chinese Windows.
#[derive(Debug, Clone, Copy)]
enum Saved {
    Gb18030,
    Utf16Le,
}

fn resave(text: &str, how: Saved) -> Vec<u8> {
    match how {
        Saved::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
        Saved::Utf16Le => [0xff, 0xfe].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn mutated_bundles_never_panic_or_half_write(ops in prop::collection::vec(op(), 1..6)) {
        let _ = import(&mutate(ops));
    }

    /// Differential: a mutated bundle saved in another encoding imports
    /// exactly as its UTF-8 original does (same tables, or the same problems).
    #[test]
    fn a_bundle_reads_the_same_in_every_encoding(
        ops in prop::collection::vec(op(), 0..4),
        how in prop::sample::select(vec![Saved::Gb18030, Saved::Utf16Le]),
    ) {
        let files = mutate(ops);
        // Only text: bytes that are not UTF-8 have no other encoding.
        let texts: Option<Vec<&str>> = files.iter().map(|b| std::str::from_utf8(b).ok()).collect();
        prop_assume!(texts.is_some());
        // A leading BOM is the encoding's mark, not text: UTF-8's is taken off.
        let texts: Vec<&str> = texts.unwrap().into_iter().map(|t| t.strip_prefix('\u{feff}').unwrap_or(t)).collect();
        prop_assume!(texts.iter().all(|t| !t.contains('\0')));
        let resaved: Vec<Vec<u8>> = texts.iter().map(|t| resave(t, how)).collect();
        prop_assert_eq!(import(&resaved), import(&files), "{:?}", how);
    }
}
