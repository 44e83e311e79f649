//! Revision payloads kept once (schema version 5).
//!
//! The payload of the revision the current tables were made from is the
//! same visit as those rows: stored twice, it took more room than the whole
//! current state (765 bytes of JSON per visit, half the database). So that
//! revision keeps an empty payload (`''`, never a valid payload of a visit
//! that is not deleted) and its content is read back from the current rows
//! when needed. The rule, in one place:
//!
//! - a revision that is not deleted with payload `''` is the one named by
//!   its visit's `visit.rev_id`, and the current rows are its content;
//! - the payload is written back ([`restore`]) before the current rows of
//!   a visit are replaced or removed (`revisions::materialise`);
//! - a payload is only left out when the visit reads back from the current
//!   tables exactly as it was hashed ([`round_trips`]);
//! - readers get revisions with their payload filled in ([`fill`]); a file
//!   from elsewhere has its payloads filled in its staging copy before any
//!   check reads them ([`fill_all`]), and a snapshot carries every payload
//!   in full.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::figures::{read_facility, read_farm, read_water};
use super::revisions::Revision;
use crate::domain::VisitData;

/// Whether a visit reads back from the current tables exactly as it is:
/// every value but a negative zero (stored as 0, read back as +0.0) does.
pub(crate) fn round_trips(v: &VisitData) -> bool {
    let neg_zero = |x: Option<f64>| x.is_some_and(|x| x == 0.0 && x.is_sign_negative());
    !(v.facilities.iter().any(|f| neg_zero(f.capacity_m3_d))
        || v.farms.iter().any(|f| neg_zero(f.manure_t) || neg_zero(Some(f.utilized_pct)))
        || v.water_bodies.iter().any(|w| {
            [w.area_m2, w.length_m, w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l].into_iter().any(neg_zero)
        }))
}

/// The current revision id and data of a visit, from the current tables.
pub(crate) fn current(conn: &Connection, visit_id: &str) -> Result<Option<(String, VisitData)>> {
    let row = conn
        .prepare_cached(
            "SELECT rev_id, village_code, survey_date, surveyor, households, hh_sewer, hh_reuse, hh_controlled,
                    natural_villages, nv_garbage_covered, notes FROM visit WHERE visit_id = ?1",
        )?
        .query_row([visit_id], |r| Ok((r.get::<_, String>(0)?, super::figures::read_visit(r)?)))
        .optional()?;
    let Some((rev_id, mut v)) = row else { return Ok(None) };
    let corrupt = |value: String| StoreError::CorruptCurrent { visit_id: visit_id.to_string(), value };
    let mut st = conn.prepare_cached(
        "SELECT visit_id, facility_id, kind, households_served, status, capacity_m3_d FROM facility
         WHERE visit_id = ?1 ORDER BY facility_id",
    )?;
    let mut rows = st.query([visit_id])?;
    while let Some(r) = rows.next()? {
        v.facilities.push(read_facility(r).map_err(corrupt)?);
    }
    let mut st = conn.prepare_cached(
        "SELECT visit_id, farm_id, name, species, head_on_hand, annual_out, manure_t, utilized_pct, facility_equipped
         FROM farm WHERE visit_id = ?1 ORDER BY farm_id",
    )?;
    let mut rows = st.query([visit_id])?;
    while let Some(r) = rows.next()? {
        v.farms.push(read_farm(r).map_err(corrupt)?);
    }
    let mut st = conn.prepare_cached(
        "SELECT visit_id, water_id, name, kind, area_m2, length_m, depth_cm, transparency_cm, do_mg_l, nh3n_mg_l,
                listed, status FROM water_body WHERE visit_id = ?1 ORDER BY water_id",
    )?;
    let mut rows = st.query([visit_id])?;
    while let Some(r) = rows.next()? {
        v.water_bodies.push(read_water(r).map_err(corrupt)?);
    }
    Ok(Some((rev_id, v)))
}

/// Whether a stored revision's payload was left out (see the module).
pub(crate) fn is_elided(r: &Revision) -> bool {
    !r.deleted && r.payload.is_empty()
}

/// Fills in the payload of a revision read with it left out, from the
/// current rows of its visit.
pub(crate) fn fill(conn: &Connection, r: &mut Revision) -> Result<()> {
    if !is_elided(r) {
        return Ok(());
    }
    match current(conn, &r.visit_id)? {
        Some((rev, data)) if rev == r.rev_id => {
            r.payload = data.canonical_json();
            Ok(())
        }
        _ => Err(StoreError::CorruptPayload {
            rev_id: r.rev_id.clone(),
            visit_id: r.visit_id.clone(),
            detail: "empty payload, and not the visit's current revision".into(),
        }
        .into()),
    }
}

