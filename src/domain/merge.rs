//! The merge of concurrent edits of one visit, as pure functions (no SQL):
//! a visit flattened into fields, the N-way merge of its heads against their
//! common ancestor, and a field-by-field resolution applied on top.
//!
//! The store uses these for the automatic merge and for `resolve`; the county
//! conflict screen uses them to show the same result the store would write.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::VisitData;

/// A visit's content as a flat map of field → value. Child rows are keyed by
/// their id: `facilities[F1].status`. A deleted visit is `None`.
pub type Fields = BTreeMap<String, Value>;

/// The pseudo-field of a conflict between an edit and a deletion.
pub const DELETED_FIELD: &str = "(deleted)";

const CHILDREN: [(&str, &str); 3] = [("facilities", "facility_id"), ("farms", "farm_id"), ("water_bodies", "water_id")];

/// Why a resolution cannot be applied, or its result is not a visit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// An edit conflicts with a deletion: only a whole side settles it.
    #[error("an edit conflicts with a deletion: choose a whole side")]
    DeletionNeedsTake,
    /// Fields taken on top of a deleted side.
    #[error("the side taken is a deletion")]
    FieldOnDeleted,
    /// No side and no result has this field.
    #[error("{0}: no such field")]
    NoSuchField(String),
    /// Conflicting fields the resolution does not choose.
    #[error("conflicting fields without a choice: {}", .0.join(", "))]
    Unresolved(Vec<String>),
    /// The fields do not make a visit.
    #[error("the combined result is not a valid visit: {0}")]
    NotAVisit(String),
}

