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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};
use serde_json::Value;

use super::revisions::{self, Revision, insert_revision, materialise, revision_id};
use crate::domain::VisitData;
use crate::domain::settings::ManureCoefficients;
use crate::domain::validate::validate_visit;
use crate::strings::sync as s;

/// Device and author of automatic merge revisions.
pub const MERGE_DEVICE: &str = "merge";

/// More heads than this are left for a person (a bound on the work a hostile file can cause).
const MAX_AUTO_MERGE_HEADS: usize = 32;

/// The pseudo-field of a conflict between an edit and a deletion.
pub const DELETED_FIELD: &str = "(deleted)";

/// Whether a revision was written by the automatic merge.
pub fn is_auto_merge(r: &Revision) -> bool {
    r.device == MERGE_DEVICE && r.author == MERGE_DEVICE
}

/// A visit's content as a flat map of field → value. Child rows are keyed by
/// their id: `facilities[F1].status`. A deleted visit is `None`.
pub type Fields = BTreeMap<String, Value>;

const CHILDREN: [(&str, &str); 3] = [("facilities", "facility_id"), ("farms", "farm_id"), ("water_bodies", "water_id")];

/// Flattens a payload into fields.
pub fn flatten(v: &VisitData) -> Fields {
    let mut out = Fields::new();
    let Value::Object(obj) = serde_json::to_value(v).expect("visit data always serialises") else { return out };
    for (k, val) in obj {
        match CHILDREN.iter().find(|(arr, _)| *arr == k) {
            Some((arr, id_key)) => {
                for row in val.as_array().into_iter().flatten() {
                    let Some(row) = row.as_object() else { continue };
                    let id = row.get(*id_key).and_then(Value::as_str).unwrap_or_default();
                    for (f, fv) in row {
                        if f != id_key {
                            out.insert(format!("{arr}[{id}].{f}"), fv.clone());
                        }
                    }
                }
            }
            None => {
                out.insert(k, val);
            }
        }
    }
    out
}

