//! CSV bundle import and export (SPEC §6) and the revision store beneath it.

mod common;

use common::*;
use ruralsan::store::Store;
use ruralsan::store::bundle::Refused;
use ruralsan::strings::{Lang, set_lang};

fn store() -> Store {
    set_lang(Lang::En);
    Store::open_in_memory().unwrap()
}

const VILLAGES: &str = "code,name,urban_rural_code,township_code,township_name,county_code,county_name
430202001201,仙庾村,,430202001,仙庾镇,430202,荷塘区
430202001001,文化路社区居委会,,430202001,仙庾镇,430202,荷塘区
";
const VISITS: &str = "visit_id,village_code,survey_date,surveyor,households,hh_sewer,hh_reuse,hh_controlled,natural_villages,nv_garbage_covered,notes
v1,430202001201,2024-02-09,陈静,100,10,10,10,5,4,\"line1
line2, \"\"quoted\"\"\"
";
const FACILITIES: &str = "visit_id,facility_id,kind,households_served,status,capacity_m3_d
v1,f1,central,20,normal,12.5
";
const FARMS: &str = "visit_id,farm_id,name,species,head_on_hand,annual_out,manure_t,utilized_pct,facility_equipped
v1,a1,家庭农场,pig,100,600,,80,1
";
const WATER: &str =
    "visit_id,water_id,name,kind,area_m2,length_m,depth_cm,transparency_cm,do_mg_l,nh3n_mg_l,listed,status
v1,w1,门前塘,pond,500,,30,40,5,3,provincial,remediated
";

fn base() -> Vec<(&'static str, String)> {
    vec![
        ("villages.csv", VILLAGES.to_string()),
        ("visits.csv", VISITS.to_string()),
        ("facilities.csv", FACILITIES.to_string()),
        ("farms.csv", FARMS.to_string()),
        ("water_bodies.csv", WATER.to_string()),
    ]
}

/// The base bundle with `from` replaced by `to` in `file`.
fn mutated(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let files: Vec<(&str, String)> = base()
        .into_iter()
        .map(|(n, t)| {
            if n == file {
                assert!(t.contains(from), "{from:?} not in {file}");
                (n, t.replacen(from, to, 1))
            } else {
                (n, t)
            }
        })
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    write_bundle(&refs)
}

fn refusal(store: &mut Store, dir: &std::path::Path) -> Vec<String> {
    let err = store.import_bundle(dir, false).expect_err("bundle must be refused");
    err.downcast_ref::<Refused>().unwrap_or_else(|| panic!("not a refusal: {err:#}")).problems.clone()
}

#[test]
fn base_bundle_imports_with_quoted_multiline_notes() {
    let mut s = store();
    let dir = mutated("visits.csv", "", "");
    let r = s.import_bundle(dir.path(), false).unwrap();
    assert_eq!((r.visits, r.new, r.facilities, r.farms, r.water_bodies), (1, 1, 1, 1, 1));
    let notes: String = s.conn.query_row("SELECT notes FROM visit", [], |r| r.get(0)).unwrap();
    assert_eq!(notes, "line1\nline2, \"quoted\"");
    assert_eq!(count(&s, "roster"), 2);
}

