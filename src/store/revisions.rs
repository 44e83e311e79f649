//! The revision graph (DESIGN.md "Storage"): immutable revisions, heads, the
//! deterministic winner, and the current tables materialised from it.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::Store;
use crate::domain::{Facility, Farm, VisitData};

/// A revision as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub rev_id: String,
    pub visit_id: String,
    pub parents: Vec<String>,
    pub payload: String,
    pub deleted: bool,
    pub hlc: String,
    /// The signer's key id (legacy revisions: the old device id; automatic merges: `merge`).
    pub device: String,
    /// The editor: who typed it.
    pub author: String,
    /// The signer's installation name.
    pub crew: String,
    /// ed25519 signature of [`signed_message`] by `device` ('' unsigned).
    pub signature: String,
}

/// Who makes a revision here: the installation's identity and the editor.
#[derive(Clone, Copy)]
pub struct Maker<'a> {
    pub identity: &'a crate::identity::Identity,
    pub editor: &'a str,
}

/// The domain tag of a revision signature.
const REVISION_TAG: &str = "ruralsan revision v1";

/// What a revision's signature covers: its id (so its content) and all its metadata.
pub fn signed_message(rev_id: &str, hlc: &str, device: &str, crew: &str, author: &str) -> Vec<u8> {
    crate::identity::message(REVISION_TAG, &[rev_id, hlc, device, crew, author])
}

impl Revision {
    /// A revision made on this device now: stamped by the clock, named by its
    /// content, signed by this installation.
    pub fn made_here(
        conn: &Connection,
        visit_id: &str,
        parents: Vec<String>,
        payload: String,
        deleted: bool,
        maker: Maker,
    ) -> Result<Revision> {
        let mut r = Revision {
            rev_id: revision_id(visit_id, &parents, &payload, deleted),
            visit_id: visit_id.to_string(),
            parents,
            payload,
            deleted,
            hlc: next_hlc(conn)?,
            device: maker.identity.key_id(),
            author: maker.editor.to_string(),
            crew: maker.identity.crew(),
            signature: String::new(),
        };
        r.sign(maker.identity);
        Ok(r)
    }

    /// Signs the revision's id and metadata as `identity` (who becomes its device and crew).
    pub fn sign(&mut self, identity: &crate::identity::Identity) {
        self.device = identity.key_id();
        self.crew = identity.crew();
        self.signature =
            identity.sign(&signed_message(&self.rev_id, &self.hlc, &self.device, &self.crew, &self.author));
    }

    /// Whether the signature is the device key's signature of the revision's metadata.
    pub fn signature_valid(&self) -> bool {
        crate::identity::verify(
            &self.device,
            &signed_message(&self.rev_id, &self.hlc, &self.device, &self.crew, &self.author),
            &self.signature,
        )
    }
}

/// The content hash that names a revision: identical edits made on two
/// devices get the same id and converge.
pub fn revision_id(visit_id: &str, parents: &[String], payload: &str, deleted: bool) -> String {
    let mut sorted = parents.to_vec();
    sorted.sort();
    let mut h = Sha256::new();
    for part in [visit_id, &sorted.join(","), payload, if deleted { "1" } else { "0" }] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    super::fsutil::hex(&digest[..16])
}

/// Formats a hybrid logical clock stamp so that text order is time order.
pub fn format_hlc(wall_ms: i64, counter: i64) -> String {
    format!("{wall_ms:013}.{counter:05}")
}

/// A stored clock stamp; one that does not read is an error (read as zero,
/// the clock would run behind stamps already issued).
fn parse_hlc(s: &str) -> Result<(i64, i64)> {
    let (w, c) = s.split_once('.').unwrap_or((s, "0"));
    match (w.parse(), c.parse()) {
        (Ok(w), Ok(c)) => Ok((w, c)),
        _ => Err(super::StoreError::CorruptClock { value: s.to_string() }.into()),
    }
}

/// How far ahead of the local wall clock a stamp may be (README "The clock
/// rule"): a merge refuses a file with a stamp further ahead, and the local
/// clock never moves past it.
pub const MAX_AHEAD_MS: i64 = 24 * 60 * 60 * 1000;
/// The largest counter of a stamp (five digits).
const MAX_COUNTER: i64 = 99_999;

/// The stamp that follows `(last wall, last counter)` at wall clock `now`:
/// the wall clock when it is ahead, else the counter plus one, carried into
/// the milliseconds when it would outgrow its five digits.
pub fn following(last: (i64, i64), now: i64) -> (i64, i64) {
    let (lw, lc) = last;
    if now > lw {
        (now, 0)
    } else if lc >= MAX_COUNTER {
        (lw + 1, 0)
    } else {
        (lw, lc + 1)
    }
}

