//! Opening, refusals, the roster, and the export/import round trip as a property.

mod common;

use common::*;
use proptest::prelude::*;
use ruralsan::domain::validate::{LineProblem, Reason};
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::StoreError;
use ruralsan::store::bundle::Refused;
use ruralsan::store::{SCHEMA_VERSION, Store};

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    (dir, path)
}

#[test]
fn a_new_database_is_stamped_and_durable() {
    let (_d, path) = temp_db();
    let s = Store::open(&path).unwrap();
    let q = |sql: &str| -> String {
        common::sql(&s).query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0)).map(|v| format!("{v:?}")).unwrap()
    };
    assert_eq!(q("PRAGMA journal_mode"), "Text(\"wal\")");
    assert_eq!(q("PRAGMA synchronous"), "Integer(2)");
    assert_eq!(q("PRAGMA foreign_keys"), "Integer(1)");
    assert_eq!(q("PRAGMA user_version"), format!("Integer({SCHEMA_VERSION})"));
    let device = s.device().to_string();
    drop(s);
    assert_eq!(Store::open(&path).unwrap().device(), device, "device id is made once");
}

#[test]
fn a_database_from_a_newer_ruralsan_is_refused() {
    let (_d, path) = temp_db();
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "PRAGMA user_version = {}; UPDATE meta SET value = '9.1.0' WHERE key = 'app_version';",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    let e = Store::open(&path).err().expect("refused");
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::NewerSchema { name, version, supported, app }) => {
            assert!(name.ends_with("t.db"), "{name}");
            assert_eq!((*version, *supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            assert_eq!(app.as_deref(), Some("9.1.0"), "the version to install");
        }
        other => panic!("not a newer-schema refusal: {other:?}"),
    }
}

