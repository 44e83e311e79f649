//! Conflicts between crews' edits (DESIGN.md "Storage"): which revisions are
//! the heads of a visit, the automatic three-way merge of fields changed on
//! only one side, the list of open conflicts, and their resolution.
//!
//! Automatic merges must converge whatever the order in which county staff
//! merge files. So an automatic merge revision (device and author `merge`) is
//! a pure function of the *person-made* heads it joins: its parents are those
//! heads, its payload their merge, its clock the highest of theirs, and its id
//! the usual content hash. Heads are computed looking through automatic
//! merges: the person-made heads of a visit are its person-made revisions that
//! are no ancestor of another person-made revision. Several of them either
//! merge cleanly (the one head is then their merge revision) or stay heads,
//! a conflict listed until someone resolves it. A merge revision made at an
//! earlier step of some other merge order is history, never a head.

mod graph;
mod list;
mod resolve;

use anyhow::Result;
use rusqlite::{Connection, params};

use super::revisions::{self, Revision, insert_revision, materialise, revision_id};
use crate::domain::merge::{Outcome, three_way, unflatten};
use crate::domain::settings::ManureCoefficients;
use crate::domain::validate::validate_visit;
use graph::{Graph, fields_of};
pub use list::{
    Conflict, ConflictField, HeadFields, Side, conflict_of, conflicts_json, heads_with_fields, list_conflicts,
    origin_file,
};
pub use resolve::{Resolution, resolve};

// The merge itself is pure and lives in the domain; re-exported for callers of the store.
pub use crate::domain::merge::{DELETED_FIELD, Fields, flatten};

/// Device and author of automatic merge revisions.
pub const MERGE_DEVICE: &str = "merge";

/// More heads than this are left for a person (a bound on the work a hostile file can cause).
const MAX_AUTO_MERGE_HEADS: usize = 32;

/// The rule of "an open conflict", once: a visit with several heads. As a
/// query of all such visits, to use as a subquery (`visit_id IN (…)`)…
pub const OPEN_CONFLICT_VISITS: &str = "SELECT visit_id FROM head GROUP BY visit_id HAVING count(*) > 1";

/// … and as a condition on one visit (`visit_id_expr` names it), for a query
/// over a few visits where scanning every head would cost more.
pub fn is_open_conflict_sql(visit_id_expr: &str) -> String {
    format!("((SELECT count(*) FROM head WHERE head.visit_id = {visit_id_expr}) > 1)")
}

/// Whether a revision was written by the automatic merge.
pub fn is_auto_merge(r: &Revision) -> bool {
    r.device == MERGE_DEVICE && r.author == MERGE_DEVICE
}

/// What refreshing a visit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refreshed {
    /// A new automatic merge revision was written.
    pub auto_merged: bool,
    /// The visit has several heads: an open conflict.
    pub conflict: bool,
    /// How many heads the visit has now.
    pub heads: usize,
}

/// The merge of several person-made heads, when it is clean and keeps every rule.
fn auto_merge(graph: &Graph, heads: &[&Revision]) -> Result<Option<Revision>> {
    if heads.len() > MAX_AUTO_MERGE_HEADS {
        return Ok(None);
    }
    let base = match graph.base(heads) {
        Some(b) => fields_of(b)?,
        None => None,
    };
    let sides = heads.iter().map(|h| fields_of(h)).collect::<Result<Vec<_>>>()?;
    let Outcome::Clean(merged) = three_way(base.as_ref(), &sides) else { return Ok(None) };
    let payload = match &merged {
        None => String::new(),
        Some(f) => {
            let Ok(v) = unflatten(f) else { return Ok(None) };
            // Content-only rules (no date bound): the same verdict on every device.
            let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");
            if !validate_visit(&v, far, &ManureCoefficients::default()).is_empty() {
                return Ok(None);
            }
            v.canonical_json()
        }
    };
    let visit_id = heads[0].visit_id.clone();
    let parents: Vec<String> = heads.iter().map(|h| h.rev_id.clone()).collect();
    let deleted = merged.is_none();
    Ok(Some(Revision {
        rev_id: revision_id(&visit_id, &parents, &payload, deleted),
        visit_id,
        parents,
        payload,
        deleted,
        hlc: heads.iter().map(|h| h.hlc.clone()).max().unwrap_or_default(),
        device: MERGE_DEVICE.to_string(),
        author: MERGE_DEVICE.to_string(),
        crew: String::new(),
        signature: String::new(),
    }))
}

/// Whether `r`, which says it is an automatic merge, is exactly the merge of
/// its parents this program makes. An automatic merge is signed by nobody,
/// so it may add nothing of its own: any other payload or parents is a
/// forgery. Its parents must be held (`conn` sees them).
///
/// Its stamp is the latest of its parents' stamps as its maker held them.
/// The same edit signed by two crews is one revision kept here with the
/// least of its stamps, so the maker may have held a later one: the stamp
/// must be at least the one made here, and within the clock bound a signer
/// is held to ([`revisions::MAX_AHEAD_MS`]); any other is a forgery.
pub fn is_genuine_auto_merge(conn: &Connection, r: &Revision) -> Result<bool> {
    let graph = Graph::load(conn, &r.visit_id)?;
    let parents: Vec<&Revision> = r.parents.iter().filter_map(|p| graph.get(p)).collect();
    if parents.len() != r.parents.len() || parents.len() < 2 || parents.iter().any(|p| is_auto_merge(p)) {
        return Ok(false);
    }
    let bound = revisions::format_hlc(chrono::Utc::now().timestamp_millis() + revisions::MAX_AHEAD_MS, 0);
    Ok(auto_merge(&graph, &parents)?.is_some_and(|m| m.rev_id == r.rev_id && m.hlc <= r.hlc && r.hlc <= bound))
}

/// Recomputes the heads of a visit (merging automatically what merges
/// cleanly) and materialises the winner into the current tables.
pub fn refresh(conn: &Connection, visit_id: &str) -> Result<Refreshed> {
    let graph = Graph::load(conn, visit_id)?;
    let person = graph.person_heads();
    let mut out = Refreshed::default();
    let head_ids: Vec<String> = if person.len() > 1 {
        match auto_merge(&graph, &person)? {
            Some(m) => {
                out.auto_merged = insert_revision(conn, &m)?;
                vec![m.rev_id]
            }
            None => {
                out.conflict = true;
                person.iter().map(|r| r.rev_id.clone()).collect()
            }
        }
    } else {
        person.iter().map(|r| r.rev_id.clone()).collect()
    };
    out.heads = head_ids.len();
    conn.prepare_cached("DELETE FROM head WHERE visit_id = ?1")?.execute([visit_id])?;
    let mut ins = conn.prepare_cached("INSERT INTO head (visit_id, rev_id) VALUES (?1, ?2)")?;
    for h in &head_ids {
        ins.execute(params![visit_id, h])?;
    }
    let winner = revisions::heads(conn, visit_id)?.into_iter().next();
    materialise(conn, visit_id, winner.as_ref())?;
    Ok(out)
}

/// How many visits have an open conflict (several heads).
pub fn open_conflicts(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(&format!("SELECT count(*) FROM ({OPEN_CONFLICT_VISITS})"), [], |r| r.get(0))?)
}

impl super::Store {
    /// Every open conflict, by village then visit.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        list_conflicts(&self.conn)
    }

    /// The heads of a visit with their fields, winner first.
    pub fn conflict_heads(&self, visit_id: &str) -> Result<Vec<HeadFields>> {
        heads_with_fields(&self.conn, visit_id)
    }
}
