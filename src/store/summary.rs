//! Indicator aggregation in SQL (SPEC §3, §4). The per-row formulas are the
//! domain's own functions, registered as SQL functions, so SQL only sums.

use anyhow::Result;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};

use super::Store;
use crate::domain::indicators::{self, Figures, WaterOutcome};
use crate::domain::settings::Settings;
use crate::domain::{FacilityStatus, Level, Listed, Species, WaterStatus};

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

/// Why these sums cannot overflow or lose a unit: every count is bounded by
/// the domain (`validate::MAX_*`: households ≤ 10^5 per village, natural
/// villages ≤ 10^3, one village is one count of each other figure per child
/// row), and China has about 6 × 10^5 administrative villages, so the largest
/// national sum (households) is ≤ 10^5 × 6 × 10^5 = 6 × 10^10, exact in an
/// f64 (< 2^53 ≈ 9 × 10^15) and far below 2^63 for SQL's integer SUM. Manure
/// tonnes are ≤ 10^7 per farm: sums stay finite.
///
/// An SQL aggregate that sums `N` figures computed from each row by `row`,
/// so that one look-up of a visit's child rows yields all their figures
/// (read back with `rs_real(x, i)` / `rs_int(x, i)`). No rows: NULL.
struct Sums<const N: usize, F>(F);

