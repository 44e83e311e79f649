//! Data-quality checks (issue 15): each rule fires on a crafted visit and
//! stays silent on ordinary ones.

mod common;

use std::collections::BTreeSet;

use ruralsan::domain::checks::{Finding, Item, Rule};
use ruralsan::domain::settings::Settings;
use ruralsan::domain::{
    Facility, FacilityKind, FacilityStatus, Farm, Listed, Species, VisitData, WaterBody, WaterKind, WaterStatus,
};
use ruralsan::store::Store;

/// Four villages in two townships of county 430202, two in county 430223.
const VILLAGES: [&str; 6] =
    ["430202001201", "430202001202", "430202001203", "430202002204", "430223001201", "430223001202"];

fn store(dir: &std::path::Path) -> Store {
    let s = Store::open(&dir.join("c.db")).unwrap();
    for code in VILLAGES {
        common::sql(&s)
            .execute("INSERT INTO roster (code, name, is_village) VALUES (?1, ?1 || '村', 1)", [code])
            .unwrap();
    }
    s
}

/// An ordinary visit: figures that differ by village, a facility, a farm
/// and a listed water body, the surveyor of its county.
fn ordinary(code: &str, date: &str, n: i64) -> VisitData {
    VisitData {
        village_code: code.into(),
        survey_date: date.into(),
        surveyor: if code.starts_with("430202") { "陈静".into() } else { "李娜".into() },
        households: 200 + n,
        hh_sewer: 50 + n,
        hh_reuse: 0,
        hh_controlled: 10,
        natural_villages: 5,
        nv_garbage_covered: 4,
        notes: String::new(),
        facilities: vec![Facility {
            facility_id: "F1".into(),
            kind: FacilityKind::Central,
            households_served: 40,
            status: FacilityStatus::Normal,
            capacity_m3_d: Some(20.0),
        }],
        farms: vec![Farm {
            farm_id: "M1".into(),
            name: "猪场".into(),
            species: Species::Pig,
            head_on_hand: 100,
            annual_out: 600,
            manure_t: None,
            utilized_pct: 80.0,
            facility_equipped: true,
        }],
        water_bodies: vec![WaterBody {
            water_id: "W1".into(),
            name: "塘".into(),
            kind: WaterKind::Pond,
            area_m2: Some(500.0),
            length_m: None,
            depth_cm: Some(100.0),
            transparency_cm: Some(40.0),
            do_mg_l: Some(5.0),
            nh3n_mg_l: Some(1.0),
            listed: Listed::Provincial,
            status: WaterStatus::Remediated,
        }],
    }
}

/// Every village visited twice, a year apart, nothing odd. `change` edits
/// the second visit of the first village.
fn setup(dir: &std::path::Path, change: impl Fn(&mut VisitData)) -> Store {
    let mut s = store(dir);
    for (i, code) in VILLAGES.iter().enumerate() {
        let n = i as i64 * 7;
        s.save_visit("t", &format!("a{i}"), Some(&ordinary(code, "2024-06-01", n))).unwrap();
        let mut later = ordinary(code, "2025-06-01", n + 3);
        if i == 0 {
            change(&mut later);
        }
        s.save_visit("t", &format!("b{i}"), Some(&later)).unwrap();
    }
    s
}

fn rules(s: &Store) -> BTreeSet<Rule> {
    s.checks("2025-12-31", &Settings::default()).unwrap().iter().map(|c| c.rule()).collect()
}

#[test]
fn ordinary_visits_trip_no_check() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path(), |_| {});
    assert_eq!(s.checks("2025-12-31", &Settings::default()).unwrap(), vec![]);
}

