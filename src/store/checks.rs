//! The data-quality checks (疑点) over the current tables and the per-visit
//! figures (`visit_figures`): each rule a statement here, its threshold and
//! its arithmetic in the domain (`domain::checks`), its words in
//! `strings::checks`.
//!
//! Every rule on a visit looks only at visits dated on or before it (its
//! village's previous visit, the same surveyor's same day, an earlier
//! identical form), so a visit's checks do not change with the as-of date
//! once it is on or before it; the as-of date only decides which visits are
//! looked at, and the round of the completeness rule.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use anyhow::Result;
use rusqlite::params;

use super::Store;
use crate::domain::Species;
use crate::domain::checks::{Check, Finding, Item, households_changed, treated_pct};
use crate::domain::indicators::is_scale_farm;
use crate::domain::settings::Settings;

/// Each visit dated on or before ?1 with its village's previous visit
/// (by date, then id): the pairs that the "compared with last time" rules read.
const PAIRS: &str = "
WITH v AS (
  SELECT visit_id, village_code, households, households_treated,
         lag(visit_id) OVER w AS prev_id, lag(households) OVER w AS prev_hh,
         lag(households_treated) OVER w AS prev_treated
  FROM visit_figures WHERE survey_date <= ?1
  WINDOW w AS (PARTITION BY village_code ORDER BY survey_date, visit_id))";

/// Households and treated share against the previous visit, and whether a
/// facility is running now that was not (new or repaired) then.
const COMPARED_SQL: &str = "
SELECT v.visit_id, v.village_code, v.households, v.households_treated, v.prev_id, v.prev_hh, v.prev_treated,
       EXISTS (SELECT 1 FROM facility n WHERE n.visit_id = v.visit_id AND n.status = 'normal'
               AND NOT EXISTS (SELECT 1 FROM facility o WHERE o.visit_id = v.prev_id
                               AND o.facility_id = n.facility_id AND o.status = 'normal'))
FROM v WHERE v.prev_id IS NOT NULL";

/// Facilities, farms and listed water bodies of the previous visit missing
/// from a visit without a note.
const GONE_SQL: &str = "
SELECT v.visit_id, v.village_code, 0, o.facility_id, v.prev_id FROM v
  JOIN visit x ON x.visit_id = v.visit_id AND x.notes = ''
  JOIN facility o ON o.visit_id = v.prev_id
  WHERE NOT EXISTS (SELECT 1 FROM facility n WHERE n.visit_id = v.visit_id AND n.facility_id = o.facility_id)
UNION ALL
SELECT v.visit_id, v.village_code, 1, o.farm_id, v.prev_id FROM v
  JOIN visit x ON x.visit_id = v.visit_id AND x.notes = ''
  JOIN farm o ON o.visit_id = v.prev_id
  WHERE NOT EXISTS (SELECT 1 FROM farm n WHERE n.visit_id = v.visit_id AND n.farm_id = o.farm_id)
UNION ALL
SELECT v.visit_id, v.village_code, 2, o.water_id, v.prev_id FROM v
  JOIN visit x ON x.visit_id = v.visit_id AND x.notes = ''
  JOIN water_body o ON o.visit_id = v.prev_id AND o.listed <> 'none'
  WHERE NOT EXISTS (SELECT 1 FROM water_body n WHERE n.visit_id = v.visit_id AND n.water_id = o.water_id)";

/// Water bodies marked remediated or verified: unmeasured, or still black
/// and odorous by the domain's criteria (`rs_black_odor`).
const WATER_SQL: &str = "
SELECT w.visit_id, x.village_code, w.water_id,
       w.transparency_cm IS NULL AND w.do_mg_l IS NULL AND w.nh3n_mg_l IS NULL,
       rs_black_odor(w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l)
FROM water_body w JOIN visit x ON x.visit_id = w.visit_id
WHERE x.survey_date <= ?1 AND w.status IN ('remediated', 'verified')";

/// Farms at 100 % utilisation without equipment (scale farms among them are
/// told by the domain's thresholds, which are settings).
const FARMS_SQL: &str = "
SELECT f.visit_id, x.village_code, f.farm_id, f.species, f.head_on_hand, f.annual_out
FROM farm f JOIN visit x ON x.visit_id = f.visit_id
WHERE x.survey_date <= ?1 AND f.utilized_pct >= 100 AND f.facility_equipped = 0";

/// Surveyor-days with more villages than can be walked (?2), or in more
/// than one county, and their visits.
const DAYS_SQL: &str = "
WITH d AS (
  SELECT surveyor, survey_date, count(DISTINCT village_code) AS villages,
         count(DISTINCT substr(village_code, 1, 6)) AS counties
  FROM visit WHERE survey_date <= ?1 GROUP BY surveyor, survey_date
  HAVING villages > ?2 OR counties > 1)
SELECT x.visit_id, x.village_code, d.surveyor, d.survey_date, d.villages, d.counties
FROM d JOIN visit x ON x.surveyor = d.surveyor AND x.survey_date = d.survey_date
ORDER BY d.surveyor, d.survey_date, x.village_code, x.visit_id";

