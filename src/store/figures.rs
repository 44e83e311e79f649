//! The per-visit figures table (`visit_figures` in schema.sql): one row per
//! current visit with what it contributes to the indicators, written and
//! deleted together with the visit's current rows (`revisions::write_current`
//! and `revisions::materialise`, the only writers of the current tables), so
//! that a summary reads only this table and the roster.
//!
//! The figures come from the domain (`indicators::visit_figures`); the
//! village threshold applies when summing, so they depend only on the manure
//! coefficients. Those are recorded with the formula version in meta
//! `figures_settings`; a summary asked for other coefficients first
//! recomputes the table (see [`ensure`]).

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::indicators::{self, FIGURES_VERSION, VisitFigures};
use crate::domain::settings::ManureCoefficients;
use crate::domain::{
    Facility, FacilityKind, FacilityStatus, Farm, Listed, Species, VisitData, WaterBody, WaterKind, WaterStatus,
};

use super::{Phase, Progress, Store, StoreError, Work};

const META_KEY: &str = "figures_settings";

/// The text recorded with the table: formula version and coefficients.
pub fn fingerprint(c: &ManureCoefficients) -> String {
    format!("v{FIGURES_VERSION} {}", serde_json::to_string(c).expect("coefficients serialise"))
}

thread_local! {
    /// The coefficients of the last fingerprint read, so that a write parses
    /// the meta value only when it changed.
    static COEFFICIENTS: RefCell<Option<(String, ManureCoefficients)>> = const { RefCell::new(None) };
}

/// The coefficients the table was made with (defaults when not recorded):
/// those a visit's figures written now are computed with, also away from
/// the connection (the streamed import's reading thread, which writes them
/// with [`write_computed`]).
pub(crate) fn table_coefficients(conn: &Connection) -> Result<ManureCoefficients> {
    let stored: Option<String> =
        conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([META_KEY], |r| r.get(0)).optional()?;
    let Some(stored) = stored else { return Ok(ManureCoefficients::default()) };
    COEFFICIENTS.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((text, c)) = cell.as_ref()
            && *text == stored
        {
            return Ok(c.clone());
        }
        let json = stored.split_once(' ').map(|(_, j)| j).unwrap_or("");
        // A fingerprint of another formula version or unreadable: the
        // defaults; `ensure` recomputes the table before it is summed.
        let c: ManureCoefficients = serde_json::from_str(json).unwrap_or_default();
        *cell = Some((stored, c.clone()));
        Ok(c)
    })
}

/// The statement that inserts a figures row into `$table`, its values
/// bound by [`insert_into`] (text made once, not for each row).
macro_rules! insert_sql {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (village_code, survey_date, visit_id, households, households_treated,
               hh_controlled, natural_villages, nv_covered, facilities_normal, facilities_total, produced_t,
               utilized_t, scale_farms, scale_farms_equipped, water_listed, water_remediated, water_relapsed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        )
    };
}

fn insert(conn: &Connection, visit_id: &str, v: &VisitData, f: &VisitFigures) -> Result<()> {
    insert_into(conn, insert_sql!("main.visit_figures"), visit_id, v, f)
}

fn insert_into(conn: &Connection, sql: &str, visit_id: &str, v: &VisitData, f: &VisitFigures) -> Result<()> {
    conn.prepare_cached(sql)?.execute(params![
        v.village_code,
        v.survey_date,
        visit_id,
        f.households,
        f.households_treated,
        f.hh_controlled,
        f.natural_villages,
        f.nv_covered,
        f.facilities_normal,
        f.facilities_total,
        f.produced_t,
        f.utilized_t,
        f.scale_farms,
        f.scale_farms_equipped,
        f.water_listed,
        f.water_remediated,
        f.water_relapsed
    ])?;
    Ok(())
}

