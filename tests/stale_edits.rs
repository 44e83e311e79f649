//! No edit silently lost (issue 11): edits made from stale bases (a form
//! opened before a merge brought another crew's change) while merges
//! interleave in both directions. Every value an edit wrote is, at the end,
//! either in the current state, or superseded by a later edit that saw it,
//! or a side of an open conflict.

mod common;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use ruralsan::domain::VisitData;
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::revisions::{self, Saved, revision_id};
use ruralsan::store::sync::{FileOutcome, MergeOptions};

const STORES: usize = 3;
const VISIT: &str = "visit-1";
const VILLAGE: &str = "430202001201";

#[derive(Debug, Clone)]
enum Op {
    /// A store opens the visit's form (it may stay open across merges).
    Open { at: usize },
    /// A store changes one field in its form (opening it if closed) and saves.
    Edit { at: usize, field: u8 },
    /// A store merges another's snapshot.
    Merge { from: usize, to: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..STORES).prop_map(|at| Op::Open { at }),
        4 => (0..STORES, 0..3u8).prop_map(|(at, field)| Op::Edit { at, field }),
        3 => (0..STORES, 0..STORES).prop_map(|(from, to)| Op::Merge { from, to }),
    ]
}

/// One edit as written: its revision, the field and the value it set.
#[derive(Debug, Clone)]
struct Written {
    rev: String,
    field: u8,
    value: String,
}

fn field_value(v: &VisitData, field: u8) -> String {
    match field {
        0 => v.notes.clone(),
        1 => v.households.to_string(),
        _ => v.natural_villages.to_string(),
    }
}

/// Sets a value that no other edit sets (`k` is the op's index).
fn set_field(v: &mut VisitData, field: u8, k: usize) {
    match field {
        0 => v.notes = format!("note {k}"),
        1 => v.households += 1000 + k as i64,
        _ => v.natural_villages = v.nv_garbage_covered + 100 + k as i64,
    }
}

/// A database with the village's roster (each office loads its own; a merge never brings one).
fn with_roster(path: &Path) -> Store {
    let s = Store::open(path).unwrap();
    common::sql(&s).execute("INSERT INTO roster (code, name, is_village) VALUES (?1, '仙庾村', 1)", [VILLAGE]).unwrap();
    s
}

fn snapshot(store: &Store, dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    store.snapshot(&p).unwrap();
    p
}

fn merge(into: &mut Store, file: &Path) {
    let r = into.merge_files(&[file.to_path_buf()], MergeOptions::default()).unwrap();
    assert!(r.files.iter().all(|f| !matches!(f, FileOutcome::Refused(_))), "{:?}", r.files);
}

/// Revisions that descend from `rev`.
fn descendants(store: &Store, rev: &str) -> Vec<String> {
    let db = common::sql(store);
    let mut st = db
        .prepare(
            "WITH RECURSIVE d(id) AS (SELECT rev_id FROM revision_parent WHERE parent_id = ?1
               UNION SELECT p.rev_id FROM revision_parent p JOIN d ON p.parent_id = d.id) SELECT id FROM d",
        )
        .unwrap();
    st.query_map([rev], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn holds(store: &Store, rev: &str) -> bool {
    common::sql(store)
        .query_row("SELECT count(*) FROM revision WHERE rev_id = ?1", [rev], |r| r.get::<_, i64>(0))
        .unwrap()
        > 0
}

/// The invariant, on one store: every written value it holds is in a head
/// (the current state, or a side of an open conflict) or was overwritten by
/// a later edit of the same field made from a state that included it.
fn check(store: &Store, written: &[Written]) -> Result<(), TestCaseError> {
    let heads = revisions::heads(&common::sql(store), VISIT).unwrap();
    let head_data: Vec<VisitData> =
        heads.iter().filter(|h| !h.deleted).map(|h| serde_json::from_str(&h.payload).unwrap()).collect();
    for w in written.iter().filter(|w| holds(store, &w.rev)) {
        if head_data.iter().any(|d| field_value(d, w.field) == w.value) {
            continue;
        }
        let later = descendants(store, &w.rev);
        let superseded = written.iter().any(|o| o.field == w.field && later.contains(&o.rev));
        prop_assert!(superseded, "the value {:?} of field {} written by {} is lost", w.value, w.field, w.rev);
    }
    Ok(())
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut base = Store::open(&dir.path().join("base.db")).unwrap();
    common::sql(&base)
        .execute("INSERT INTO roster (code, name, is_village) VALUES (?1, '仙庾村', 1)", [VILLAGE])
        .unwrap();
    let mut v = random_visit(&mut Rng::new(7), VILLAGE, "2024-05-01");
    v.canonicalize();
    base.save_visit("陈静", VISIT, Some(&v)).unwrap();
    let base_file = snapshot(&base, dir.path(), "base-snap.db");
    drop(base);
    let mut stores: Vec<Store> = (0..STORES).map(|i| with_roster(&dir.path().join(format!("s{i}.db")))).collect();
    for s in stores.iter_mut() {
        merge(s, &base_file);
    }
    let mut forms: Vec<Option<(String, VisitData)>> = vec![None; STORES];
    let mut written: Vec<Written> = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        match *op {
            Op::Open { at } => forms[at] = stores[at].load_visit(VISIT).unwrap(),
            Op::Edit { at, field } => {
                let Some((base_rev, mut data)) = forms[at].take().or_else(|| stores[at].load_visit(VISIT).unwrap())
                else {
                    continue;
                };
                set_field(&mut data, field, k);
                let saved = stores[at].save_from_form("crew", VISIT, Some(&data), Some(&base_rev), None).unwrap();
                if saved != Saved::Unchanged {
                    let rev = revision_id(VISIT, std::slice::from_ref(&base_rev), &data.canonical_json(), false);
                    prop_assert!(holds(&stores[at], &rev), "the edit's revision names its base");
                    written.push(Written { rev, field, value: field_value(&data, field) });
                }
            }
            Op::Merge { from, to } if from != to => {
                let f = snapshot(&stores[from], dir.path(), &format!("x{k}.db"));
                merge(&mut stores[to], &f);
            }
            Op::Merge { .. } => {}
        }
        check(&stores[k % STORES], &written)?;
    }
    for s in &stores {
        check(s, &written)?;
    }
    // Everything in one place: still nothing lost.
    for i in 1..STORES {
        let f = snapshot(&stores[i], dir.path(), &format!("final{i}.db"));
        merge(&mut stores[0], &f);
    }
    check(&stores[0], &written)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn no_edit_is_lost_from_a_stale_base(ops in prop::collection::vec(op(), 1..16)) {
        run(&ops)?;
    }
}

