//! Indicator aggregation (SPEC §3, §4) from the per-visit figures kept with
//! the data (`visit_figures`, see `figures`): the summary reads that table
//! and the roster, each once, in code order, picks every village's counting
//! visit and sums. The formulas are the domain's (`indicators`).

use std::sync::Arc;

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Phase, Store, Work, figures};
use crate::domain::Level;
use crate::domain::indicators::{Figures, VisitFigures};
use crate::domain::settings::Settings;

/// One area's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    pub level: Level,
    pub code: String,
    pub name: String,
    pub figures: Figures,
}

/// The figures of every area of one level, as of a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub as_of: String,
    pub settings: Settings,
    pub level: Level,
    /// The sum of `areas`.
    pub total: Figures,
    pub areas: Vec<AreaRow>,
    /// Visits whose conflicting edits wait for someone to resolve them.
    pub open_conflicts: i64,
    /// Only approved visits counted (`--approved-only`).
    pub approved_only: bool,
    /// Whether flagged visits were counted (`Counting::flagged`); when not,
    /// `Figures::flagged` is 0 and outputs show it as not computed.
    pub flagged_checked: bool,
}

/// Which visits a summary counts, and what it says of them (issue 15).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counting {
    /// Count only visits whose current revision every reviewer approved:
    /// the counting visit is then the latest approved one on or before D.
    pub approved_only: bool,
    /// Run the checks to count flagged visits. Off by default: the checks
    /// look across every visit, which a national summary cannot afford on
    /// every look (`summary --flagged`, the report and the county turn it on).
    pub flagged: bool,
}

/// The review standing of the visits, for marking each counting visit as
/// approved or flagged (and for leaving out the unapproved ones).
struct Marks {
    approved: std::collections::HashSet<String>,
    flagged: std::sync::Arc<std::collections::HashSet<String>>,
    approved_only: bool,
}

/// The administrative villages of the roster in the code range ?1..?2, in
/// code order.
pub const ROSTER_SQL: &str =
    "SELECT code, name FROM roster WHERE is_village = 1 AND code >= ?1 AND code < ?2 ORDER BY code";

/// The per-visit figures of the villages in the code range ?1..?2 up to the
/// date ?3, in key order: each village's visits by date, then id, so its
/// counting visit as of D is the last row dated D or earlier. One forward
/// pass over the table's key (no sort, no look-ups). `{id}` is `, visit_id`
/// when the pass marks visits by id, else nothing (one column less to read).
macro_rules! figures_sql {
    ($id:literal) => {
        concat!(
            "SELECT village_code, survey_date, households, households_treated, hh_controlled, natural_villages,
       nv_covered, facilities_normal, facilities_total, produced_t, utilized_t, scale_farms,
       scale_farms_equipped, water_listed, water_remediated, water_relapsed",
            $id,
            " FROM visit_figures
WHERE village_code >= ?1 AND village_code < ?2 AND survey_date <= ?3
ORDER BY village_code, survey_date, visit_id"
        )
    };
}

/// [`figures_sql!`] with the visit id (for marking visits) and without.
pub const FIGURES_SQL: &str = figures_sql!(", visit_id");
const FIGURES_SQL_NO_ID: &str = figures_sql!("");

/// The names of the areas of one code length ?3 in the code range ?1..?2,
/// in code order.
const AREA_NAMES_SQL: &str =
    "SELECT code, name FROM area WHERE code >= ?1 AND code < ?2 AND length(code) = ?3 ORDER BY code";

/// One visit of the village at hand: its date and figures.
struct Dated {
    date: [u8; 10],
    figures: VisitFigures,
    approved: bool,
    flagged: bool,
}

fn date_key(s: &str) -> [u8; 10] {
    let mut k = [0u8; 10];
    let n = s.len().min(10);
    k[..n].copy_from_slice(&s.as_bytes()[..n]);
    k
}