/// The wall-clock milliseconds of a stamp (`None`: not a stamp).
pub fn stamp_ms(s: &str) -> Option<i64> {
    parse_hlc(s).ok().map(|(w, _)| w)
}

/// The clock of a bulk write: the last stamp issued, and whether any was.
pub(crate) struct Clock {
    last: (i64, i64),
    issued: bool,
}

impl Clock {
    /// Issues the next stamp: never behind the wall clock, never behind the last one issued.
    pub(crate) fn next(&mut self) -> String {
        self.last = following(self.last, chrono::Utc::now().timestamp_millis());
        self.issued = true;
        format_hlc(self.last.0, self.last.1)
    }
}

thread_local! {
    /// The clock of the [`StampBatch`] open on this thread.
    static BATCH: std::cell::RefCell<Option<Clock>> = const { std::cell::RefCell::new(None) };
}

/// Issues the next clock stamp: never behind the wall clock, never behind
/// any stamp this database has seen.
pub fn next_hlc(conn: &Connection) -> Result<String> {
    if let Some(stamp) = BATCH.with_borrow_mut(|b| b.as_mut().map(Clock::next)) {
        return Ok(stamp);
    }
    let now = chrono::Utc::now().timestamp_millis();
    let last: Option<String> =
        conn.prepare_cached("SELECT value FROM meta WHERE key = 'hlc'")?.query_row([], |r| r.get(0)).optional()?;
    let (w, c) = following(last.as_deref().map(parse_hlc).transpose()?.unwrap_or((0, 0)), now);
    let stamp = format_hlc(w, c);
    set_hlc(conn, &stamp)?;
    Ok(stamp)
}

/// Stamps for a bulk write inside one write transaction (bundle import):
/// issued from memory and recorded once by [`StampBatch::finish`] rather
/// than read and written back for every revision. No other writer can run
/// meanwhile, so the stamps are the same as one at a time.
pub(crate) struct StampBatch<'a> {
    conn: &'a Connection,
}

impl<'a> StampBatch<'a> {
    pub(crate) fn begin(conn: &'a Connection) -> Result<StampBatch<'a>> {
        let last: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'hlc'", [], |r| r.get(0)).optional()?;
        let last = last.as_deref().map(parse_hlc).transpose()?.unwrap_or((0, 0));
        BATCH.set(Some(Clock { last, issued: false }));
        Ok(StampBatch { conn })
    }

    pub(crate) fn finish(self) -> Result<()> {
        if let Some(Clock { last: (w, c), issued: true }) = BATCH.take() {
            set_hlc(self.conn, &format_hlc(w, c))?;
        }
        Ok(())
    }
}

/// Lends the clock of the batch open on this thread to another thread
/// (the streamed import's reading thread), which issues the stamps with
/// [`Clock::next`] until it is given back with [`return_clock`]; `None`
/// when no batch is open.
pub(crate) fn lend_clock() -> Option<Clock> {
    BATCH.take()
}

/// Gives a lent clock back to the batch open on this thread.
pub(crate) fn return_clock(clock: Clock) {
    BATCH.set(Some(clock));
}

impl Drop for StampBatch<'_> {
    fn drop(&mut self) {
        BATCH.set(None);
    }
}

/// Moves the clock forward to a stamp seen elsewhere (on merge), never past
/// the local wall clock plus [`MAX_AHEAD_MS`].
pub fn observe_hlc(conn: &Connection, stamp: &str) -> Result<()> {
    let bound = format_hlc(chrono::Utc::now().timestamp_millis() + MAX_AHEAD_MS, 0);
    set_hlc(conn, stamp.min(bound.as_str()))
}

fn set_hlc(conn: &Connection, stamp: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('hlc', ?1)
         ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
    )?
    .execute([stamp])?;
    Ok(())
}

/// Inserts a revision and its parent edges; false when it was already there.
pub fn insert_revision(conn: &Connection, r: &Revision) -> Result<bool> {
    let parents = serde_json::to_string(&r.parents)?;
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO revision (rev_id, visit_id, parents, payload, deleted, hlc, device, author, crew,
                                             signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            r.rev_id,
            r.visit_id,
            parents,
            r.payload,
            r.deleted,
            r.hlc,
            r.device,
            r.author,
            r.crew,
            r.signature
        ])?;
    if n == 0 {
        return Ok(false);
    }
    let mut edge = conn.prepare_cached("INSERT OR IGNORE INTO revision_parent (parent_id, rev_id) VALUES (?1, ?2)")?;
    for p in &r.parents {
        edge.execute(params![p, r.rev_id])?;
    }
    Ok(true)
}