/// Builds a visit back from fields (the inverse of [`flatten`]).
pub fn unflatten(fields: &Fields) -> Result<VisitData> {
    let mut obj = serde_json::Map::new();
    let mut rows: BTreeMap<(&str, String), serde_json::Map<String, Value>> = BTreeMap::new();
    for (arr, _) in CHILDREN {
        obj.insert(arr.to_string(), Value::Array(Vec::new()));
    }
    for (k, v) in fields {
        match split_child(k) {
            Some((arr, id, f)) => {
                let id_key = CHILDREN.iter().find(|(a, _)| *a == arr).map(|(_, i)| *i).unwrap_or("id");
                let row = rows.entry((arr, id.to_string())).or_default();
                row.insert(id_key.to_string(), Value::String(id.to_string()));
                row.insert(f.to_string(), v.clone());
            }
            None => {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    for ((arr, _), row) in rows {
        if let Some(Value::Array(a)) = obj.get_mut(arr) {
            a.push(Value::Object(row));
        }
    }
    let mut v: VisitData = serde_json::from_value(Value::Object(obj)).context("merged visit")?;
    v.canonicalize();
    Ok(v)
}

/// Splits `facilities[F1].status` into its parts.
fn split_child(key: &str) -> Option<(&'static str, &str, &str)> {
    for (arr, _) in CHILDREN {
        if let Some(rest) = key.strip_prefix(arr).and_then(|r| r.strip_prefix('['))
            && let Some((id, f)) = rest.rsplit_once("].")
        {
            return Some((arr, id, f));
        }
    }
    None
}

fn fields_of(r: &Revision) -> Result<Option<Fields>> {
    if r.deleted {
        return Ok(None);
    }
    let v: VisitData = serde_json::from_str(&r.payload)
        .with_context(|| format!("revision {} of visit {} has an unreadable payload", r.rev_id, r.visit_id))?;
    Ok(Some(flatten(&v)))
}

/// The outcome of merging several heads against their common ancestor.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The merged content (`None`: the visit is deleted).
    Clean(Option<Fields>),
    /// The fields changed in different ways (or [`DELETED_FIELD`]).
    Conflict(Vec<String>),
}

/// N-way merge against a base: a field changed on one side only (or changed
/// the same way on several) takes the change; changed two ways, it is a
/// conflict. An edit against a deletion is a conflict on [`DELETED_FIELD`].
pub fn three_way(base: Option<&Fields>, heads: &[Option<Fields>]) -> Outcome {
    let empty = Fields::new();
    let live: Vec<&Fields> = heads.iter().flatten().collect();
    if live.len() < heads.len() {
        // Some side deleted the visit: fine only when no live side changed it.
        let b = base.unwrap_or(&empty);
        if live.iter().all(|f| *f == b) {
            return Outcome::Clean(None);
        }
        return Outcome::Conflict(vec![DELETED_FIELD.to_string()]);
    }
    let b = base.unwrap_or(&empty);
    let keys: BTreeSet<&String> = b.keys().chain(live.iter().flat_map(|f| f.keys())).collect();
    let mut merged = Fields::new();
    let mut conflicts = Vec::new();
    for k in keys {
        let bv = b.get(k);
        let mut change: Option<Option<&Value>> = None;
        let mut clash = false;
        for f in &live {
            let v = f.get(k);
            if v == bv {
                continue;
            }
            match change {
                None => change = Some(v),
                Some(c) if c == v => {}
                Some(_) => clash = true,
            }
        }
        if clash {
            conflicts.push(k.clone());
        } else if let Some(v) = change.unwrap_or(bv) {
            merged.insert(k.clone(), v.clone());
        }
    }
    if conflicts.is_empty() { Outcome::Clean(Some(merged)) } else { Outcome::Conflict(conflicts) }
}

/// All revisions of one visit, by id.
struct Graph {
    revs: HashMap<String, Revision>,
}

impl Graph {
    fn load(conn: &Connection, visit_id: &str) -> Result<Graph> {
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
    fn person_heads(&self) -> Vec<&Revision> {
        let person: Vec<&Revision> = self.revs.values().filter(|r| !is_auto_merge(r)).collect();
        let covered = self.ancestors_of(person.iter().map(|r| r.rev_id.as_str()));
        let mut heads: Vec<&Revision> = person.into_iter().filter(|r| !covered.contains(&r.rev_id)).collect();
        heads.sort_by(|a, b| a.rev_id.cmp(&b.rev_id));
        heads
    }

    /// The common ancestor of some revisions nearest to them: among the
    /// common ancestors that are no ancestor of another common ancestor, the
    /// one with the highest clock, then id (deterministic).
    fn base(&self, heads: &[&Revision]) -> Option<&Revision> {
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

/// What refreshing a visit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Refreshed {
    /// A new automatic merge revision was written.
    pub auto_merged: bool,
    /// The visit has several heads: an open conflict.
    pub conflict: bool,
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
    }))
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
    Ok(conn.query_row(
        "SELECT count(*) FROM (SELECT visit_id FROM head GROUP BY visit_id HAVING count(*) > 1)",
        [],
        |r| r.get(0),
    )?)
}

/// One side of a conflicting field.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    pub rev_id: String,
    /// The value on this side (`None`: absent — row removed or visit deleted).
    pub value: Option<Value>,
    pub device: String,
    pub author: String,
    pub hlc: String,
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
        let mut st =
            conn.prepare("SELECT visit_id FROM head GROUP BY visit_id HAVING count(*) > 1 ORDER BY visit_id")?;
        st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::new();
    for id in ids {
        out.push(conflict_of(conn, &id)?);
    }
    out.sort_by(|a, b| (&a.village_code, &a.visit_id).cmp(&(&b.village_code, &b.visit_id)));
    Ok(out)
}

/// The fields of the heads' common ancestor (if any) and of each head: the
/// three inputs of a three-way merge.
fn base_and_sides(
    conn: &Connection,
    visit_id: &str,
    heads: &[Revision],
) -> Result<(Option<Fields>, Vec<Option<Fields>>)> {
    let graph = Graph::load(conn, visit_id)?;
    let refs: Vec<&Revision> = heads.iter().collect();
    let base = match graph.base(&refs) {
        Some(b) => fields_of(b)?,
        None => None,
    };
    let sides = heads.iter().map(fields_of).collect::<Result<Vec<_>>>()?;
    Ok((base, sides))
}