fn read_figures(r: &rusqlite::Row) -> rusqlite::Result<VisitFigures> {
    Ok(VisitFigures {
        households: r.get(2)?,
        households_treated: r.get(3)?,
        hh_controlled: r.get(4)?,
        natural_villages: r.get(5)?,
        nv_covered: r.get(6)?,
        facilities_normal: r.get(7)?,
        facilities_total: r.get(8)?,
        produced_t: r.get(9)?,
        utilized_t: r.get(10)?,
        scale_farms: r.get(11)?,
        scale_farms_equipped: r.get(12)?,
        water_listed: r.get(13)?,
        water_remediated: r.get(14)?,
        water_relapsed: r.get(15)?,
    })
}

/// The sums of one area as of one date.
///
/// Why these sums cannot overflow or lose a unit: every count is bounded by
/// the domain (`validate::MAX_*`: households ≤ 10^5 per village, natural
/// villages ≤ 10^3, one village is one count of each other figure per child
/// row), and China has about 6 × 10^5 administrative villages, so the largest
/// national sum (households) is ≤ 10^5 × 6 × 10^5 = 6 × 10^10, far below
/// 2^63; `Figures::add` saturates all the same. Manure tonnes are ≤ 10^7 per
/// farm: sums stay finite.
#[derive(Default, Clone)]
struct Acc {
    figures: Figures,
    last_date: Option<[u8; 10]>,
}

/// One village's standing as of a date: its figures (at village level
/// `surveyed`, `villages_treated`, `villages_controlled` and
/// `duplicate_visits` are 0 or 1) and the date of its counting visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VillageStatus {
    pub row: AreaRow,
    /// The counting visit's date; `None` for an unsurveyed village.
    pub counting_date: Option<String>,
}

/// One summary pass: what it counts and how, shared by the threads that run
/// it over parts of the code range.
struct Pass<'a> {
    marks: &'a Marks,
    as_ofs: &'a [[u8; 10]],
    /// The latest date of `as_ofs`: no visit after it is read.
    last: &'a str,
    level: Level,
    threshold: f64,
}

/// What a pass hands its caller: the date's index, an area's row, the
/// latest counting-visit date among its villages.
type Emit<'e> = dyn FnMut(usize, AreaRow, Option<String>) -> Result<()> + 'e;