/// The heads of a visit, winner first (highest clock stamp, then revision id).
pub fn heads(conn: &Connection, visit_id: &str) -> Result<Vec<Revision>> {
    let mut st = conn.prepare_cached(
        "SELECT r.rev_id, r.visit_id, r.parents, r.payload, r.deleted, r.hlc, r.device, r.author, r.crew, r.signature
         FROM revision r WHERE r.rev_id IN (SELECT h.rev_id FROM head h WHERE h.visit_id = ?1)",
    )?;
    let mut heads = st.query_map([visit_id], row_to_revision)?.collect::<rusqlite::Result<Vec<_>>>()?;
    for h in &mut heads {
        super::payload::fill(conn, h)?;
    }
    // Sorted here rather than in SQL: a sorter per call costs more than the lookup.
    heads.sort_by(|a, b| (&b.hlc, &b.rev_id).cmp(&(&a.hlc, &a.rev_id)));
    Ok(heads)
}

/// The columns [`row_to_revision`] reads, in its order.
pub const REVISION_COLUMNS: &str = "rev_id, visit_id, parents, payload, deleted, hlc, device, author, crew, signature";

/// A stored revision from a row of [`REVISION_COLUMNS`]. A parent list that does not read is an
/// error: read as empty, it would change the heads.
pub fn row_to_revision(r: &rusqlite::Row) -> rusqlite::Result<Revision> {
    let parents: String = r.get(2)?;
    let rev_id: String = r.get(0)?;
    let parents = serde_json::from_str(&parents).map_err(|e| {
        let corrupt = super::StoreError::CorruptParents { rev_id: rev_id.clone(), detail: e.to_string() };
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(corrupt))
    })?;
    Ok(Revision {
        rev_id,
        visit_id: r.get(1)?,
        parents,
        payload: r.get(3)?,
        deleted: r.get(4)?,
        hlc: r.get(5)?,
        device: r.get(6)?,
        author: r.get(7)?,
        crew: r.get(8)?,
        signature: r.get(9)?,
    })
}

/// Recomputes the heads of a visit from its revisions (looking through and
/// making automatic merges, see `conflict`) and materialises the winner.
pub fn refresh_visit(conn: &Connection, visit_id: &str) -> Result<()> {
    super::conflict::refresh(conn, visit_id).map(|_| ())
}

/// Replaces the current rows of a visit with those of `winner` (none when
/// deleted or absent).
pub fn materialise(conn: &Connection, visit_id: &str, winner: Option<&Revision>) -> Result<()> {
    super::payload::restore(conn, visit_id)?;
    super::figures::delete(conn, visit_id)?;
    for table in ["visit", "facility", "farm", "water_body"] {
        conn.prepare_cached(&format!("DELETE FROM {table} WHERE visit_id = ?1"))?.execute([visit_id])?;
    }
    let Some(rev) = winner.filter(|r| !r.deleted) else { return Ok(()) };
    let data: VisitData = serde_json::from_str(&rev.payload)
        .with_context(|| format!("revision {} of visit {visit_id} has an unreadable payload", rev.rev_id))?;
    write_current(conn, visit_id, &rev.rev_id, &data)
}

/// Writes the current rows of a visit and its per-visit figures; the
/// revision's payload is then kept in those rows alone (store/payload.rs).
pub(crate) fn write_current(conn: &Connection, visit_id: &str, rev_id: &str, v: &VisitData) -> Result<()> {
    write_current_rows(conn, visit_id, rev_id, v)?;
    super::payload::elide(conn, rev_id, v)
}

