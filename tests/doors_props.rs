//! One validation for every door (issue 12, classes 1 and 2), as properties:
//! - any database reachable through the doors (the roster import, the visit
//!   form, the CSV bundle) exports and re-imports unchanged, snapshots, and
//!   merges into an empty database with the same roster, where its current
//!   tables come out equal and every rate is in [0, 1] or null;
//! - a value one door refuses, every door refuses (form, CSV bundle or
//!   roster, merge), and a value one accepts, every door accepts.

mod common;

use std::path::Path;

use chrono::NaiveDate;
use common::strategies::{hostile_line, hostile_notes, hostile_visit};
use proptest::prelude::*;
use ruralsan::domain::settings::ManureCoefficients;
use ruralsan::domain::*;
use ruralsan::store::Store;
use ruralsan::store::sync::{FileOutcome, MergeOptions};
use ruralsan::tui::form::Form;

const V1: &str = "430202001201";
const V2: &str = "430202001202";
const V3: &str = "430202001203";

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Writes `rows` (a header first) as a CSV file.
fn write_csv(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

/// The roster file: three administrative villages with the given names.
fn write_roster(path: &Path, names: &[String], township: &str, county: &str) {
    let mut rows = vec![["code", "name", "kind", "township_name", "county_name"].map(String::from).to_vec()];
    for (code, name) in [V1, V2, V3].iter().zip(names) {
        rows.push(vec![code.to_string(), name.clone(), "village".into(), township.into(), county.into()]);
    }
    write_csv(path, &rows);
}

fn dec(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A CSV bundle of `visits` (the roster is imported separately).
fn write_bundle(dir: &Path, visits: &[(String, VisitData)]) {
    std::fs::create_dir_all(dir).unwrap();
    let s = |x: &str| x.to_string();
    let mut vs = vec![
        [
            "visit_id",
            "village_code",
            "survey_date",
            "surveyor",
            "households",
            "hh_sewer",
            "hh_reuse",
            "hh_controlled",
            "natural_villages",
            "nv_garbage_covered",
            "notes",
        ]
        .map(s)
        .to_vec(),
    ];
    let mut fs =
        vec![["visit_id", "facility_id", "kind", "households_served", "status", "capacity_m3_d"].map(s).to_vec()];
    let mut ms = vec![
        [
            "visit_id",
            "farm_id",
            "name",
            "species",
            "head_on_hand",
            "annual_out",
            "manure_t",
            "utilized_pct",
            "facility_equipped",
        ]
        .map(s)
        .to_vec(),
    ];
    let mut ws = vec![
        [
            "visit_id",
            "water_id",
            "name",
            "kind",
            "area_m2",
            "length_m",
            "depth_cm",
            "transparency_cm",
            "do_mg_l",
            "nh3n_mg_l",
            "listed",
            "status",
        ]
        .map(s)
        .to_vec(),
    ];
    for (id, v) in visits {
        vs.push(vec![
            id.clone(),
            v.village_code.clone(),
            v.survey_date.clone(),
            v.surveyor.clone(),
            v.households.to_string(),
            v.hh_sewer.to_string(),
            v.hh_reuse.to_string(),
            v.hh_controlled.to_string(),
            v.natural_villages.to_string(),
            v.nv_garbage_covered.to_string(),
            v.notes.clone(),
        ]);
        for f in &v.facilities {
            fs.push(vec![
                id.clone(),
                f.facility_id.clone(),
                s(f.kind.code()),
                f.households_served.to_string(),
                s(f.status.code()),
                dec(f.capacity_m3_d),
            ]);
        }
        for f in &v.farms {
            ms.push(vec![
                id.clone(),
                f.farm_id.clone(),
                f.name.clone(),
                s(f.species.code()),
                f.head_on_hand.to_string(),
                f.annual_out.to_string(),
                dec(f.manure_t),
                f.utilized_pct.to_string(),
                s(if f.facility_equipped { "1" } else { "0" }),
            ]);
        }
        for w in &v.water_bodies {
            ws.push(vec![
                id.clone(),
                w.water_id.clone(),
                w.name.clone(),
                s(w.kind.code()),
                dec(w.area_m2),
                dec(w.length_m),
                dec(w.depth_cm),
                dec(w.transparency_cm),
                dec(w.do_mg_l),
                dec(w.nh3n_mg_l),
                s(w.listed.code()),
                s(w.status.code()),
            ]);
        }
    }
    write_csv(&dir.join("visits.csv"), &vs);
    write_csv(&dir.join("facilities.csv"), &fs);
    write_csv(&dir.join("farms.csv"), &ms);
    write_csv(&dir.join("water_bodies.csv"), &ws);
}

/// The form's verdict: the problems `Form::check` finds, as (field, reason).
fn form_problems(store: &Store, id: &str, v: &VisitData) -> (VisitData, Vec<(&'static str, validate::Reason)>) {
    let roster = store.roster_problem(&v.village_code).unwrap();
    let (data, problems) = Form::from_data(id, None, v).check(today(), &ManureCoefficients::default(), roster);
    (data, problems.into_iter().map(|p| (p.field, p.reason)).collect())
}

fn merged(store: &mut Store, file: &Path) -> bool {
    let r = store.merge_files(&[file.to_path_buf()], MergeOptions::default()).unwrap();
    match &r.files[0] {
        FileOutcome::Merged(_) => true,
        FileOutcome::Refused(_) => false,
        other => panic!("{other:?}"),
    }
}

fn rates_in_unit_range(store: &Store) -> Result<(), TestCaseError> {
    let s = store.summary(&today().to_string(), Level::Village, None, &Settings::default()).unwrap();
    for f in s.areas.iter().map(|a| &a.figures).chain([&s.total]) {
        let r = f.rates();
        for x in
            [r.sewage, r.sewage_controlled, r.household, r.facilities, r.garbage, r.manure, r.equipping, r.black_odor]
                .into_iter()
                .flatten()
        {
            prop_assert!(x.is_finite() && (0.0..=1.0).contains(&x), "rate {x} out of [0, 1]");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_database_the_doors_reach_merges_into_an_empty_one(
        names in prop::collection::vec(hostile_line(), 3),
        township in hostile_line(),
        county in hostile_line(),
        by_form in prop::collection::vec(hostile_visit(V1, "2024-05-01"), 1..3),
        by_csv in prop::collection::vec(hostile_visit(V2, "2024-05-02"), 1..3),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let roster = dir.join("villages.csv");
        write_roster(&roster, &names, &township, &county);

        // The crew: the roster, then visits through the form and a bundle.
        let mut crew = Store::open(&dir.join("crew.db")).unwrap();
        crew.import_roster(&roster).unwrap();
        for (k, v) in by_form.iter().enumerate() {
            let id = format!("form-{k}");
            let (data, problems) = form_problems(&crew, &id, v);
            prop_assert!(problems.is_empty(), "the form refuses a valid visit: {problems:?}");
            crew.save_visit(data.surveyor.trim(), &id, Some(&data)).unwrap();
        }
        let csv: Vec<(String, VisitData)> =
            by_csv.iter().enumerate().map(|(k, v)| (format!("csv \"{k}\", 😀"), v.clone())).collect();
        write_bundle(&dir.join("bundle"), &csv);
        crew.import_bundle(&dir.join("bundle"), false).unwrap();

        // Export and import again: the same current tables.
        crew.export_bundle(&dir.join("export")).unwrap();
        let mut again = Store::open(&dir.join("again.db")).unwrap();
        again.import_bundle(&dir.join("export"), false).unwrap();
        prop_assert_eq!(common::dump_current(&again), common::dump_current(&crew));

        // Both snapshots merge into an empty database with the same roster.
        let mut county_db = Store::open(&dir.join("county.db")).unwrap();
        county_db.import_roster(&roster).unwrap();
        for (store, name) in [(&crew, "crew-snap.db"), (&again, "again-snap.db")] {
            let snap = dir.join(name);
            store.snapshot(&snap).unwrap();
            let r = county_db.merge_files(std::slice::from_ref(&snap), MergeOptions::default()).unwrap();
            prop_assert!(matches!(r.files[0], FileOutcome::Merged(_)), "{name}: {:?}", r.files[0]);
        }
        prop_assert_eq!(common::dump_current(&county_db), common::dump_current(&crew));
        rates_in_unit_range(&county_db)?;
    }
}

/// A value put in one place of a visit or the roster.
#[derive(Debug, Clone)]
enum Value {
    Surveyor(String),
    Notes(String),
    FarmName(String),
    VisitId(String),
    RosterName(String),
    Households(i64),
    HhSewer(i64),
    ManureT(f64),
    AreaM2(f64),
}

/// Text a door might be offered: valid, with control, bidi, zero-width or
/// separator characters, or around the length bound. Never with
/// surrounding blanks (the CSV doors trim them).
fn suspicious_text() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_line(),
        hostile_notes(),
        "[a-z村\u{0}-\u{1f}\u{7f}\u{85}\u{9f}\u{2028}\u{2029}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200b}-\u{200f}\u{2060}\u{feff}\u{61c}]{1,6}",
        "[a-z]{98,102}",
    ]
    .prop_map(|s| s.trim().to_string())
    .prop_filter("not blank", |s| !s.is_empty())
}

fn value() -> impl Strategy<Value = Value> {
    let count = prop_oneof![0i64..=100_000, 99_990i64..=100_010, Just(i64::MAX), Just(i64::MIN), -3i64..0];
    let measure = prop::sample::select(&[0.0, 0.5, 1e7, 1.0000001e7, 1e9, 1.000001e9, 1.7e308][..]);
    prop_oneof![
        suspicious_text().prop_map(Value::Surveyor),
        suspicious_text().prop_map(Value::Notes),
        suspicious_text().prop_map(Value::FarmName),
        suspicious_text().prop_map(Value::VisitId),
        suspicious_text().prop_map(Value::RosterName),
        count.clone().prop_map(Value::Households),
        count.prop_map(Value::HhSewer),
        measure.clone().prop_map(Value::ManureT),
        measure.prop_map(Value::AreaM2),
    ]
}

/// A plain valid visit of V1 with one farm and one water body.
fn base_visit() -> VisitData {
    VisitData {
        village_code: V1.into(),
        survey_date: "2024-05-01".into(),
        surveyor: "陈静".into(),
        households: 100_000,
        hh_sewer: 0,
        hh_reuse: 0,
        hh_controlled: 0,
        natural_villages: 3,
        nv_garbage_covered: 1,
        notes: String::new(),
        facilities: vec![],
        farms: vec![Farm {
            farm_id: "A1".into(),
            name: "场".into(),
            species: Species::Pig,
            head_on_hand: 10,
            annual_out: 10,
            manure_t: Some(1.0),
            utilized_pct: 50.0,
            facility_equipped: true,
        }],
        water_bodies: vec![WaterBody {
            water_id: "W1".into(),
            name: "塘".into(),
            kind: WaterKind::Pond,
            area_m2: Some(10.0),
            length_m: None,
            depth_cm: None,
            transparency_cm: None,
            do_mg_l: None,
            nh3n_mg_l: None,
            listed: Listed::National,
            status: WaterStatus::Remediated,
        }],
    }
}

/// The visit id, the visit and the roster names with `value` put in place.
fn with_value(value: &Value) -> (String, VisitData, Vec<String>) {
    let mut v = base_visit();
    let mut id = "visit-1".to_string();
    let mut names = vec!["一村".to_string(), "二村".into(), "三村".into()];
    match value.clone() {
        Value::Surveyor(s) => v.surveyor = s,
        Value::Notes(s) => v.notes = s,
        Value::FarmName(s) => v.farms[0].name = s,
        Value::VisitId(s) => id = s,
        Value::RosterName(s) => names[0] = s,
        Value::Households(n) => v.households = n,
        Value::HhSewer(n) => v.hh_sewer = n,
        Value::ManureT(x) => v.farms[0].manure_t = Some(x),
        Value::AreaM2(x) => v.water_bodies[0].area_m2 = Some(x),
    }
    (id, v, names)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn what_one_door_refuses_every_door_refuses(value in value()) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (id, v, names) = with_value(&value);
        let plain = dir.join("plain.csv");
        write_roster(&plain, &["一村".into(), "二村".into(), "三村".into()], "镇", "区");
        let roster = dir.join("villages.csv");
        write_roster(&roster, &names, "镇", "区");

        // The roster import.
        let mut csv_store = Store::open_in_memory().unwrap();
        let roster_ok = csv_store.import_roster(&roster).is_ok();
        if !roster_ok {
            csv_store.import_roster(&plain).unwrap();
        }
        // The CSV bundle.
        write_bundle(&dir.join("bundle"), &[(id.clone(), v.clone())]);
        let csv_ok = csv_store.import_bundle(&dir.join("bundle"), false).is_ok();
        let import_ok = if let Value::RosterName(_) = value { roster_ok } else { csv_ok };
        // The form (it makes its own visit ids and edits no roster, so it
        // judges neither).
        let form_ok = match value {
            Value::VisitId(_) | Value::RosterName(_) => import_ok,
            _ => form_problems(&csv_store, &id, &v).1.is_empty(),
        };
        // A crew file holding the value as it is, written without any door.
        let mut crew = Store::open(&dir.join("crew.db")).unwrap();
        crew.import_roster(&plain).unwrap();
        if let Value::RosterName(name) = &value {
            let c = rusqlite::Connection::open(dir.join("crew.db")).unwrap();
            c.execute("UPDATE roster SET name = ?1 WHERE code = ?2", [name.as_str(), V1]).unwrap();
        }
        crew.save_visit("陈静", &id, Some(&v)).unwrap();
        let snap = dir.join("crew-snap.db");
        crew.snapshot(&snap).unwrap();
        let mut county_db = Store::open(&dir.join("county.db")).unwrap();
        county_db.import_roster(&plain).unwrap();
        let merge_ok = merged(&mut county_db, &snap);

        prop_assert_eq!(
            (import_ok, form_ok),
            (merge_ok, merge_ok),
            "{:?}: (import, form) vs merge disagree",
            value
        );
    }
}