impl Pass<'_> {
    /// The areas of the villages in the code range `[lo, hi)` (which holds
    /// whole areas of the level), in code order, from one forward pass over
    /// the roster and the per-visit figures of `conn`.
    fn run(&self, conn: &Connection, lo: &str, hi: &str, each: &mut Emit) -> Result<()> {
        let marks = self.marks;
        let len = self.level.prefix_len();
        // Without marks to set, a row's visit id is not read.
        let marking = marks.approved_only || !marks.approved.is_empty() || !marks.flagged.is_empty();
        let mut roster_st = conn.prepare_cached(ROSTER_SQL)?;
        let mut roster = roster_st.query(params![lo, hi])?;
        let mut figures_st = conn.prepare_cached(if marking { FIGURES_SQL } else { FIGURES_SQL_NO_ID })?;
        let mut visits = figures_st.query(params![lo, hi, self.last])?;
        // County and township names, read alongside the areas (in step).
        let mut names_st = conn.prepare_cached(AREA_NAMES_SQL)?;
        let mut names = names_st.query(params![lo, hi, len as i64])?;
        let mut named: Option<(String, String)> = None;

        // The visit row read ahead: its village code, date and figures.
        let mut next_code = String::new();
        let mut next: Option<Dated> = None;
        let mut advance = |code: &mut String, next: &mut Option<Dated>| -> Result<()> {
            *next = None;
            while let Some(r) = visits.next()? {
                let (approved, flagged) = if marking {
                    let id = r.get_ref(16)?.as_str()?;
                    (marks.approved.contains(id), marks.flagged.contains(id))
                } else {
                    (false, false)
                };
                if marks.approved_only && !approved {
                    continue;
                }
                code.clear();
                code.push_str(r.get_ref(0)?.as_str()?);
                *next = Some(Dated {
                    date: date_key(r.get_ref(1)?.as_str()?),
                    figures: read_figures(r)?,
                    approved,
                    flagged,
                });
                break;
            }
            Ok(())
        };
        advance(&mut next_code, &mut next)?;

        let mut mine: Vec<Dated> = Vec::new();
        let mut accs: Vec<Acc> = vec![Acc::default(); self.as_ofs.len()];
        let mut area = String::new();
        let mut name = String::new();
        let level = self.level;
        let mut emit = |area: &str, name: &str, accs: &mut [Acc]| -> Result<()> {
            let name = match len {
                6 | 9 => {
                    while named.as_ref().is_none_or(|(code, _)| code.as_str() < area) {
                        match names.next()? {
                            Some(r) => named = Some((r.get(0)?, r.get(1)?)),
                            None => break,
                        }
                    }
                    match &named {
                        Some((code, name)) if code == area => name.clone(),
                        _ => area.to_string(),
                    }
                }
                12 => name.to_string(),
                _ => area.to_string(),
            };
            for (k, acc) in accs.iter_mut().enumerate() {
                let acc = std::mem::take(acc);
                let date = acc.last_date.map(|d| String::from_utf8_lossy(&d).into_owned());
                each(k, AreaRow { level, code: area.to_string(), name: name.clone(), figures: acc.figures }, date)?;
            }
            Ok(())
        };
        while let Some(r) = roster.next()? {
            let code = r.get_ref(0)?.as_str()?;
            let this_area = &code[..len.min(code.len())];
            if this_area != area {
                if !area.is_empty() {
                    emit(&area, &name, &mut accs)?;
                }
                area.clear();
                area.push_str(this_area);
            }
            if len == 12 {
                name.clear();
                name.push_str(r.get_ref(1)?.as_str()?);
            }
            // This village's visits (visits of codes not in the roster as
            // villages are passed over).
            while next.is_some() && next_code.as_str() < code {
                advance(&mut next_code, &mut next)?;
            }
            mine.clear();
            while next.is_some() && next_code == code {
                mine.push(next.take().expect("read ahead"));
                advance(&mut next_code, &mut next)?;
            }
            for (acc, as_of) in accs.iter_mut().zip(self.as_ofs) {
                // The counting visit: the last dated on or before the as-of
                // date (the greatest id of that date); a duplicate when the
                // visit before it has the same date.
                let f = match mine.iter().rposition(|v| v.date <= *as_of) {
                    Some(i) => {
                        let dup = i > 0 && mine[i - 1].date == mine[i].date;
                        acc.last_date = acc.last_date.max(Some(mine[i].date));
                        let mut f = mine[i].figures.village(self.threshold, dup);
                        f.approved = mine[i].approved as i64;
                        f.flagged = mine[i].flagged as i64;
                        f
                    }
                    None => Figures { villages: 1, ..Figures::default() },
                };
                acc.figures.add(&f);
            }
        }
        if !area.is_empty() {
            emit(&area, &name, &mut accs)?;
        }
        Ok(())
    }
}

/// The code ranges a summary inside `within` is cut into for its threads:
/// one per area of the level below `within` that holds a roster unit, none
/// finer than `level` (so each holds whole areas of the level), in code
/// order; the whole of `within` when it cannot be cut.
fn parts(conn: &Connection, within: &str, level: Level) -> Result<Vec<(String, String)>> {
    let cut = Level::ALL.iter().map(|l| l.prefix_len()).find(|&n| n > within.len()).unwrap_or(12);
    let cut = cut.min(level.prefix_len());
    if cut <= within.len() {
        return Ok(vec![super::code_range(within)]);
    }
    let (mut from, hi) = super::code_range(within);
    let mut first =
        conn.prepare_cached("SELECT code FROM roster WHERE code >= ?1 AND code < ?2 ORDER BY code LIMIT 1")?;
    let mut out = Vec::new();
    while let Some(code) = first.query_row(params![from, hi], |r| r.get::<_, String>(0)).optional()? {
        let part = super::code_range(&code[..cut.min(code.len())]);
        from.clone_from(&part.1);
        out.push(part);
    }
    if out.is_empty() {
        out.push(super::code_range(within));
    }
    Ok(out)
}

/// `PRAGMA data_version` of `conn`: the same before and after a read
/// transaction exactly when no other connection committed in between.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

/// What one job of a parallel summary made.
enum Made {
    Conflicts(Vec<Option<String>>),
    Rows(Vec<(usize, AreaRow, Option<String>)>),
}

