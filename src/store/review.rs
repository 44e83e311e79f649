//! Reviews (issue 15): signed judgements of one revision of a visit,
//! merged by union like revisions. The standing of a visit is that of its
//! current revision (`visit.rev_id`): each reviewer's latest review of it
//! counts (`domain::review::Standing`); a later edit is a new revision that
//! waits for a new review.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::Store;
use crate::domain::review::{ReviewState, Standing};

/// A review as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub review_id: String,
    pub visit_id: String,
    /// The revision judged.
    pub rev_id: String,
    pub state: ReviewState,
    pub note: String,
    pub hlc: String,
    /// The reviewer's key id (the signing installation).
    pub device: String,
    /// The reviewer's installation name.
    pub crew: String,
    /// The editor: who reviewed.
    pub author: String,
    /// ed25519 signature of [`signed_message`] by `device`.
    pub signature: String,
}

/// The domain tag of a review signature.
const REVIEW_TAG: &str = "ruralsan review v1";

/// The columns of `review`, in [`row_to_review`]'s order.
pub const REVIEW_COLUMNS: &str = "review_id, visit_id, rev_id, state, note, hlc, device, crew, author, signature";

impl Review {
    /// The id: a hash of every field but the signature, so the same review
    /// made twice is one review, and nothing in it can change unnoticed.
    pub fn compute_id(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.visit_id.as_str(),
            &self.rev_id,
            self.state.code(),
            &self.note,
            &self.hlc,
            &self.device,
            &self.crew,
            &self.author,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        super::fsutil::hex(&h.finalize()[..16])
    }

    fn signed_message(&self) -> Vec<u8> {
        crate::identity::message(REVIEW_TAG, &[&self.review_id])
    }

    /// Whether the signature is the device key's signature of the review.
    pub fn signature_valid(&self) -> bool {
        self.review_id == self.compute_id()
            && crate::identity::verify(&self.device, &self.signed_message(), &self.signature)
    }
}

/// A row of `review` (the state must read; see [`REVIEW_COLUMNS`]).
pub fn row_to_review(r: &rusqlite::Row) -> rusqlite::Result<Review> {
    let state: String = r.get(3)?;
    Ok(Review {
        review_id: r.get(0)?,
        visit_id: r.get(1)?,
        rev_id: r.get(2)?,
        state: ReviewState::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, "review state".into())
        })?,
        note: r.get(4)?,
        hlc: r.get(5)?,
        device: r.get(6)?,
        crew: r.get(7)?,
        author: r.get(8)?,
        signature: r.get(9)?,
    })
}

/// Inserts a review; false when it was there already.
pub(crate) fn insert_review(conn: &Connection, r: &Review) -> Result<bool> {
    let n = conn
        .prepare_cached(&format!(
            "INSERT OR IGNORE INTO review ({REVIEW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))?
        .execute(params![
            r.review_id,
            r.visit_id,
            r.rev_id,
            r.state.code(),
            r.note,
            r.hlc,
            r.device,
            r.crew,
            r.author,
            r.signature
        ])?;
    Ok(n == 1)
}

/// Each reviewer's latest review of each revision: the reviews that count.
/// The one statement of that rule; `LATEST_REVIEWS` filtered further by callers.
pub const LATEST_REVIEWS: &str = "
SELECT r.* FROM review r
WHERE NOT EXISTS (SELECT 1 FROM review o WHERE o.rev_id = r.rev_id AND o.device = r.device
                  AND (o.hlc > r.hlc OR (o.hlc = r.hlc AND o.review_id > r.review_id)))";

/// The visits whose current revision every reviewer approved (the
/// `--approved-only` rule: `Standing::approved`, in SQL).
pub fn approved_visits_sql() -> String {
    format!(
        "WITH latest AS ({LATEST_REVIEWS})
         SELECT x.visit_id FROM visit x JOIN latest l ON l.rev_id = x.rev_id AND l.visit_id = x.visit_id
         GROUP BY x.visit_id HAVING min(l.state = 'approved') = 1"
    )
}

/// Why a review was not recorded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReviewError {
    #[error("no visit {visit_id}")]
    NoSuchVisit { visit_id: String },
    #[error("note: {0:?}")]
    Note(crate::domain::validate::Reason),
}

/// A visit's reviews as the county and the crew see them.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitReview {
    pub visit_id: String,
    /// The current revision (`None`: deleted or no such visit).
    pub current_rev: Option<String>,
    /// Where the current revision stands.
    pub standing: Standing,
    /// The reviews that count for the current revision (each reviewer's latest), oldest first.
    pub current: Vec<Review>,
    /// The latest review of any revision that sent the visit back (issues or rejected).
    pub last_return: Option<Review>,
    /// Whether an earlier revision was reviewed (the current one is then a
    /// correction waiting for review when it has none).
    pub earlier_reviewed: bool,
}

