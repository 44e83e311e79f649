//! The demo database: the real Zhuzhou roster (embedded) and generated
//! visits, made on first use.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::generate::{Rng, random_visit};
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
    let tmp = std::env::temp_dir().join(format!("ruralsan-demo-roster-{}.csv", std::process::id()));
    std::fs::write(&tmp, ROSTER_CSV).with_context(|| tmp.display().to_string())?;
    let imported = store.import_roster(&tmp);
    let _ = std::fs::remove_file(&tmp);
    imported?;
    let codes = store.village_codes(None)?;
    let mut visits = Vec::new();
    let mut rng = Rng::new(SEED);
    for code in codes {
        if !rng.chance(FRACTION) {
            continue;
        }
        for _ in 0..rng.range(1, 2) {
            let date = (today - chrono::Days::new(rng.range(1, 1000) as u64)).format("%Y-%m-%d").to_string();
            let data = random_visit(&mut rng, &code, &date);
            let id = rng.uuid();
            visits.push((id, data));
        }
    }
    store.save_new_visits(&visits, (SEEDED, "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_the_roster_and_visits_of_most_villages() {
        let mut s = Store::open_in_memory().unwrap();
        let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        ensure(&mut s, today).unwrap();
        ensure(&mut s, today).unwrap();
        let q = |sql: &str| -> i64 { s.conn_for_tui().query_row(sql, [], |r| r.get(0)).unwrap() };
        let villages = q("SELECT count(*) FROM roster WHERE is_village = 1");
        let surveyed = q("SELECT count(DISTINCT village_code) FROM visit");
        assert_eq!(q("SELECT count(*) FROM roster"), 1396);
        assert!((surveyed as f64 / villages as f64 - FRACTION).abs() < 0.05, "{surveyed}/{villages}");
        assert_eq!(q("SELECT count(*) FROM visit WHERE survey_date > '2025-06-01'"), 0);
    }
}