impl Store {
    /// Runs the summary for each date of `as_ofs` in one pass, calling
    /// `each` with the date's index, every area's row in code order and the
    /// latest counting-visit date among its villages; returns the number of
    /// open conflicts, read from the same data.
    ///
    /// On a database file, above village level, the pass runs on two
    /// threads, each with a read-only connection of its own, which take the
    /// parts of the code range (`parts`) in turn; the rows are then handed
    /// over in code order. Both read transactions must see the same data: the
    /// second begins after the first, and the first's `data_version` is the
    /// same after both ended only if nobody committed in between; else the
    /// pass is run again on this store's connection alone.
    fn aggregate(
        &self,
        as_ofs: &[&str],
        level: Level,
        within: Option<&str>,
        settings: &Settings,
        counting: Counting,
        mut each: impl FnMut(usize, AreaRow, Option<String>) -> Result<()>,
    ) -> Result<i64> {
        figures::ensure(&self.conn, &settings.manure, self.progress())?;
        let marks = Marks {
            approved: super::review::approved_visits(&self.conn)?,
            flagged: if counting.flagged { self.flagged(settings)? } else { Default::default() },
            approved_only: counting.approved_only,
        };
        let dates: Vec<[u8; 10]> = as_ofs.iter().map(|d| date_key(d)).collect();
        let last = as_ofs.iter().max().copied().unwrap_or("");
        let pass = Pass { marks: &marks, as_ofs: &dates, last, level, threshold: settings.village_threshold };
        let parts = parts(&self.conn, within.unwrap_or(""), level)?;
        // Progress in parts (one province each at national level).
        let phase = || Phase::new(self.progress(), Work::Summary, parts.len() as u64);
        if level != Level::Village
            && parts.len() > 1
            && self.conn.is_autocommit()
            && let Some(path) = self.path()
        {
            let phase = phase();
            let stamp = self.data_stamp()?;
            let kept = self.kept_conflicts(stamp);
            if let Some(conflicts) = self.aggregate_parallel(path, &pass, &parts, kept.as_deref(), &phase, &mut each)? {
                let n = conflicts.len() as i64;
                if kept.is_none() {
                    self.keep_conflicts(stamp, Arc::new(conflicts));
                }
                return Ok(n);
            }
        }
        // One read transaction (unless the caller's is open): every figure
        // from the same data.
        let phase = phase();
        let read = if self.conn.is_autocommit() { Some(self.conn.unchecked_transaction()?) } else { None };
        let conflicts = self.conflicted_villages()?.len() as i64;
        if !as_ofs.is_empty() {
            for (lo, hi) in &parts {
                pass.run(&self.conn, lo, hi, &mut each)?;
                phase.done(1);
            }
        }
        if let Some(read) = read {
            read.commit()?;
        }
        Ok(conflicts)
    }

