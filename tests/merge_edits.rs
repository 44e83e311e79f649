//! Merges a county can defend (issue 11): a crew file never changes the
//! county's roster, and a dry run of several files reports what the merge
//! of them then does.

mod common;

use std::path::{Path, PathBuf};

use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::sync::{FileOutcome, MergeOptions, Refusal};

const VILLAGES: [&str; 3] = ["430202001201", "430202001202", "430202001203"];

fn with_roster(path: &Path) -> Store {
    let s = Store::open(path).unwrap();
    for code in VILLAGES {
        common::sql(&s)
            .execute("INSERT INTO roster (code, name, is_village) VALUES (?1, ?1 || '村', 1)", [code])
            .unwrap();
    }
    s
}

fn snapshot(store: &Store, path: PathBuf) -> PathBuf {
    store.snapshot(&path).unwrap();
    path
}

/// A base of three visits, snapshotted.
fn base(dir: &Path) -> PathBuf {
    let mut b = with_roster(&dir.join("base.db"));
    let mut rng = Rng::new(11);
    for (i, code) in VILLAGES.iter().enumerate() {
        let mut v = random_visit(&mut rng, code, "2024-05-01");
        v.canonicalize();
        b.save_visit("陈静", &format!("visit-{i}"), Some(&v)).unwrap();
    }
    snapshot(&b, dir.join("base-snap.db"))
}

fn merged(store: &mut Store, files: &[PathBuf], dry_run: bool) -> ruralsan::store::sync::MergeReport {
    store.merge_files(files, MergeOptions { dry_run, ..Default::default() }).unwrap()
}

/// A crew that edits the notes of some visits, from the base.
fn crew(dir: &Path, name: &str, base: &Path, visits: &[usize]) -> PathBuf {
    let mut c = with_roster(&dir.join(format!("{name}.db")));
    merged(&mut c, &[base.to_path_buf()], false);
    for i in visits {
        let id = format!("visit-{i}");
        let (rev, mut v) = c.load_visit(&id).unwrap().unwrap();
        v.notes = format!("{name} 的备注");
        c.save_from_form("crew", &id, Some(&v), Some(&rev), None).unwrap();
    }
    snapshot(&c, dir.join(format!("{name}-snap.db")))
}