impl<const N: usize, F> Aggregate<[f64; N], Option<Vec<u8>>> for Sums<N, F>
where
    F: Fn(&Context<'_>) -> rusqlite::Result<[f64; N]> + Send + 'static,
{
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<[f64; N]> {
        Ok([0.0; N])
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut [f64; N]) -> rusqlite::Result<()> {
        for (a, v) in acc.iter_mut().zip((self.0)(ctx)?) {
            *a += v;
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<[f64; N]>) -> rusqlite::Result<Option<Vec<u8>>> {
        Ok(acc.map(|a| a.iter().flat_map(|v| v.to_le_bytes()).collect()))
    }
}

/// The figures `rs_village` gives a village (`Figures` from `surveyed` on).
pub(super) const VILLAGE_FIGURES: usize = 17;

/// Part `k` of a [`Sums`] value; 0 for NULL (no child rows).
pub(super) fn blob_part(v: ValueRef<'_>, k: usize) -> rusqlite::Result<f64> {
    let b = match v {
        ValueRef::Blob(b) => b,
        _ => return Ok(0.0),
    };
    let bytes = b.get(k * 8..k * 8 + 8).ok_or_else(|| rusqlite::Error::UserFunctionError("no such part".into()))?;
    Ok(f64::from_le_bytes(bytes.try_into().expect("8 bytes")))
}

/// `rs_real(x, k)`: part `k` of a [`Sums`] value.
fn part(ctx: &Context<'_>) -> rusqlite::Result<f64> {
    let k: i64 = ctx.get(1)?;
    blob_part(ctx.get_raw(0), k as usize)
}

/// Registers the domain formulas as SQL functions with these settings.
pub(super) fn register_functions(conn: &Connection, settings: &Settings) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    fn text<'a>(ctx: &'a Context<'_>, i: usize) -> rusqlite::Result<&'a str> {
        ctx.get_raw(i).as_str().map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
    }
    // Facilities of a visit: (normal, total, households served by normal ones).
    conn.create_aggregate_function(
        "rs_facilities",
        2,
        flags,
        Sums(|ctx: &Context<'_>| {
            let status = FacilityStatus::parse(text(ctx, 0)?);
            let normal = status == Some(FacilityStatus::Normal);
            Ok([normal as i64 as f64, 1.0, indicators::normal_served(status, ctx.get(1)?) as f64])
        }),
    )?;
    // Farms of a visit: (produced t, utilized t, scale farms, scale farms equipped).
    let c = settings.manure.clone();
    conn.create_aggregate_function(
        "rs_farms",
        6,
        flags,
        Sums(move |ctx: &Context<'_>| {
            let species = Species::parse(text(ctx, 0)?).unwrap_or(Species::Other);
            let (head, out): (i64, i64) = (ctx.get(1)?, ctx.get(2)?);
            let produced = indicators::manure_produced_t(species, head, out, ctx.get(3)?, &c);
            let scale = indicators::is_scale_farm(species, head, out, &c);
            let equipped: bool = ctx.get(5)?;
            Ok([
                produced,
                indicators::manure_utilized_t(produced, ctx.get(4)?),
                scale as i64 as f64,
                (scale && equipped) as i64 as f64,
            ])
        }),
    )?;
    // Water bodies of a visit: (listed, remediated, relapsed).
    conn.create_aggregate_function(
        "rs_waters",
        6,
        flags,
        Sums(|ctx: &Context<'_>| {
            let listed = Listed::parse(text(ctx, 0)?).unwrap_or(Listed::None);
            let status = WaterStatus::parse(text(ctx, 1)?).unwrap_or(WaterStatus::Identified);
            let meets = indicators::meets_black_odor(ctx.get(2)?, ctx.get(3)?, ctx.get(4)?, ctx.get(5)?);
            Ok(match indicators::water_outcome(listed, status, meets) {
                WaterOutcome::NotListed => [0.0, 0.0, 0.0],
                WaterOutcome::Open => [1.0, 0.0, 0.0],
                WaterOutcome::Remediated => [1.0, 1.0, 0.0],
                WaterOutcome::Relapsed => [1.0, 0.0, 1.0],
            })
        }),
    )?;
    // One village's figures from its counting visit and the sums of its
    // child rows, in the order of `Figures` from `surveyed` on (see
    // `VILLAGE_FIGURES`); `rs_add` sums them per area.
    let threshold = settings.village_threshold;
    conn.create_scalar_function("rs_village", 10, flags, move |ctx| {
        let int = |i: usize| -> rusqlite::Result<i64> { ctx.get(i) };
        let (households, controlled) = (int(1)?, int(4)?);
        let at = |i: usize, k: usize| -> rusqlite::Result<f64> { blob_part(ctx.get_raw(i), k) };
        let treated = indicators::treated_households(int(2)?, int(3)?, at(7, 2)? as i64);
        let f = [
            1.0,
            int(0)? as f64,
            indicators::village_reaches(treated, households, threshold) as i64 as f64,
            indicators::village_reaches(treated.saturating_add(controlled), households, threshold) as i64 as f64,
            treated as f64,
            households as f64,
            at(7, 0)?,
            at(7, 1)?,
            int(6)? as f64,
            int(5)? as f64,
            at(8, 0)?,
            at(8, 1)?,
            at(8, 2)?,
            at(8, 3)?,
            at(9, 0)?,
            at(9, 1)?,
            at(9, 2)?,
        ];
        Ok(f.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())
    })?;
    conn.create_aggregate_function(
        "rs_add",
        1,
        flags,
        Sums(|ctx: &Context<'_>| {
            let mut f = [0.0; VILLAGE_FIGURES];
            for (k, v) in f.iter_mut().enumerate() {
                *v = blob_part(ctx.get_raw(0), k)?;
            }
            Ok(f)
        }),
    )?;
    conn.create_scalar_function("rs_real", 2, flags, |ctx| part(ctx))?;
    // An integer in the order of a text's first 8 bytes (ties are harmless:
    // it only orders look-ups).
    conn.create_scalar_function("rs_key", 1, flags, |ctx| {
        let mut b = [0u8; 8];
        let t = ctx.get_raw(0).as_bytes().unwrap_or(&[]);
        let n = t.len().min(8);
        b[..n].copy_from_slice(&t[..n]);
        Ok((u64::from_be_bytes(b) >> 1) as i64)
    })?;
    conn.create_scalar_function("rs_int", 2, flags, |ctx| Ok(part(ctx)? as i64))?;
    Ok(())
}