/// Flattens a payload into fields.
pub fn flatten(v: &VisitData) -> Fields {
    let mut out = Fields::new();
    let Value::Object(obj) = serde_json::to_value(v).expect("visit data always serialises") else { return out };
    for (k, val) in obj {
        match CHILDREN.iter().find(|(arr, _)| *arr == k) {
            Some((arr, id_key)) => {
                for row in val.as_array().into_iter().flatten() {
                    let Some(row) = row.as_object() else { continue };
                    // Child ids are strings in the model: a row without one cannot be.
                    let id = row.get(*id_key).and_then(Value::as_str).expect("child rows have a string id");
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

/// Builds a visit back from fields (the inverse of [`flatten`]), canonical.
pub fn unflatten(fields: &Fields) -> Result<VisitData, ApplyError> {
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
    let mut v: VisitData =
        serde_json::from_value(Value::Object(obj)).map_err(|e| ApplyError::NotAVisit(format!("merged visit: {e}")))?;
    v.canonicalize();
    Ok(v)
}

/// Splits `facilities[F1].status` into its parts.
pub fn split_child(key: &str) -> Option<(&'static str, &str, &str)> {
    for (arr, _) in CHILDREN {
        if let Some(rest) = key.strip_prefix(arr).and_then(|r| r.strip_prefix('['))
            && let Some((id, f)) = rest.rsplit_once("].")
        {
            return Some((arr, id, f));
        }
    }
    None
}

/// The fields of a revision's content: `None` for a deletion.
pub fn fields_of_payload(deleted: bool, payload: &str) -> Result<Option<Fields>, serde_json::Error> {
    if deleted {
        return Ok(None);
    }
    let v: VisitData = serde_json::from_str(payload)?;
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

/// The fields a person must settle: those of a conflicting merge, else
/// (the merge is clean field by field but breaks a rule) every field the
/// heads disagree on.
///
/// An edit against a deletion is the deletion (one choice: keep or delete
/// the visit) followed by the fields the live sides changed from the base,
/// so the one figure really edited is shown, not every field.
pub fn open_fields(base: Option<&Fields>, sides: &[Option<Fields>]) -> Vec<String> {
    match three_way(base, sides) {
        Outcome::Conflict(f) if f.iter().any(|k| k == DELETED_FIELD) => {
            let empty = Fields::new();
            let b = base.unwrap_or(&empty);
            let changed: BTreeSet<&String> = sides
                .iter()
                .flatten()
                .flat_map(|s| s.keys().chain(b.keys()).filter(move |k| s.get(*k) != b.get(*k)))
                .collect();
            std::iter::once(DELETED_FIELD.to_string()).chain(changed.into_iter().cloned()).collect()
        }
        Outcome::Conflict(f) => f,
        Outcome::Clean(_) => {
            let keys: BTreeSet<&String> = sides.iter().flatten().flat_map(|f| f.keys()).collect();
            let first = sides.first().and_then(Option::as_ref);
            keys.into_iter()
                .filter(|k| sides.iter().any(|s| s.as_ref().and_then(|f| f.get(*k)) != first.and_then(|f| f.get(*k))))
                .cloned()
                .collect()
        }
    }
}

/// The value of a field on one side, for showing a conflict: for
/// [`DELETED_FIELD`], `false` on a live side and `None` on a deleted one.
pub fn side_value(side: Option<&Fields>, field: &str) -> Option<Value> {
    match side {
        None => None,
        Some(f) if field == DELETED_FIELD => Some(Value::Bool(false)).filter(|_| !f.is_empty()),
        Some(f) => f.get(field).cloned(),
    }
}

/// The automatic part of a merge: every field but the `open` ones takes the
/// change made on some side (else the base).
pub fn merge_settled(base: Option<&Fields>, sides: &[Option<Fields>], open: &BTreeSet<&str>) -> Fields {
    let mut merged = base.cloned().unwrap_or_default();
    let keys: BTreeSet<String> = sides.iter().flatten().flat_map(|f| f.keys().cloned()).collect();
    for k in keys.iter().chain(base.iter().flat_map(|b| b.keys())) {
        if open.contains(k.as_str()) {
            continue;
        }
        let bv = base.and_then(|b| b.get(k));
        let changed = sides.iter().flatten().map(|f| f.get(k)).find(|v| *v != bv);
        match changed.unwrap_or(bv) {
            Some(v) => merged.insert(k.clone(), v.clone()),
            None => merged.remove(k),
        };
    }
    merged
}

/// The starting point of a resolution that takes no whole side: the settled
/// fields, provided every open field is chosen in `named`.
pub fn start_without_take(
    base: Option<&Fields>,
    sides: &[Option<Fields>],
    open: &BTreeSet<&str>,
    named: &BTreeSet<&str>,
) -> Result<Fields, ApplyError> {
    if open.contains(DELETED_FIELD) {
        return Err(ApplyError::DeletionNeedsTake);
    }
    let missing: Vec<String> = open.iter().filter(|f| !named.contains(*f)).map(|f| f.to_string()).collect();
    if !missing.is_empty() {
        return Err(ApplyError::Unresolved(missing));
    }
    Ok(merge_settled(base, sides, open))
}

/// Takes one field from one side into the result. A child row is a set of
/// fields: taking a field of a row that one side removed (or added) takes the
/// row's presence with it.
pub fn take_field(
    result: Option<&mut Fields>,
    side: Option<&Fields>,
    field: &str,
    open: &BTreeSet<&str>,
) -> Result<(), ApplyError> {
    let Some(r) = result else { return Err(ApplyError::FieldOnDeleted) };
    if field == DELETED_FIELD {
        return Err(ApplyError::DeletionNeedsTake);
    }
    let empty = Fields::new();
    let side = side.unwrap_or(&empty);
    let known = side.contains_key(field) || r.contains_key(field) || open.contains(field);
    if !known {
        return Err(ApplyError::NoSuchField(field.to_string()));
    }
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
            r.insert(field.to_string(), v.clone());
        }
        None if row_prefix.is_some() => r.retain(|k, _| !in_row(k)),
        None => {
            r.remove(field);
        }
    }
    Ok(())
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
    fn split_child_keeps_brackets_in_ids() {
        assert_eq!(split_child("farms[a].b].name"), Some(("farms", "a].b", "name")));
        assert_eq!(split_child("households"), None);
    }

    #[test]
    fn an_edit_against_a_deletion_opens_the_deletion_and_the_edited_fields_only() {
        let base = f(&[("households", json!(10)), ("notes", json!("a"))]);
        let edited = f(&[("households", json!(12)), ("notes", json!("a"))]);
        let open = open_fields(Some(&base), &[Some(edited.clone()), None]);
        assert_eq!(open, vec![DELETED_FIELD.to_string(), "households".to_string()]);
        // Whichever side comes first.
        assert_eq!(open_fields(Some(&base), &[None, Some(edited)]), open);
    }

    #[test]
    fn settled_fields_take_one_sided_changes_and_skip_open_ones() {
        let base = f(&[("a", json!(1)), ("b", json!(2)), ("c", json!(3))]);
        let x = f(&[("a", json!(5)), ("b", json!(9)), ("c", json!(3))]);
        let y = f(&[("a", json!(6)), ("b", json!(2))]);
        let sides = [Some(x), Some(y)];
        assert_eq!(open_fields(Some(&base), &sides), vec!["a".to_string()]);
        let open: BTreeSet<&str> = ["a"].into();
        let merged = merge_settled(Some(&base), &sides, &open);
        assert_eq!(merged, f(&[("a", json!(1)), ("b", json!(9))]));
        let none = BTreeSet::new();
        assert_eq!(
            start_without_take(Some(&base), &sides, &open, &none),
            Err(ApplyError::Unresolved(vec!["a".into()]))
        );
    }

    #[test]
    fn taking_a_field_brings_its_row_or_removes_it() {
        let open: BTreeSet<&str> = ["farms[F1].name"].into();
        let side = f(&[("farms[F1].name", json!("x")), ("farms[F1].species", json!("pig"))]);
        let mut result = f(&[("households", json!(3))]);
        take_field(Some(&mut result), Some(&side), "farms[F1].name", &open).unwrap();
        assert_eq!(result.len(), 3);
        take_field(Some(&mut result), Some(&f(&[])), "farms[F1].name", &open).unwrap();
        assert_eq!(result, f(&[("households", json!(3))]));
        assert_eq!(take_field(None, Some(&side), "households", &open), Err(ApplyError::FieldOnDeleted));
        assert_eq!(
            take_field(Some(&mut result), Some(&side), DELETED_FIELD, &open),
            Err(ApplyError::DeletionNeedsTake)
        );
        assert_eq!(
            take_field(Some(&mut result), Some(&side), "nope", &open),
            Err(ApplyError::NoSuchField("nope".into()))
        );
    }

    #[test]
    fn deleted_field_value_marks_live_sides() {
        let live = f(&[("a", json!(1))]);
        assert_eq!(side_value(Some(&live), DELETED_FIELD), Some(Value::Bool(false)));
        assert_eq!(side_value(None, DELETED_FIELD), None);
        assert_eq!(side_value(Some(&live), "a"), Some(json!(1)));
    }
}
