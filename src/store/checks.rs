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

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Result;
use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::domain::Species;
use crate::domain::checks::{Check, Finding, Item, households_changed, treated_pct};
use crate::domain::indicators::is_scale_farm;
use crate::domain::settings::Settings;

/// Each village's visits dated on or before ?1, by date then id (the key
/// order of `visit_figures`: no sort): consecutive rows of one village are
/// a visit and its previous one, the pairs the "compared with last time"
/// rules read.
const SEQUENCE_SQL: &str = "
SELECT village_code, visit_id, households, households_treated FROM visit_figures
WHERE survey_date <= ?1 ORDER BY village_code, survey_date, visit_id";

/// Whether visit ?1 has a facility running that was not running (new or
/// repaired) on visit ?2.
const NEW_OR_REPAIRED_SQL: &str = "
SELECT EXISTS (SELECT 1 FROM facility n WHERE n.visit_id = ?1 AND n.status = 'normal'
               AND NOT EXISTS (SELECT 1 FROM facility o WHERE o.visit_id = ?2
                               AND o.facility_id = n.facility_id AND o.status = 'normal'))";

/// Whether visit ?1 has no note (an item gone is then a check).
const NO_NOTE_SQL: &str = "SELECT notes = '' FROM visit WHERE visit_id = ?1";

/// Facilities, farms and listed water bodies of visit ?2 missing from visit ?1.
const GONE_SQL: &str = "
SELECT 0, o.facility_id FROM facility o WHERE o.visit_id = ?2
  AND NOT EXISTS (SELECT 1 FROM facility n WHERE n.visit_id = ?1 AND n.facility_id = o.facility_id)
UNION ALL
SELECT 1, o.farm_id FROM farm o WHERE o.visit_id = ?2
  AND NOT EXISTS (SELECT 1 FROM farm n WHERE n.visit_id = ?1 AND n.farm_id = o.farm_id)
UNION ALL
SELECT 2, o.water_id FROM water_body o WHERE o.visit_id = ?2 AND o.listed <> 'none'
  AND NOT EXISTS (SELECT 1 FROM water_body n WHERE n.visit_id = ?1 AND n.water_id = o.water_id)";

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

/// Every visit dated on or before ?1 by county, surveyor, date and village:
/// each surveyor-day's visits in a row. A surveyor is a name within a
/// county: township crews work in their county, and the same name in two
/// counties is two people (王芳 is the commonest name in China).
const DAYS_SQL: &str = "
SELECT substr(village_code, 1, 6), surveyor, survey_date, village_code, visit_id FROM visit
WHERE survey_date <= ?1 ORDER BY 1, 2, 3, 4, 5";

/// Every visit with households dated on or before ?1: its village, its
/// figures (a copied form has the same ones) and its id and date.
const FORMS_SQL: &str = "
SELECT village_code, households, households_treated, hh_controlled, natural_villages, nv_covered,
       facilities_normal, facilities_total, produced_t, utilized_t, scale_farms, scale_farms_equipped,
       water_listed, water_remediated, water_relapsed, visit_id, survey_date
FROM visit_figures WHERE survey_date <= ?1 AND households > 0";

