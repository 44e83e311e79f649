//! Property tests of the summary over random rosters and visits:
//! - at every level the children's figures add up to the parent's
//!   (village → township → county → city → province → total);
//! - every rate is in [0, 1] or null;
//! - each village's figures equal an independent Rust computation from its
//!   counting visit (latest date ≤ as-of, greatest id on that date), so
//!   same-day duplicates count once and later visits are left out;
//! - adding visits after the as-of date changes nothing; adding a same-day
//!   copy of a counting visit only marks the village as a duplicate;
//! - the per-visit figures table always equals the figures computed afresh
//!   from the current tables, after random saves, edits, deletions, bundle
//!   imports and merges (merge_props checks merges at length).

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use proptest::prelude::*;
use ruralsan::domain::indicators::{self, Figures, WaterOutcome};
use ruralsan::domain::{FacilityStatus, Level, Settings, VisitData};
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::summary::Summary;

use common::strategies;

/// A random roster and random visits saved through `Store::save_visit`.
struct World {
    store: Store,
    /// Village codes (administrative villages only).
    villages: Vec<String>,
    /// Every visit saved: (visit_id, data).
    visits: Vec<(String, VisitData)>,
    _dir: tempfile::TempDir,
}

/// Days of the survey: few, so that same-day visits are common.
fn date(day: i64) -> String {
    format!("2024-03-{:02}", day)
}

/// The visit saved for `code` on `day`: the next of `pool` (drawn from the
/// domain strategies, so that a failure shrinks to simpler visits) moved to
/// that village and day, else a generated one.
fn next_visit(rng: &mut Rng, pool: &[VisitData], n: &mut usize, code: &str, day: &str) -> VisitData {
    if pool.is_empty() {
        return random_visit(rng, code, day);
    }
    let mut v = pool[*n % pool.len()].clone();
    *n += 1;
    v.village_code = code.to_string();
    v.survey_date = day.to_string();
    v
}

/// A roster shaped by `seed`; the visits' content from `pool` (see
/// [`next_visit`]; an empty pool: generated from the seed).
fn build(seed: u64, max_units: i64, visit_share: f64, pool: &[VisitData]) -> World {
    let mut rng = Rng::new(seed);
    let mut drawn = 0;
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    let mut f = std::fs::File::create(&roster).unwrap();
    writeln!(f, "code,name,kind,township_name,county_name").unwrap();
    let mut villages = Vec::new();
    for p in 0..rng.range(1, 2) {
        let province = format!("{}", 43 + p);
        for c in 1..=rng.range(1, 2) {
            let city = format!("{province}{c:02}");
            for k in 1..=rng.range(1, 3) {
                let county = format!("{city}{k:02}");
                let county_name = if rng.chance(0.8) { format!("县{county}") } else { String::new() };
                for t in 1..=rng.range(1, 3) {
                    let township = format!("{county}{t:03}");
                    let township_name = if rng.chance(0.8) { format!("镇{township}") } else { String::new() };
                    for u in 1..=rng.range(1, max_units) {
                        let code = format!("{township}{:03}", 200 + u);
                        let village = rng.chance(0.8);
                        let (name, kind) =
                            if village { (format!("{u}村"), "village") } else { (format!("{u}社区"), "community") };
                        writeln!(f, "{code},{name},{kind},{township_name},{county_name}").unwrap();
                        if village {
                            villages.push(code);
                        }
                    }
                }
            }
        }
    }
    drop(f);
    let mut store = Store::open_in_memory().unwrap();
    store.import_roster(&roster).unwrap();
    let mut visits = Vec::new();
    for code in &villages {
        if !rng.chance(visit_share) {
            continue;
        }
        for _ in 0..rng.range(1, 3) {
            let id = rng.uuid();
            let day = date(rng.range(1, 6));
            let v = next_visit(&mut rng, pool, &mut drawn, code, &day);
            store.save_visit("test", &id, Some(&v)).unwrap();
            visits.push((id, v));
        }
    }
    World { store, villages, visits, _dir: dir }
}