/// ?1 as-of date, ?2 prefix length of the level, ?3/?4 the code range of the
/// area to look inside.
///
/// Built for a national database (600k villages) in a few hundred MB:
/// - `cv`: the counting visit of each village from one pass over the
///   covering index `visit_counting`, in code order (no table look-ups): the
///   row of the greatest (date, id) up to the as-of date (SQLite takes the
///   bare columns from the row of the `max()`; dates are all 10 characters);
///   `dup` when another visit has that date. Then put in `visit_id` order
///   (an integer key, cheap to sort), so that the look-ups of child rows
///   below walk the child tables (keyed by visit_id) front to back; in code
///   order they jump around the files and take ten times as long.
/// - `vill`: one look-up per child table and counting visit (the `rs_*`
///   aggregates return all figures of a visit's child rows at once), and
///   `rs_village` turns them and the visit into the village's figures, one
///   value; materialised so the look-ups happen in that order, not after
///   the sort by area.
/// - `va`: `rs_add` sums the villages' figures per area.
/// - the roster's villages are counted per area apart and joined to the
///   per-area sums, which keeps unsurveyed villages in the denominators.
///
/// This took the national county summary from 45 s to about 2 s of CPU on
/// the development machine (bench/summary.sh).
pub const SUMMARY_SQL: &str = "
WITH cv AS (
  SELECT g.*,
         (SELECT count(*) FROM visit x WHERE x.village_code = g.village_code AND x.survey_date = g.survey_date) > 1
           AS dup
  FROM (
    SELECT v.village_code, max(v.survey_date || v.visit_id) AS counting, v.visit_id, v.survey_date,
           v.households, v.hh_sewer, v.hh_reuse, v.hh_controlled, v.natural_villages, v.nv_garbage_covered
    FROM visit v
    WHERE v.survey_date <= ?1 AND v.village_code >= ?3 AND v.village_code < ?4
    GROUP BY v.village_code) g
  WHERE EXISTS (SELECT 1 FROM roster r WHERE r.code = g.village_code AND r.is_village = 1)
  ORDER BY rs_key(g.visit_id)),
vill AS MATERIALIZED (
  SELECT substr(cv.village_code, 1, ?2) AS area, cv.survey_date,
         rs_village(cv.dup, cv.households, cv.hh_sewer, cv.hh_reuse, cv.hh_controlled,
           cv.natural_villages, cv.nv_garbage_covered,
           (SELECT rs_facilities(f.status, f.households_served) FROM facility f WHERE f.visit_id = cv.visit_id),
           (SELECT rs_farms(m.species, m.head_on_hand, m.annual_out, m.manure_t, m.utilized_pct, m.facility_equipped)
              FROM farm m WHERE m.visit_id = cv.visit_id),
           (SELECT rs_waters(w.listed, w.status, w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l)
              FROM water_body w WHERE w.visit_id = cv.visit_id)) AS f
  FROM cv),
va AS MATERIALIZED (
  SELECT area, rs_add(f) AS f, max(survey_date) AS last_date FROM vill GROUP BY area),
rv AS (
  SELECT substr(code, 1, ?2) AS area, count(*) AS villages, min(name) AS name
  FROM roster WHERE is_village = 1 AND code >= ?3 AND code < ?4
  GROUP BY area)
SELECT rv.area, rv.villages,
       rs_int(va.f, 0), rs_int(va.f, 1), rs_int(va.f, 2), rs_int(va.f, 3), rs_int(va.f, 4), rs_int(va.f, 5),
       rs_int(va.f, 6), rs_int(va.f, 7), rs_int(va.f, 8), rs_int(va.f, 9), rs_real(va.f, 10), rs_real(va.f, 11),
       rs_int(va.f, 12), rs_int(va.f, 13), rs_int(va.f, 14), rs_int(va.f, 15), rs_int(va.f, 16),
       CASE WHEN ?2 IN (6, 9) THEN (SELECT name FROM area a WHERE a.code = rv.area)
            WHEN ?2 = 12 THEN rv.name END AS name,
       va.last_date
FROM rv LEFT JOIN va ON va.area = rv.area
ORDER BY rv.area";

/// One village's standing as of a date: its figures (at village level
/// `surveyed`, `villages_treated`, `villages_controlled` and
/// `duplicate_visits` are 0 or 1) and the date of its counting visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VillageStatus {
    pub row: AreaRow,
    /// The counting visit's date; `None` for an unsurveyed village.
    pub counting_date: Option<String>,
}