/// A hash of a visit's figures (columns 1 to 14 of [`FORMS_SQL`]).
fn figures_hash(r: &rusqlite::Row) -> rusqlite::Result<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for i in 1..15 {
        match r.get_ref(i)? {
            rusqlite::types::ValueRef::Integer(n) => n.hash(&mut h),
            rusqlite::types::ValueRef::Real(x) => x.to_bits().hash(&mut h),
            other => other.as_bytes_or_null()?.hash(&mut h),
        }
    }
    Ok(h.finish())
}

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
        self.compared_with_last_time(as_of, settings, &mut out)?;
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
        self.surveyor_days(as_of, settings, &mut out)?;
        self.copied_forms(as_of, &mut out)?;
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

    /// The rules on a visit and its village's previous visit: households
    /// changed, treated share rose with no new or repaired facility, items
    /// gone without a note. One pass over `visit_figures` in key order;
    /// each pair's facilities, farms and water bodies are looked up by key.
    fn compared_with_last_time(&self, as_of: &str, settings: &Settings, out: &mut Vec<Check>) -> Result<()> {
        let c = &settings.checks;
        let conn = &self.conn;
        let mut seq = conn.prepare_cached(SEQUENCE_SQL)?;
        let mut gone = conn.prepare_cached(GONE_SQL)?;
        let mut no_note = conn.prepare_cached(NO_NOTE_SQL)?;
        let mut repaired = conn.prepare_cached(NEW_OR_REPAIRED_SQL)?;
        let mut rows = seq.query([as_of])?;
        // The previous row: village, visit, households, treated.
        let mut prev: Option<(String, String, i64, i64)> = None;
        while let Some(r) = rows.next()? {
            let (code, id, hh, treated): (String, String, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let Some((_, prev_id, prev_hh, prev_treated)) = prev.take().filter(|p| p.0 == code) else {
                prev = Some((code, id, hh, treated));
                continue;
            };
            if households_changed(prev_hh, hh, c.households_change_pct) {
                let f = Finding::HouseholdsChanged { before: prev_hh, after: hh, previous_visit: prev_id.clone() };
                out.push(on_visit(id.clone(), code.clone(), f));
            }
            if let (Some(before), Some(after)) = (treated_pct(prev_treated, prev_hh), treated_pct(treated, hh))
                && after - before > c.treated_rise_points
                && !repaired.query_row(params![id, prev_id], |r| r.get::<_, bool>(0))?
            {
                let f = Finding::TreatedShareRose { before, after, previous_visit: prev_id.clone() };
                out.push(on_visit(id.clone(), code.clone(), f));
            }
            if no_note.query_row([&id], |r| r.get::<_, bool>(0)).optional()?.unwrap_or(false) {
                let mut missing = gone.query(params![id, prev_id])?;
                while let Some(m) = missing.next()? {
                    let item = match m.get::<_, i64>(0)? {
                        0 => Item::Facility,
                        1 => Item::Farm,
                        _ => Item::Water,
                    };
                    let f = Finding::Gone { item, id: m.get(1)?, previous_visit: prev_id.clone() };
                    out.push(on_visit(id.clone(), code.clone(), f));
                }
            }
            prev = Some((code, id, hh, treated));
        }
        Ok(())
    }

    /// Surveyor-days (a name within a county, see [`DAYS_SQL`]) with more
    /// villages than can be walked, or more townships than can be crossed:
    /// each of the day's visits gets the finding.
    fn surveyor_days(&self, as_of: &str, settings: &Settings, out: &mut Vec<Check>) -> Result<()> {
        let c = &settings.checks;
        let mut st = self.conn.prepare_cached(DAYS_SQL)?;
        let mut rows = st.query([as_of])?;
        // The day at hand: (county, surveyor, date), its visits (village,
        // visit) in village order, its villages and townships.
        let mut day: Option<(String, String, String)> = None;
        let mut visits: Vec<(String, String)> = Vec::new();
        let mut flush = |day: &(String, String, String), visits: &mut Vec<(String, String)>| {
            let mut villages = 0i64;
            let mut townships: Vec<String> = Vec::new();
            for (i, (code, _)) in visits.iter().enumerate() {
                if i == 0 || visits[i - 1].0 != *code {
                    villages += 1;
                }
                let t = code.get(..9).unwrap_or(code);
                if townships.last().map(String::as_str) != Some(t) {
                    townships.push(t.to_string());
                }
            }
            let (_, surveyor, date) = day;
            for (code, id) in visits.drain(..) {
                if villages > c.villages_per_day {
                    let f = Finding::TooManyVillages {
                        surveyor: surveyor.clone(),
                        date: date.clone(),
                        villages,
                        max: c.villages_per_day,
                    };
                    out.push(on_visit(id.clone(), code.clone(), f));
                }
                if townships.len() as i64 > c.townships_per_day {
                    let f = Finding::FarApart {
                        surveyor: surveyor.clone(),
                        date: date.clone(),
                        townships: townships.clone(),
                        max: c.townships_per_day,
                    };
                    out.push(on_visit(id, code, f));
                }
            }
        };
        while let Some(r) = rows.next()? {
            let key: (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if day.as_ref() != Some(&key) {
                if let Some(d) = &day {
                    flush(d, &mut visits);
                }
                day = Some(key);
            }
            visits.push((r.get(3)?, r.get(4)?));
        }
        if let Some(d) = &day {
            flush(d, &mut visits);
        }
        Ok(())
    }

    /// Visits of two villages with identical figures in every field (a
    /// copied form): the later one gets the finding, naming the first.
    fn copied_forms(&self, as_of: &str, out: &mut Vec<Check>) -> Result<()> {
        let conn = &self.conn;
        // The candidates (date, visit, village): visits whose figures a
        // visit of another village shares, found in two passes with a hash
        // of the figures: first each hash's village (None once a second
        // village has it), then the visits of the shared hashes. (A hash
        // shared by chance only adds a candidate: the forms are compared whole.)
        let mut st = conn.prepare_cached(FORMS_SQL)?;
        let mut villages: std::collections::HashMap<u64, Option<String>> = Default::default();
        let mut rows = st.query([as_of])?;
        while let Some(r) = rows.next()? {
            let code = r.get_ref(0)?.as_str()?;
            match villages.entry(figures_hash(r)?) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(Some(code.to_string()));
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    if e.get().as_deref().is_some_and(|c| c != code) {
                        e.insert(None);
                    }
                }
            }
        }
        drop(rows);
        villages.retain(|_, v| v.is_none());
        let mut candidates: Vec<(String, String, String)> = Vec::new();
        if !villages.is_empty() {
            let mut rows = st.query([as_of])?;
            while let Some(r) = rows.next()? {
                if villages.contains_key(&figures_hash(r)?) {
                    candidates.push((r.get(16)?, r.get(15)?, r.get(0)?));
                }
            }
        }
        candidates.sort();
        // Each candidate's form read from the current rows (where the
        // current revision's content is kept), without village, date,
        // surveyor and notes; a stable sort keeps the time order per key.
        let mut keyed = Vec::with_capacity(candidates.len());
        for (_, id, code) in candidates {
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
                        let f = Finding::CopiedForm { other_visit: other.clone(), other_village: other_code.clone() };
                        out.push(on_visit(id, code, f));
                    }
                }
                _ => first = Some((key, id, code)),
            }
        }
        Ok(())
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