/// Every visit with households, keyed by its form without village, date,
/// surveyor and notes (a copied form has the same key), in key then time
/// order. Only visits whose village figures another village shares are
/// candidates: the payloads of the others are never read.
const FORMS_SQL: &str = "
WITH c AS (
  SELECT households, hh_sewer, hh_reuse, hh_controlled, natural_villages, nv_garbage_covered
  FROM visit WHERE survey_date <= ?1 AND households > 0
  GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(DISTINCT village_code) > 1)
SELECT x.visit_id, x.village_code
FROM c JOIN visit x USING (households, hh_sewer, hh_reuse, hh_controlled, natural_villages, nv_garbage_covered)
WHERE x.survey_date <= ?1
ORDER BY x.survey_date, x.visit_id";

/// Per township that has any visit on or before ?1: its villages and how
/// many have a visit in the round (after ?2, on or before ?1).
const COMPLETENESS_SQL: &str = "
SELECT substr(r.code, 1, 9) AS t, count(*),
       sum(EXISTS (SELECT 1 FROM visit_figures f WHERE f.village_code = r.code
                   AND f.survey_date > ?2 AND f.survey_date <= ?1)),
       sum(EXISTS (SELECT 1 FROM visit_figures f WHERE f.village_code = r.code AND f.survey_date <= ?1))
FROM roster r WHERE r.is_village = 1 GROUP BY t";

fn township(code: &str) -> String {
    code.get(..9).unwrap_or(code).to_string()
}

fn on_visit(visit_id: String, village_code: String, finding: Finding) -> Check {
    Check { area: township(&village_code), visit_id: Some(visit_id), village_code: Some(village_code), finding }
}

impl Store {
    /// Every check that fires as of `as_of` (YYYY-MM-DD), sorted by
    /// township, village, visit and rule.
    pub fn checks(&self, as_of: &str, settings: &Settings) -> Result<Vec<Check>> {
        self.find_checks(as_of, settings, true)
    }