/// A village's figures computed in Rust from its visits, independently of
/// the SQL: the counting visit is the latest on or before `as_of`, the
/// greatest id among visits of that date.
fn oracle(village: &str, visits: &[(String, VisitData)], as_of: &str, s: &Settings) -> Figures {
    let mut f = Figures { villages: 1, ..Default::default() };
    let mine: Vec<&(String, VisitData)> =
        visits.iter().filter(|(_, v)| v.village_code == village && v.survey_date.as_str() <= as_of).collect();
    let Some((_, v)) = mine.iter().max_by(|a, b| (&a.1.survey_date, &a.0).cmp(&(&b.1.survey_date, &b.0))) else {
        return f;
    };
    f.surveyed = 1;
    f.duplicate_visits = (mine.iter().filter(|(_, w)| w.survey_date == v.survey_date).count() > 1) as i64;
    let served: i64 =
        v.facilities.iter().filter(|x| x.status == FacilityStatus::Normal).map(|x| x.households_served).sum();
    let treated = indicators::treated_households(v.hh_sewer, v.hh_reuse, served);
    f.villages_treated = indicators::village_reaches(treated, v.households, s.village_threshold) as i64;
    f.villages_controlled =
        indicators::village_reaches(treated + v.hh_controlled, v.households, s.village_threshold) as i64;
    f.households_treated = treated;
    f.households = v.households;
    f.facilities_normal = v.facilities.iter().filter(|x| x.status == FacilityStatus::Normal).count() as i64;
    f.facilities_total = v.facilities.len() as i64;
    f.nv_covered = v.nv_garbage_covered;
    f.natural_villages = v.natural_villages;
    for farm in &v.farms {
        let produced =
            indicators::manure_produced_t(farm.species, farm.head_on_hand, farm.annual_out, farm.manure_t, &s.manure);
        f.produced_t += produced;
        f.utilized_t += indicators::manure_utilized_t(produced, farm.utilized_pct);
        if indicators::is_scale_farm(farm.species, farm.head_on_hand, farm.annual_out, &s.manure) {
            f.scale_farms += 1;
            f.scale_farms_equipped += farm.facility_equipped as i64;
        }
    }
    for w in &v.water_bodies {
        let meets = indicators::meets_black_odor(w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l);
        match indicators::water_outcome(w.listed, w.status, meets) {
            WaterOutcome::NotListed => {}
            WaterOutcome::Open => f.water_listed += 1,
            WaterOutcome::Remediated => {
                f.water_listed += 1;
                f.water_remediated += 1;
            }
            WaterOutcome::Relapsed => {
                f.water_listed += 1;
                f.water_relapsed += 1;
            }
        }
    }
    f
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Equal counts, tonnes equal to 1e-9 (sums in another order).
fn same(a: &Figures, b: &Figures) -> bool {
    let ints = |f: &Figures| {
        [
            f.villages,
            f.surveyed,
            f.duplicate_visits,
            f.villages_treated,
            f.villages_controlled,
            f.households_treated,
            f.households,
            f.facilities_normal,
            f.facilities_total,
            f.nv_covered,
            f.natural_villages,
            f.scale_farms,
            f.scale_farms_equipped,
            f.water_listed,
            f.water_remediated,
            f.water_relapsed,
        ]
    };
    ints(a) == ints(b) && close(a.produced_t, b.produced_t) && close(a.utilized_t, b.utilized_t)
}

fn summaries(store: &Store, as_of: &str, s: &Settings) -> Vec<Summary> {
    Level::ALL.iter().map(|l| store.summary(as_of, *l, None, s).unwrap()).collect()
}

fn check_rates(s: &Summary) -> Result<(), TestCaseError> {
    for f in std::iter::once(&s.total).chain(s.areas.iter().map(|a| &a.figures)) {
        let r = f.rates();
        for rate in
            [r.sewage, r.sewage_controlled, r.household, r.facilities, r.garbage, r.manure, r.equipping, r.black_odor]
        {
            prop_assert!(rate.is_none_or(|x| (0.0..=1.0).contains(&x)), "rate {rate:?} in {f:?}");
        }
    }
    Ok(())
}

/// Each parent's figures are the sum of its children's, and every level's
/// total is the same.
fn check_additive(levels: &[Summary]) -> Result<(), TestCaseError> {
    for pair in levels.windows(2) {
        let (parent, child) = (&pair[0], &pair[1]);
        let len = parent.level.prefix_len();
        let mut sums: BTreeMap<&str, Figures> = BTreeMap::new();
        for a in &child.areas {
            sums.entry(&a.code[..len]).or_default().add(&a.figures);
        }
        prop_assert_eq!(sums.len(), parent.areas.len());
        for a in &parent.areas {
            let sum = sums.get(a.code.as_str());
            prop_assert!(
                sum.is_some_and(|s| same(s, &a.figures)),
                "{} {}: {:?} vs children {sum:?}",
                parent.level.code(),
                a.code,
                a.figures
            );
        }
        prop_assert!(same(&parent.total, &child.total), "totals of {:?} and {:?}", parent.level, child.level);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn summary_properties(
        seed in any::<u64>(),
        max_units in 1i64..6,
        share in 0.2f64..1.0,
        as_of_day in 0i64..7,
        threshold in 0.1f64..0.9,
        pool in prop::collection::vec(strategies::visit_data("430101001201", "2024-03-01"), 1..8),
    ) {
        let mut w = build(seed, max_units, share, &pool);
        let settings = Settings { village_threshold: threshold, ..Settings::default() };
        let as_of = date(as_of_day);
        let levels = summaries(&w.store, &as_of, &settings);
        for s in &levels {
            check_rates(s)?;
        }
        check_additive(&levels)?;

        // Every village, and only villages, at village level, each equal to the oracle.
        let village_level = &levels[Level::ALL.len() - 1];
        let codes: Vec<&str> = village_level.areas.iter().map(|a| a.code.as_str()).collect();
        let mut want: Vec<&str> = w.villages.iter().map(String::as_str).collect();
        want.sort();
        prop_assert_eq!(codes, want);
        for a in &village_level.areas {
            let o = oracle(&a.code, &w.visits, &as_of, &settings);
            prop_assert!(same(&a.figures, &o), "village {}: sql {:?}\noracle {:?}", a.code, a.figures, o);
        }
        let status = w.store.village_status(&as_of, None, &settings).unwrap();
        prop_assert_eq!(status.len(), village_level.areas.len());
        for (v, a) in status.iter().zip(&village_level.areas) {
            prop_assert_eq!(&v.row, a);
            let latest = w.visits.iter().filter(|(_, x)| x.village_code == a.code && x.survey_date <= as_of).map(|(_, x)| x.survey_date.clone()).max();
            prop_assert_eq!(&v.counting_date, &latest);
        }

        // Visits after the as-of date change nothing as of that date.
        let mut rng = Rng::new(seed ^ 1);
        for code in w.villages.iter().take(5) {
            let later = date(as_of_day + rng.range(1, 3));
            let mut v = pool[0].clone();
            v.village_code = code.clone();
            v.survey_date = later;
            w.store.save_visit("later", &rng.uuid(), Some(&v)).unwrap();
        }
        prop_assert_eq!(&summaries(&w.store, &as_of, &settings), &levels);

        // A same-day copy of a counting visit: the village counts once, now
        // as having duplicate visits; nothing else moves.
        if let Some(a) = village_level.areas.iter().find(|a| a.figures.surveyed == 1 && a.figures.duplicate_visits == 0) {
            let (_, v) = w.visits.iter().filter(|(_, x)| x.village_code == a.code && x.survey_date <= as_of)
                .max_by(|x, y| (&x.1.survey_date, &x.0).cmp(&(&y.1.survey_date, &y.0))).unwrap().clone();
            w.store.save_visit("copy", &rng.uuid(), Some(&v)).unwrap();
            let after = w.store.summary(&as_of, Level::Village, Some(&a.code), &settings).unwrap();
            prop_assert_eq!(after.areas.len(), 1);
            let expected = Figures { duplicate_visits: 1, ..a.figures };
            prop_assert!(same(&after.areas[0].figures, &expected), "{:?} vs {:?}", after.areas[0].figures, expected);
            let total = w.store.summary(&as_of, Level::County, None, &settings).unwrap().total;
            prop_assert_eq!(total.surveyed, levels[0].total.surveyed);
            prop_assert_eq!(total.duplicate_visits, levels[0].total.duplicate_visits + 1);
        }
    }

    #[test]
    fn figures_table_follows_every_write(
        seed in any::<u64>(),
        max_units in 1i64..5,
        share in 0.2f64..1.0,
        edits in 0usize..12,
        pool in prop::collection::vec(strategies::visit_data("430101001201", "2024-03-01"), 0..6),
    ) {
        let mut w = build(seed, max_units, share, &pool);
        common::assert_figures_match(&w.store);
        // Edits (new dates, new child rows) and deletions of saved visits.
        let mut rng = Rng::new(seed ^ 2);
        for k in 0..edits.min(w.visits.len()) {
            let (id, v) = w.visits[rng.range(0, w.visits.len() as i64 - 1) as usize].clone();
            if k % 3 == 2 {
                w.store.save_visit("del", &id, None).unwrap();
            } else {
                let day = date(rng.range(1, 6));
                let edited = random_visit(&mut rng, &v.village_code, &day);
                w.store.save_visit("edit", &id, Some(&edited)).unwrap();
            }
        }
        common::assert_figures_match(&w.store);
        // Export, then import into a fresh database and back over an edited one.
        let out = tempfile::tempdir().unwrap();
        w.store.export_bundle(out.path()).unwrap();
        let mut fresh = Store::open_in_memory().unwrap();
        fresh.import_bundle(out.path(), false).unwrap();
        common::assert_figures_match(&fresh);
        let as_of = date(6);
        let settings = Settings::default();
        prop_assert_eq!(summaries(&fresh, &as_of, &settings), summaries(&w.store, &as_of, &settings));
        if let Some((id, v)) = w.visits.first().cloned() {
            let edited = random_visit(&mut rng, &v.village_code, &v.survey_date);
            fresh.save_visit("edit", &id, Some(&edited)).unwrap();
            fresh.import_bundle(out.path(), false).unwrap();
            common::assert_figures_match(&fresh);
        }
        // A merge of the database into an empty one.
        let snap = out.path().join("snap.db");
        w.store.snapshot(&snap).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut county = Store::open(&dir.path().join("county.db")).unwrap();
        county.import_roster(&w._dir.path().join("roster.csv")).unwrap();
        // The file's signer is another installation: enrolled on this first merge.
        let opts = ruralsan::store::sync::MergeOptions { enrol_new: true, ..Default::default() };
        let r = county.merge_files(&[snap], opts).unwrap();
        prop_assert!(r.files.iter().all(|f| !matches!(f, ruralsan::store::sync::FileOutcome::Refused(_))), "{:?}", r.files);
        common::assert_figures_match(&county);
    }
}
