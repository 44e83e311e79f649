//! What the terminal UI reads and writes, as plain values: the village
//! browser's pages, a village's visits, drafts, the supervisor's per-visit
//! figures and conflicts per area. The screens call these and never see SQL;
//! each query reuses the store's own functions where one exists.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::browse::{self, AreaItem, Draft, VillageItem, VisitItem};
use super::conflict::OPEN_CONFLICT_VISITS;
use super::revisions::{self, Revision};
use super::{Store, code_range};
use crate::domain::settings::Settings;
use crate::domain::validate::Reason;
use crate::domain::{Level, VisitData};

/// How a visit stands as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The village's counting visit.
    Counting,
    /// Same date as the counting visit, smaller id: a duplicate visit.
    Duplicate,
    /// After the as-of date: not counted yet.
    After,
    /// An earlier visit, superseded.
    Older,
}

/// One visit of a village with the figures the supervisor's visit list shows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitFigures {
    pub visit_id: String,
    pub survey_date: String,
    pub surveyor: String,
    pub households: i64,
    pub hh_sewer_reuse: i64,
    pub hh_controlled: i64,
    pub nv_covered: i64,
    pub natural_villages: i64,
    pub notes: String,
    pub facilities_normal: i64,
    pub facilities: i64,
    pub farms: i64,
    pub water_bodies: i64,
    pub standing: Standing,
}

/// The visits of one village as of a date, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct VillageVisits {
    pub as_of: String,
    pub rows: Vec<VisitFigures>,
}

/// Open conflicts per area code.
pub type ConflictsByArea = HashMap<String, i64>;

/// The village of each visit with an open conflict (`None` when no head
/// names one).
pub(crate) type Conflicted = Arc<Vec<Option<String>>>;

/// The first and last village codes of the roster (empty when it has none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VillageSpan {
    pub first: String,
    pub last: String,
}

impl VillageSpan {
    /// The coarsest level with more than one area, else county.
    pub fn top_level(&self) -> Level {
        for level in [Level::Province, Level::City] {
            let n = level.prefix_len();
            if self.first.get(..n) != self.last.get(..n) {
                return level;
            }
        }
        Level::County
    }
}

impl Store {
    /// The file the database lives in, resolved (None in memory).
    pub fn file_path(&self) -> Option<PathBuf> {
        self.path().and_then(|p| std::fs::canonicalize(p).ok())
    }

    // ----- the crew's screens -----

    /// The areas one level below `prefix` ("" → counties).
    pub fn areas(&self, prefix: &str) -> Result<Vec<AreaItem>> {
        browse::areas(&self.conn, prefix)
    }

    /// One page of the village-level units under `prefix` matching `query`.
    pub fn villages(&self, prefix: &str, query: &str, limit: usize, offset: usize) -> Result<Vec<VillageItem>> {
        browse::villages(&self.conn, prefix, query, limit, offset)
    }

    /// The county and township above a village-level unit.
    pub fn village_path(&self, code: &str) -> Result<Vec<AreaItem>> {
        browse::path_of(&self.conn, code)
    }

    /// A roster unit: name and whether it is an administrative village.
    pub fn roster_unit(&self, code: &str) -> Result<Option<(String, bool)>> {
        browse::roster_unit(&self.conn, code)
    }

    /// What is wrong with a village code for a visit, if anything.
    pub fn roster_problem(&self, code: &str) -> Result<Option<Reason>> {
        super::bundle::roster_problem(&self.conn, code)
    }

    /// The visits of a village for the crew's list, newest first.
    pub fn visits_of(&self, code: &str) -> Result<Vec<VisitItem>> {
        browse::visits_of(&self.conn, code)
    }

    /// The current revision id and full data of a visit.
    pub fn load_visit(&self, visit_id: &str) -> Result<Option<(String, VisitData)>> {
        browse::load_visit(&self.conn, visit_id)
    }