fn write_current_rows(conn: &Connection, visit_id: &str, rev_id: &str, v: &VisitData) -> Result<()> {
    super::figures::write(conn, visit_id, v)?;
    let mut visit = conn.prepare_cached(
        "INSERT INTO visit (visit_id, rev_id, village_code, survey_date, surveyor, households, hh_sewer, hh_reuse,
                            hh_controlled, natural_villages, nv_garbage_covered, notes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut facility = conn.prepare_cached(
        "INSERT INTO facility (visit_id, facility_id, kind, households_served, status, capacity_m3_d)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut farm = conn.prepare_cached(
        "INSERT INTO farm (visit_id, farm_id, name, species, head_on_hand, annual_out, manure_t, utilized_pct,
                           facility_equipped)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut water = conn.prepare_cached(
        "INSERT INTO water_body (visit_id, water_id, name, kind, area_m2, length_m, depth_cm, transparency_cm,
                                 do_mg_l, nh3n_mg_l, listed, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    insert_rows([&mut visit, &mut facility, &mut farm, &mut water], visit_id, rev_id, v)
}

/// Inserts a visit's rows with four statements, for the visit, facility,
/// farm and water_body tables in that order, each taking its table's
/// columns in schema order: the current tables here, the streamed import's
/// scratch copies of them (store/bundle.rs).
pub(crate) fn insert_rows(
    [visit, facility, farm, water]: [&mut rusqlite::Statement; 4],
    visit_id: &str,
    rev_id: &str,
    v: &VisitData,
) -> Result<()> {
    visit.execute(params![
        visit_id,
        rev_id,
        v.village_code,
        v.survey_date,
        v.surveyor,
        v.households,
        v.hh_sewer,
        v.hh_reuse,
        v.hh_controlled,
        v.natural_villages,
        v.nv_garbage_covered,
        v.notes
    ])?;
    for Facility { facility_id, kind, households_served, status, capacity_m3_d } in &v.facilities {
        facility.execute(params![
            visit_id,
            facility_id,
            kind.code(),
            households_served,
            status.code(),
            capacity_m3_d
        ])?;
    }
    for Farm { farm_id, name, species, head_on_hand, annual_out, manure_t, utilized_pct, facility_equipped } in &v.farms
    {
        farm.execute(params![
            visit_id,
            farm_id,
            name,
            species.code(),
            head_on_hand,
            annual_out,
            manure_t,
            utilized_pct,
            facility_equipped
        ])?;
    }
    for w in &v.water_bodies {
        water.execute(params![
            visit_id,
            w.water_id,
            w.name,
            w.kind.code(),
            w.area_m2,
            w.length_m,
            w.depth_cm,
            w.transparency_cm,
            w.do_mg_l,
            w.nh3n_mg_l,
            w.listed.code(),
            w.status.code()
        ])?;
    }
    Ok(())
}

/// What saving a visit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new visit.
    New,
    /// A new revision of an existing visit.
    Changed,
    /// The content equals the current winner: nothing written.
    Unchanged,
}

/// What an edit was made from: the parents its revision names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base<'a> {
    /// Whatever wins now: for writers that saw nothing older (the demo, a
    /// bundle row without a `rev`, tests).
    Current,
    /// The revision(s) the edit was made from (the form's, a draft's, a
    /// re-imported row's): empty for a visit made new. A revision this
    /// database does not hold for this visit names nothing, so an edit from
    /// a state never seen here becomes a conflict, never an overwrite.
    Revs(&'a [String]),
}

/// Saves a visit (or its deletion, `data = None`) as a new revision on top of
/// the current winner, inside the caller's transaction. Writing the same
/// content again writes nothing.
pub fn save(conn: &Connection, maker: Maker, visit_id: &str, data: Option<&VisitData>) -> Result<Saved> {
    save_on(conn, maker, visit_id, data, Base::Current)
}

/// Saves an edit made from `base`, inside the caller's transaction. The new
/// revision names the base as its parents, so a change that arrived since
/// (a merge, another window) merges three-way with it or becomes a conflict:
/// never silently reverted. An edit that leaves the content as it found it
/// (or as it is now) writes nothing.
pub fn save_on(conn: &Connection, maker: Maker, visit_id: &str, data: Option<&VisitData>, base: Base) -> Result<Saved> {
    let known = conn.prepare_cached("SELECT 1 FROM head WHERE visit_id = ?1")?.exists([visit_id])?;
    let heads = if known { heads(conn, visit_id)? } else { Vec::new() };
    let payload = data.map(VisitData::canonical_json).unwrap_or_default();
    let deleted = data.is_none();
    let same = |r: &Revision| r.deleted == deleted && r.payload == payload;
    let mut parents: Vec<String> = match base {
        Base::Current => heads.first().map(|w| vec![w.rev_id.clone()]).unwrap_or_default(),
        Base::Revs(revs) => {
            let mut st = conn.prepare_cached("SELECT 1 FROM revision WHERE rev_id = ?1 AND visit_id = ?2")?;
            let mut out = Vec::new();
            for r in revs {
                if st.exists([r, visit_id])? {
                    out.push(r.clone());
                }
            }
            out
        }
    };
    parents.sort();
    parents.dedup();
    // Nothing changed: the content is what the edit started from, or what
    // wins now with no conflict to settle.
    if let [one] = parents.as_slice()
        && let Some(from) = load_revision(conn, one)?
        && same(&from)
    {
        return Ok(Saved::Unchanged);
    }
    if heads.first().map_or(deleted, same) {
        return Ok(Saved::Unchanged);
    }
    let mut rev = Revision::made_here(conn, visit_id, parents.clone(), payload, deleted, maker)?;
    let on_the_head = heads.len() <= 1 && parents == heads.iter().map(|h| h.rev_id.clone()).collect::<Vec<_>>();
    // Becoming the current rows at once, its payload is kept there alone.
    let elided = on_the_head && data.is_some_and(super::payload::round_trips);
    if elided {
        rev.payload.clear();
    }
    insert_revision(conn, &rev)?;
    if on_the_head {
        // The new revision replaces the only head (or is the first): no need
        // to search the graph or read the payload back.
        conn.prepare_cached("DELETE FROM head WHERE visit_id = ?1")?.execute([visit_id])?;
        conn.prepare_cached("INSERT INTO head (visit_id, rev_id) VALUES (?1, ?2)")?.execute([visit_id, &rev.rev_id])?;
        if !heads.is_empty() {
            materialise(conn, visit_id, None)?;
        }
        if let Some(data) = data {
            write_current_rows(conn, visit_id, &rev.rev_id, data)?;
        }
    } else {
        refresh_visit(conn, visit_id)?;
    }
    Ok(if heads.is_empty() { Saved::New } else { Saved::Changed })
}

/// One stored revision by id.
pub fn load_revision(conn: &Connection, rev_id: &str) -> Result<Option<Revision>> {
    let mut r = conn
        .prepare_cached(&format!("SELECT {REVISION_COLUMNS} FROM revision WHERE rev_id = ?1"))?
        .query_row([rev_id], row_to_revision)
        .optional()?;
    if let Some(r) = r.as_mut() {
        super::payload::fill(conn, r)?;
    }
    Ok(r)
}

impl Store {
    /// Saves one visit in its own transaction, `editor` typing it.
    pub fn save_visit(&mut self, editor: &str, visit_id: &str, data: Option<&VisitData>) -> Result<Saved> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let saved = save(&tx, Maker { identity: &self.identity, editor }, visit_id, data)?;
        tx.commit()?;
        Ok(saved)
    }

    /// Saves new visits, each by its surveyor, and sets a meta key, all in
    /// one transaction (the demo's seeding: all or nothing).
    pub fn save_new_visits(&mut self, visits: &[(String, VisitData)], meta: (&str, &str)) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (id, data) in visits {
            save(&tx, Maker { identity: &self.identity, editor: &data.surveyor }, id, Some(data))?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![meta.0, meta.1],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Throws away the current tables and heads and builds them again from
    /// the revisions.
    pub fn rebuild_current(&mut self) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        super::payload::fill_all(&tx)?;
        tx.execute_batch(
            "DELETE FROM head; DELETE FROM visit; DELETE FROM facility; DELETE FROM farm; DELETE FROM water_body;
             DELETE FROM visit_figures;",
        )?;
        let ids: Vec<String> = {
            let mut st = tx.prepare("SELECT DISTINCT visit_id FROM revision ORDER BY visit_id")?;
            st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        for id in ids {
            refresh_visit(&tx, &id)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Fills in the payload of a revision read straight from the table (left
/// out for the current revision: store/payload.rs). `heads` and
/// `load_revision` do it already.
pub fn fill_payload(conn: &Connection, r: &mut Revision) -> Result<()> {
    super::payload::fill(conn, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_carries_into_the_milliseconds() {
        assert_eq!(following((1_000, 7), 2_000), (2_000, 0), "the wall clock ahead wins");
        assert_eq!(following((1_000, 7), 900), (1_000, 8), "a clock behind counts on");
        assert_eq!(following((1_000, 99_999), 1_000), (1_001, 0), "never six digits");
        let (w, c) = following((1_000, 99_999), 1_000);
        assert_eq!(format_hlc(w, c).len(), 19);
    }

    #[test]
    fn a_merge_never_pulls_the_clock_past_a_day_ahead() {
        let s = Store::open_in_memory().unwrap();
        observe_hlc(&s.conn, "4102444800000.00000").unwrap();
        let held = s.meta("hlc").unwrap().unwrap();
        let ms = stamp_ms(&held).unwrap();
        assert!(ms <= chrono::Utc::now().timestamp_millis() + MAX_AHEAD_MS, "{held}");
    }
}
