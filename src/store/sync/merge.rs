//! The set union itself: the roster and areas of a checked file, then its
//! revisions, visit by visit, inserted or re-stamped inside the caller's
//! transaction.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::check::{Problems, check_revision, is_hlc, is_rev_id, name_check, read_revision, short};
use super::stage::bad_file;
use super::{FileReport, MergeOptions};
use crate::domain::validate::{NAME_MAX_CHARS, check_line, check_roster_name, is_division_code};
use crate::store::conflict::{self, MERGE_DEVICE, is_auto_merge};
use crate::store::error::{Refusal, RowReason};
use crate::store::revisions::{self, Revision};
use crate::store::trust::Gate;
use crate::store::{NoProgress, Phase, Progress, Work};

/// Checks the roster and areas of a checked file against ours. The roster is
/// the local office's reference data: a merge never adds, renames or
/// re-kinds a unit (only `roster import` does); differing names are reported.
pub(super) fn merge_roster(
    tx: &Connection,
    file: &Connection,
    report: &mut FileReport,
    problems: &mut Problems,
) -> Result<()> {
    let mut st =
        file.prepare("SELECT code, name, is_village, urban_rural_code FROM roster ORDER BY code").map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut local = tx.prepare_cached("SELECT name FROM roster WHERE code = ?1")?;
    while let Some(r) = rows.next().map_err(bad_file)? {
        let code: String = r.get(0).map_err(bad_file)?;
        let name: String = r.get(1).map_err(bad_file)?;
        let is_village: i64 = r.get(2).map_err(bad_file)?;
        let urban: Option<String> = r.get(3).map_err(bad_file)?;
        if !is_division_code(&code) {
            problems.push(Refusal::RosterCode { code: short(&code) });
            continue;
        }
        if check_roster_name(&name).is_err()
            || !(0..=1).contains(&is_village)
            || urban.as_deref().is_some_and(|u| check_line(u, NAME_MAX_CHARS).is_err())
        {
            problems.push(Refusal::RosterRow { code: short(&code) });
            continue;
        }
        if let Some(here) = local.query_row([&code], |r| r.get::<_, String>(0)).optional()?
            && here != name
        {
            report.roster_names_differ.push((code, here, name));
        }
    }
    let mut st = file.prepare("SELECT code, name FROM area ORDER BY code").map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    while let Some(r) = rows.next().map_err(bad_file)? {
        let code: String = r.get(0).map_err(bad_file)?;
        let name: String = r.get(1).map_err(bad_file)?;
        if !matches!(code.len(), 6 | 9)
            || !code.bytes().all(|b| b.is_ascii_digit())
            || check_roster_name(&name).is_err()
        {
            problems.push(Refusal::AreaRow { code: short(&code) });
        }
    }
    foreign_units(tx, file, problems)
}

/// Codes listed in a foreign-roster refusal.
const FOREIGN_LISTED: usize = 5;

/// Refuses a file whose revisions are of units outside the local roster (or
/// of communities): one refusal with their count and the first codes.
fn foreign_units(tx: &Connection, file: &Connection, problems: &mut Problems) -> Result<()> {
    let mut st = file
        .prepare(
            "SELECT DISTINCT json_extract(payload, '$.village_code') FROM revision
             WHERE NOT deleted AND json_valid(payload) ORDER BY 1",
        )
        .map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut local = tx.prepare_cached("SELECT is_village FROM roster WHERE code = ?1")?;
    let (mut units, mut first) = (0usize, Vec::new());
    while let Some(r) = rows.next().map_err(bad_file)? {
        // Anything not a code is the revision check's to report.
        let Ok(Some(code)) = r.get::<_, Option<String>>(0) else { continue };
        if !is_division_code(&code) {
            continue;
        }
        if local.query_row([&code], |r| r.get::<_, bool>(0)).optional()? != Some(true) {
            units += 1;
            if first.len() < FOREIGN_LISTED {
                first.push(code);
            }
        }
    }
    if units > 0 {
        problems.push(Refusal::ForeignRoster { units, first });
    }
    Ok(())
}