#[test]
fn each_broken_rule_is_refused_with_file_line_column_and_nothing_written() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("visits.csv", "notes\n", "notes,extra\n", "visits.csv:1: extra: is not a known column"),
        ("visits.csv", ",notes\n", "\n", "visits.csv:1: notes: column is missing"),
        ("visits.csv", ",100,", ",1x0,", "visits.csv:2: households: is not a whole number"),
        ("visits.csv", ",100,10,10,10,", ",-1,10,10,10,", "visits.csv:2: households: must not be negative"),
        ("visits.csv", "2024-02-09", "2024-02-30", "visits.csv:2: survey_date: is not a date"),
        ("visits.csv", "2024-02-09", "2999-01-01", "visits.csv:2: survey_date: is after today"),
        ("visits.csv", "陈静", "", "visits.csv:2: surveyor: is required"),
        ("visits.csv", "陈静", &"长".repeat(101), "visits.csv:2: surveyor: is longer than 100 characters"),
        ("visits.csv", "430202001201", "430202001299", "visits.csv:2: village_code: is not in the roster"),
        ("visits.csv", "430202001201", "430202001001", "visits.csv:2: village_code: is a community"),
        ("visits.csv", "430202001201", "4302020012", "visits.csv:2: village_code: is not a 12-digit"),
        ("visits.csv", ",100,10,10,10,", ",49,10,10,10,", "visits.csv:2: households: hh_sewer + hh_reuse"),
        (
            "visits.csv",
            ",5,4,",
            ",3,4,",
            "visits.csv:2: nv_garbage_covered: 4 covered natural villages, more than the 3",
        ),
        (
            "visits.csv",
            "v1,4302",
            "v1,4302020012010,2024-01-01,x,1,0,0,0,0,0,\nv1,4302",
            "visits.csv:3: visit_id: appears twice",
        ),
        ("facilities.csv", "central", "centre", "facilities.csv:2: kind: must be one of"),
        ("facilities.csv", "normal", "ok", "facilities.csv:2: status: must be one of"),
        ("facilities.csv", "12.5", "-1", "facilities.csv:2: capacity_m3_d: must not be negative"),
        (
            "facilities.csv",
            "v1,f1,central,20,normal,12.5\n",
            "v1,f1,central,20,normal,12.5\nv1,f1,central,0,idle,\n",
            "facilities.csv:3: facility_id: appears twice in the same visit",
        ),
        ("facilities.csv", "v1,f1", "v9,f1", "facilities.csv:2: visit_id: names no visit"),
        ("farms.csv", ",80,", ",101,", "farms.csv:2: utilized_pct: must be between 0 and 100"),
        ("farms.csv", "pig", "other", "farms.csv:2: manure_t: is required for a species without coefficients"),
        ("farms.csv", ",1\n", ",maybe\n", "farms.csv:2: facility_equipped: must be 1/0"),
        ("farms.csv", "pig", "", "farms.csv:2: species: is required"),
        ("water_bodies.csv", "provincial", "city", "water_bodies.csv:2: listed: must be one of"),
        ("water_bodies.csv", ",40,", ",abc,", "water_bodies.csv:2: transparency_cm: is not a number"),
        ("water_bodies.csv", "v1,w1", "v1,w1,x", "water_bodies.csv:2: -: malformed CSV"),
    ];
    let mut s = store();
    let before = dump(&s);
    for (file, from, to, expected) in cases {
        let dir = mutated(file, from, to);
        let problems = refusal(&mut s, dir.path());
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{file}: {from:?} -> {to:?}: expected {expected:?}, got {problems:?}"
        );
        assert_eq!(dump(&s), before, "database changed after a refused bundle ({expected})");
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let mut s = store();
    let files = [
        ("villages.csv", VILLAGES),
        (
            "visits.csv",
            "visit_id,village_code,survey_date,surveyor,households,hh_sewer,hh_reuse,hh_controlled,natural_villages,nv_garbage_covered,notes\nv1,430202001201,2024-02-09,,1,0,0,0,0,0,\nv2,430202001201,2024-13-01,a,x,0,0,0,0,0,\n",
        ),
        (
            "farms.csv",
            "visit_id,farm_id,name,species,head_on_hand,annual_out,manure_t,utilized_pct,facility_equipped\nv1,a1,n,other,1,1,,50,1\n",
        ),
    ];
    let dir = write_bundle(&files);
    let problems = refusal(&mut s, dir.path());
    for expected in
        ["visits.csv:2: surveyor", "visits.csv:3: survey_date", "visits.csv:3: households", "farms.csv:2: manure_t"]
    {
        assert!(problems.iter().any(|p| p.starts_with(expected)), "{expected} missing from {problems:?}");
    }
}

#[test]
fn a_refused_import_leaves_an_existing_database_exactly_as_it_was() {
    let mut s = store();
    s.import_bundle(&sample("sample"), false).unwrap();
    let before = dump(&s);
    let dir = mutated("farms.csv", ",80,", ",180,");
    refusal(&mut s, dir.path());
    assert_eq!(dump(&s), before);
}

#[test]
fn dry_run_writes_nothing() {
    let mut s = store();
    let before = dump(&s);
    let r = s.import_bundle(&sample("sample"), true).unwrap();
    assert!(r.new > 1000);
    assert_eq!(dump(&s), before);
}

