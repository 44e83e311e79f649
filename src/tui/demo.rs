//! The demo database: the real Zhuzhou roster (embedded) and generated
//! visits, made on first use.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::generate::{BundleWriter, Rng, for_each_village, random_visit};
use crate::store::Store;

/// The Zhuzhou roster of 2021 (see data/NOTICE.md).
pub const ROSTER_CSV: &str = include_str!("../../data/zhuzhou_villages_2021.csv");
/// Seed of the demo's visits.
pub const SEED: u64 = 2021;
/// Share of the villages that get visits.
pub const FRACTION: f64 = 0.6;
const SEEDED: &str = "demo_seeded";

/// Where the demo database lives unless `--db` says otherwise.
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("cn", "ruralsan", "ruralsan")
        .map(|d| d.data_dir().join("demo.db"))
        .unwrap_or_else(|| PathBuf::from("demo.db"))
}

/// Fills `store` with the demo roster and visits unless it has them already.
/// Visit dates fall in the 1000 days before `today`.
pub fn ensure(store: &mut Store, today: NaiveDate) -> Result<()> {
    if store.meta(SEEDED)?.is_some() {
        return Ok(());
    }
    if store.has_revisions()? {
        let path = store.path().map(PathBuf::from).unwrap_or_default();
        return Err(crate::store::StoreError::NotADemoDatabase { path }.into());
    }
    let tmp = tempfile_dir("roster.csv");
    std::fs::write(&tmp, ROSTER_CSV).with_context(|| tmp.display().to_string())?;
    let imported = store.import_roster(&tmp);
    if imported.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    imported?;
    // The visits go in as a bundle, through the store's own import.
    let dir = tempfile_dir("visits");
    let written = write_visits(&tmp, &dir, today);
    let imported = written.and_then(|()| store.import_bundle(&dir, false).map(drop));
    // Removing the temporary files is tidying up: the import's result is what counts.
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&tmp);
    imported?;
    store.set_meta(SEEDED, "1")?;
    Ok(())
}

fn tempfile_dir(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ruralsan-demo-{what}-{}", std::process::id()))
}

/// Writes a bundle of visits for about [`FRACTION`] of the roster's villages.
fn write_visits(roster: &std::path::Path, dir: &std::path::Path, today: NaiveDate) -> Result<()> {
    let mut rng = Rng::new(SEED);
    let mut w = BundleWriter::create(dir)?;
    for_each_village(roster, |code| {
        if !rng.chance(FRACTION) {
            return Ok(());
        }
        for _ in 0..rng.range(1, 2) {
            let date = (today - chrono::Days::new(rng.range(1, 1000) as u64)).format("%Y-%m-%d").to_string();
            let data = random_visit(&mut rng, code, &date);
            let id = rng.uuid();
            w.write(&id, &data)?;
        }
        Ok(())
    })?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_the_roster_and_visits_of_most_villages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.db");
        let mut s = Store::open(&path).unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        ensure(&mut s, today).unwrap();
        ensure(&mut s, today).unwrap();
        let sql = rusqlite::Connection::open(&path).unwrap();
        let q = |query: &str| -> i64 { sql.query_row(query, [], |r| r.get(0)).unwrap() };
        let villages = q("SELECT count(*) FROM roster WHERE is_village = 1");
        let surveyed = q("SELECT count(DISTINCT village_code) FROM visit");
        assert_eq!(q("SELECT count(*) FROM roster"), 1396);
        assert!((surveyed as f64 / villages as f64 - FRACTION).abs() < 0.05, "{surveyed}/{villages}");
        assert_eq!(q("SELECT count(*) FROM visit WHERE survey_date > '2025-06-01'"), 0);
    }

    #[test]
    fn the_demo_never_adds_visits_to_a_database_with_real_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("real.db");
        let mut s = Store::open(&path).unwrap();
        let mut rng = Rng::new(1);
        s.save_visit("陈静", "real", Some(&random_visit(&mut rng, "430202001201", "2025-01-01"))).unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let e = ensure(&mut s, today).unwrap_err();
        assert!(matches!(
            e.downcast_ref::<crate::store::StoreError>(),
            Some(crate::store::StoreError::NotADemoDatabase { .. })
        ));
        let sql = rusqlite::Connection::open(&path).unwrap();
        let n: i64 = sql.query_row("SELECT count(*) FROM revision", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "nothing generated was added");
        let roster: i64 = sql.query_row("SELECT count(*) FROM roster", [], |r| r.get(0)).unwrap();
        assert_eq!(roster, 0, "nor the demo roster");
    }
}