/// The conflict of one visit (its fields may be empty when the visit has a single head).
pub fn conflict_of(conn: &Connection, visit_id: &str) -> Result<Conflict> {
    let heads = revisions::heads(conn, visit_id)?;
    let (base, sides) = base_and_sides(conn, visit_id, &heads)?;
    let names = match three_way(base.as_ref(), &sides) {
        Outcome::Conflict(f) => f,
        // Merges field by field but breaks a rule: every field the heads disagree on.
        Outcome::Clean(_) => {
            let keys: BTreeSet<&String> = sides.iter().flatten().flat_map(|f| f.keys()).collect();
            keys.into_iter()
                .filter(|k| {
                    sides
                        .iter()
                        .any(|s| s.as_ref().and_then(|f| f.get(*k)) != sides[0].as_ref().and_then(|f| f.get(*k)))
                })
                .cloned()
                .collect()
        }
    };
    let value = |f: &Option<Fields>, k: &str| -> Option<Value> {
        match f {
            None => None,
            Some(f) if k == DELETED_FIELD => Some(Value::Bool(false)).filter(|_| !f.is_empty()),
            Some(f) => f.get(k).cloned(),
        }
    };
    let fields = names
        .into_iter()
        .map(|k| ConflictField {
            base: value(&base, &k),
            sides: heads
                .iter()
                .zip(&sides)
                .map(|(h, f)| Side {
                    rev_id: h.rev_id.clone(),
                    value: value(f, &k),
                    device: h.device.clone(),
                    author: h.author.clone(),
                    hlc: h.hlc.clone(),
                })
                .collect(),
            field: k,
        })
        .collect();
    let village_code = heads
        .iter()
        .zip(&sides)
        .find_map(|(_, f)| f.as_ref().and_then(|f| f.get("village_code")).and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let village_name: String =
        conn.query_row("SELECT name FROM roster WHERE code = ?1", [&village_code], |r| r.get(0)).unwrap_or_default();
    Ok(Conflict { visit_id: visit_id.to_string(), village_code, village_name, fields })
}

/// How to settle a conflict: a whole side, then field by field.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Take this head whole (a revision id or a unique prefix of one).
    pub take: Option<String>,
    /// Then take these fields from these heads: (field, revision).
    pub fields: Vec<(String, String)>,
}