#[test]
fn each_rule_fires_on_its_crafted_visit_alone() {
    type Craft = fn(&mut VisitData);
    let cases: [(Rule, Craft); 6] = [
        (Rule::HouseholdsChanged, |v| v.households = 400),
        (Rule::TreatedShareRose, |v| {
            v.hh_sewer = 200;
            v.hh_controlled = 0;
            v.facilities.clear();
            v.notes = "管网接入".into();
        }),
        (Rule::Gone, |v| v.farms.clear()),
        (Rule::RemediatedUnmeasured, |v| {
            let w = &mut v.water_bodies[0];
            (w.transparency_cm, w.do_mg_l, w.nh3n_mg_l) = (None, None, None);
        }),
        (Rule::RemediatedStillBlack, |v| v.water_bodies[0].do_mg_l = Some(1.0)),
        (Rule::ScaleFarmUnequipped, |v| {
            v.farms[0].utilized_pct = 100.0;
            v.farms[0].facility_equipped = false;
        }),
    ];
    for (rule, craft) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let s = setup(tmp.path(), craft);
        assert_eq!(rules(&s), BTreeSet::from([rule]), "{rule:?}");
    }
}

#[test]
fn treated_share_rising_with_a_repaired_facility_is_no_check() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = store(tmp.path());
    let mut before = ordinary(VILLAGES[0], "2024-06-01", 0);
    before.hh_sewer = 0;
    before.facilities[0].status = FacilityStatus::Faulty;
    before.facilities[0].households_served = 150;
    s.save_visit("t", "a", Some(&before)).unwrap();
    let mut after = before.clone();
    after.survey_date = "2025-06-01".into();
    after.facilities[0].status = FacilityStatus::Normal;
    s.save_visit("t", "b", Some(&after)).unwrap();
    assert!(!rules(&s).contains(&Rule::TreatedShareRose));
    // The same rise without the repair is a check, with its figures.
    after.facilities[0].status = FacilityStatus::Faulty;
    after.hh_sewer = 150;
    s.save_visit("t", "b", Some(&after)).unwrap();
    let found = s.checks("2025-12-31", &Settings::default()).unwrap();
    let rose = found.iter().find(|c| c.rule() == Rule::TreatedShareRose).expect("fires");
    match &rose.finding {
        Finding::TreatedShareRose { before, after, previous_visit } => {
            assert_eq!((*before, previous_visit.as_str()), (0.0, "a"));
            assert!((after - 75.0).abs() < 1e-9, "{after}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_gone_item_with_a_note_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path(), |v| {
        v.facilities.clear();
        v.hh_sewer += 40;
    });
    let gone: Vec<_> = s.checks("2025-12-31", &Settings::default()).unwrap();
    assert!(
        gone.iter().any(|c| matches!(&c.finding, Finding::Gone { item: Item::Facility, id, .. } if id == "F1")),
        "{gone:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path(), |v| {
        v.facilities.clear();
        v.hh_sewer += 40;
        v.notes = "设施已拆除，改为纳管".into();
    });
    assert_eq!(rules(&s), BTreeSet::new());
}

#[test]
fn too_many_villages_a_day_copied_forms_and_thin_townships() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = store(tmp.path());
    // Three villages of one county on one day, with a limit of two.
    for (i, code) in VILLAGES[..3].iter().enumerate() {
        s.save_visit("t", &format!("v{i}"), Some(&ordinary(code, "2025-06-01", i as i64))).unwrap();
    }
    // The fourth village's form is the first's, copied.
    let mut copy = ordinary(VILLAGES[3], "2025-06-02", 0);
    copy.surveyor = "王芳".into();
    s.save_visit("t", "copy", Some(&copy)).unwrap();
    let mut settings = Settings::default();
    settings.checks.villages_per_day = 2;
    let found = s.checks("2025-12-31", &settings).unwrap();
    let on = |rule: Rule| -> Vec<Option<String>> {
        found.iter().filter(|c| c.rule() == rule).map(|c| c.visit_id.clone()).collect()
    };
    assert_eq!(on(Rule::TooManyVillages), [Some("v0".into()), Some("v1".into()), Some("v2".into())]);
    assert_eq!(on(Rule::CopiedForm), [Some("copy".into())]);
    let copied = found.iter().find(|c| c.rule() == Rule::CopiedForm).unwrap();
    assert_eq!(copied.finding, Finding::CopiedForm { other_visit: "v0".into(), other_village: VILLAGES[0].into() });
    // Township 430223001 has no visit: not started, not incomplete. With a
    // visit of one of its two villages, it is at 50 %: incomplete at 60 %.
    assert_eq!(on(Rule::Incomplete), Vec::<Option<String>>::new());
    s.save_visit("t", "t2", Some(&ordinary(VILLAGES[4], "2025-07-01", 9))).unwrap();
    settings.checks.completeness_pct = 60.0;
    let thin: Vec<_> =
        s.checks("2025-12-31", &settings).unwrap().into_iter().filter(|c| c.rule() == Rule::Incomplete).collect();
    assert_eq!(thin.len(), 1);
    assert_eq!(thin[0].area, "430223001");
    assert_eq!(thin[0].finding, Finding::Incomplete { visited: 1, villages: 2, min_pct: 60.0 });
    // A visit out of the round does not count for it: every township is then thin.
    assert_eq!(s.checks("2027-12-31", &settings).unwrap().iter().filter(|c| c.rule() == Rule::Incomplete).count(), 3);
}

