//! The revision graph of one visit: ancestors, the person-made heads
//! (looking through automatic merges), and the nearest common ancestor.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use rusqlite::Connection;

use super::is_auto_merge;
use crate::domain::merge::{Fields, fields_of_payload};
use crate::store::error::StoreError;
use crate::store::revisions::{self, Revision};

/// The fields of a stored revision (`None`: a deletion). A payload that does
/// not read is an error, never an empty visit.
pub fn fields_of(r: &Revision) -> Result<Option<Fields>> {
    fields_of_payload(r.deleted, &r.payload).map_err(|e| {
        StoreError::CorruptPayload { rev_id: r.rev_id.clone(), visit_id: r.visit_id.clone(), detail: e.to_string() }
            .into()
    })
}

/// All revisions of one visit, by id.
pub(super) struct Graph {
    revs: HashMap<String, Revision>,
}

impl Graph {
    pub fn load(conn: &Connection, visit_id: &str) -> Result<Graph> {
        let mut st = conn.prepare_cached(
            "SELECT rev_id, visit_id, parents, payload, deleted, hlc, device, author FROM revision WHERE visit_id = ?1",
        )?;
        let revs = st
            .query_map([visit_id], revisions::row_to_revision)?
            .map(|r| r.map(|r| (r.rev_id.clone(), r)))
            .collect::<rusqlite::Result<_>>()?;
        Ok(Graph { revs })
    }

    /// Proper ancestors of a revision (present in the graph).
    fn ancestors(&self, id: &str) -> BTreeSet<String> {
        self.ancestors_of([id])
    }

    /// Every proper ancestor of any of some revisions, in one walk (linear
    /// in the graph however long its history).
    fn ancestors_of<'a>(&'a self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = ids
            .into_iter()
            .filter_map(|id| self.revs.get(id))
            .flat_map(|r| r.parents.iter().map(String::as_str))
            .collect();
        while let Some(p) = stack.pop() {
            if let Some(r) = self.revs.get(p)
                && seen.insert(p.to_string())
            {
                stack.extend(r.parents.iter().map(String::as_str));
            }
        }
        seen
    }

    /// The person-made heads, in id order.
    pub fn person_heads(&self) -> Vec<&Revision> {
        let person: Vec<&Revision> = self.revs.values().filter(|r| !is_auto_merge(r)).collect();
        let covered = self.ancestors_of(person.iter().map(|r| r.rev_id.as_str()));
        let mut heads: Vec<&Revision> = person.into_iter().filter(|r| !covered.contains(&r.rev_id)).collect();
        heads.sort_by(|a, b| a.rev_id.cmp(&b.rev_id));
        heads
    }

    /// The common ancestor of some revisions nearest to them: among the
    /// common ancestors that are no ancestor of another common ancestor, the
    /// one with the highest clock, then id (deterministic).
    pub fn base(&self, heads: &[&Revision]) -> Option<&Revision> {
        let mut common: Option<BTreeSet<String>> = None;
        for h in heads {
            let a = self.ancestors(&h.rev_id);
            common = Some(match common {
                None => a,
                Some(c) => c.intersection(&a).cloned().collect(),
            });
        }
        let common = common?;
        let below = self.ancestors_of(common.iter().map(String::as_str));
        common
            .iter()
            .filter(|c| !below.contains(*c))
            .filter_map(|c| self.revs.get(c))
            .max_by(|a, b| (&a.hlc, &a.rev_id).cmp(&(&b.hlc, &b.rev_id)))
    }
}