/// Reads, checks and inserts the revisions of a checked file; the visits touched.
// The file, its gate, and what it reports to: each a separate borrow of merge_one's state.
#[allow(clippy::too_many_arguments)]
pub(super) fn merge_revisions(
    tx: &Connection,
    file: &Connection,
    name: &str,
    opts: MergeOptions,
    gate: &mut Gate,
    report: &mut FileReport,
    problems: &mut Problems,
    progress: &dyn Progress,
) -> Result<(Vec<String>, String)> {
    let today = chrono::Local::now().date_naive();
    let total: i64 = file.query_row("SELECT count(*) FROM revision", [], |r| r.get(0)).map_err(bad_file)?;
    let quiet = NoProgress;
    let bar = Phase::new(if opts.progress { progress } else { &quiet }, Work::RevisionsChecked(name), total as u64);
    let mut st = file
        .prepare(&format!("SELECT {} FROM revision ORDER BY visit_id, rev_id", revisions::REVISION_COLUMNS))
        .map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut existing =
        tx.prepare_cached("SELECT hlc, device, crew, author, signature FROM revision WHERE rev_id = ?1")?;
    let mut known_visit = tx.prepare_cached("SELECT 1 FROM revision WHERE visit_id = ?1 LIMIT 1")?;
    let mut restamp = tx.prepare_cached(
        "UPDATE revision SET hlc = ?2, device = ?3, crew = ?4, author = ?5, signature = ?6 WHERE rev_id = ?1",
    )?;
    let mut local_roots = tx.prepare_cached("SELECT rev_id FROM revision WHERE visit_id = ?1 AND parents = '[]'")?;
    let mut roster_cache = HashMap::new();
    let mut touched = Vec::new();
    let mut max_hlc = String::new();
    let mut group: Vec<Revision> = Vec::new();
    let mut flush = |group: &mut Vec<Revision>, problems: &mut Problems| -> Result<()> {
        if group.is_empty() {
            return Ok(());
        }
        let ids: HashSet<String> = group.iter().map(|r| r.rev_id.clone()).collect();
        let mut parsed = Vec::with_capacity(group.len());
        for r in group.iter() {
            parsed.push(check_revision(tx, r, &ids, today, &mut roster_cache, problems)?);
        }
        check_roots(group, &mut local_roots, problems)?;
        if problems.total > 0 {
            group.clear();
            return Ok(());
        }
        let visit_id = group[0].visit_id.clone();
        let is_new = !known_visit.exists([&visit_id])?;
        // A revision held here that arrives with other metadata is either
        // the same edit made and signed independently elsewhere (the same
        // bundle imported on two laptops, the same figure typed by two
        // crews): kept, with the least of the two stamps so that every
        // merge order agrees; or a re-labelling (unsigned, badly signed, an
        // automatic merge turned into a person's edit or back): refused.
        // Revisions new here pass the gate (signature, trust, clock).
        let mut held = Vec::with_capacity(group.len());
        for r in group.iter() {
            // A revision id hashes its visit id: a visit new here has none of them.
            let here: Option<[String; 5]> = if is_new {
                None
            } else {
                existing
                    .query_row([&r.rev_id], |x| Ok([x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?, x.get(4)?]))
                    .optional()?
            };
            let mut restamped = false;
            match &here {
                Some(h) => {
                    let theirs = [&r.hlc, &r.device, &r.crew, &r.author, &r.signature];
                    let fields: Vec<&'static str> = ["hlc", "device", "crew", "author", "signature"]
                        .into_iter()
                        .zip(h.iter().zip(theirs))
                        .filter(|(_, (a, b))| a != b)
                        .map(|(f, _)| f)
                        .collect();
                    if !fields.is_empty() {
                        let merge_here = h[1] == MERGE_DEVICE || h[3] == MERGE_DEVICE;
                        let signed_elsewhere = !is_auto_merge(r) && !merge_here && r.signature_valid();
                        if !signed_elsewhere {
                            problems.push(Refusal::Relabelled { rev: short(&r.rev_id), fields });
                        } else if let Some(why) = gate.admit(r, short) {
                            problems.push(why);
                        } else if theirs < [&h[0], &h[1], &h[2], &h[3], &h[4]] {
                            restamped = true;
                        }
                    }
                }
                None => {
                    if let Some(why) = gate.admit(r, short) {
                        problems.push(why);
                    }
                }
            }
            held.push((here.is_some(), restamped));
        }
        if problems.total > 0 {
            group.clear();
            return Ok(());
        }
        if is_new && group.len() == 1 && !group[0].deleted {
            // The common case: a visit new here with a single revision. It is
            // its own head; write it without searching the graph again.
            let r = group.pop().expect("one revision");
            let data = parsed.pop().flatten().expect("checked payload");
            max_hlc = max_hlc.clone().max(r.hlc.clone());
            revisions::insert_revision(tx, &r)?;
            tx.prepare_cached("INSERT INTO head (visit_id, rev_id) VALUES (?1, ?2)")?
                .execute([&visit_id, &r.rev_id])?;
            revisions::write_current(tx, &visit_id, &r.rev_id, &data)?;
            report.new_revisions += 1;
            report.new_visits += 1;
            report.touched_visits += 1;
            return Ok(());
        }
        let mut changed = false;
        let mut merges = Vec::new();
        for (r, (held, restamped)) in group.drain(..).zip(held) {
            if r.hlc > max_hlc {
                max_hlc = r.hlc.clone();
            }
            if !held {
                revisions::insert_revision(tx, &r)?;
                report.new_revisions += 1;
                changed = true;
                if is_auto_merge(&r) {
                    merges.push(r);
                }
            } else if restamped {
                restamp.execute(params![r.rev_id, r.hlc, r.device, r.crew, r.author, r.signature])?;
                changed = true;
            }
        }
        // Every parent is held now: an automatic merge must be exactly ours.
        for m in &merges {
            if !conflict::is_genuine_auto_merge(tx, m)? {
                problems.push(Refusal::ForgedMerge { rev: short(&m.rev_id) });
            }
        }
        if changed {
            report.new_visits += is_new as u64;
            touched.push(visit_id);
        }
        Ok(())
    };
    let mut n = 0u64;
    while let Some(row) = rows.next().map_err(bad_file)? {
        let (r, bad) = read_revision(row).map_err(bad_file)?;
        n += 1;
        if let Some(why) = bad {
            problems.push(Refusal::RevisionColumns { rev: short(&r.rev_id), detail: short(&why) });
            continue;
        }
        if group.first().is_some_and(|g| g.visit_id != r.visit_id) {
            flush(&mut group, problems)?;
        }
        group.push(r);
        bar.step();
    }
    flush(&mut group, problems)?;
    drop(bar);
    report.revisions = n;
    Ok((touched, max_hlc))
}