/// A database of schema version 2 (no per-visit figures, the old covering
/// index) opens as version 3 with the figures made from its current tables.
#[test]
fn a_version_2_database_gets_its_figures_on_open() {
    let (_d, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    s.import_bundle(&sample("sample"), false).unwrap();
    let before = s.summary("2025-12-31", ruralsan::domain::Level::County, None, &Default::default()).unwrap();
    drop(s);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TABLE visit_figures; DELETE FROM meta WHERE key = 'figures_settings';
             CREATE INDEX visit_counting ON visit (village_code, survey_date, visit_id, households, hh_sewer,
               hh_reuse, hh_controlled, natural_villages, nv_garbage_covered);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    let s = Store::open(&path).unwrap();
    assert!(count(&s, "visit_figures") > 0);
    assert_figures_match(&s);
    let idx: i64 = sql(&s)
        .query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'visit_counting'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(idx, 0);
    let after = s.summary("2025-12-31", ruralsan::domain::Level::County, None, &Default::default()).unwrap();
    assert_eq!(after, before);
}

/// The figures check finds a row that lies, a row of no visit and a visit
/// without a row (so the figures assertions of the other tests can fail).
#[test]
fn figures_mismatches_name_the_visits_whose_rows_are_wrong() {
    let (_d, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    s.import_bundle(&sample("sample"), false).unwrap();
    assert_eq!(s.figures_mismatches().unwrap(), vec![]);
    let ids: Vec<String> = {
        let c = sql(&s);
        let mut st = c.prepare("SELECT visit_id FROM visit_figures ORDER BY visit_id LIMIT 2").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(ids.len(), 2);
    sql(&s)
        .execute_batch(&format!(
            "UPDATE visit_figures SET households = households + 7 WHERE visit_id = '{a}';
             DELETE FROM visit_figures WHERE visit_id = '{b}';
             INSERT INTO visit_figures (village_code, survey_date, visit_id, households, households_treated,
               hh_controlled, natural_villages, nv_covered, facilities_normal, facilities_total, produced_t,
               utilized_t, scale_farms, scale_farms_equipped, water_listed, water_remediated, water_relapsed)
             VALUES ('430202001201', '2025-01-01', 'ghost', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);",
            a = ids[0],
            b = ids[1]
        ))
        .unwrap();
    let m = s.figures_mismatches().unwrap();
    let who: Vec<(&str, bool, bool)> =
        m.iter().map(|x| (x.visit_id.as_str(), x.stored.is_some(), x.recomputed.is_some())).collect();
    let mut want = vec![(ids[0].as_str(), true, true), (ids[1].as_str(), false, true), ("ghost", true, false)];
    want.sort();
    assert_eq!(who, want);
    let lie = &m.iter().find(|x| x.visit_id == ids[0]).unwrap();
    assert_eq!(lie.stored.as_ref().unwrap().households, lie.recomputed.as_ref().unwrap().households + 7);
}

#[test]
fn files_that_are_not_ruralsan_databases_are_refused_and_left_alone() {
    let (_d, path) = temp_db();
    std::fs::write(&path, "code,name\n这不是数据库\n".repeat(200)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let e = Store::open(&path).err().expect("refused");
    assert!(matches!(e.downcast_ref::<StoreError>(), Some(StoreError::NotRuralsan { .. })), "{e:#}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let (_d2, other) = temp_db();
    rusqlite::Connection::open(&other).unwrap().execute_batch("CREATE TABLE photos (id INTEGER)").unwrap();
    let e = Store::open(&other).err().expect("refused");
    assert!(matches!(e.downcast_ref::<StoreError>(), Some(StoreError::NotRuralsan { .. })), "{e:#}");
    let tables: i64 = rusqlite::Connection::open(&other)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1);
}

#[test]
fn roster_import_applies_the_village_rule_and_updates_names_without_duplicates() {
    let (_d, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    let roster = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/zhuzhou_villages_2021.csv");
    let r = s.import_roster(&roster).unwrap();
    assert_eq!((r.rows, r.added, r.updated), (1396, 1396, 0));
    assert_eq!(r.villages, 1014);
    let villages: i64 =
        common::sql(&s).query_row("SELECT count(*) FROM roster WHERE is_village", [], |r| r.get(0)).unwrap();
    assert_eq!(villages, 1014);
    let again = s.import_roster(&roster).unwrap();
    assert_eq!((again.added, again.updated), (0, 0));
    assert_eq!(count(&s, "roster"), 1396);

    let dir = write_bundle(&[(
        "r.csv",
        "\u{feff}name,code,kind,county_name\n新名字,430202001001,village,荷塘\n新村,430202999201,,荷塘\n",
    )]);
    let r = s.import_roster(&dir.path().join("r.csv")).unwrap();
    assert_eq!((r.added, r.updated), (1, 1));
    let (name, village): (String, bool) = common::sql(&s)
        .query_row("SELECT name, is_village FROM roster WHERE code = '430202001001'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((name.as_str(), village), ("新名字", true));
    let county: String =
        common::sql(&s).query_row("SELECT name FROM area WHERE code = '430202'", [], |r| r.get(0)).unwrap();
    assert_eq!(county, "荷塘");
}

#[test]
fn a_bad_roster_is_refused_whole() {
    let (_d, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    let before = dump(&s);
    let dir = write_bundle(&[(
        "r.csv",
        "code,name,kind\n430202001201,甲村,\n43020200120,乙村,\n430202001202,,\n430202001203,丙,town\n",
    )]);
    let e = s.import_roster(&dir.path().join("r.csv")).expect_err("refused");
    let refused = e.downcast_ref::<Refused>().unwrap_or_else(|| panic!("not a refusal: {e:#}"));
    let found: Vec<(u64, &str, &Reason)> =
        refused.problems.iter().map(|p: &LineProblem| (p.line, p.column.as_str(), &p.reason)).collect();
    assert_eq!(found[0], (3, "code", &Reason::BadCode));
    assert_eq!(found[1], (4, "name", &Reason::Required));
    assert!(matches!(found[2], (5, "kind", Reason::BadEnum(_))), "{found:?}");
    assert_eq!(dump(&s), before);
}

/// A roster of `n` villages in two townships of one county, plus one community.
fn roster_csv(n: usize) -> String {
    let mut s = String::from("code,name,township_name,county_name\n430202001001,某社区居委会,甲镇,某区\n");
    for i in 0..n {
        s.push_str(&format!("4302020{:02}{:03},村{i}村,镇{},某区\n", 1 + i % 2, 200 + i, i % 2));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Random valid visits, saved one by one (with edits and deletions),
    /// export and import back to the same current tables.
    #[test]
    fn export_import_round_trip(seed in any::<u64>(), villages in 1usize..12, visits in 0usize..30) {
            let mut a = Store::open_in_memory().unwrap();
        let dir = write_bundle(&[("r.csv", &roster_csv(villages))]);
        a.import_roster(&dir.path().join("r.csv")).unwrap();
        let codes: Vec<String> = common::sql(&a).prepare("SELECT code FROM roster WHERE is_village").unwrap()
            .query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        let mut rng = Rng::new(seed);
        let mut ids: Vec<String> = Vec::new();
        for i in 0..visits {
            let code = rng.pick(&codes).clone();
            let date = format!("2024-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28));
            let v = random_visit(&mut rng, &code, &date);
            let id = if !ids.is_empty() && rng.chance(0.2) { rng.pick(&ids).clone() } else { format!("visit-{i}") };
            a.save_visit("测试员", &id, Some(&v)).unwrap();
            ids.push(id);
            if rng.chance(0.1) {
                a.save_visit("测试员", &rng.pick(&ids).clone(), None).unwrap();
            }
        }
        let out = tempfile::tempdir().unwrap();
        a.export_bundle(out.path()).unwrap();
        let mut b = Store::open_in_memory().unwrap();
        b.import_bundle(out.path(), false).unwrap();
        prop_assert_eq!(dump_current(&a), dump_current(&b));
        // And importing the export into the source changes nothing.
        let before = dump(&a);
        let r = a.import_bundle(out.path(), false).unwrap();
        prop_assert_eq!(r.new + r.changed, 0);
        prop_assert_eq!(dump(&a), before);
    }
}

#[test]
fn a_corrupt_parent_list_is_an_error_not_an_empty_list() {
    let (_d, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    s.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let code = s.village_codes(Some(1)).unwrap().remove(0);
    let mut rng = Rng::new(3);
    let v = random_visit(&mut rng, &code, "2024-05-01");
    s.save_visit("陈静", "v1", Some(&v)).unwrap();
    let mut w = v.clone();
    w.notes = "second".into();
    s.save_visit("陈静", "v1", Some(&w)).unwrap();
    common::sql(&s).execute("UPDATE revision SET parents = 'not json' WHERE parents != '[]'", []).unwrap();
    let e = s.rebuild_current().expect_err("corrupt parents must fail");
    let corrupt = e.chain().find_map(|c| c.downcast_ref::<StoreError>());
    assert!(matches!(corrupt, Some(StoreError::CorruptParents { .. })), "{e:#}");
}

/// Revisions with an empty payload that are not deletions: kept in the current rows.
fn elided(s: &Store) -> Vec<String> {
    let c = common::sql(s);
    let mut st = c.prepare("SELECT rev_id FROM revision WHERE payload = '' AND NOT deleted ORDER BY rev_id").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn the_current_revision_payload_is_kept_once_and_every_payload_reads_back_as_hashed() {
    let (_d, path) = temp_db();
    let mut s = Store::open(&path).unwrap();
    s.import_bundle(&sample("sample"), false).unwrap();
    let visits = count(&s, "visit");
    // Every current revision's payload is left out: its content is the current rows.
    let kept = elided(&s);
    assert_eq!(kept.len() as i64, visits);
    let id: String = common::sql(&s).query_row("SELECT min(visit_id) FROM visit", [], |r| r.get(0)).unwrap();
    let first = s.current_revision(&id).unwrap().unwrap();
    assert!(kept.contains(&first));
    // An edit: the revision it replaces gets its payload back, whole.
    let mut v = ruralsan::store::browse::load_visit(&common::sql(&s), &id).unwrap().unwrap().1;
    v.notes = "改过".into();
    s.save_visit("测试", &id, Some(&v)).unwrap();
    let second = s.current_revision(&id).unwrap().unwrap();
    assert_ne!(first, second);
    let stored: String =
        common::sql(&s).query_row("SELECT payload FROM revision WHERE rev_id = ?1", [&first], |r| r.get(0)).unwrap();
    assert!(!stored.is_empty());
    assert_eq!(elided(&s).len() as i64, visits, "the new current revision is kept in the rows instead");
    // Every revision, read through the store, hashes to its id.
    let c = common::sql(&s);
    let ids: Vec<String> = c
        .prepare("SELECT rev_id FROM revision")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for rev in ids {
        let r = ruralsan::store::revisions::load_revision(&c, &rev).unwrap().unwrap();
        assert_eq!(ruralsan::store::revisions::revision_id(&r.visit_id, &r.parents, &r.payload, r.deleted), rev);
    }
    // A deletion: the last current payload is written back before its rows go.
    s.save_visit("测试", &id, None).unwrap();
    let stored: String =
        common::sql(&s).query_row("SELECT payload FROM revision WHERE rev_id = ?1", [&second], |r| r.get(0)).unwrap();
    assert_eq!(stored, v.canonical_json());
    assert_eq!(elided(&s).len() as i64, visits - 1);
}

#[test]
fn a_snapshot_carries_every_payload_and_a_copied_live_file_merges_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut crew = Store::open(&dir.path().join("crew.db")).unwrap();
    crew.import_bundle(&sample("sample"), false).unwrap();
    let snap = dir.path().join("snap.db");
    crew.snapshot(&snap).unwrap();
    let on_stick: i64 = rusqlite::Connection::open(&snap)
        .unwrap()
        .query_row("SELECT count(*) FROM revision WHERE payload = '' AND NOT deleted", [], |r| r.get(0))
        .unwrap();
    assert_eq!(on_stick, 0, "the stick holds every payload in full");
    // The live file copied as it is (checkpointed, so no WAL to refuse):
    // its staging copy gets its payloads back from its current rows.
    common::sql(&crew).execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let live = dir.path().join("live.db");
    std::fs::copy(dir.path().join("crew.db"), &live).unwrap();
    drop(crew);
    let opts = ruralsan::store::sync::MergeOptions::default();
    let mut a = Store::open(&dir.path().join("a.db")).unwrap();
    a.import_roster(&sample("sample").join("villages.csv")).unwrap();
    a.merge_files(&[snap], opts).unwrap();
    let mut b = Store::open(&dir.path().join("b.db")).unwrap();
    b.import_roster(&sample("sample").join("villages.csv")).unwrap();
    b.merge_files(&[live], opts).unwrap();
    assert!(count(&a, "visit") > 0);
    assert_eq!(dump_current(&a), dump_current(&b));
    assert_eq!(elided(&a), elided(&b));
}

#[test]
fn a_version_3_database_is_upgraded_with_its_payloads_kept_once() {
    // A version 3 file: every payload in full (as a snapshot has them), the
    // version stamped back.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("new.db")).unwrap();
    s.import_bundle(&sample("sample"), false).unwrap();
    let old = dir.path().join("old.db");
    s.snapshot(&old).unwrap();
    let before = dump_current(&s);
    rusqlite::Connection::open(&old).unwrap().execute_batch("PRAGMA user_version = 3").unwrap();
    let upgraded = Store::open(&old).unwrap();
    let v: i64 = common::sql(&upgraded).query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    assert_eq!(elided(&upgraded), elided(&s));
    assert_eq!(dump_current(&upgraded), before);
    assert_eq!(dump(&upgraded).len(), dump(&s).len());
}