impl VisitReview {
    /// The current revision was sent back to its crew: the note to show ("returned: …").
    pub fn returned_note(&self) -> Option<&str> {
        if !self.standing.returned() {
            return None;
        }
        self.current.iter().rev().find(|r| r.state != ReviewState::Approved).map(|r| r.note.as_str())
    }

    /// An edit made after a review, waiting for a new one.
    pub fn corrected_waiting(&self) -> bool {
        self.standing == Standing::Unreviewed && self.earlier_reviewed
    }
}

/// The review standing of one visit, read from `conn`.
pub(crate) fn visit_review(conn: &Connection, visit_id: &str) -> Result<VisitReview> {
    let current_rev: Option<String> = conn
        .prepare_cached("SELECT rev_id FROM visit WHERE visit_id = ?1")?
        .query_row([visit_id], |r| r.get(0))
        .optional()?;
    let current: Vec<Review> = match &current_rev {
        Some(rev) => conn
            .prepare_cached(&format!(
                "SELECT {REVIEW_COLUMNS} FROM ({LATEST_REVIEWS}) WHERE rev_id = ?1 AND visit_id = ?2
                 ORDER BY hlc, review_id"
            ))?
            .query_map([rev, visit_id], row_to_review)?
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    let standing = Standing::of(&current.iter().map(|r| r.state).collect::<Vec<_>>());
    let last_return = conn
        .prepare_cached(&format!(
            "SELECT {REVIEW_COLUMNS} FROM review WHERE visit_id = ?1 AND state <> 'approved'
             ORDER BY hlc DESC, review_id DESC LIMIT 1"
        ))?
        .query_row([visit_id], row_to_review)
        .optional()?;
    let earlier_reviewed = conn
        .prepare_cached("SELECT 1 FROM review WHERE visit_id = ?1 AND rev_id IS NOT ?2 LIMIT 1")?
        .exists(params![visit_id, current_rev])?;
    Ok(VisitReview { visit_id: visit_id.to_string(), current_rev, standing, current, last_return, earlier_reviewed })
}

impl Store {
    /// Records a review of the visit's current revision as this
    /// installation (`ruralsan review VISIT_ID approve|issues|reject`).
    pub fn review(&mut self, visit_id: &str, state: ReviewState, note: &str) -> Result<Review> {
        crate::domain::validate::check_notes(note).map_err(ReviewError::Note)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rev: Option<String> =
            tx.query_row("SELECT rev_id FROM visit WHERE visit_id = ?1", [visit_id], |r| r.get(0)).optional()?;
        let Some(rev_id) = rev else {
            return Err(ReviewError::NoSuchVisit { visit_id: visit_id.to_string() }.into());
        };
        let mut r = Review {
            review_id: String::new(),
            visit_id: visit_id.to_string(),
            rev_id,
            state,
            note: note.to_string(),
            hlc: super::revisions::next_hlc(&tx)?,
            device: self.identity.key_id(),
            crew: self.identity.crew(),
            author: self.editor.clone(),
            signature: String::new(),
        };
        r.review_id = r.compute_id();
        r.signature = self.identity.sign(&r.signed_message());
        insert_review(&tx, &r)?;
        tx.commit()?;
        Ok(r)
    }

    /// The review standing of one visit.
    pub fn visit_review(&self, visit_id: &str) -> Result<VisitReview> {
        visit_review(&self.conn, visit_id)
    }

    /// Every review of a visit (any revision), oldest first.
    pub fn reviews_of(&self, visit_id: &str) -> Result<Vec<Review>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {REVIEW_COLUMNS} FROM review WHERE visit_id = ?1 ORDER BY hlc, review_id"
        ))?;
        Ok(st.query_map([visit_id], row_to_review)?.collect::<rusqlite::Result<_>>()?)
    }

    /// The visits whose current revision every reviewer approved.
    pub fn approved_visits(&self) -> Result<std::collections::HashSet<String>> {
        approved_visits(&self.conn)
    }
}