impl Store {
    /// Runs the summary aggregate, calling `each` with every area's row and
    /// the latest counting-visit date among its villages.
    fn aggregate(
        &self,
        as_of: &str,
        level: Level,
        within: Option<&str>,
        settings: &Settings,
        each: impl FnMut(AreaRow, Option<String>) -> Result<()>,
    ) -> Result<()> {
        // The aggregate walks the files in order and its sorters spill as
        // they go: it runs faster and in a fraction of the memory with
        // SQLite's default 2 MB page cache than with the big cache the store
        // keeps for imports (national county summary: 233 MB peak and more
        // CPU with 64 + 32 MB; bench/summary.sh). The store's sizes come back after.
        let get = |p: &str| self.conn.query_row(p, [], |r| r.get::<_, i64>(0));
        let (main_cache, temp_cache) = (get("PRAGMA main.cache_size")?, get("PRAGMA temp.cache_size")?);
        self.conn.execute_batch("PRAGMA main.cache_size = -2000; PRAGMA temp.cache_size = -2000;")?;
        let result = self.aggregate_rows(as_of, level, within, settings, each);
        self.conn
            .execute_batch(&format!("PRAGMA main.cache_size = {main_cache}; PRAGMA temp.cache_size = {temp_cache};"))?;
        result
    }

    fn aggregate_rows(
        &self,
        as_of: &str,
        level: Level,
        within: Option<&str>,
        settings: &Settings,
        mut each: impl FnMut(AreaRow, Option<String>) -> Result<()>,
    ) -> Result<()> {
        register_functions(&self.conn, settings)?;
        let (lo, hi) = super::code_range(within.unwrap_or(""));
        let mut st = self.conn.prepare_cached(SUMMARY_SQL)?;
        let mut rows = st.query(params![as_of, level.prefix_len() as i64, lo, hi])?;
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
            let date: Option<String> = r.get(20)?;
            each(AreaRow { level, name: name.unwrap_or_else(|| code.clone()), code, figures }, date)?;
        }
        Ok(())
    }

    /// The indicators of every area of `level` (inside the area `within`, a
    /// code prefix, when given) as of `as_of` (YYYY-MM-DD).
    pub fn summary(&self, as_of: &str, level: Level, within: Option<&str>, settings: &Settings) -> Result<Summary> {
        let mut areas = Vec::new();
        let mut total = Figures::default();
        self.aggregate(as_of, level, within, settings, |row, _| {
            total.add(&row.figures);
            areas.push(row);
            Ok(())
        })?;
        let open_conflicts = super::conflict::open_conflicts(&self.conn)?;
        Ok(Summary { as_of: as_of.to_string(), settings: settings.clone(), level, total, areas, open_conflicts })
    }

    /// Every administrative village of the roster (inside `within`, a code
    /// prefix, when given) with its status as of `as_of`, sorted by code: the
    /// same aggregate as [`Store::summary`] at village level.
    pub fn village_status(&self, as_of: &str, within: Option<&str>, settings: &Settings) -> Result<Vec<VillageStatus>> {
        let mut out = Vec::new();
        self.each_village_status(as_of, within, settings, |v| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Store::village_status`] a village at a time, for callers that write
    /// them out (a national roster has 600k villages).
    pub fn each_village_status(
        &self,
        as_of: &str,
        within: Option<&str>,
        settings: &Settings,
        mut f: impl FnMut(VillageStatus) -> Result<()>,
    ) -> Result<()> {
        self.aggregate(as_of, Level::Village, within, settings, |row, counting_date| {
            f(VillageStatus { row, counting_date })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_gives_the_page_cache_sizes_back() {
        let store = Store::open_in_memory().unwrap();
        store.conn.execute_batch("PRAGMA main.cache_size = -12345; PRAGMA temp.cache_size = -6789;").unwrap();
        let s = store.summary("2025-12-31", Level::County, None, &Settings::default()).unwrap();
        assert!(s.areas.is_empty());
        let get = |p: &str| store.conn.query_row(p, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(get("PRAGMA main.cache_size"), -12345);
        assert_eq!(get("PRAGMA temp.cache_size"), -6789);
    }
}