    /// The checks; those on townships only when `townships`.
    fn find_checks(&self, as_of: &str, settings: &Settings, townships: bool) -> Result<Vec<Check>> {
        let c = &settings.checks;
        let conn = &self.conn;
        let mut out = Vec::new();
        {
            let mut st = conn.prepare_cached(&format!("{PAIRS}{COMPARED_SQL}"))?;
            let mut rows = st.query([as_of])?;
            while let Some(r) = rows.next()? {
                let (id, code): (String, String) = (r.get(0)?, r.get(1)?);
                let (hh, treated, prev, prev_hh, prev_treated): (i64, i64, String, i64, i64) =
                    (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?);
                let new_or_repaired: bool = r.get(7)?;
                if households_changed(prev_hh, hh, c.households_change_pct) {
                    let f = Finding::HouseholdsChanged { before: prev_hh, after: hh, previous_visit: prev.clone() };
                    out.push(on_visit(id.clone(), code.clone(), f));
                }
                if let (Some(before), Some(after)) = (treated_pct(prev_treated, prev_hh), treated_pct(treated, hh))
                    && after - before > c.treated_rise_points
                    && !new_or_repaired
                {
                    out.push(on_visit(id, code, Finding::TreatedShareRose { before, after, previous_visit: prev }));
                }
            }
        }
        {
            let mut st = conn.prepare_cached(&format!("{PAIRS}{GONE_SQL}"))?;
            let mut rows = st.query([as_of])?;
            while let Some(r) = rows.next()? {
                let item = match r.get::<_, i64>(2)? {
                    0 => Item::Facility,
                    1 => Item::Farm,
                    _ => Item::Water,
                };
                let f = Finding::Gone { item, id: r.get(3)?, previous_visit: r.get(4)? };
                out.push(on_visit(r.get(0)?, r.get(1)?, f));
            }
        }
        {
            let mut st = conn.prepare_cached(WATER_SQL)?;
            let mut rows = st.query([as_of])?;
            while let Some(r) = rows.next()? {
                let (unmeasured, black): (bool, bool) = (r.get(3)?, r.get(4)?);
                let water_id: String = r.get(2)?;
                let f = if unmeasured {
                    Finding::RemediatedUnmeasured { water_id }
                } else if black {
                    Finding::RemediatedStillBlack { water_id }
                } else {
                    continue;
                };
                out.push(on_visit(r.get(0)?, r.get(1)?, f));
            }
        }
        {
            let mut st = conn.prepare_cached(FARMS_SQL)?;
            let mut rows = st.query([as_of])?;
            while let Some(r) = rows.next()? {
                let species = r.get_ref(3)?.as_str().ok().and_then(Species::parse);
                let (head, out_n): (i64, i64) = (r.get(4)?, r.get(5)?);
                let scale = species.is_some_and(|s| is_scale_farm(s, head, out_n, &settings.manure));
                if scale {
                    out.push(on_visit(r.get(0)?, r.get(1)?, Finding::ScaleFarmUnequipped { farm_id: r.get(2)? }));
                }
            }
        }
        {
            let mut st = conn.prepare_cached(DAYS_SQL)?;
            let mut rows = st.query(params![as_of, c.villages_per_day])?;
            let mut counties: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
            let mut day_rows = Vec::new();
            while let Some(r) = rows.next()? {
                let (id, code, surveyor, date): (String, String, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                let (villages, n_counties): (i64, i64) = (r.get(4)?, r.get(5)?);
                let list = counties.entry((surveyor.clone(), date.clone())).or_default();
                let county = code.get(..6).unwrap_or(&code).to_string();
                if !list.contains(&county) {
                    list.push(county);
                }
                day_rows.push((id, code, surveyor, date, villages, n_counties));
            }
            for (id, code, surveyor, date, villages, n_counties) in day_rows {
                if villages > c.villages_per_day {
                    let f = Finding::TooManyVillages {
                        surveyor: surveyor.clone(),
                        date: date.clone(),
                        villages,
                        max: c.villages_per_day,
                    };
                    out.push(on_visit(id.clone(), code.clone(), f));
                }
                if n_counties > 1 {
                    let mut list = counties[&(surveyor.clone(), date.clone())].clone();
                    list.sort();
                    out.push(on_visit(id, code, Finding::FarApart { surveyor, date, counties: list }));
                }
            }
        }
        {
            let candidates: Vec<(String, String)> = conn
                .prepare_cached(FORMS_SQL)?
                .query_map([as_of], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            // Each candidate's form read from the current rows (where the
            // current revision's content is kept), without village, date,
            // surveyor and notes; a stable sort keeps the time order per key.
            let mut keyed = Vec::with_capacity(candidates.len());
            for (id, code) in candidates {
                let Some((_, mut v)) = super::payload::current(conn, &id)? else { continue };
                v.village_code.clear();
                v.survey_date.clear();
                v.surveyor.clear();
                v.notes.clear();
                keyed.push((v.canonical_json(), id, code));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            // The first visit of the current key: (key, visit, village).
            let mut first: Option<(String, String, String)> = None;
            for (key, id, code) in keyed {
                match &first {
                    Some((k, other, other_code)) if *k == key => {
                        if *other_code != code {
                            let f =
                                Finding::CopiedForm { other_visit: other.clone(), other_village: other_code.clone() };
                            out.push(on_visit(id, code, f));
                        }
                    }
                    _ => first = Some((key, id, code)),
                }
            }
        }
        if townships {
            let since = chrono::NaiveDate::parse_from_str(as_of, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.checked_sub_days(chrono::Days::new(c.round_days.max(0) as u64)))
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            let mut st = conn.prepare_cached(COMPLETENESS_SQL)?;
            let mut rows = st.query(params![as_of, since])?;
            while let Some(r) = rows.next()? {
                let (t, villages, visited, ever): (String, i64, i64, i64) =
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                if ever > 0 && (visited as f64) * 100.0 < c.completeness_pct * villages as f64 {
                    out.push(Check {
                        visit_id: None,
                        village_code: None,
                        area: t,
                        finding: Finding::Incomplete { visited, villages, min_pct: c.completeness_pct },
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (&a.area, &a.village_code, &a.visit_id, a.rule()).cmp(&(&b.area, &b.village_code, &b.visit_id, b.rule()))
        });
        Ok(out)
    }

    /// The visits with at least one check as of `as_of`.
    pub fn flagged_visits(&self, as_of: &str, settings: &Settings) -> Result<HashSet<String>> {
        Ok(self.find_checks(as_of, settings, false)?.into_iter().filter_map(|c| c.visit_id).collect())
    }

    /// Every visit with at least one check, whatever its date: a visit's
    /// checks do not change with the as-of date once it is on or before it,
    /// so a visit dated on or before D is in this set exactly when it is
    /// flagged as of D. Kept until the data or the settings change.
    pub fn flagged(&self, settings: &Settings) -> Result<Arc<HashSet<String>>> {
        let stamp = self.data_stamp()?;
        let key = serde_json::to_string(&(&settings.checks, &settings.manure))?;
        let mut cache = self.flagged.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_ref()
            && c.stamp == stamp
            && c.key == key
        {
            return Ok(c.set.clone());
        }
        let set = Arc::new(self.flagged_visits(ALL_DATES, settings)?);
        *cache = Some(FlaggedCache { stamp: self.data_stamp()?, key, set: set.clone() });
        Ok(set)
    }
}

/// After every date a visit may have.
const ALL_DATES: &str = "9999-12-31";

/// The flagged visits computed for one state of the data and the settings.
pub(crate) struct FlaggedCache {
    stamp: super::live::DataStamp,
    key: String,
    set: Arc<HashSet<String>>,
}

impl Store {
    /// The checks of one visit as of `as_of`.
    pub fn checks_of_visit(&self, visit_id: &str, as_of: &str, settings: &Settings) -> Result<Vec<Check>> {
        Ok(self.checks(as_of, settings)?.into_iter().filter(|c| c.visit_id.as_deref() == Some(visit_id)).collect())
    }
}