/// A visit has one history: one first revision (without parents), and it is
/// not a deletion. A root new here is refused when the visit already has
/// another root, here or in the file (`SecondRoot`), or when it deletes a
/// visit that exists nowhere (`TombstoneWithoutVisit`). Every other revision
/// of the file descends from a root of the file (its parents are in the
/// file, `check_revision`), so these two rules cover every revision that
/// would pretend a visit began twice, or ended without beginning.
fn check_roots(group: &[Revision], local_roots: &mut rusqlite::CachedStatement, problems: &mut Problems) -> Result<()> {
    let file_roots: Vec<&Revision> = group.iter().filter(|r| r.parents.is_empty()).collect();
    if file_roots.is_empty() {
        return Ok(());
    }
    let here: Vec<String> =
        local_roots.query_map([&group[0].visit_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    for r in file_roots.iter().filter(|r| !here.contains(&r.rev_id)) {
        let another = here.iter().chain(file_roots.iter().map(|o| &o.rev_id)).any(|id| *id != r.rev_id);
        let why = if another {
            RowReason::SecondRoot
        } else if r.deleted {
            RowReason::TombstoneWithoutVisit
        } else {
            continue;
        };
        problems.push(Refusal::Revision { rev: short(&r.rev_id), visit: short(&r.visit_id), field: "parents", why });
    }
    Ok(())
}

/// Reads, checks and inserts the reviews of a checked file, after its
/// revisions (inside the caller's transaction): each one judges a revision
/// held here (or just merged) of the visit it names, reads as typed input,
/// is named by its content, signed by its device key, and that key passes
/// the same gate as revisions do. A review held here with another
/// signature is refused as re-labelled. Returns the reviews new here.
pub(super) fn merge_reviews(
    tx: &Connection,
    file: &Connection,
    gate: &mut Gate,
    problems: &mut Problems,
) -> Result<u64> {
    use crate::domain::review::ReviewState;
    use crate::domain::validate::{ID_MAX_CHARS, check_notes};
    use crate::store::error::ReviewReason;
    use crate::store::review::{REVIEW_COLUMNS, Review, insert_review};
    let mut st = file.prepare(&format!("SELECT {REVIEW_COLUMNS} FROM review ORDER BY review_id")).map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut rev_of = tx.prepare_cached("SELECT visit_id FROM revision WHERE rev_id = ?1")?;
    let mut held = tx.prepare_cached("SELECT signature FROM review WHERE review_id = ?1")?;
    let mut new = 0u64;
    let text = |r: &rusqlite::Row, i: usize| r.get::<_, String>(i).ok();
    while let Some(row) = rows.next().map_err(bad_file)? {
        let cols: Vec<Option<String>> = (0..10).map(|i| text(row, i)).collect();
        let id = cols[0].clone().unwrap_or_default();
        let visit = cols[1].clone().unwrap_or_default();
        let refuse = |why: ReviewReason| Refusal::Review { review: short(&id), visit: short(&visit), why };
        const NAMES: [&str; 10] =
            ["review_id", "visit_id", "rev_id", "state", "note", "hlc", "device", "crew", "author", "signature"];
        if let Some(i) = cols.iter().position(Option::is_none) {
            problems.push(refuse(ReviewReason::Field(NAMES[i])));
            continue;
        }
        let c: Vec<String> = cols.into_iter().map(Option::unwrap_or_default).collect();
        let Some(state) = ReviewState::parse(&c[3]) else {
            problems.push(refuse(ReviewReason::Field("state")));
            continue;
        };
        let bad_field = [
            (1, check_line(&c[1], ID_MAX_CHARS).is_err()),
            (2, !is_rev_id(&c[2])),
            (4, check_notes(&c[4]).is_err()),
            (5, !is_hlc(&c[5])),
            (7, check_line(&c[7], NAME_MAX_CHARS).is_err()),
            (8, name_check(&c[8]).is_err()),
            (9, c[9].len() > 256),
        ]
        .into_iter()
        .find(|(_, bad)| *bad);
        if let Some((i, _)) = bad_field {
            problems.push(refuse(ReviewReason::Field(NAMES[i])));
            continue;
        }
        let r = Review {
            review_id: c[0].clone(),
            visit_id: c[1].clone(),
            rev_id: c[2].clone(),
            state,
            note: c[4].clone(),
            hlc: c[5].clone(),
            device: c[6].clone(),
            crew: c[7].clone(),
            author: c[8].clone(),
            signature: c[9].clone(),
        };
        if rev_of.query_row([&r.rev_id], |x| x.get::<_, String>(0)).optional()?.as_deref() != Some(r.visit_id.as_str())
        {
            problems.push(refuse(ReviewReason::UnknownRevision(short(&r.rev_id))));
            continue;
        }
        if r.review_id != r.compute_id() {
            problems.push(refuse(ReviewReason::IdMismatch));
            continue;
        }
        match held.query_row([&r.review_id], |x| x.get::<_, String>(0)).optional()? {
            Some(sig) if sig == r.signature => continue,
            Some(_) => {
                problems.push(refuse(ReviewReason::Relabelled));
                continue;
            }
            None => {}
        }
        if r.signature.is_empty() || !crate::identity::is_key_id(&r.device) {
            problems.push(refuse(ReviewReason::Unsigned));
            continue;
        }
        if !r.signature_valid() {
            let fingerprint = crate::identity::fingerprint(&r.device);
            problems.push(refuse(ReviewReason::BadSignature { fingerprint }));
            continue;
        }
        gate.admit_signer(&r.device, &r.crew, &r.hlc, short);
        if problems.total == 0 && insert_review(tx, &r)? {
            new += 1;
        }
    }
    Ok(new)
}