    /// [`Store::aggregate`] on two threads, with the conflicted villages
    /// (found as one more job unless `kept`); `None` when the two read
    /// transactions may have seen different data (nothing handed over then).
    fn aggregate_parallel(
        &self,
        path: &std::path::Path,
        pass: &Pass,
        parts: &[(String, String)],
        kept: Option<&Vec<Option<String>>>,
        phase: &Phase,
        each: &mut Emit,
    ) -> Result<Option<Vec<Option<String>>>> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Two connections of their own, reading the pages once each: a
        // small page cache (the parts are read once, in order).
        // Both interruptible with this store.
        let readers = &self.readers;
        let open = || -> Result<super::live::Reader> {
            let reader = readers.open(path)?;
            reader.conn.execute_batch("PRAGMA cache_size = -2048; BEGIN")?;
            Ok(reader)
        };
        let Ok(first) = open() else { return Ok(None) };
        let first = &first.conn;
        let before = data_version(first)?;
        // Job 0 finds the conflicted villages, job k > 0 sums part k - 1.
        let next = AtomicUsize::new(0);
        let jobs = parts.len() + 1;
        let work = |conn: &Connection| -> Result<Vec<(usize, Made)>> {
            let mut made = Vec::new();
            loop {
                let job = next.fetch_add(1, Ordering::Relaxed);
                if job >= jobs {
                    return Ok(made);
                }
                if job == 0 {
                    let list = match kept {
                        Some(kept) => kept.clone(),
                        None => super::views::conflicted_villages(conn)?,
                    };
                    made.push((job, Made::Conflicts(list)));
                    continue;
                }
                let (lo, hi) = &parts[job - 1];
                let mut rows = Vec::new();
                if !pass.as_ofs.is_empty() {
                    pass.run(conn, lo, hi, &mut |k, row, date| {
                        rows.push((k, row, date));
                        Ok(())
                    })?;
                }
                made.push((job, Made::Rows(rows)));
                phase.done(1);
            }
        };
        let (mine, theirs) = std::thread::scope(|s| {
            let helper = s.spawn(|| -> Result<Vec<(usize, Made)>> {
                let reader = open()?;
                data_version(&reader.conn)?;
                work(&reader.conn)
            });
            let mine = work(first);
            if mine.is_err() {
                // Stopped (an interruption, an error): the helper takes no
                // further job.
                next.store(jobs, Ordering::Relaxed);
            }
            (mine, helper.join())
        });
        let mine = mine?;
        first.execute_batch("COMMIT")?;
        let theirs = match theirs {
            Ok(Ok(theirs)) => theirs,
            Ok(Err(e)) if super::live::is_interrupted(&e) => return Err(e),
            // The second connection could not read: the pass runs here alone.
            Ok(Err(_)) => return Ok(None),
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if data_version(first)? != before {
            return Ok(None);
        }
        let mut made: Vec<(usize, Made)> = mine.into_iter().chain(theirs).collect();
        made.sort_unstable_by_key(|(job, _)| *job);
        let mut conflicts = Vec::new();
        for (_, m) in made {
            match m {
                Made::Conflicts(n) => conflicts = n,
                Made::Rows(rows) => {
                    for (k, row, date) in rows {
                        each(k, row, date)?;
                    }
                }
            }
        }
        Ok(Some(conflicts))
    }

    /// The indicators of every area of `level` (inside the area `within`, a
    /// code prefix, when given) as of each date of `as_ofs`, in one pass
    /// (the dashboard's trend).
    pub fn summaries(
        &self,
        as_ofs: &[String],
        level: Level,
        within: Option<&str>,
        settings: &Settings,
    ) -> Result<Vec<Summary>> {
        self.summaries_counting(as_ofs, level, within, settings, Counting::default())
    }

    /// [`Store::summaries`], counting the visits `counting` says.
    pub fn summaries_counting(
        &self,
        as_ofs: &[String],
        level: Level,
        within: Option<&str>,
        settings: &Settings,
        counting: Counting,
    ) -> Result<Vec<Summary>> {
        let mut out: Vec<Summary> = as_ofs
            .iter()
            .map(|d| Summary {
                as_of: d.clone(),
                settings: settings.clone(),
                level,
                total: Figures::default(),
                areas: Vec::new(),
                open_conflicts: 0,
                approved_only: counting.approved_only,
                flagged_checked: counting.flagged,
            })
            .collect();
        let dates: Vec<&str> = as_ofs.iter().map(String::as_str).collect();
        let open_conflicts = self.aggregate(&dates, level, within, settings, counting, |k, row, _| {
            out[k].total.add(&row.figures);
            out[k].areas.push(row);
            Ok(())
        })?;
        for s in &mut out {
            s.open_conflicts = open_conflicts;
        }
        Ok(out)
    }

    /// The indicators of every area of `level` (inside the area `within`, a
    /// code prefix, when given) as of `as_of` (YYYY-MM-DD).
    pub fn summary(&self, as_of: &str, level: Level, within: Option<&str>, settings: &Settings) -> Result<Summary> {
        self.summary_counting(as_of, level, within, settings, Counting::default())
    }

    /// [`Store::summary`], counting the visits `counting` says (`--approved-only`).
    pub fn summary_counting(
        &self,
        as_of: &str,
        level: Level,
        within: Option<&str>,
        settings: &Settings,
        counting: Counting,
    ) -> Result<Summary> {
        let mut all = self.summaries_counting(&[as_of.to_string()], level, within, settings, counting)?;
        Ok(all.pop().expect("one date, one summary"))
    }