#[test]
fn both_sample_bundles_import_and_reimport_is_a_no_op() {
    for name in ["sample", "sample-messy"] {
        let mut s = store();
        let first = s.import_bundle(&sample(name), false).unwrap();
        let rows = |f: &str| {
            let text = std::fs::read_to_string(sample(name).join(f)).unwrap();
            csv::Reader::from_reader(text.as_bytes()).records().count() as u64
        };
        assert_eq!(first.visits, rows("visits.csv"), "{name}");
        assert_eq!(first.new, first.visits);
        assert_eq!(first.farms, rows("farms.csv"));
        assert_eq!(count(&s, "visit") as u64, first.visits);
        let revisions = count(&s, "revision");
        let before = dump(&s);
        let again = s.import_bundle(&sample(name), false).unwrap();
        assert_eq!((again.new, again.changed, again.unchanged), (0, 0, first.visits), "{name}");
        assert_eq!(count(&s, "revision"), revisions);
        assert_eq!(dump(&s), before);
    }
}

#[test]
fn a_changed_row_becomes_a_new_revision_of_that_visit() {
    let mut s = store();
    s.import_bundle(mutated("visits.csv", "", "").path(), false).unwrap();
    let r = s.import_bundle(mutated("visits.csv", ",100,10,", ",120,10,").path(), false).unwrap();
    assert_eq!((r.new, r.changed, r.unchanged), (0, 1, 0));
    assert_eq!(count(&s, "revision"), 2);
    assert_eq!(count(&s, "head"), 1);
    let (hh, parents): (i64, String) = s
        .conn
        .query_row("SELECT v.households, r.parents FROM visit v JOIN revision r USING (rev_id)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(hh, 120);
    let first: String = s.conn.query_row("SELECT rev_id FROM revision WHERE parents = '[]'", [], |r| r.get(0)).unwrap();
    assert_eq!(parents, format!("[\"{first}\"]"));
}

#[test]
fn export_then_import_gives_the_same_current_tables() {
    for name in ["sample", "sample-messy"] {
        let mut a = store();
        a.import_bundle(&sample(name), false).unwrap();
        let out = tempfile::tempdir().unwrap();
        a.export_bundle(out.path()).unwrap();
        let mut b = store();
        b.import_bundle(out.path(), false).unwrap();
        assert_eq!(dump_current(&a), dump_current(&b), "{name}");
    }
}

#[test]
fn rebuilding_the_current_tables_from_revisions_gives_identical_tables() {
    let mut s = store();
    s.import_bundle(&sample("sample"), false).unwrap();
    // An edit and a deletion, so the graph has history.
    s.import_bundle(&sample("sample-messy"), false).unwrap();
    let id: String = s.conn.query_row("SELECT min(visit_id) FROM visit", [], |r| r.get(0)).unwrap();
    s.save_visit("测试", &id, None).unwrap();
    let before = dump(&s);
    s.conn.execute_batch("DELETE FROM visit; DELETE FROM farm; DELETE FROM head;").unwrap();
    assert_ne!(dump(&s), before);
    s.rebuild_current().unwrap();
    assert_eq!(dump(&s), before);
}

#[test]
fn a_cell_that_does_not_parse_is_reported_once_without_follow_on_complaints() {
    let mut s = store();
    let problems = refusal(&mut s, mutated("visits.csv", ",100,", ",1x0,").path());
    assert_eq!(problems, ["visits.csv:2: households: is not a whole number"]);
    let problems = refusal(&mut s, mutated("facilities.csv", ",20,", ",2o,").path());
    assert_eq!(problems, ["facilities.csv:2: households_served: is not a whole number"]);
}

/// Found by the fuzzer: a lone CR ends a CSV record without starting a new
/// line, so two child rows of one visit can share a line number.
#[test]
fn rows_separated_by_a_lone_carriage_return_both_import() {
    let mut s = store();
    let dir = mutated("facilities.csv", "12.5\n", "12.5\rv1,f2,decentral,0,idle,\n");
    let r = s.import_bundle(dir.path(), false).unwrap();
    assert_eq!(r.facilities, 2);
    assert_eq!(count(&s, "facility"), 2);
}
