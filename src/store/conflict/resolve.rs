//! Settling a conflict: a whole side taken, then field by field, written as
//! a new revision whose parents are all the heads.

use std::collections::BTreeSet;

use anyhow::Result;
use rusqlite::Connection;

use super::graph::fields_of;
use super::list::Sides;
use super::refresh;
use crate::domain::VisitData;
use crate::domain::merge::{ApplyError, Fields, start_without_take, take_field, unflatten};
use crate::domain::settings::ManureCoefficients;
use crate::domain::validate::validate_visit;
use crate::store::error::ResolveError;
use crate::store::revisions::{Revision, insert_revision};

/// How to settle a conflict: a whole side, then field by field.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Take this head whole (a revision id or a unique prefix of one).
    pub take: Option<String>,
    /// Then take these fields from these heads: (field, revision).
    pub fields: Vec<(String, String)>,
    /// The heads the person saw when choosing (empty: whatever the heads are
    /// now). When the heads have changed since (a merge brought another
    /// side), the resolution is refused rather than cover a side unseen.
    pub seen: Vec<String>,
}

/// Settles the conflict of a visit with a new revision whose parents are all
/// its heads, inside the caller's transaction. Returns the new revision id.
pub fn resolve(
    conn: &Connection,
    maker: crate::store::revisions::Maker,
    visit_id: &str,
    how: &Resolution,
) -> Result<String> {
    let loaded = Sides::load(conn, visit_id)?;
    let heads = &loaded.heads;
    if heads.is_empty() {
        return Err(ResolveError::NoSuchVisit { visit_id: visit_id.to_string() }.into());
    }
    if heads.len() < 2 {
        return Err(ResolveError::NoConflict { visit_id: visit_id.to_string() }.into());
    }
    if !how.seen.is_empty() {
        let mut seen = how.seen.clone();
        seen.sort();
        seen.dedup();
        let mut now: Vec<String> = heads.iter().map(|h| h.rev_id.clone()).collect();
        now.sort();
        if seen != now {
            return Err(ResolveError::HeadsChanged { visit_id: visit_id.to_string() }.into());
        }
    }
    let find = |rev: &str| -> Result<&Revision> {
        let m: Vec<&Revision> = heads.iter().filter(|h| h.rev_id.starts_with(rev)).collect();
        match (rev.is_empty(), m.as_slice()) {
            (false, [one]) => Ok(one),
            _ => Err(ResolveError::NotAHead {
                rev: rev.to_string(),
                heads: heads.iter().map(|h| h.rev_id.clone()).collect(),
            }
            .into()),
        }
    };
    let apply = |error| ResolveError::Apply { visit_id: visit_id.to_string(), error };
    let conflict = loaded.conflict(conn, visit_id)?;
    let open: BTreeSet<&str> = conflict.fields.iter().map(|f| f.field.as_str()).collect();
    // The starting point: the whole side taken, else the automatic part of the merge.
    // A field no side has is named as such, before asking for the choices missing.
    for (field, _) in &how.fields {
        let mut known = open.contains(field.as_str());
        for h in heads {
            known |= fields_of(h)?.is_some_and(|f| f.contains_key(field));
        }
        if !known {
            return Err(apply(ApplyError::NoSuchField(field.clone())).into());
        }
    }
    let mut result: Option<Fields> = match &how.take {
        Some(rev) => fields_of(find(rev)?)?,
        None => {
            let named: BTreeSet<&str> = how.fields.iter().map(|(f, _)| f.as_str()).collect();
            Some(start_without_take(loaded.base.as_ref(), &loaded.sides, &open, &named).map_err(apply)?)
        }
    };
    for (field, rev) in &how.fields {
        let side = fields_of(find(rev)?)?;
        take_field(result.as_mut(), side.as_ref(), field, &open).map_err(apply)?;
    }
    let data = match &result {
        Some(f) => {
            // A child row half taken from each side is rebuilt whole or refused.
            let v = unflatten(f).map_err(apply)?;
            let problems = validate_visit(&v, chrono::Local::now().date_naive(), &ManureCoefficients::default());
            if let Some(p) = problems.into_iter().next() {
                return Err(ResolveError::BreaksRule { visit_id: visit_id.to_string(), problem: p }.into());
            }
            Some(v)
        }
        None => None,
    };
    let payload = data.as_ref().map(VisitData::canonical_json).unwrap_or_default();
    let mut parents: Vec<String> = heads.iter().map(|h| h.rev_id.clone()).collect();
    parents.sort();
    let rev = Revision::made_here(conn, visit_id, parents, payload, data.is_none(), maker)?;
    insert_revision(conn, &rev)?;
    refresh(conn, visit_id)?;
    Ok(rev.rev_id)
}

impl Resolution {
    /// From the command line: `--take REV` and `--field FIELD=REV`….
    pub fn parse(take: Option<String>, fields: &[String]) -> Result<Resolution, ResolveError> {
        let mut out = Resolution { take, fields: Vec::new(), seen: Vec::new() };
        for item in fields {
            let Some((f, rev)) = item.rsplit_once('=') else {
                return Err(ResolveError::FieldSyntax { item: item.clone() });
            };
            out.fields.push((f.trim().to_string(), rev.trim().to_string()));
        }
        Ok(out)
    }
}

impl crate::store::Store {
    /// Settles the conflict of a visit in its own transaction; the new revision id.
    pub fn resolve_conflict(&mut self, author: Option<&str>, visit_id: &str, how: &Resolution) -> Result<String> {
        // The person settling it: the one named, else this installation's editor.
        let author = author.map(str::trim).filter(|a| !a.is_empty()).unwrap_or(&self.editor).to_string();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let maker = crate::store::revisions::Maker { identity: &self.identity, editor: &author };
        let rev = resolve(&tx, maker, visit_id, how)?;
        tx.commit()?;
        Ok(rev)
    }
}