    /// Every administrative village of the roster (inside `within`, a code
    /// prefix, when given) with its status as of `as_of`, sorted by code: the
    /// same aggregate as [`Store::summary`] at village level.
    pub fn village_status(&self, as_of: &str, within: Option<&str>, settings: &Settings) -> Result<Vec<VillageStatus>> {
        let mut out = Vec::new();
        self.each_village_status(as_of, within, settings, |v| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Store::village_status`] a village at a time, for callers that write
    /// them out (a national roster has 600k villages).
    pub fn each_village_status(
        &self,
        as_of: &str,
        within: Option<&str>,
        settings: &Settings,
        f: impl FnMut(VillageStatus) -> Result<()>,
    ) -> Result<()> {
        self.each_village_status_counting(as_of, within, settings, Counting::default(), f)
    }

    /// [`Store::each_village_status`], counting the visits `counting` says.
    pub fn each_village_status_counting(
        &self,
        as_of: &str,
        within: Option<&str>,
        settings: &Settings,
        counting: Counting,
        mut f: impl FnMut(VillageStatus) -> Result<()>,
    ) -> Result<()> {
        self.aggregate(&[as_of], Level::Village, within, settings, counting, |_, row, counting_date| {
            f(VillageStatus { row, counting_date })
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::{Farm, Species, VisitData};

    fn pig_visit(code: &str) -> VisitData {
        VisitData {
            village_code: code.into(),
            survey_date: "2025-03-01".into(),
            surveyor: "t".into(),
            households: 10,
            hh_sewer: 5,
            hh_reuse: 0,
            hh_controlled: 0,
            natural_villages: 2,
            nv_garbage_covered: 1,
            notes: String::new(),
            facilities: vec![],
            farms: vec![Farm {
                farm_id: "f".into(),
                name: "场".into(),
                species: Species::Pig,
                head_on_hand: 10,
                annual_out: 600,
                manure_t: None,
                utilized_pct: 50.0,
                facility_equipped: true,
            }],
            water_bodies: vec![],
        }
    }

    /// Other manure coefficients than those the figures were made with:
    /// the figures are recomputed, and follow the settings both ways.
    #[test]
    fn figures_follow_the_manure_settings() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute_batch("INSERT INTO roster (code, name, is_village) VALUES ('430202001201', '一村', 1)")
            .unwrap();
        store.save_visit("t", "v1", Some(&pig_visit("430202001201"))).unwrap();
        let d = Settings::default();
        let s = store.summary("2025-12-31", Level::County, None, &d).unwrap();
        assert_eq!(s.total.produced_t, 600.0 * 2.0 * 180.0 / 1000.0);
        assert_eq!((s.total.scale_farms, s.total.villages_treated), (1, 1));
        let mut other = d.clone();
        other.manure.pig.kg_per_head_day = 3.0;
        other.manure.pig.scale_min = 1000;
        other.village_threshold = 0.6;
        let s = store.summary("2025-12-31", Level::County, None, &other).unwrap();
        assert_eq!(s.total.produced_t, 600.0 * 3.0 * 180.0 / 1000.0);
        assert_eq!((s.total.scale_farms, s.total.villages_treated), (0, 0));
        // Saved with the coefficients the table holds now, then back.
        store.save_visit("t", "v2", Some(&pig_visit("430202001201"))).unwrap();
        let s = store.summary("2025-12-31", Level::County, None, &d).unwrap();
        assert_eq!(s.total.produced_t, 600.0 * 2.0 * 180.0 / 1000.0);
        assert_eq!((s.total.duplicate_visits, s.total.scale_farms), (1, 1));
        let recorded: String =
            store.conn.query_row("SELECT value FROM meta WHERE key = 'figures_settings'", [], |r| r.get(0)).unwrap();
        assert_eq!(recorded, figures::fingerprint(&d.manure));
        assert_eq!(store.figures_mismatches().unwrap(), vec![]);
    }

    /// A database file with villages in two provinces, visits in both, an
    /// approved one and a deleted one.
    fn two_provinces(dir: &std::path::Path) -> Store {
        let id = crate::identity::Identity::generate("test");
        let mut store = Store::open_with(&dir.join("t.db"), &id).unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO roster (code, name, is_village) VALUES
                 ('110101001201', '京一村', 1), ('110101001202', '京二村', 1), ('110102001201', '京三村', 1),
                 ('430202001201', '湘一村', 1), ('430202001202', '湘二村', 1), ('430202002201', '湘社区', 0);
                 INSERT INTO area (code, name) VALUES ('110101', '东城区'), ('430202', '荷塘区'), ('430202001', '某街道');",
            )
            .unwrap();
        for (i, code) in
            ["110101001201", "110102001201", "430202001201", "430202001202", "430202001202"].iter().enumerate()
        {
            let mut v = pig_visit(code);
            v.households = 10 + i as i64;
            store.save_visit("t", &format!("v{i}"), Some(&v)).unwrap();
        }
        store
    }

    /// On a file, a summary above village level runs on two connections
    /// (`aggregate_parallel`); its figures equal those of the pass on this
    /// connection alone (the path taken inside the caller's transaction).
    #[test]
    fn the_two_thread_pass_equals_the_one_thread_pass() {
        let dir = tempfile::tempdir().unwrap();
        let store = two_provinces(dir.path());
        let d = Settings::default();
        let dates = ["2024-12-31".to_string(), "2025-12-31".to_string()];
        for level in [Level::Province, Level::City, Level::County, Level::Township] {
            let parts = parts(&store.conn, "", level).unwrap();
            assert_eq!(parts.len(), 2, "{level:?}: one part per province");
            let parallel = store.summaries(&dates, level, None, &d).unwrap();
            store.conn.execute_batch("BEGIN").unwrap();
            let serial = store.summaries(&dates, level, None, &d).unwrap();
            store.conn.execute_batch("COMMIT").unwrap();
            assert_eq!(parallel, serial, "{level:?}");
            assert_eq!(parallel[1].total.surveyed, 4, "{level:?}");
            assert_eq!(parallel[1].total.duplicate_visits, 1, "{level:?}");
            // And the two-thread pass was the one taken.
            let dates: Vec<&str> = dates.iter().map(String::as_str).collect();
            let marks = Marks { approved: Default::default(), flagged: Default::default(), approved_only: false };
            let keys: Vec<[u8; 10]> = dates.iter().map(|d| date_key(d)).collect();
            let pass = Pass { marks: &marks, as_ofs: &keys, last: "2025-12-31", level, threshold: d.village_threshold };
            let phase = Phase::new(store.progress(), Work::Summary, 0);
            let mut rows = Vec::new();
            let made = store
                .aggregate_parallel(store.path().unwrap(), &pass, &parts, None, &phase, &mut |k, row, _| {
                    rows.push((k, row));
                    Ok(())
                })
                .unwrap();
            assert_eq!(made, Some(vec![]));
            let areas: Vec<_> = rows.iter().filter(|(k, _)| *k == 1).map(|(_, r)| r.clone()).collect();
            assert_eq!(areas, serial[1].areas, "{level:?}");
        }
        // Names come from the area table, in step with the areas.
        let s = store.summary("2025-12-31", Level::Township, None, &d).unwrap();
        let names: Vec<&str> = s.areas.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["110101001", "110102001", "某街道"]);
    }

    /// The conflicted villages are found once per state of the data: kept
    /// while nothing changes (the same list handed out), found again after
    /// any commit, by the summary's threads or by the conflict list alike.
    #[test]
    fn conflicted_villages_are_kept_until_the_data_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = two_provinces(dir.path());
        let d = Settings::default();
        let s = store.summary("2025-12-31", Level::County, None, &d).unwrap();
        assert_eq!(s.open_conflicts, 0);
        let first = store.conflicted_villages().unwrap();
        assert!(first.is_empty());
        assert!(Arc::ptr_eq(&first, &store.conflicted_villages().unwrap()), "kept");
        // Another program makes a second head of one visit in Hunan.
        let other = Connection::open(store.path().unwrap()).unwrap();
        other.execute_batch("INSERT INTO head (visit_id, rev_id) VALUES ('v2', 'another')").unwrap();
        let s = store.summary("2025-12-31", Level::County, None, &d).unwrap();
        assert_eq!(s.open_conflicts, 1, "found again after the commit");
        let by_area = store.conflicts_by_area(6, "").unwrap();
        assert_eq!(by_area.into_iter().collect::<Vec<_>>(), [("430202".to_string(), 1)]);
        assert_eq!(store.conflicts_by_area(9, "11").unwrap().len(), 0);
        let kept = store.conflicted_villages().unwrap();
        assert_eq!(*kept, [Some("430202001201".to_string())]);
        other.execute_batch("DELETE FROM head WHERE rev_id = 'another'").unwrap();
        assert_eq!(store.summary("2025-12-31", Level::Township, None, &d).unwrap().open_conflicts, 0);
        assert!(store.conflicts_by_area(6, "").unwrap().is_empty());
    }

    /// What a summary reports: its parts, each once, from either thread.
    #[test]
    fn a_summary_reports_its_parts_as_they_are_done() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Seen(Arc<Mutex<Vec<(u64, u64)>>>);
        impl crate::store::Progress for Seen {
            fn start(&self, _: Work<'_>, total: u64) {
                self.0.lock().unwrap().push((total, 0));
            }
            fn advance(&self, n: u64) {
                self.0.lock().unwrap().last_mut().expect("started").1 += n;
            }
            fn finish(&self) {}
        }
        let dir = tempfile::tempdir().unwrap();
        let mut store = two_provinces(dir.path());
        let seen = Seen::default();
        store.set_progress(Box::new(seen.clone()));
        let d = Settings::default();
        store.summary("2025-12-31", Level::County, None, &d).unwrap();
        store.village_status("2025-12-31", None, &d).unwrap();
        store.summary("2025-12-31", Level::Township, Some("430202"), &d).unwrap();
        let seen = seen.0.lock().unwrap().clone();
        // Two provinces on two threads, then at village level on one; one
        // county has two townships in the roster.
        let summaries: Vec<_> = seen.iter().filter(|(total, _)| *total > 0).collect();
        assert_eq!(summaries, [&(2, 2), &(2, 2), &(2, 2)], "{seen:?}");
    }

    /// Two read transactions see the same data exactly when the first one's
    /// `data_version` is the same after both: a commit in between changes it.
    #[test]
    fn a_commit_between_the_two_reads_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = two_provinces(dir.path());
        let path = store.path().unwrap().to_path_buf();
        let first = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        first.execute_batch("BEGIN").unwrap();
        let before = data_version(&first).unwrap();
        first.execute_batch("COMMIT").unwrap();
        assert_eq!(data_version(&first).unwrap(), before, "nobody wrote");
        first.execute_batch("BEGIN").unwrap();
        let before = data_version(&first).unwrap();
        store.save_visit("t", "late", Some(&pig_visit("430202001201"))).unwrap();
        assert_eq!(data_version(&first).unwrap(), before, "the read transaction keeps its data");
        first.execute_batch("COMMIT").unwrap();
        assert_ne!(data_version(&first).unwrap(), before, "a commit in between is seen");
    }

    #[test]
    fn trend_dates_in_one_pass_equal_single_summaries() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .conn
            .execute_batch("INSERT INTO roster (code, name, is_village) VALUES ('430202001201', '一村', 1), ('430202001202', '二村', 1)")
            .unwrap();
        store.save_visit("t", "v1", Some(&pig_visit("430202001201"))).unwrap();
        let mut later = pig_visit("430202001202");
        later.survey_date = "2025-09-01".into();
        store.save_visit("t", "v2", Some(&later)).unwrap();
        let d = Settings::default();
        let dates: Vec<String> = ["2025-01-01", "2025-06-30", "2025-12-31"].map(String::from).into();
        let all = store.summaries(&dates, Level::Township, None, &d).unwrap();
        for (s, date) in all.iter().zip(&dates) {
            assert_eq!(s, &store.summary(date, Level::Township, None, &d).unwrap());
        }
        assert_eq!(all.iter().map(|s| s.total.surveyed).collect::<Vec<_>>(), [0, 1, 2]);
    }
}