thread_local! {
    /// Set while a bulk import defers its figures rows (see [`Deferred`]).
    static DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Writes the figures of a visit whose current rows are being written.
pub(crate) fn write(conn: &Connection, visit_id: &str, v: &VisitData) -> Result<()> {
    let c = table_coefficients(conn)?;
    write_computed(conn, visit_id, v, &indicators::visit_figures(v, &c))
}

/// Writes figures computed with [`table_coefficients`] for a visit whose current rows are being written.
pub(crate) fn write_computed(conn: &Connection, visit_id: &str, v: &VisitData, f: &VisitFigures) -> Result<()> {
    if DEFERRED.get() {
        return insert_into(conn, insert_sql!("temp.s_figures"), visit_id, v, f);
    }
    insert(conn, visit_id, v, f)
}

/// A bulk write (bundle import) in visit_id order: the figures rows, keyed
/// by village, would land all over their table, so they are appended to a
/// temporary table and put into `visit_figures` in key order, sorted once,
/// by [`Deferred::finish`] before the transaction commits. Only for work
/// that writes each visit at most once (a deferred row cannot be deleted).
pub(crate) struct Deferred<'a> {
    conn: &'a Connection,
}

impl<'a> Deferred<'a> {
    pub(crate) fn begin(conn: &'a Connection) -> Result<Deferred<'a>> {
        conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS s_figures AS SELECT * FROM main.visit_figures WHERE 0;
             DELETE FROM temp.s_figures;",
        )?;
        DEFERRED.set(true);
        Ok(Deferred { conn })
    }

    pub(crate) fn finish(self) -> Result<()> {
        DEFERRED.set(false);
        self.conn.execute_batch(
            "INSERT INTO main.visit_figures SELECT * FROM temp.s_figures ORDER BY village_code, survey_date, visit_id;
             DELETE FROM temp.s_figures;",
        )?;
        Ok(())
    }
}

impl Drop for Deferred<'_> {
    fn drop(&mut self) {
        DEFERRED.set(false);
    }
}

