//! The list of open conflicts: for each visit with several heads, the
//! fields a person must settle, each with its value on every side.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use super::OPEN_CONFLICT_VISITS;
use super::graph::{Graph, fields_of};
use crate::domain::merge::{Fields, open_fields, side_value};
use crate::store::revisions::{self, Revision};

/// One side of a conflicting field.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    pub rev_id: String,
    /// The value on this side (`None`: absent — row removed or visit deleted).
    pub value: Option<Value>,
    pub device: String,
    /// The editor (who typed it).
    pub author: String,
    pub hlc: String,
    /// The installation that made it (its crew name).
    pub crew: String,
    /// The file that first brought it here (`None`: made here).
    pub file: Option<String>,
}

/// One conflicting field of a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictField {
    pub field: String,
    pub base: Option<Value>,
    pub sides: Vec<Side>,
}

/// An open conflict: a visit with several heads.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub visit_id: String,
    pub village_code: String,
    pub village_name: String,
    pub fields: Vec<ConflictField>,
}

/// Every open conflict, by village then visit.
pub fn list_conflicts(conn: &Connection) -> Result<Vec<Conflict>> {
    let ids: Vec<String> = {
        let mut st = conn.prepare(&format!("{OPEN_CONFLICT_VISITS} ORDER BY visit_id"))?;
        st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for id in ids {
        out.push(conflict_of(conn, &id)?);
    }
    out.sort_by(|a, b| (&a.village_code, &a.visit_id).cmp(&(&b.village_code, &b.visit_id)));
    Ok(out)
}

/// A visit's heads (winner first) with the fields of each and of their
/// common ancestor: the three inputs of a three-way merge, read once.
pub(super) struct Sides {
    pub heads: Vec<Revision>,
    pub base: Option<Fields>,
    pub sides: Vec<Option<Fields>>,
}

impl Sides {
    /// Reads the visit's heads and its revisions once, and finds the base in
    /// one walk of the graph (near-linear in the revisions of the visit).
    pub fn load(conn: &Connection, visit_id: &str) -> Result<Sides> {
        let heads = revisions::heads(conn, visit_id)?;
        let graph = Graph::load(conn, visit_id)?;
        let refs: Vec<&Revision> = heads.iter().collect();
        let base = match graph.base(&refs) {
            Some(b) => fields_of(b)?,
            None => None,
        };
        let sides = heads.iter().map(fields_of).collect::<Result<Vec<_>>>()?;
        Ok(Sides { heads, base, sides })
    }

    /// The conflict these sides make (its fields are empty when there is a single head).
    pub fn conflict(&self, conn: &Connection, visit_id: &str) -> Result<Conflict> {
        let Sides { heads, base, sides } = self;
        let names = open_fields(base.as_ref(), sides);
        let files = heads.iter().map(|h| origin_file(conn, &h.rev_id)).collect::<Result<Vec<_>>>()?;
        let fields = names
            .into_iter()
            .map(|k| ConflictField {
                base: side_value(base.as_ref(), &k),
                sides: heads
                    .iter()
                    .zip(sides)
                    .zip(&files)
                    .map(|((h, f), file)| Side {
                        rev_id: h.rev_id.clone(),
                        value: side_value(f.as_ref(), &k),
                        device: h.device.clone(),
                        author: h.author.clone(),
                        hlc: h.hlc.clone(),
                        crew: h.crew.clone(),
                        file: file.clone(),
                    })
                    .collect(),
                field: k,
            })
            .collect();
        let village_code = sides
            .iter()
            .find_map(|f| f.as_ref().and_then(|f| f.get("village_code")).and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        // A village no longer in the roster has no name; a failing query is an error.
        let village_name: String = conn
            .query_row("SELECT name FROM roster WHERE code = ?1", [&village_code], |r| r.get(0))
            .optional()?
            .unwrap_or_default();
        Ok(Conflict { visit_id: visit_id.to_string(), village_code, village_name, fields })
    }
}

/// The conflict of one visit (its fields may be empty when the visit has a single head).
pub fn conflict_of(conn: &Connection, visit_id: &str) -> Result<Conflict> {
    Sides::load(conn, visit_id)?.conflict(conn, visit_id)
}

/// One head of a visit with its content as fields (`None`: a deletion).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadFields {
    pub rev_id: String,
    pub device: String,
    /// The editor (who typed it).
    pub author: String,
    pub hlc: String,
    /// The installation that made it (its crew name).
    pub crew: String,
    /// The file that first brought it here (`None`: made here).
    pub file: Option<String>,
    pub fields: Option<Fields>,
}

/// The heads of a visit, winner first, each with its fields: what the
/// conflict screen shows side by side.
pub fn heads_with_fields(conn: &Connection, visit_id: &str) -> Result<Vec<HeadFields>> {
    revisions::heads(conn, visit_id)?
        .into_iter()
        .map(|r| {
            let fields = fields_of(&r)?;
            let file = origin_file(conn, &r.rev_id)?;
            Ok(HeadFields {
                rev_id: r.rev_id,
                device: r.device,
                author: r.author,
                hlc: r.hlc,
                crew: r.crew,
                file,
                fields,
            })
        })
        .collect()
}

/// The name of the file that first brought a revision here (`None`: made here).
pub fn origin_file(conn: &Connection, rev_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.file_name FROM revision_origin o JOIN merge_log m ON m.file_hash = o.file_hash WHERE o.rev_id = ?1",
        )?
        .query_row([rev_id], |r| r.get(0))
        .optional()?)
}

/// The conflicts list as JSON.
pub fn conflicts_json(list: &[Conflict]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                serde_json::json!({
                    "visit_id": c.visit_id, "village_code": c.village_code, "village_name": c.village_name,
                    "fields": c.fields.iter().map(|f| serde_json::json!({
                        "field": f.field, "base": f.base,
                        "sides": f.sides.iter().map(|s| serde_json::json!({
                            "rev_id": s.rev_id, "value": s.value, "device": s.device, "author": s.author, "hlc": s.hlc,
                            "crew": s.crew, "editor": s.author, "file": s.file
                        })).collect::<Vec<_>>()
                    })).collect::<Vec<_>>()
                })
            })
            .collect(),
    )
}
