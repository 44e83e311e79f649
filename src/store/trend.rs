//! An area's figures as of several dates in one pass (the supervisor's
//! trend): one statement picks, per village and per date, the counting
//! visit by the same rule as [`super::summary::SUMMARY_SQL`] (the greatest
//! (date, id) up to the date), computes each counting visit's figures once
//! with the summary's own SQL functions (a visit that counts at several
//! dates is looked at once), and sums them per date. N dates cost one scan
//! of the area's visits per date in the covering index and one look-up of
//! child rows per distinct counting visit, not N summaries.

use anyhow::Result;
use rusqlite::params;

use super::Store;
use super::summary::{VILLAGE_FIGURES, blob_part, register_functions};
use crate::domain::indicators::Figures;
use crate::domain::settings::Settings;

/// ?1 the dates as a JSON array of YYYY-MM-DD, ?2/?3 the code range of the area.
const TREND_SQL: &str = "
WITH q(d) AS (SELECT value FROM json_each(?1)),
cv AS (
  SELECT q.d AS q, v.village_code, max(v.survey_date || v.visit_id) AS counting, v.visit_id
  FROM q JOIN visit v ON v.survey_date <= q.d
  WHERE v.village_code >= ?2 AND v.village_code < ?3
    AND EXISTS (SELECT 1 FROM roster r WHERE r.code = v.village_code AND r.is_village = 1)
  GROUP BY q.d, v.village_code),
vf AS MATERIALIZED (
  SELECT v.visit_id,
         rs_village(
           (SELECT count(*) FROM visit x WHERE x.village_code = v.village_code AND x.survey_date = v.survey_date) > 1,
           v.households, v.hh_sewer, v.hh_reuse, v.hh_controlled, v.natural_villages, v.nv_garbage_covered,
           (SELECT rs_facilities(f.status, f.households_served) FROM facility f WHERE f.visit_id = v.visit_id),
           (SELECT rs_farms(m.species, m.head_on_hand, m.annual_out, m.manure_t, m.utilized_pct, m.facility_equipped)
              FROM farm m WHERE m.visit_id = v.visit_id),
           (SELECT rs_waters(w.listed, w.status, w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l)
              FROM water_body w WHERE w.visit_id = v.visit_id)) AS f
  FROM visit v WHERE v.visit_id IN (SELECT visit_id FROM cv)),
per AS (SELECT cv.q, rs_add(vf.f) AS f FROM cv JOIN vf ON vf.visit_id = cv.visit_id GROUP BY cv.q)
SELECT q.d, per.f,
       (SELECT count(*) FROM roster WHERE is_village = 1 AND code >= ?2 AND code < ?3)
FROM q LEFT JOIN per ON per.q = q.d
ORDER BY q.d";

impl Store {
    /// The total figures of the area `within` (a code prefix) as of each of
    /// `dates` (YYYY-MM-DD), in the order given: for each date the `total`
    /// [`Store::summary`] gives, in one statement.
    pub fn trend(&self, within: &str, dates: &[String], settings: &Settings) -> Result<Vec<Figures>> {
        register_functions(&self.conn, settings)?;
        let (lo, hi) = super::code_range(within);
        let json = serde_json::to_string(dates)?;
        let mut st = self.conn.prepare_cached(TREND_SQL)?;
        let mut rows = st.query(params![json, lo, hi])?;
        let mut by_date = std::collections::HashMap::new();
        while let Some(r) = rows.next()? {
            let date: String = r.get(0)?;
            let villages: i64 = r.get(2)?;
            let mut p = [0.0; VILLAGE_FIGURES];
            for (k, v) in p.iter_mut().enumerate() {
                *v = blob_part(r.get_ref(1)?, k)?;
            }
            // The order of `rs_village`'s parts (see summary.rs).
            let i = |k: usize| p[k] as i64;
            by_date.insert(
                date,
                Figures {
                    villages,
                    surveyed: i(0),
                    duplicate_visits: i(1),
                    villages_treated: i(2),
                    villages_controlled: i(3),
                    households_treated: i(4),
                    households: i(5),
                    facilities_normal: i(6),
                    facilities_total: i(7),
                    nv_covered: i(8),
                    natural_villages: i(9),
                    produced_t: p[10],
                    utilized_t: p[11],
                    scale_farms: i(12),
                    scale_farms_equipped: i(13),
                    water_listed: i(14),
                    water_remediated: i(15),
                    water_relapsed: i(16),
                },
            );
        }
        Ok(dates.iter().map(|d| by_date.get(d).cloned().unwrap_or_default()).collect())
    }
}