#[test]
fn a_dry_run_of_three_files_reports_the_conflicts_the_merge_then_makes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = base(dir);
    let files = vec![crew(dir, "a", &base, &[0, 1]), crew(dir, "b", &base, &[0, 2]), crew(dir, "c", &base, &[1, 2])];
    let mut county = with_roster(&dir.join("county.db"));
    merged(&mut county, &[base], false);
    let before = common::dump(&county);
    let dry = merged(&mut county, &files, true);
    assert_eq!(common::dump(&county), before, "a dry run writes nothing");
    let conflicts = |r: &ruralsan::store::sync::MergeReport| -> Vec<u64> {
        r.files
            .iter()
            .map(|f| match f {
                FileOutcome::Merged(m) => m.conflicts,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(conflicts(&dry), [0, 1, 2], "each file meets the ones before it");
    assert_eq!(dry.open_conflicts, 3);
    let real = merged(&mut county, &files, false);
    assert_eq!(real.files, dry.files, "the dry run reported what the merge did");
    assert_eq!(real.open_conflicts, dry.open_conflicts);
}

#[test]
fn a_file_with_units_outside_the_local_roster_is_refused_and_the_roster_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A crew whose roster is another county's.
    let mut far = with_roster(&dir.join("far.db"));
    let foreign = ["439999000001", "439999000002", "430202001999"];
    for code in foreign {
        common::sql(&far)
            .execute("INSERT INTO roster (code, name, is_village) VALUES (?1, '远村', 1)", [code])
            .unwrap();
    }
    common::sql(&far)
        .execute("INSERT INTO roster (code, name, is_village) VALUES ('430202001001', '社区', 0)", [])
        .unwrap();
    let mut rng = Rng::new(3);
    for (i, code) in foreign.iter().chain(&VILLAGES).enumerate() {
        far.save_visit("陈静", &format!("far-{i}"), Some(&random_visit(&mut rng, code, "2024-05-01"))).unwrap();
    }
    let file = snapshot(&far, dir.join("far-snap.db"));
    let mut county = with_roster(&dir.join("county.db"));
    // Here the community code is a village of ours no longer: refused too.
    let before = common::dump(&county);
    let r = merged(&mut county, std::slice::from_ref(&file), false);
    let FileOutcome::Refused(refused) = &r.files[0] else { panic!("{:?}", r.files[0]) };
    assert_eq!(
        refused.reasons,
        [Refusal::ForeignRoster {
            units: 3,
            first: vec!["430202001999".into(), "439999000001".into(), "439999000002".into()]
        }]
    );
    assert_eq!(common::dump(&county), before, "nothing written: roster, areas and visits as they were");

    // A visit of a unit that is a community here is refused as well.
    let mut c = with_roster(&dir.join("c2.db"));
    common::sql(&c)
        .execute("INSERT INTO roster (code, name, is_village) VALUES ('430202001001', '仙庾村', 1)", [])
        .unwrap();
    c.save_visit("陈静", "x", Some(&random_visit(&mut rng, "430202001001", "2024-05-01"))).unwrap();
    let file = snapshot(&c, dir.join("c2-snap.db"));
    common::sql(&county)
        .execute("INSERT INTO roster (code, name, is_village) VALUES ('430202001001', '社区', 0)", [])
        .unwrap();
    let r = merged(&mut county, &[file], false);
    let FileOutcome::Refused(refused) = &r.files[0] else { panic!("{:?}", r.files[0]) };
    assert_eq!(refused.reasons, [Refusal::ForeignRoster { units: 1, first: vec!["430202001001".into()] }]);
}

#[test]
fn a_file_from_an_older_version_is_upgraded_in_staging_and_a_newer_one_names_both_versions() {
    use ruralsan::store::SCHEMA_VERSION;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = base(dir);
    // A crew whose app is one schema version older (version 2 lacked the
    // per-visit figures table).
    let old = dir.join("old.db");
    std::fs::copy(&base, &old).unwrap();
    {
        let c = rusqlite::Connection::open(&old).unwrap();
        c.execute_batch(&format!("DROP TABLE visit_figures; PRAGMA user_version = {};", SCHEMA_VERSION - 1)).unwrap();
    }
    let original = std::fs::read(&old).unwrap();
    let mut county = with_roster(&dir.join("county.db"));
    let r = merged(&mut county, std::slice::from_ref(&old), false);
    let FileOutcome::Merged(m) = &r.files[0] else { panic!("{:?}", r.files[0]) };
    assert_eq!(m.new_visits, 3);
    assert_eq!(std::fs::read(&old).unwrap(), original, "the original file is never changed");

    // A file from a newer ruralsan: refused, naming its version and ours.
    let newer = dir.join("newer.db");
    std::fs::copy(&base, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch(&format!(
            "PRAGMA user_version = {}; UPDATE meta SET value = '9.1.0' WHERE key = 'app_version';",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    let before = common::dump(&county);
    let r = merged(&mut county, &[newer], false);
    let FileOutcome::Refused(refused) = &r.files[0] else { panic!("{:?}", r.files[0]) };
    // It says which program wrote it: the version to install.
    assert_eq!(
        refused.reasons,
        [Refusal::NewerSchema { version: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION, app: Some("9.1.0".into()) }]
    );
    assert_eq!(common::dump(&county), before);
}

#[test]
fn merging_a_database_into_itself_says_so_and_takes_no_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("office");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("county.db");
    let mut county = with_roster(&db);
    county.save_visit("陈静", "v", Some(&random_visit(&mut Rng::new(1), VILLAGES[0], "2024-05-01"))).unwrap();
    let before = common::dump(&county);
    // Named another way (a relative segment): still itself.
    let same = dir.join(".").join("county.db");
    let r = merged(&mut county, &[same], false);
    let FileOutcome::Refused(refused) = &r.files[0] else { panic!("{:?}", r.files[0]) };
    assert_eq!(refused.reasons, [Refusal::OwnDatabase]);
    assert_eq!(r.backup, None);
    assert!(!dir.join("backups").exists(), "no backup taken");
    assert_eq!(common::dump(&county), before);
}

#[test]
fn a_resolution_names_an_unknown_field_and_refuses_when_the_heads_changed_since_shown() {
    use ruralsan::domain::merge::ApplyError;
    use ruralsan::store::conflict::Resolution;
    use ruralsan::store::error::ResolveError;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = base(dir);
    let files = [crew(dir, "a", &base, &[0]), crew(dir, "b", &base, &[0])];
    let mut county = with_roster(&dir.join("county.db"));
    merged(&mut county, &[base], false);
    merged(&mut county, &files[..2], false);
    let heads: Vec<String> = county.conflict_heads("visit-0").unwrap().iter().map(|h| h.rev_id.clone()).collect();
    assert_eq!(heads.len(), 2);
    let how = Resolution { take: None, fields: vec![("nope".into(), heads[0].clone())], seen: vec![] };
    let e = county.resolve_conflict(Some("科长"), "visit-0", &how).unwrap_err();
    assert_eq!(
        e.downcast_ref::<ResolveError>(),
        Some(&ResolveError::Apply { visit_id: "visit-0".into(), error: ApplyError::NoSuchField("nope".into()) })
    );
    // The person saw one side only (the other arrived after the screen was drawn).
    let how = Resolution { take: Some(heads[0].clone()), fields: vec![], seen: vec![heads[0].clone()] };
    let e = county.resolve_conflict(Some("科长"), "visit-0", &how).unwrap_err();
    assert_eq!(e.downcast_ref::<ResolveError>(), Some(&ResolveError::HeadsChanged { visit_id: "visit-0".into() }));
    let how = Resolution { take: Some(heads[0].clone()), fields: vec![], seen: heads.clone() };
    county.resolve_conflict(Some("科长"), "visit-0", &how).unwrap();
    assert!(county.conflicts().unwrap().is_empty());
}

#[test]
fn demo_with_an_explicit_database_of_real_visits_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("real.db");
    let mut s = with_roster(&db);
    s.save_visit("陈静", "v", Some(&random_visit(&mut Rng::new(1), VILLAGES[0], "2024-05-01"))).unwrap();
    drop(s);
    let before = std::fs::read(&db).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruralsan"))
        .arg("--db")
        .arg(&db)
        .args(["--lang", "en", "demo"])
        .env_remove("RURALSAN_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds real visits"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database is as it was");
}

#[test]
fn bad_option_values_are_bad_usage() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("x.db");
    for args in [
        &["summary", "--as-of", "2026-13-01"][..],
        &["summary", "--target", "sewage=abc"],
        &["summary", "--target", "sewage=NaN"],
        &["summary", "--target", "sewag=0.4"],
        &["summary", "--target", "sewage"],
        &["report", "r.xlsx", "--as-of", "yesterday"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruralsan"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("RURALSAN_DB")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn summary_csv_and_conflicts_csv_say_the_date_and_the_open_conflicts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = base(dir);
    let files = [crew(dir, "a", &base, &[0]), crew(dir, "b", &base, &[0])];
    let db = dir.join("county.db");
    let mut county = with_roster(&db);
    merged(&mut county, &[base], false);
    merged(&mut county, &files, false);
    drop(county);
    let run = |args: &[&str]| -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ruralsan"))
            .arg("--db")
            .arg(&db)
            .args(["--lang", "en"])
            .args(args)
            .env_remove("RURALSAN_DB")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let out = run(&["summary", "--as-of", "2025-12-31", "--format", "csv"]);
    assert!(out.starts_with('\u{feff}'), "a BOM for spreadsheet programs");
    let mut r = csv::Reader::from_reader(out.trim_start_matches('\u{feff}').as_bytes());
    let header = r.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name}: {header:?}"));
    let (as_of, open) = (at("As of"), at("Open conflicts"));
    for row in r.records() {
        let row = row.unwrap();
        assert_eq!(&row[as_of], "2025-12-31");
        assert_eq!(&row[open], "1");
    }
    let out = run(&["conflicts", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(out.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "one row per side of the one conflicting field");
    assert!(rows.iter().all(|row| &row[0] == "visit-0" && &row[3] == "notes"));
    let values: Vec<&str> = rows.iter().map(|row| &row[6]).collect();
    assert!(values.contains(&"a 的备注") && values.contains(&"b 的备注"), "{values:?}");
}

/// An automatic merge is signed by nobody: its content must be ours, and
/// its stamp at least ours (its maker may have held a later stamp of the
/// same edit signed by another crew) and within the clock bound.
#[test]
fn an_automatic_merge_stamped_before_ours_or_beyond_the_clock_is_not_genuine() {
    use ruralsan::store::conflict::{MERGE_DEVICE, is_genuine_auto_merge};
    use ruralsan::store::revisions::{format_hlc, load_revision};
    let dir = tempfile::tempdir().unwrap();
    let base = base(dir.path());
    // Two crews edit different fields of one visit: a clean automatic merge.
    let edit = |name: &str, change: fn(&mut ruralsan::domain::VisitData)| {
        let mut c = with_roster(&dir.path().join(format!("{name}.db")));
        merged(&mut c, std::slice::from_ref(&base), false);
        let (rev, mut v) = c.load_visit("visit-0").unwrap().unwrap();
        change(&mut v);
        c.save_from_form("crew", "visit-0", Some(&v), Some(&rev), None).unwrap();
        snapshot(&c, dir.path().join(format!("{name}-snap.db")))
    };
    let a = edit("a", |v| v.notes = "甲组备注".into());
    let b = edit("b", |v| v.households += 1);
    let mut county = with_roster(&dir.path().join("county.db"));
    merged(&mut county, &[base, a, b], false);
    let conn = common::sql(&county);
    let id: String =
        conn.query_row("SELECT rev_id FROM revision WHERE device = ?1", [MERGE_DEVICE], |r| r.get(0)).unwrap();
    let ours = load_revision(&conn, &id).unwrap().unwrap();
    assert!(is_genuine_auto_merge(&conn, &ours).unwrap());
    // 'wall-ms.counter'
    let (ms, n) =
        ours.hlc.split_once('.').map(|(a, b)| (a.parse::<i64>().unwrap(), b.parse::<i64>().unwrap())).unwrap();
    let stamped = |hlc: String| ruralsan::store::revisions::Revision { hlc, ..ours.clone() };
    assert!(is_genuine_auto_merge(&conn, &stamped(format_hlc(ms, n + 1))).unwrap(), "a later stamp of a parent");
    assert!(!is_genuine_auto_merge(&conn, &stamped(format_hlc(ms - 1, 0))).unwrap(), "before its parents");
    let far = chrono::Utc::now().timestamp_millis() + 2 * 24 * 3600 * 1000;
    assert!(!is_genuine_auto_merge(&conn, &stamped(format_hlc(far, 0))).unwrap(), "beyond the clock bound");
}