pub(crate) fn approved_visits(conn: &Connection) -> Result<std::collections::HashSet<String>> {
    let mut st = conn.prepare_cached(&approved_visits_sql())?;
    Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// A visit waiting in the county's review queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub visit_id: String,
    pub village_code: String,
    pub village_name: String,
    pub survey_date: String,
    pub surveyor: String,
    /// The crew that signed the current revision.
    pub crew: String,
    pub review: VisitReview,
    /// The visit's open checks.
    pub checks: Vec<crate::domain::checks::Check>,
}

impl QueueRow {
    pub fn township(&self) -> &str {
        self.village_code.get(..9).unwrap_or(&self.village_code)
    }
}

/// Most visits the queue lists at once (flagged first): a county reviews
/// a page, decides, and the next ones move up.
pub const QUEUE_MAX: usize = 2_000;

impl Store {
    /// The review queue as of `as_of`: every current visit dated on or
    /// before it whose current revision is not approved by every reviewer,
    /// flagged visits first, then corrections waiting for a new review,
    /// then by township, village and date.
    pub fn review_queue(&self, as_of: &str, settings: &crate::domain::settings::Settings) -> Result<Vec<QueueRow>> {
        let mut checks: std::collections::HashMap<String, Vec<crate::domain::checks::Check>> = Default::default();
        for c in self.checks(as_of, settings)? {
            if let Some(v) = c.visit_id.clone() {
                checks.entry(v).or_default().push(c);
            }
        }
        let approved = approved_visits(&self.conn)?;
        // Most visits have no review yet: only those that have are read one by one.
        let reviewed: std::collections::HashSet<String> = self
            .conn
            .prepare_cached("SELECT DISTINCT visit_id FROM review")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = self.conn.prepare_cached(
            "SELECT x.visit_id, x.village_code, coalesce(o.name, x.village_code), x.survey_date, x.surveyor, r.crew,
                    x.rev_id
             FROM visit x JOIN revision r ON r.rev_id = x.rev_id LEFT JOIN roster o ON o.code = x.village_code
             WHERE x.survey_date <= ?1 ORDER BY x.village_code, x.survey_date, x.visit_id",
        )?;
        let mut rows = st.query([as_of])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let visit_id: String = r.get(0)?;
            if approved.contains(&visit_id) {
                continue;
            }
            let review = if reviewed.contains(&visit_id) {
                visit_review(&self.conn, &visit_id)?
            } else {
                VisitReview {
                    visit_id: visit_id.clone(),
                    current_rev: Some(r.get(6)?),
                    standing: Standing::Unreviewed,
                    current: Vec::new(),
                    last_return: None,
                    earlier_reviewed: false,
                }
            };
            out.push(QueueRow {
                checks: checks.remove(&visit_id).unwrap_or_default(),
                visit_id,
                village_code: r.get(1)?,
                village_name: r.get(2)?,
                survey_date: r.get(3)?,
                surveyor: r.get(4)?,
                crew: r.get(5)?,
                review,
            });
        }
        // Stable: flagged first, then corrections waiting, the rest in code order.
        out.sort_by_key(|q| (q.checks.is_empty(), !q.review.corrected_waiting()));
        out.truncate(QUEUE_MAX);
        Ok(out)
    }
}
