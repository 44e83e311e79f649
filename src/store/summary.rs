//! Indicator aggregation in SQL (SPEC §3, §4). The per-row formulas are the
//! domain's own functions, registered as SQL functions, so SQL only sums.

use anyhow::Result;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, params};

use super::Store;
use crate::domain::indicators::{self, Figures, WaterOutcome};
use crate::domain::settings::Settings;
use crate::domain::{Level, Listed, Species, WaterStatus};

/// One area's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    pub level: Level,
    pub code: String,
    pub name: String,
    pub figures: Figures,
}

/// The figures of every area of one level, as of a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub as_of: String,
    pub settings: Settings,
    pub level: Level,
    /// The sum of `areas`.
    pub total: Figures,
    pub areas: Vec<AreaRow>,
    /// Visits whose conflicting edits wait for someone to resolve them.
    pub open_conflicts: i64,
}

/// Registers the domain formulas as SQL functions with these settings.
fn register_functions(conn: &Connection, settings: &Settings) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let species = |ctx: &rusqlite::functions::Context, i: usize| -> rusqlite::Result<Species> {
        let s = ctx.get_raw(i).as_str().map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
        Ok(Species::parse(s).unwrap_or(Species::Other))
    };
    let c = settings.manure.clone();
    conn.create_scalar_function("rs_manure", 4, flags, move |ctx| {
        Ok(indicators::manure_produced_t(species(ctx, 0)?, ctx.get(1)?, ctx.get(2)?, ctx.get(3)?, &c))
    })?;
    conn.create_scalar_function("rs_utilized", 2, flags, |ctx| {
        Ok(indicators::manure_utilized_t(ctx.get(0)?, ctx.get(1)?))
    })?;
    let c = settings.manure.clone();
    conn.create_scalar_function("rs_scale", 3, flags, move |ctx| {
        Ok(indicators::is_scale_farm(species(ctx, 0)?, ctx.get(1)?, ctx.get(2)?, &c))
    })?;
    let threshold = settings.village_threshold;
    conn.create_scalar_function("rs_reaches", 2, flags, move |ctx| {
        Ok(indicators::village_reaches(ctx.get(0)?, ctx.get(1)?, threshold))
    })?;
    conn.create_scalar_function("rs_treated", 3, flags, |ctx| {
        Ok(indicators::treated_households(ctx.get(0)?, ctx.get(1)?, ctx.get(2)?))
    })?;
    conn.create_scalar_function("rs_water", 6, flags, |ctx| {
        let text = |i| ctx.get_raw(i).as_str().map_err(|e| rusqlite::Error::UserFunctionError(e.into()));
        let listed = Listed::parse(text(0)?).unwrap_or(Listed::None);
        let status = WaterStatus::parse(text(1)?).unwrap_or(WaterStatus::Identified);
        let meets = indicators::meets_black_odor(ctx.get(2)?, ctx.get(3)?, ctx.get(4)?, ctx.get(5)?);
        Ok(match indicators::water_outcome(listed, status, meets) {
            WaterOutcome::NotListed => 0,
            WaterOutcome::Open => 1,
            WaterOutcome::Remediated => 2,
            WaterOutcome::Relapsed => 3,
        })
    })?;
    Ok(())
}

/// ?1 as-of date, ?2 prefix length of the level, ?3/?4 the code range of the
/// area to look inside.
const SUMMARY_SQL: &str = "
WITH cv AS (
  SELECT * FROM (
    SELECT v.visit_id, v.village_code, v.households, v.hh_sewer, v.hh_reuse, v.hh_controlled,
           v.natural_villages, v.nv_garbage_covered,
           row_number() OVER w AS rn,
           lead(v.survey_date) OVER w IS v.survey_date AS dup
    FROM visit v
    WHERE v.survey_date <= ?1 AND v.village_code >= ?3 AND v.village_code < ?4
    WINDOW w AS (PARTITION BY v.village_code ORDER BY v.survey_date DESC, v.visit_id DESC))
  WHERE rn = 1),
fac AS (
  SELECT f.visit_id, sum(f.status = 'normal') AS normal, count(*) AS total,
         sum(CASE WHEN f.status = 'normal' THEN f.households_served ELSE 0 END) AS served
  FROM cv JOIN facility f ON f.visit_id = cv.visit_id GROUP BY f.visit_id),
fm AS (
  SELECT visit_id, total(produced) AS produced, total(rs_utilized(produced, utilized_pct)) AS utilized,
         sum(scale) AS scale, sum(scale AND facility_equipped) AS equipped
  FROM (SELECT f.visit_id, f.utilized_pct, f.facility_equipped,
               rs_manure(f.species, f.head_on_hand, f.annual_out, f.manure_t) AS produced,
               rs_scale(f.species, f.head_on_hand, f.annual_out) AS scale
        FROM cv JOIN farm f ON f.visit_id = cv.visit_id)
  GROUP BY visit_id),