/// Settles the conflict of a visit with a new revision whose parents are all
/// its heads, inside the caller's transaction. Returns the new revision id.
pub fn resolve(conn: &Connection, device: &str, author: &str, visit_id: &str, how: &Resolution) -> Result<String> {
    let heads = revisions::heads(conn, visit_id)?;
    if heads.is_empty() {
        bail!("{visit_id}: {}", s::no_such_visit());
    }
    if heads.len() < 2 {
        bail!("{visit_id}: {}", s::no_conflict());
    }
    let find = |rev: &str| -> Result<&Revision> {
        let m: Vec<&Revision> = heads.iter().filter(|h| h.rev_id.starts_with(rev)).collect();
        match (rev.is_empty(), m.as_slice()) {
            (false, [one]) => Ok(one),
            _ => bail!(
                "{rev}: {} {}",
                s::not_a_head(),
                heads.iter().map(|h| h.rev_id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
    };
    let conflict = conflict_of(conn, visit_id)?;
    let open: BTreeSet<&str> = conflict.fields.iter().map(|f| f.field.as_str()).collect();
    // The starting point: the whole side taken, else the automatic part of the merge.
    let mut result: Option<Fields> = match &how.take {
        Some(rev) => fields_of(find(rev)?)?,
        None => {
            if open.contains(DELETED_FIELD) {
                bail!("{visit_id}: {}", s::deletion_needs_take());
            }
            let (base, sides) = base_and_sides(conn, visit_id, &heads)?;
            let mut merged = base.clone().unwrap_or_default();
            let keys: BTreeSet<String> = sides.iter().flatten().flat_map(|f| f.keys().cloned()).collect();
            for k in keys.iter().chain(base.iter().flat_map(|b| b.keys())) {
                if open.contains(k.as_str()) {
                    continue;
                }
                let bv = base.as_ref().and_then(|b| b.get(k));
                let changed = sides.iter().flatten().map(|f| f.get(k)).find(|v| *v != bv);
                match changed.unwrap_or(bv) {
                    Some(v) => merged.insert(k.clone(), v.clone()),
                    None => merged.remove(k),
                };
            }
            let named: BTreeSet<&str> = how.fields.iter().map(|(f, _)| f.as_str()).collect();
            let missing: Vec<&str> = open.iter().copied().filter(|f| !named.contains(f)).collect();
            if !missing.is_empty() {
                bail!("{visit_id}: {} {}", s::fields_unresolved(), missing.join(", "));
            }
            Some(merged)
        }
    };
    for (field, rev) in &how.fields {
        let side = fields_of(find(rev)?)?;
        let Some(r) = result.as_mut() else { bail!("{visit_id}: {}", s::field_on_deleted()) };
        if field == DELETED_FIELD {
            bail!("{visit_id}: {}", s::deletion_needs_take());
        }
        let side = side.unwrap_or_default();
        let known = side.contains_key(field) || r.contains_key(field) || open.contains(field.as_str());
        if !known {
            bail!("{field}: {}", s::no_such_field());
        }
        // A child row is a set of fields: taking a field of a row that one
        // side removed (or added) takes the row's presence with it.
        let row_prefix = split_child(field).map(|(arr, id, _)| format!("{arr}[{id}]."));
        let in_row = |k: &String| row_prefix.as_ref().is_some_and(|p| k.starts_with(p.as_str()));
        match side.get(field) {
            Some(v) => {
                // The row's other fields, where the result lacks them, come with it.
                for (k, v) in side.iter().filter(|(k, _)| in_row(k)) {
                    if !r.contains_key(k) {
                        r.insert(k.clone(), v.clone());
                    }
                }
                r.insert(field.clone(), v.clone());
            }
            None if row_prefix.is_some() => r.retain(|k, _| !in_row(k)),
            None => {
                r.remove(field);
            }
        }
    }
    let data = match &result {
        Some(f) => {
            let mut v = unflatten(f).map_err(|e| anyhow::anyhow!("{visit_id}: {} ({e:#})", s::result_unreadable()))?;
            // A child row half taken from each side is rebuilt whole or refused.
            v.canonicalize();
            let problems = validate_visit(&v, chrono::Local::now().date_naive(), &ManureCoefficients::default());
            if let Some(p) = problems.first() {
                bail!(
                    "{visit_id}: {} {}: {}",
                    s::result_breaks_rule(),
                    p.field,
                    p.reason.message(crate::strings::lang())
                );
            }
            Some(v)
        }
        None => None,
    };
    let payload = data.as_ref().map(VisitData::canonical_json).unwrap_or_default();
    let mut parents: Vec<String> = heads.iter().map(|h| h.rev_id.clone()).collect();
    parents.sort();
    let rev = Revision::made_here(conn, visit_id, parents, payload, data.is_none(), device, author)?;
    insert_revision(conn, &rev)?;
    refresh(conn, visit_id)?;
    Ok(rev.rev_id)
}

impl Resolution {
    /// From the command line: `--take REV` and `--field FIELD=REV`….
    pub fn parse(take: Option<String>, fields: &[String]) -> Result<Resolution> {
        let mut out = Resolution { take, fields: Vec::new() };
        for item in fields {
            let Some((f, rev)) = item.rsplit_once('=') else { bail!("--field {item}: {}", s::field_syntax()) };
            out.fields.push((f.trim().to_string(), rev.trim().to_string()));
        }
        Ok(out)
    }
}

impl super::Store {
    /// Settles the conflict of a visit in its own transaction; the new revision id.
    pub fn resolve_conflict(&mut self, author: Option<&str>, visit_id: &str, how: &Resolution) -> Result<String> {
        let author = match author {
            Some(a) => a.to_string(),
            None => self
                .meta("last_surveyor")?
                .or_else(|| std::env::var("USER").ok())
                .or_else(|| std::env::var("USERNAME").ok())
                .unwrap_or_else(|| "county".to_string()),
        };
        let device = self.device().to_string();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rev = resolve(&tx, &device, &author, visit_id, how)?;
        tx.commit()?;
        Ok(rev)
    }
}

/// A value for people.
fn show(v: &Option<Value>, field: &str) -> String {
    match v {
        None if field == DELETED_FIELD => s::deleted_value().to_string(),
        None => s::absent_value().to_string(),
        Some(Value::Bool(false)) if field == DELETED_FIELD => "—".to_string(),
        Some(Value::String(x)) => format!("{x:?}"),
        Some(x) => x.to_string(),
    }
}

/// A clock stamp as a UTC time for people.
fn show_hlc(hlc: &str) -> String {
    let ms: i64 = hlc.split('.').next().and_then(|w| w.parse().ok()).unwrap_or(0);
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| hlc.to_string())
}

/// The conflicts list for people.
pub fn render_conflicts(list: &[Conflict]) -> String {
    if list.is_empty() {
        return format!("{}\n", s::no_open_conflicts());
    }
    let mut out = String::new();
    for c in list {
        out.push_str(&s::conflict_header(&c.village_code, &c.village_name, &c.visit_id, c.fields.len()));
        out.push('\n');
        for f in &c.fields {
            out.push_str(&format!("    {}  ({} {})\n", f.field, s::base_value(), show(&f.base, &f.field)));
            for side in &f.sides {
                out.push_str(&s::side_line(
                    &side.rev_id,
                    &show(&side.value, &f.field),
                    &side.device,
                    &side.author,
                    &show_hlc(&side.hlc),
                ));
                out.push('\n');
            }
        }
    }
    out.push_str(&format!("{}: {}\n{}\n", s::open_conflicts(), list.len(), s::resolve_hint()));
    out
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
                            "rev_id": s.rev_id, "value": s.value, "device": s.device, "author": s.author, "hlc": s.hlc
                        })).collect::<Vec<_>>()
                    })).collect::<Vec<_>>()
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(pairs: &[(&str, Value)]) -> Fields {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn one_sided_changes_merge_and_two_sided_conflict() {
        let base = f(&[("a", json!(1)), ("b", json!(2))]);
        let x = f(&[("a", json!(5)), ("b", json!(2))]);
        let y = f(&[("a", json!(1)), ("b", json!(7))]);
        assert_eq!(
            three_way(Some(&base), &[Some(x.clone()), Some(y)]),
            Outcome::Clean(Some(f(&[("a", json!(5)), ("b", json!(7))])))
        );
        let z = f(&[("a", json!(6)), ("b", json!(2))]);
        assert_eq!(three_way(Some(&base), &[Some(x.clone()), Some(z)]), Outcome::Conflict(vec!["a".into()]));
        assert_eq!(three_way(Some(&base), &[Some(x), None]), Outcome::Conflict(vec![DELETED_FIELD.into()]));
        assert_eq!(three_way(Some(&base), &[Some(base.clone()), None]), Outcome::Clean(None));
    }

    #[test]
    fn child_rows_are_fields_keyed_by_id() {
        let mut rng = crate::generate::Rng::new(3);
        let mut v = crate::generate::random_visit(&mut rng, "430202001001", "2024-05-01");
        v.canonicalize();
        let flat = flatten(&v);
        assert!(
            flat.keys()
                .any(|k| k.starts_with("farms[") || k.starts_with("facilities[") || k.starts_with("water_bodies["))
                || (v.farms.is_empty() && v.facilities.is_empty() && v.water_bodies.is_empty())
        );
        assert_eq!(unflatten(&flat).unwrap(), v);
        assert_eq!(split_child("farms[a].b].name"), Some(("farms", "a].b", "name")));
    }
}