/// The case, spelled out: a form opened before a merge brings
/// another crew's change to the same visit; saving it keeps that change.
#[test]
fn a_save_keeps_the_change_merged_after_the_form_was_opened() {
    use Op::*;
    let ops = [Open { at: 0 }, Edit { at: 1, field: 0 }, Merge { from: 1, to: 0 }, Edit { at: 0, field: 1 }];
    run(&ops).unwrap();
    // And the same field changed two ways is a conflict, not a silent overwrite.
    let ops = [Open { at: 0 }, Edit { at: 1, field: 0 }, Merge { from: 1, to: 0 }, Edit { at: 0, field: 0 }];
    run(&ops).unwrap();
}

/// A bundle exported, edited in a spreadsheet and imported back names the
/// revision each row was exported at: a change merged since the export is kept.
#[test]
fn a_reimported_bundle_keeps_a_change_merged_since_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Store::open(&dir.path().join("a.db")).unwrap();
    common::sql(&a).execute("INSERT INTO roster (code, name, is_village) VALUES (?1, '仙庾村', 1)", [VILLAGE]).unwrap();
    let mut v = random_visit(&mut Rng::new(7), VILLAGE, "2024-05-01");
    v.canonicalize();
    a.save_visit("陈静", VISIT, Some(&v)).unwrap();
    let bundle = dir.path().join("bundle");
    a.export_bundle(&bundle).unwrap();
    // Another crew changes the notes; the county merges it.
    let mut b = with_roster(&dir.path().join("b.db"));
    merge(&mut b, &snapshot(&a, dir.path(), "a-snap.db"));
    let (rev, mut theirs) = b.load_visit(VISIT).unwrap().unwrap();
    theirs.notes = "另一组的备注".into();
    b.save_from_form("张伟", VISIT, Some(&theirs), Some(&rev), None).unwrap();
    merge(&mut a, &snapshot(&b, dir.path(), "b-snap.db"));
    // Meanwhile the exported households were corrected in a spreadsheet.
    let path = bundle.join("visits.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = r.headers().unwrap().clone();
    assert!(header.iter().any(|h| h == "rev"), "the export names each row's revision: {header:?}");
    let hh = header.iter().position(|h| h == "households").unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    for rec in r.records() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(str::to_string).collect();
        rec[hh] = (v.households + 5).to_string();
        w.write_record(&rec).unwrap();
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
    a.import_bundle(&bundle, false).unwrap();
    let (_, now) = a.load_visit(VISIT).unwrap().unwrap();
    assert_eq!(now.notes, "另一组的备注", "the merged change survives the re-import");
    assert_eq!(now.households, v.households + 5, "the spreadsheet's correction is applied");
}