wb AS (
  SELECT visit_id, sum(o > 0) AS listed, sum(o = 2) AS remediated, sum(o = 3) AS relapsed
  FROM (SELECT w.visit_id, rs_water(w.listed, w.status, w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l) AS o
        FROM cv JOIN water_body w ON w.visit_id = cv.visit_id)
  GROUP BY visit_id),
vill AS (
  SELECT cv.*, rs_treated(cv.hh_sewer, cv.hh_reuse, coalesce(fac.served, 0)) AS treated,
         coalesce(fac.normal, 0) AS fac_normal, coalesce(fac.total, 0) AS fac_total,
         coalesce(fm.produced, 0.0) AS produced, coalesce(fm.utilized, 0.0) AS utilized,
         coalesce(fm.scale, 0) AS scale, coalesce(fm.equipped, 0) AS equipped,
         coalesce(wb.listed, 0) AS listed, coalesce(wb.remediated, 0) AS remediated,
         coalesce(wb.relapsed, 0) AS relapsed
  FROM cv LEFT JOIN fac ON fac.visit_id = cv.visit_id LEFT JOIN fm ON fm.visit_id = cv.visit_id
          LEFT JOIN wb ON wb.visit_id = cv.visit_id)
SELECT substr(r.code, 1, ?2) AS area,
       count(*), count(vill.visit_id), coalesce(sum(vill.dup), 0),
       sum(rs_reaches(coalesce(vill.treated, 0), coalesce(vill.households, 0))),
       sum(rs_reaches(coalesce(vill.treated + vill.hh_controlled, 0), coalesce(vill.households, 0))),
       coalesce(sum(vill.treated), 0), coalesce(sum(vill.households), 0),
       coalesce(sum(vill.fac_normal), 0), coalesce(sum(vill.fac_total), 0),
       coalesce(sum(vill.nv_garbage_covered), 0), coalesce(sum(vill.natural_villages), 0),
       total(vill.produced), total(vill.utilized),
       coalesce(sum(vill.scale), 0), coalesce(sum(vill.equipped), 0),
       coalesce(sum(vill.listed), 0), coalesce(sum(vill.remediated), 0), coalesce(sum(vill.relapsed), 0),
       CASE WHEN ?2 IN (6, 9) THEN (SELECT name FROM area a WHERE a.code = substr(r.code, 1, ?2))
            WHEN ?2 = 12 THEN min(r.name) END AS name
FROM roster r LEFT JOIN vill ON vill.village_code = r.code
WHERE r.is_village = 1 AND r.code >= ?3 AND r.code < ?4
GROUP BY area ORDER BY area";

impl Store {
    /// The indicators of every area of `level` (inside the area `within`, a
    /// code prefix, when given) as of `as_of` (YYYY-MM-DD).
    pub fn summary(&self, as_of: &str, level: Level, within: Option<&str>, settings: &Settings) -> Result<Summary> {
        register_functions(&self.conn, settings)?;
        let lo = within.unwrap_or("").to_string();
        let hi = format!("{lo}~");
        let mut st = self.conn.prepare_cached(SUMMARY_SQL)?;
        let mut rows = st.query(params![as_of, level.prefix_len() as i64, lo, hi])?;
        let mut areas = Vec::new();
        let mut total = Figures::default();
        while let Some(r) = rows.next()? {
            let code: String = r.get(0)?;
            let figures = Figures {
                villages: r.get(1)?,
                surveyed: r.get(2)?,
                duplicate_visits: r.get(3)?,
                villages_treated: r.get(4)?,
                villages_controlled: r.get(5)?,
                households_treated: r.get(6)?,
                households: r.get(7)?,
                facilities_normal: r.get(8)?,
                facilities_total: r.get(9)?,
                nv_covered: r.get(10)?,
                natural_villages: r.get(11)?,
                produced_t: r.get(12)?,
                utilized_t: r.get(13)?,
                scale_farms: r.get(14)?,
                scale_farms_equipped: r.get(15)?,
                water_listed: r.get(16)?,
                water_remediated: r.get(17)?,
                water_relapsed: r.get(18)?,
            };
            let name: Option<String> = r.get(19)?;
            total.add(&figures);
            areas.push(AreaRow { level, name: name.unwrap_or_else(|| code.clone()), code, figures });
        }
        let open_conflicts = super::conflict::open_conflicts(&self.conn)?;
        Ok(Summary { as_of: as_of.to_string(), settings: settings.clone(), level, total, areas, open_conflicts })
    }
}