    /// The data of the latest visit of a village, for copying forward.
    pub fn previous_visit(&self, code: &str) -> Result<Option<VisitData>> {
        browse::previous_visit(&self.conn, code)
    }

    /// The crew's day in `township` for the round started on `start`: what
    /// is left to visit, and what this installation saved on `day` (local).
    pub fn crew_day(&self, township: &str, start: &str, day: chrono::NaiveDate) -> Result<browse::CrewDay> {
        let stamp = |d: chrono::NaiveDate| {
            let ms = d
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
                .map_or(0, |t| t.timestamp_millis());
            super::revisions::format_hlc(ms, 0)
        };
        let next = day.succ_opt().unwrap_or(day);
        browse::crew_day(&self.conn, self.device(), township, start, &stamp(day), &stamp(next))
    }

    /// Every draft, newest first.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        browse::drafts(&self.conn)
    }

    /// Writes (or replaces) a draft.
    pub fn put_draft(&self, d: &Draft) -> Result<()> {
        browse::put_draft(&self.conn, d)
    }

    pub fn delete_draft(&self, draft_id: &str) -> Result<()> {
        browse::delete_draft(&self.conn, draft_id)
    }

    // ----- the county's screens -----

    /// The heads of a visit (several when it is in conflict).
    pub fn heads(&self, visit_id: &str) -> Result<Vec<Revision>> {
        revisions::heads(&self.conn, visit_id)
    }

    // ----- the supervisor's screens -----

    /// The first and last village codes of the roster.
    pub fn village_span(&self) -> Result<VillageSpan> {
        let (first, last): (Option<String>, Option<String>) = self.conn.query_row(
            "SELECT (SELECT code FROM roster WHERE is_village = 1 ORDER BY code LIMIT 1),
                    (SELECT code FROM roster WHERE is_village = 1 ORDER BY code DESC LIMIT 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(VillageSpan { first: first.unwrap_or_default(), last: last.unwrap_or_default() })
    }

    /// The date of the first visit of a village inside the area `code` (a code prefix).
    pub fn first_visit_date(&self, code: &str) -> Result<Option<String>> {
        let (lo, hi) = code_range(code);
        Ok(self.conn.query_row(
            "SELECT min(survey_date) FROM visit WHERE village_code >= ?1 AND village_code < ?2",
            [lo, hi],
            |r| r.get(0),
        )?)
    }

    /// The visits of one village with their figures and standing as of
    /// `as_of`. Which visit counts comes from the summary aggregate (the
    /// one place the rule lives); the list is in the same order, so the
    /// counting visit is the first of its date.
    pub fn village_visits(&self, code: &str, as_of: &str, settings: &Settings) -> Result<VillageVisits> {
        let mut st = self.conn.prepare_cached(
            "SELECT visit_id, survey_date, surveyor, households, hh_sewer + hh_reuse, hh_controlled,
                    nv_garbage_covered, natural_villages, notes,
                    (SELECT count(*) FROM facility f WHERE f.visit_id = v.visit_id AND f.status = 'normal'),
                    (SELECT count(*) FROM facility f WHERE f.visit_id = v.visit_id),
                    (SELECT count(*) FROM farm f WHERE f.visit_id = v.visit_id),
                    (SELECT count(*) FROM water_body w WHERE w.visit_id = v.visit_id)
             FROM visit v WHERE village_code = ?1 ORDER BY survey_date DESC, visit_id DESC",
        )?;
        let mut rows = st
            .query_map([code], |r| {
                Ok(VisitFigures {
                    visit_id: r.get(0)?,
                    survey_date: r.get(1)?,
                    surveyor: r.get(2)?,
                    households: r.get(3)?,
                    hh_sewer_reuse: r.get(4)?,
                    hh_controlled: r.get(5)?,
                    nv_covered: r.get(6)?,
                    natural_villages: r.get(7)?,
                    notes: r.get(8)?,
                    facilities_normal: r.get(9)?,
                    facilities: r.get(10)?,
                    farms: r.get(11)?,
                    water_bodies: r.get(12)?,
                    standing: Standing::Older,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let counting_date = self
            .village_status(as_of, Some(code), settings)?
            .into_iter()
            .find(|v| v.row.code == code)
            .and_then(|v| v.counting_date);
        let mut counted = false;
        for v in &mut rows {
            v.standing = if v.survey_date.as_str() > as_of {
                Standing::After
            } else if counting_date.as_deref() == Some(v.survey_date.as_str()) {
                if counted { Standing::Duplicate } else { Standing::Counting }
            } else {
                Standing::Older
            };
            if v.standing == Standing::Counting {
                counted = true;
            }
        }
        Ok(VillageVisits { as_of: as_of.to_string(), rows })
    }

    /// Open conflicts per area: visits with more than one head, placed by
    /// the village of their current row, or of a head's payload when the
    /// current row is gone (an edit against a deletion). `prefix_len` is
    /// the code length of the level shown, `within` the code prefix looked
    /// inside ("" for everything).
    pub fn conflicts_by_area(&self, prefix_len: usize, within: &str) -> Result<ConflictsByArea> {
        let (lo, hi) = code_range(within);
        let mut by_area = ConflictsByArea::new();
        for code in self.conflicted_villages()?.iter().flatten() {
            if code.as_str() >= lo.as_str() && code.as_str() < hi.as_str() {
                *by_area.entry(code[..prefix_len.min(code.len())].to_string()).or_default() += 1;
            }
        }
        Ok(by_area)
    }

    /// The village of each visit with an open conflict (`None` when no head
    /// names one), kept while the data stays the same: a dashboard asks for
    /// it with every view, and finding them scans every head.
    pub(crate) fn conflicted_villages(&self) -> Result<Conflicted> {
        // Inside a transaction, whose writes may yet be rolled back (the
        // stamp would not go back), nothing is kept.
        if !self.conn.is_autocommit() {
            return Ok(Arc::new(conflicted_villages(&self.conn)?));
        }
        let stamp = self.data_stamp()?;
        if let Some(kept) = self.kept_conflicts(stamp) {
            return Ok(kept);
        }
        let list = Arc::new(conflicted_villages(&self.conn)?);
        self.keep_conflicts(stamp, list.clone());
        Ok(list)
    }

    /// [`Store::conflicted_villages`] if kept for the data `stamp`.
    pub(crate) fn kept_conflicts(&self, stamp: super::live::DataStamp) -> Option<Conflicted> {
        let kept = self.conflicts.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref().filter(|(s, _)| *s == stamp).map(|(_, list)| list.clone())
    }

    /// Keeps the conflicted villages found in the data of `stamp` (or of a
    /// later state: then no later stamp equals `stamp`, and it is never used).
    pub(crate) fn keep_conflicts(&self, stamp: super::live::DataStamp, list: Conflicted) {
        *self.conflicts.lock().unwrap_or_else(|e| e.into_inner()) = Some((stamp, list));
    }
}

/// The village of each visit with an open conflict: its current row's, else
/// the greatest its heads name.
pub(crate) fn conflicted_villages(conn: &rusqlite::Connection) -> Result<Vec<Option<String>>> {
    let mut st = conn.prepare_cached(&format!(
        "WITH c AS ({OPEN_CONFLICT_VISITS})
         SELECT coalesce(
           (SELECT v.village_code FROM visit v WHERE v.visit_id = c.visit_id),
           (SELECT max(json_extract(r.payload, '$.village_code')) FROM head h JOIN revision r ON r.rev_id = h.rev_id
            WHERE h.visit_id = c.visit_id AND json_valid(r.payload)))
         FROM c"
    ))?;
    let rows = st.query_map([], |r| r.get::<_, Option<String>>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