/// Leaves out the payload of the revision the current rows of a visit were
/// just written from (inside the caller's transaction).
pub(crate) fn elide(conn: &Connection, rev_id: &str, v: &VisitData) -> Result<()> {
    if round_trips(v) {
        conn.prepare_cached("UPDATE revision SET payload = '' WHERE rev_id = ?1 AND NOT deleted AND payload <> ''")?
            .execute([rev_id])?;
    }
    Ok(())
}

/// Writes back the payload of a visit's current revision from its current
/// rows, before they are replaced or removed.
pub(crate) fn restore(conn: &Connection, visit_id: &str) -> Result<()> {
    let elided: Option<String> = conn
        .prepare_cached(
            "SELECT r.rev_id FROM visit v JOIN revision r ON r.rev_id = v.rev_id
             WHERE v.visit_id = ?1 AND r.payload = '' AND NOT r.deleted",
        )?
        .query_row([visit_id], |r| r.get(0))
        .optional()?;
    if elided.is_none() {
        return Ok(());
    }
    if let Some((rev_id, data)) = current(conn, visit_id)? {
        conn.prepare_cached("UPDATE revision SET payload = ?2 WHERE rev_id = ?1")?
            .execute(params![rev_id, data.canonical_json()])?;
    }
    Ok(())
}

/// Writes back every payload left out (before the current tables are
/// thrown away, and in a copy leaving this database: the staging copy of a
/// file to merge, a snapshot). A payload that cannot be made is left empty:
/// reading it then fails as an unreadable payload.
pub(crate) fn fill_all(conn: &Connection) -> Result<()> {
    let elided: Vec<(String, String)> = {
        let mut st = conn.prepare("SELECT rev_id, visit_id FROM revision WHERE payload = '' AND NOT deleted")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
    };
    if elided.is_empty() {
        return Ok(());
    }
    // One transaction (a savepoint nests in the caller's, if any).
    conn.execute_batch("SAVEPOINT fill_all")?;
    let filled = (|| -> Result<()> {
        let mut put = conn.prepare("UPDATE revision SET payload = ?2 WHERE rev_id = ?1")?;
        for (rev_id, visit_id) in elided {
            if let Ok(Some((rev, data))) = current(conn, &visit_id)
                && rev == rev_id
            {
                put.execute(params![rev_id, data.canonical_json()])?;
            }
        }
        Ok(())
    })();
    match filled {
        Ok(()) => conn.execute_batch("RELEASE fill_all")?,
        Err(_) => conn.execute_batch("ROLLBACK TO fill_all; RELEASE fill_all")?,
    }
    filled
}

/// Leaves out the payload of every current revision that reads back
/// exactly from the current rows (the upgrade to schema version 5), in one
/// pass over the current tables.
pub(crate) fn elide_all(conn: &Connection) -> Result<()> {
    let mut stored = conn.prepare(
        "SELECT v.visit_id, v.rev_id, r.payload FROM visit v JOIN revision r ON r.rev_id = v.rev_id
         WHERE NOT r.deleted AND r.payload <> '' ORDER BY v.visit_id",
    )?;
    let mut stored = stored.query([])?;
    type Row = (String, String, String);
    let read = |r: &rusqlite::Row| -> rusqlite::Result<Row> { Ok((r.get(0)?, r.get(1)?, r.get(2)?)) };
    let mut next: Option<Row> = stored.next()?.map(read).transpose()?;
    let mut same: Vec<String> = Vec::new();
    super::figures::each_current_visit(conn, |visit_id, v| {
        while next.as_ref().is_some_and(|(id, _, _)| id.as_str() < visit_id) {
            next = stored.next()?.map(read).transpose()?;
        }
        if let Some((id, rev, payload)) = next.as_ref()
            && id == visit_id
            && round_trips(v)
            && v.canonical_json() == *payload
        {
            same.push(rev.clone());
        }
        Ok(())
    })?;
    drop(stored);
    let mut put = conn.prepare("UPDATE revision SET payload = '' WHERE rev_id = ?1")?;
    for rev in same {
        put.execute([rev])?;
    }
    Ok(())
}
