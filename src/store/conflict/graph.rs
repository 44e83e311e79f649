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
        let mut st =
            conn.prepare_cached(&format!("SELECT {} FROM revision WHERE visit_id = ?1", revisions::REVISION_COLUMNS))?;
        let mut revs: HashMap<String, Revision> = st
            .query_map([visit_id], revisions::row_to_revision)?
            .map(|r| r.map(|r| (r.rev_id.clone(), r)))
            .collect::<rusqlite::Result<_>>()?;
        for r in revs.values_mut() {
            revisions::fill_payload(conn, r)?;
        }
        Ok(Graph { revs })
    }

    /// One revision of the visit.
    pub fn get(&self, rev_id: &str) -> Option<&Revision> {
        self.revs.get(rev_id)
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
    ///
    /// One walk of the graph from the heads down, children before parents
    /// (Kahn's order): each revision carries the set of heads it is a proper
    /// ancestor of, as a bit set, passed on to its parents. A revision all
    /// heads reach is a common ancestor; one whose children are none of them
    /// is a nearest one. Cost: O((revisions + edges) × heads / 64), where a
    /// pairwise search costs heads × history (quadratic on a long chain
    /// with many sibling heads).
    pub fn base(&self, heads: &[&Revision]) -> Option<&Revision> {
        if heads.is_empty() {
            return None;
        }
        let ids: Vec<&str> = self.revs.keys().map(String::as_str).collect();
        let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut head_bit: HashMap<usize, usize> = HashMap::new();
        for h in heads {
            // A head outside the graph has no ancestors here: nothing is common.
            let i = *index.get(h.rev_id.as_str())?;
            let next = head_bit.len();
            head_bit.entry(i).or_insert(next);
        }
        let words = head_bit.len().div_ceil(64);
        let full = |set: &[u64]| {
            let k = head_bit.len();
            set.iter().enumerate().all(|(w, x)| {
                let bits = (k - w * 64).min(64);
                let want = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
                *x == want
            })
        };
        // Parents present in the graph (each once), and the children not yet walked.
        let parents: Vec<Vec<usize>> = ids
            .iter()
            .map(|id| {
                let mut ps: Vec<usize> =
                    self.revs[*id].parents.iter().filter_map(|p| index.get(p.as_str()).copied()).collect();
                ps.sort_unstable();
                ps.dedup();
                ps
            })
            .collect();
        let mut pending = vec![0usize; ids.len()];
        for ps in &parents {
            for &p in ps {
                pending[p] += 1;
            }
        }
        let mut reach: Vec<Option<Vec<u64>>> = vec![None; ids.len()];
        let mut common_child = vec![false; ids.len()];
        let mut ready: Vec<usize> = (0..ids.len()).filter(|&i| pending[i] == 0).collect();
        let mut best: Option<&Revision> = None;
        while let Some(x) = ready.pop() {
            let mut set = reach[x].take().unwrap_or_else(|| vec![0; words]);
            let common = full(&set);
            let rev = &self.revs[ids[x]];
            if common && !common_child[x] && best.is_none_or(|b| (&rev.hlc, &rev.rev_id) > (&b.hlc, &b.rev_id)) {
                best = Some(rev);
            }
            if let Some(&b) = head_bit.get(&x) {
                set[b / 64] |= 1 << (b % 64);
            }
            for &p in &parents[x] {
                match &mut reach[p] {
                    Some(r) => r.iter_mut().zip(&set).for_each(|(a, b)| *a |= b),
                    slot => *slot = Some(set.clone()),
                }
                common_child[p] |= common;
                pending[p] -= 1;
                if pending[p] == 0 {
                    ready.push(p);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn rev(id: usize, parents: &[usize], hlc: usize) -> Revision {
        Revision {
            rev_id: format!("r{id:04}"),
            visit_id: "v".into(),
            parents: parents.iter().map(|p| format!("r{p:04}")).collect(),
            payload: String::new(),
            deleted: false,
            hlc: format!("{hlc:05}"),
            device: "d".into(),
            author: "a".into(),
            crew: String::new(),
            signature: String::new(),
        }
    }

    fn graph(revs: Vec<Revision>) -> Graph {
        Graph { revs: revs.into_iter().map(|r| (r.rev_id.clone(), r)).collect() }
    }

    /// The definition, pairwise: every head's ancestors intersected, then
    /// the common ancestors below no other one, the highest (clock, id).
    fn base_by_definition<'a>(g: &'a Graph, heads: &[&Revision]) -> Option<&'a Revision> {
        let mut common: Option<BTreeSet<String>> = None;
        for h in heads {
            let a = g.ancestors_of([h.rev_id.as_str()]);
            common = Some(match common {
                None => a,
                Some(c) => c.intersection(&a).cloned().collect(),
            });
        }
        let common = common?;
        let below = g.ancestors_of(common.iter().map(String::as_str));
        common
            .iter()
            .filter(|c| !below.contains(*c))
            .filter_map(|c| g.revs.get(c))
            .max_by(|a, b| (&a.hlc, &a.rev_id).cmp(&(&b.hlc, &b.rev_id)))
    }

    /// A random DAG: revision i has parents among 0..i.
    fn dag() -> impl Strategy<Value = Vec<Revision>> {
        (1usize..40).prop_flat_map(|n| {
            prop::collection::vec((prop::collection::vec(any::<prop::sample::Index>(), 0..3), 0usize..20), n).prop_map(
                |rows| {
                    rows.iter()
                        .enumerate()
                        .map(|(i, (ps, hlc))| {
                            let parents: Vec<usize> =
                                if i == 0 { vec![] } else { ps.iter().map(|p| p.index(i)).collect() };
                            rev(i, &parents, *hlc)
                        })
                        .collect()
                },
            )
        })
    }

    proptest! {
        #[test]
        fn one_walk_finds_the_base_of_the_definition(revs in dag(), picks in prop::collection::vec(any::<prop::sample::Index>(), 1..6)) {
            let g = graph(revs);
            let mut ids: Vec<&String> = g.revs.keys().collect();
            ids.sort();
            let heads: Vec<&Revision> = picks.iter().map(|p| &g.revs[ids[p.index(ids.len())]]).collect();
            let got = g.base(&heads).map(|r| r.rev_id.clone());
            let want = base_by_definition(&g, &heads).map(|r| r.rev_id.clone());
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn long_chain_with_sibling_heads_has_the_root_as_base() {
        // A chain r0 → … → r(n-1), and a head hanging off every link.
        let n = 200;
        let mut revs: Vec<Revision> =
            (0..n).map(|i| if i == 0 { rev(0, &[], 0) } else { rev(i, &[i - 1], i) }).collect();
        revs.extend((0..n).map(|i| rev(n + i, &[i], 0)));
        let g = graph(revs);
        let heads: Vec<&Revision> = (n..2 * n).map(|i| &g.revs[&format!("r{i:04}")]).collect();
        assert_eq!(g.base(&heads).map(|r| r.rev_id.as_str()), Some("r0000"));
        let last_two: Vec<&Revision> = heads[n - 2..].to_vec();
        assert_eq!(g.base(&last_two).map(|r| r.rev_id.as_str()), Some("r0198"));
    }
}
