//! Each row of a file from elsewhere is checked as typed input would be:
//! ids, clock stamps, names, the parent list, the payload against the visit
//! rules and the local roster, and the revision id against its content.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rusqlite::Connection;

use super::MAX_LISTED;
use crate::domain::VisitData;
use crate::domain::settings::ManureCoefficients;
use crate::domain::validate::{
    NAME_MAX_CHARS, Reason, check_id, check_required_line, is_division_code, validate_visit,
};
use crate::store::bundle::roster_problem;
use crate::store::conflict::MERGE_DEVICE;
use crate::store::error::{Refusal, RowReason};
use crate::store::revisions::{Revision, revision_id};

/// Problems found in one file.
#[derive(Debug, Default)]
pub(super) struct Problems {
    pub list: Vec<Refusal>,
    pub total: usize,
}

impl Problems {
    pub fn push(&mut self, p: Refusal) {
        self.total += 1;
        if self.list.len() < MAX_LISTED {
            self.list.push(p);
        }
    }
}

pub(super) fn is_rev_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(super) fn is_hlc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19 && b[13] == b'.' && b.iter().enumerate().all(|(i, c)| i == 13 || c.is_ascii_digit())
}

pub(super) fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// A one-line name from a file (device, author): the domain's rule for names.
pub(super) fn name_check(s: &str) -> Result<(), Reason> {
    check_required_line(s, NAME_MAX_CHARS)
}

/// Checks one revision read from a file, as typed input would be checked.
/// `group` holds the revision ids of the same visit in the file.
pub(super) fn check_revision(
    conn: &Connection,
    r: &Revision,
    group: &HashSet<String>,
    today: chrono::NaiveDate,
    roster_cache: &mut HashMap<String, Option<Reason>>,
    problems: &mut Problems,
) -> Result<Option<VisitData>> {
    let (rev, visit) = (short(&r.rev_id), short(&r.visit_id));
    let mut parsed = None;
    let before = problems.total;
    let mut bad = |field: &'static str, why: RowReason| {
        problems.push(Refusal::Revision { rev: rev.clone(), visit: visit.clone(), field, why })
    };
    if let Err(why) = check_id(&r.visit_id) {
        bad("visit_id", RowReason::Rule(why));
    }
    if !is_rev_id(&r.rev_id) {
        bad("rev_id", RowReason::BadRevId);
    }
    if !is_hlc(&r.hlc) {
        bad("hlc", RowReason::BadHlc);
    }
    if let Err(why) = name_check(&r.device) {
        bad("device", RowReason::Rule(why));
    }
    if let Err(why) = name_check(&r.author) {
        bad("author", RowReason::Rule(why));
    }
    // Empty for legacy revisions and automatic merges; the signature is checked by the gate.
    if !r.crew.is_empty()
        && let Err(why) = name_check(&r.crew)
    {
        bad("crew", RowReason::Rule(why));
    }
    let signature_ok = r.signature.len() == 128 && r.signature.bytes().all(|b| b.is_ascii_hexdigit());
    if !r.signature.is_empty() && !signature_ok {
        bad("signature", RowReason::SignatureFormat);
    }
    if !r.parents.windows(2).all(|w| w[0] < w[1]) {
        bad("parents", RowReason::ParentsUnsorted);
    }
    for p in &r.parents {
        if !group.contains(p) {
            bad("parents", RowReason::ParentMissing(short(p)));
        }
    }
    if r.device == MERGE_DEVICE && r.parents.len() < 2 {
        bad("parents", RowReason::MergeNeedsParents);
    }
    if r.deleted {
        if !r.payload.is_empty() {
            bad("payload", RowReason::DeletedWithPayload);
        }
    } else {
        match serde_json::from_str::<VisitData>(&r.payload) {
            Err(e) => bad("payload", RowReason::PayloadUnreadable(e.to_string())),
            Ok(v) => {
                if v.canonical_json() != r.payload {
                    bad("payload", RowReason::PayloadNotCanonical);
                }
                for p in validate_visit(&v, today, &ManureCoefficients::default()) {
                    bad(p.field, RowReason::Rule(p.reason));
                }
                if is_division_code(&v.village_code) {
                    let verdict = match roster_cache.get(&v.village_code) {
                        Some(v) => v.clone(),
                        None => {
                            let why = roster_problem(conn, &v.village_code)?;
                            roster_cache.insert(v.village_code.clone(), why.clone());
                            why
                        }
                    };
                    if let Some(why) = verdict {
                        bad("village_code", RowReason::Roster { code: v.village_code.clone(), reason: why });
                    }
                }
                parsed = Some(v);
            }
        }
    }
    if problems.total == before && revision_id(&r.visit_id, &r.parents, &r.payload, r.deleted) != r.rev_id {
        problems.push(Refusal::Revision { rev, visit, field: "rev_id", why: RowReason::RevIdMismatch });
    }
    Ok(parsed)
}

/// A revision as read from a file: the parents column is parsed strictly.
pub(super) fn read_revision(row: &rusqlite::Row) -> rusqlite::Result<(Revision, Option<String>)> {
    let parents: String = row.get(2)?;
    let (parents, bad) = match serde_json::from_str::<Vec<String>>(&parents) {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let deleted: i64 = row.get(4)?;
    Ok((
        Revision {
            rev_id: row.get(0)?,
            visit_id: row.get(1)?,
            parents,
            payload: row.get(3)?,
            deleted: deleted != 0,
            hlc: row.get(5)?,
            device: row.get(6)?,
            author: row.get(7)?,
            crew: row.get(8)?,
            signature: row.get(9)?,
        },
        bad.or_else(|| (!(0..=1).contains(&deleted)).then(|| "deleted".to_string())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_stamps_are_checked_by_form() {
        assert!(is_hlc("1700000000000.00001"));
        assert!(!is_hlc("1700000000000-00001"));
        assert!(is_rev_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_rev_id("0123456789ABCDEF0123456789abcdef"));
        assert_eq!(short("a\u{7}b"), "a?b");
    }
}