/// A surveyor is a name within a county: more townships in a day than the
/// setting allows is "far apart"; the same name in two counties is two people.
#[test]
fn a_surveyor_in_more_townships_than_a_day_allows_is_far_apart() {
    let tmp = tempfile::tempdir().unwrap();
    // 李娜 of county 430202 (one visit) on the day 李娜 of 430223 works there.
    let s = setup(tmp.path(), |v| v.surveyor = "李娜".into());
    let mut settings = Settings::default();
    let far = |settings: &Settings| -> Vec<(String, Finding)> {
        let found = s.checks("2025-12-31", settings).unwrap();
        found.into_iter().filter(|c| c.rule() == Rule::FarApart).map(|c| (c.visit_id.unwrap(), c.finding)).collect()
    };
    // 陈静 works in two townships a day: within the default of two.
    assert_eq!(far(&settings), vec![]);
    settings.checks.townships_per_day = 1;
    let found = far(&settings);
    let ids: BTreeSet<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["a0", "a1", "a2", "a3", "b1", "b2", "b3"]), "{found:?}");
    let b1 = &found.iter().find(|(id, _)| id == "b1").unwrap().1;
    let expected = Finding::FarApart {
        surveyor: "陈静".into(),
        date: "2025-06-01".into(),
        townships: vec!["430202001".into(), "430202002".into()],
        max: 1,
    };
    assert_eq!(*b1, expected);
}

#[test]
fn the_checks_of_a_visit_do_not_change_with_a_later_as_of_date() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path(), |v| v.households = 400);
    let per_visit = |d: &str| -> Vec<_> {
        s.checks(d, &Settings::default()).unwrap().into_iter().filter(|c| c.visit_id.is_some()).collect()
    };
    assert_eq!(per_visit("2025-06-01"), per_visit("2030-01-01"));
    assert_eq!(per_visit("2025-05-31"), vec![]);
}

/// The summary marks counting visits with a check; the marks follow the
/// data (an edit that trips or clears a check) and the thresholds.
#[test]
fn the_summary_counts_flagged_visits_and_follows_edits_and_settings() {
    use ruralsan::domain::Level;
    let tmp = tempfile::tempdir().unwrap();
    let mut s = setup(tmp.path(), |_| {});
    let d = Settings::default();
    let with_checks = ruralsan::store::summary::Counting { flagged: true, ..Default::default() };
    let flagged = |s: &Store, d: &Settings| {
        s.summary_counting("2025-12-31", Level::County, None, d, with_checks).unwrap().total.flagged
    };
    assert_eq!(flagged(&s, &d), 0);
    let (rev, mut v) = s.load_visit("b0").unwrap().unwrap();
    v.households = 400;
    s.save_from_form("t", "b0", Some(&v), Some(&rev), None).unwrap();
    assert_eq!(flagged(&s, &d), 1);
    let mut lax = d.clone();
    lax.checks.households_change_pct = 500.0;
    assert_eq!(flagged(&s, &lax), 0);
    assert_eq!(flagged(&s, &d), 1);
    // As of a date before the flagged visit, its village counts an unflagged one.
    assert_eq!(s.summary_counting("2025-01-01", Level::County, None, &d, with_checks).unwrap().total.flagged, 0);
    // Without the checks (the default: a national summary cannot run them on every look), none is counted.
    assert!(!s.summary("2025-12-31", Level::County, None, &d).unwrap().flagged_checked);
}