/// Deletes the figures of a visit; call before its `visit` row goes.
pub(crate) fn delete(conn: &Connection, visit_id: &str) -> Result<()> {
    let key: Option<(String, String)> = conn
        .prepare_cached("SELECT village_code, survey_date FROM visit WHERE visit_id = ?1")?
        .query_row([visit_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((code, date)) = key {
        conn.prepare_cached(
            "DELETE FROM visit_figures WHERE village_code = ?1 AND survey_date = ?2 AND visit_id = ?3",
        )?
        .execute(params![code, date, visit_id])?;
    }
    Ok(())
}

/// Reads every current visit back from the current tables, in visit_id
/// order, and hands it to `each` (one pass over each table).
pub fn each_current_visit(conn: &Connection, mut each: impl FnMut(&str, &VisitData) -> Result<()>) -> Result<()> {
    let mut visits = conn.prepare(
        "SELECT visit_id, village_code, survey_date, surveyor, households, hh_sewer, hh_reuse, hh_controlled,
                natural_villages, nv_garbage_covered, notes FROM visit ORDER BY visit_id",
    )?;
    let mut fac = conn.prepare(
        "SELECT visit_id, facility_id, kind, households_served, status, capacity_m3_d FROM facility
         ORDER BY visit_id, facility_id",
    )?;
    let mut farm = conn.prepare(
        "SELECT visit_id, farm_id, name, species, head_on_hand, annual_out, manure_t, utilized_pct, facility_equipped
         FROM farm ORDER BY visit_id, farm_id",
    )?;
    let mut water = conn.prepare(
        "SELECT visit_id, water_id, name, kind, area_m2, length_m, depth_cm, transparency_cm, do_mg_l, nh3n_mg_l,
                listed, status FROM water_body ORDER BY visit_id, water_id",
    )?;
    let mut facs = fac.query([])?;
    let mut farms = farm.query([])?;
    let mut waters = water.query([])?;
    let mut next_fac = read_next(&mut facs, read_facility)?;
    let mut next_farm = read_next(&mut farms, read_farm)?;
    let mut next_water = read_next(&mut waters, read_water)?;
    let mut rows = visits.query([])?;
    while let Some(r) = rows.next()? {
        let visit_id: String = r.get(0)?;
        let mut v = read_visit(r)?;
        take_run(&mut facs, &mut next_fac, read_facility, &visit_id, &mut v.facilities)?;
        take_run(&mut farms, &mut next_farm, read_farm, &visit_id, &mut v.farms)?;
        take_run(&mut waters, &mut next_water, read_water, &visit_id, &mut v.water_bodies)?;
        each(&visit_id, &v)?;
    }
    Ok(())
}

type ReadRow<T> = fn(&rusqlite::Row) -> std::result::Result<T, String>;

/// The next child row of a cursor: (visit_id, row).
fn read_next<T>(rows: &mut rusqlite::Rows, read: ReadRow<T>) -> Result<Option<(String, T)>> {
    let Some(r) = rows.next()? else { return Ok(None) };
    let id: String = r.get(0)?;
    let x = read(r).map_err(|value| StoreError::CorruptCurrent { visit_id: id.clone(), value })?;
    Ok(Some((id, x)))
}

/// Moves the child rows of `visit_id` (child rows of no visit before it are
/// skipped) from the cursor into `out`.
fn take_run<T>(
    rows: &mut rusqlite::Rows,
    next: &mut Option<(String, T)>,
    read: ReadRow<T>,
    visit_id: &str,
    out: &mut Vec<T>,
) -> Result<()> {
    while let Some((id, _)) = next.as_ref() {
        if id.as_str() > visit_id {
            break;
        }
        let (id, x) = next.take().expect("peeked");
        if id == visit_id {
            out.push(x);
        }
        *next = read_next(rows, read)?;
    }
    Ok(())
}

fn text_enum<T>(r: &rusqlite::Row, i: usize, parse: fn(&str) -> Option<T>) -> std::result::Result<T, String> {
    let s: String = r.get(i).map_err(|e| e.to_string())?;
    parse(&s).ok_or(s)
}

/// A visit's own figures (no child rows) from a row of the visit table read
/// as `…, village_code, survey_date, surveyor, households, hh_sewer,
/// hh_reuse, hh_controlled, natural_villages, nv_garbage_covered, notes`
/// in columns 1 to 10 (column 0 is the caller's: visit or revision id).
pub(crate) fn read_visit(r: &rusqlite::Row) -> rusqlite::Result<VisitData> {
    Ok(VisitData {
        village_code: r.get(1)?,
        survey_date: r.get(2)?,
        surveyor: r.get(3)?,
        households: r.get(4)?,
        hh_sewer: r.get(5)?,
        hh_reuse: r.get(6)?,
        hh_controlled: r.get(7)?,
        natural_villages: r.get(8)?,
        nv_garbage_covered: r.get(9)?,
        notes: r.get(10)?,
        facilities: vec![],
        farms: vec![],
        water_bodies: vec![],
    })
}

pub(crate) fn read_facility(r: &rusqlite::Row) -> std::result::Result<Facility, String> {
    let e = |e: rusqlite::Error| e.to_string();
    Ok(Facility {
        facility_id: r.get(1).map_err(e)?,
        kind: text_enum(r, 2, FacilityKind::parse)?,
        households_served: r.get(3).map_err(e)?,
        status: text_enum(r, 4, FacilityStatus::parse)?,
        capacity_m3_d: r.get(5).map_err(e)?,
    })
}

pub(crate) fn read_farm(r: &rusqlite::Row) -> std::result::Result<Farm, String> {
    let e = |e: rusqlite::Error| e.to_string();
    Ok(Farm {
        farm_id: r.get(1).map_err(e)?,
        name: r.get(2).map_err(e)?,
        species: text_enum(r, 3, Species::parse)?,
        head_on_hand: r.get(4).map_err(e)?,
        annual_out: r.get(5).map_err(e)?,
        manure_t: r.get(6).map_err(e)?,
        utilized_pct: r.get(7).map_err(e)?,
        facility_equipped: r.get(8).map_err(e)?,
    })
}

pub(crate) fn read_water(r: &rusqlite::Row) -> std::result::Result<WaterBody, String> {
    let e = |e: rusqlite::Error| e.to_string();
    Ok(WaterBody {
        water_id: r.get(1).map_err(e)?,
        name: r.get(2).map_err(e)?,
        kind: text_enum(r, 3, WaterKind::parse)?,
        area_m2: r.get(4).map_err(e)?,
        length_m: r.get(5).map_err(e)?,
        depth_cm: r.get(6).map_err(e)?,
        transparency_cm: r.get(7).map_err(e)?,
        do_mg_l: r.get(8).map_err(e)?,
        nh3n_mg_l: r.get(9).map_err(e)?,
        listed: text_enum(r, 10, Listed::parse)?,
        status: text_enum(r, 11, WaterStatus::parse)?,
    })
}

/// Every current visit's figures computed afresh from the current tables
/// with these coefficients, by visit id.
fn recomputed(conn: &Connection, c: &ManureCoefficients) -> Result<HashMap<String, VisitFigures>> {
    let mut out = HashMap::new();
    each_current_visit(conn, |id, v| {
        out.insert(id.to_string(), indicators::visit_figures(v, c));
        Ok(())
    })?;
    Ok(out)
}

/// The figures table as stored, by visit id.
fn stored(conn: &Connection) -> Result<HashMap<String, VisitFigures>> {
    let mut st = conn.prepare(
        "SELECT visit_id, households, households_treated, hh_controlled, natural_villages, nv_covered,
                facilities_normal, facilities_total, produced_t, utilized_t, scale_farms, scale_farms_equipped,
                water_listed, water_remediated, water_relapsed FROM visit_figures",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            VisitFigures {
                households: r.get(1)?,
                households_treated: r.get(2)?,
                hh_controlled: r.get(3)?,
                natural_villages: r.get(4)?,
                nv_covered: r.get(5)?,
                facilities_normal: r.get(6)?,
                facilities_total: r.get(7)?,
                produced_t: r.get(8)?,
                utilized_t: r.get(9)?,
                scale_farms: r.get(10)?,
                scale_farms_equipped: r.get(11)?,
                water_listed: r.get(12)?,
                water_remediated: r.get(13)?,
                water_relapsed: r.get(14)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Rebuilds the whole table from the current tables with these
/// coefficients and records them, inside the caller's transaction.
pub(crate) fn rebuild(conn: &Connection, c: &ManureCoefficients, progress: &dyn Progress) -> Result<()> {
    let total: i64 = conn.query_row("SELECT count(*) FROM visit", [], |r| r.get(0))?;
    let bar = Phase::new(progress, Work::Figures, total as u64);
    conn.execute_batch("DELETE FROM visit_figures")?;
    each_current_visit(conn, |id, v| {
        insert(conn, id, v, &indicators::visit_figures(v, c))?;
        bar.step();
        Ok(())
    })?;
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([META_KEY, &fingerprint(c)])?;
    Ok(())
}

/// Makes sure the table holds figures made with these coefficients and the
/// current formulas, recomputing it (in its own transaction) when not.
pub(crate) fn ensure(conn: &Connection, c: &ManureCoefficients, progress: &dyn Progress) -> Result<()> {
    let stored: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| r.get(0)).optional()?;
    if stored.as_deref() == Some(fingerprint(c).as_str()) {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have done it meanwhile.
    let stored: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| r.get(0)).optional()?;
    if stored.as_deref() != Some(fingerprint(c).as_str()) {
        rebuild(&tx, c, progress)?;
    }
    tx.commit()?;
    Ok(())
}

/// A visit whose row of the figures table is not what its current rows give.
#[derive(Debug, Clone, PartialEq)]
pub struct FiguresMismatch {
    pub visit_id: String,
    /// The row stored (`None`: no row).
    pub stored: Option<VisitFigures>,
    /// The figures computed afresh (`None`: no current visit).
    pub recomputed: Option<VisitFigures>,
}

impl Store {
    /// Every visit whose row of the figures table differs from its figures
    /// computed afresh from the current tables with the coefficients the
    /// table records, in visit id order; empty when the table is right.
    pub fn figures_mismatches(&self) -> Result<Vec<FiguresMismatch>> {
        let c = table_coefficients(&self.conn)?;
        let mut stored = stored(&self.conn)?;
        let fresh = recomputed(&self.conn, &c)?;
        let mut out: Vec<FiguresMismatch> = Vec::new();
        for (id, f) in fresh {
            let s = stored.remove(&id);
            if s.as_ref() != Some(&f) {
                out.push(FiguresMismatch { visit_id: id, stored: s, recomputed: Some(f) });
            }
        }
        out.extend(stored.into_iter().map(|(id, s)| FiguresMismatch {
            visit_id: id,
            stored: Some(s),
            recomputed: None,
        }));
        out.sort_by(|a, b| a.visit_id.cmp(&b.visit_id));
        Ok(out)
    }
}
