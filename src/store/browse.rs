//! Queries for the terminal UI: areas and villages paged straight from the
//! roster's primary key (never the whole roster in memory), the visits of a
//! village, a visit's full data, and form drafts.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::Store;
use super::revisions::{self, Saved};
use crate::domain::VisitData;

/// A county (6-digit code) or township (9-digit code); `name` is `None` when
/// the roster names it not.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaItem {
    pub code: String,
    pub name: Option<String>,
}

/// The sewage figures of a visit, enough for the treated verdict.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SewageFigures {
    pub households: i64,
    pub hh_sewer: i64,
    pub hh_reuse: i64,
    pub normal_served: i64,
}

/// A village-level roster unit with its latest visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VillageItem {
    pub code: String,
    pub name: String,
    pub is_village: bool,
    /// The names of its township and county, when the roster gives them:
    /// three 新华村 in one county are told apart by these.
    pub township: Option<String>,
    pub county: Option<String>,
    /// Date and sewage figures of the latest visit.
    pub last: Option<(String, SewageFigures)>,
}

/// One visit of a village, for the list.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitItem {
    pub visit_id: String,
    pub survey_date: String,
    pub surveyor: String,
    pub sewage: SewageFigures,
    pub facilities: i64,
    pub farms: i64,
    pub water_bodies: i64,
    /// Several heads: crews' edits that conflict, until someone resolves them.
    pub conflict: bool,
    /// The revision shown: a deletion from the list names it as its base.
    pub rev_id: String,
    /// The county sent this revision back: the reviewer's note (issue 15).
    pub returned: Option<String>,
}

/// A form being typed, kept so a crash loses at most the last keystrokes.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub draft_id: String,
    pub visit_id: String,
    pub base_rev: Option<String>,
    pub form: String,
    pub updated_at: String,
}

/// The areas one level below `prefix` ("" → counties, a county → its
/// townships), found by skipping through the primary key: one index seek
/// per area, whatever the size of the roster.
pub fn areas(conn: &Connection, prefix: &str) -> Result<Vec<AreaItem>> {
    let len = if prefix.len() < 6 { 6 } else { 9 };
    let pad = "9".repeat(12 - len);
    let (lo, hi) = super::code_range(prefix);
    let mut st = conn.prepare_cached(
        "WITH RECURSIVE a(p) AS (
           SELECT (SELECT substr(min(code), 1, ?3) FROM roster WHERE code >= ?1 AND code < ?2)
           UNION ALL
           SELECT (SELECT substr(min(code), 1, ?3) FROM roster WHERE code > a.p || ?4 AND code < ?2)
           FROM a WHERE a.p IS NOT NULL)
         SELECT p, (SELECT name FROM area WHERE code = p) FROM a WHERE p IS NOT NULL",
    )?;
    let rows = st.query_map(params![lo, hi, len as i64, pad], |r| Ok(AreaItem { code: r.get(0)?, name: r.get(1)? }))?;
    let mut out: Vec<AreaItem> = rows.collect::<rusqlite::Result<_>>()?;
    // Listed by name in pinyin order (an area the roster names not, by its
    // code, last); each name's key made once (a national roster lists
    // ~2,800 counties).
    out.sort_by_cached_key(|a| {
        (a.name.is_none(), a.name.as_deref().map(crate::hanzi::sort_key), a.name.clone(), a.code.clone())
    });
    Ok(out)
}

/// The county and township above a village-level unit, as areas (named
/// when the roster names them): the path shown above its visits and form.
pub fn path_of(conn: &Connection, code: &str) -> Result<Vec<AreaItem>> {
    let mut out = Vec::new();
    for n in [6, 9] {
        if let Some(c) = code.get(..n) {
            out.push(AreaItem { code: c.to_string(), name: area_name(conn, c)? });
        }
    }
    Ok(out)
}

/// The SQL functions of the crew's search and name order, written once in
/// [`crate::hanzi`]: `rs_name_match(name, query)` and `rs_pinyin_key(name)`.
pub(super) fn register(conn: &Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("rs_name_match", 2, flags, |ctx| {
        let name = ctx.get_raw(0).as_str().unwrap_or("");
        let query = ctx.get_raw(1).as_str().unwrap_or("");
        Ok(crate::hanzi::matches(name, query))
    })?;
    conn.create_scalar_function("rs_pinyin_key", 1, flags, |ctx| {
        Ok(crate::hanzi::sort_key(ctx.get_raw(0).as_str().unwrap_or("")))
    })?;
    Ok(())
}

/// The name of a county or township, if the roster gives one.
pub fn area_name(conn: &Connection, code: &str) -> Result<Option<String>> {
    Ok(conn.prepare_cached("SELECT name FROM area WHERE code = ?1")?.query_row([code], |r| r.get(0)).optional()?)
}

/// A page of the village-level units under `prefix` matching `query`: a
/// query of digits matches the start of the code (in code order, served by
/// the primary key); any other query matches names by [`crate::hanzi::matches`]
/// (the characters, or pinyin typed without an input method). Within a
/// township (a few dozen units) and in a name search, administrative
/// villages come first and communities after them (found, so the crew sees
/// why a name is not offered for a visit), each by name in pinyin order.
pub fn villages(conn: &Connection, prefix: &str, query: &str, limit: usize, offset: usize) -> Result<Vec<VillageItem>> {
    let q = query.trim();
    let (mut lo, mut hi) = super::code_range(prefix);
    let digits = !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit());
    if digits {
        let (qlo, qhi) = super::code_range(q);
        lo = lo.max(qlo);
        hi = hi.min(qhi);
    }
    let name_q = if digits { "" } else { q };
    let by_name = !digits && (prefix.len() >= 9 || !q.is_empty());
    let order = if by_name { "is_village DESC, rs_pinyin_key(name), code" } else { "code" };
    let mut st = conn.prepare_cached(&format!(
        "SELECT code, name, is_village,
                (SELECT name FROM area WHERE code = substr(roster.code, 1, 9)),
                (SELECT name FROM area WHERE code = substr(roster.code, 1, 6))
         FROM roster
         WHERE code >= ?1 AND code < ?2 AND (?3 = '' OR rs_name_match(name, ?3))
         ORDER BY {order} LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = st.query_map(params![lo, hi, name_q, limit as i64, offset as i64], |r| {
        Ok(VillageItem {
            code: r.get(0)?,
            name: r.get(1)?,
            is_village: r.get(2)?,
            township: r.get(3)?,
            county: r.get(4)?,
            last: None,
        })
    })?;
    let mut out: Vec<VillageItem> = rows.collect::<rusqlite::Result<_>>()?;
    for v in &mut out {
        v.last = last_visit(conn, &v.code)?;
    }
    Ok(out)
}

fn sewage_sql(alias: &str) -> String {
    format!(
        "{alias}.households, {alias}.hh_sewer, {alias}.hh_reuse,
         (SELECT coalesce(sum(rs_normal_served(f.status, f.households_served)), 0) FROM facility f
          WHERE f.visit_id = {alias}.visit_id)"
    )
}

fn sewage_at(r: &rusqlite::Row, i: usize) -> rusqlite::Result<SewageFigures> {
    Ok(SewageFigures {
        households: r.get(i)?,
        hh_sewer: r.get(i + 1)?,
        hh_reuse: r.get(i + 2)?,
        normal_served: r.get(i + 3)?,
    })
}

/// The counting visit of village `?1` as of date `?2`: the latest visit on
/// or before that date, ties broken by the greatest visit id. (The summary
/// aggregate applies the same rule to every village at once, see
/// `summary::SUMMARY_SQL`.)
pub const COUNTING_VISIT_SQL: &str = "SELECT visit_id FROM visit WHERE village_code = ?1 AND survey_date <= ?2
     ORDER BY survey_date DESC, visit_id DESC LIMIT 1";

/// A date after every survey: "as of now" for the counting visit.
const ANY_DATE: &str = "9999-12-31";

/// Date and sewage figures of the latest visit of a village.
pub fn last_visit(conn: &Connection, code: &str) -> Result<Option<(String, SewageFigures)>> {
    let sql =
        format!("SELECT v.survey_date, {} FROM visit v WHERE v.visit_id = ({COUNTING_VISIT_SQL})", sewage_sql("v"));
    Ok(conn.prepare_cached(&sql)?.query_row([code, ANY_DATE], |r| Ok((r.get(0)?, sewage_at(r, 1)?))).optional()?)
}

/// A roster unit: name and whether it is an administrative village.
pub fn roster_unit(conn: &Connection, code: &str) -> Result<Option<(String, bool)>> {
    Ok(conn
        .prepare_cached("SELECT name, is_village FROM roster WHERE code = ?1")?
        .query_row([code], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The visits of a village, newest first.
pub fn visits_of(conn: &Connection, code: &str) -> Result<Vec<VisitItem>> {
    let sql = format!(
        "SELECT v.visit_id, v.survey_date, v.surveyor, {},
           (SELECT count(*) FROM facility WHERE visit_id = v.visit_id),
           (SELECT count(*) FROM farm WHERE visit_id = v.visit_id),
           (SELECT count(*) FROM water_body WHERE visit_id = v.visit_id),
           {}, v.rev_id
         FROM visit v WHERE v.village_code = ?1 ORDER BY v.survey_date DESC, v.visit_id DESC",
        sewage_sql("v"),
        super::conflict::is_open_conflict_sql("v.visit_id")
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map([code], |r| {
        Ok(VisitItem {
            visit_id: r.get(0)?,
            survey_date: r.get(1)?,
            surveyor: r.get(2)?,
            sewage: sewage_at(r, 3)?,
            facilities: r.get(7)?,
            farms: r.get(8)?,
            water_bodies: r.get(9)?,
            conflict: r.get(10)?,
            rev_id: r.get(11)?,
            returned: None,
        })
    })?;
    let mut out: Vec<VisitItem> = rows.collect::<rusqlite::Result<_>>()?;
    for v in &mut out {
        v.returned = super::review::visit_review(conn, &v.visit_id)?.returned_note().map(str::to_string);
    }
    Ok(out)
}

/// The current revision id and full data of a visit, read from the
/// current tables (which hold the current revision's payload).
pub fn load_visit(conn: &Connection, visit_id: &str) -> Result<Option<(String, VisitData)>> {
    super::payload::current(conn, visit_id)
}

/// The data of the latest visit of a village, for copying forward.
pub fn previous_visit(conn: &Connection, code: &str) -> Result<Option<VisitData>> {
    let id: Option<String> =
        conn.prepare_cached(COUNTING_VISIT_SQL)?.query_row([code, ANY_DATE], |r| r.get(0)).optional()?;
    Ok(match id {
        Some(id) => load_visit(conn, &id)?.map(|(_, d)| d),
        None => None,
    })
}

/// Writes (or replaces) a draft; one small statement, its own transaction.
pub fn put_draft(conn: &Connection, d: &Draft) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO draft (draft_id, visit_id, base_rev, form, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (draft_id) DO UPDATE SET visit_id = excluded.visit_id, base_rev = excluded.base_rev,
           form = excluded.form, updated_at = excluded.updated_at",
    )?
    .execute(params![d.draft_id, d.visit_id, d.base_rev, d.form, d.updated_at])?;
    Ok(())
}

pub fn delete_draft(conn: &Connection, draft_id: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM draft WHERE draft_id = ?1")?.execute([draft_id])?;
    Ok(())
}

/// Every draft, newest first.
pub fn drafts(conn: &Connection) -> Result<Vec<Draft>> {
    let mut st = conn.prepare_cached(
        "SELECT draft_id, visit_id, base_rev, form, updated_at FROM draft ORDER BY updated_at DESC, draft_id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Draft {
            draft_id: r.get(0)?,
            visit_id: r.get(1)?,
            base_rev: r.get(2)?,
            form: r.get(3)?,
            updated_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Meta key of the surveyor of the last save, offered on the next new visit.
pub const LAST_SURVEYOR: &str = "last_surveyor";
/// Meta keys of the crew's day view: its township (a 9-digit code) and the
/// first day of the survey round (YYYY-MM-DD). Local settings of this
/// database, never merged.
pub const CREW_TOWNSHIP: &str = "crew_township";
pub const ROUND_START: &str = "round_start";

/// The crew's day: the villages of its township not visited since the
/// round started, and what this installation saved on the day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrewDay {
    /// Administrative villages of the township without a visit dated on or
    /// after the round's start, by name in pinyin order (with their last visit).
    pub to_visit: Vec<VillageItem>,
    /// Administrative villages of the township in all.
    pub villages: usize,
    /// Visits saved here on the day (created or edited, not deleted), and
    /// the villages they are of: (code, name, visits), by name.
    pub saved: usize,
    pub saved_villages: Vec<(String, String, usize)>,
    /// Visits of the township the county sent back, waiting for the crew's
    /// correction: (visit, village name, date, the reviewer's note), by
    /// village name then date.
    pub returned: Vec<(String, String, String, String)>,
}

/// The crew's day for township `township` (9 digits), the round started on
/// `start`, the day being `[day_from, day_to)` as clock stamps (local
/// midnight to midnight) and `device` this installation.
pub fn crew_day(
    conn: &Connection,
    device: &str,
    township: &str,
    start: &str,
    day_from: &str,
    day_to: &str,
) -> Result<CrewDay> {
    let (lo, hi) = super::code_range(township);
    let mut st = conn.prepare_cached(
        "SELECT code, name, (SELECT count(*) FROM roster WHERE code >= ?1 AND code < ?2 AND is_village = 1)
         FROM roster r WHERE code >= ?1 AND code < ?2 AND is_village = 1
           AND NOT EXISTS (SELECT 1 FROM visit v WHERE v.village_code = r.code AND v.survey_date >= ?3)
         ORDER BY rs_pinyin_key(name), code",
    )?;
    let mut villages = 0usize;
    let rows = st.query_map(params![lo, hi, start], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    let mut to_visit = Vec::new();
    for row in rows {
        let (code, name, n) = row?;
        villages = usize::try_from(n).unwrap_or(0);
        to_visit.push(VillageItem { code, name, is_village: true, township: None, county: None, last: None });
    }
    if to_visit.is_empty() {
        villages = usize::try_from(conn.query_row(
            "SELECT count(*) FROM roster WHERE code >= ?1 AND code < ?2 AND is_village = 1",
            params![lo, hi],
            |r| r.get::<_, i64>(0),
        )?)
        .unwrap_or(0);
    }
    for v in &mut to_visit {
        v.last = last_visit(conn, &v.code)?;
    }
    let mut st = conn.prepare_cached(
        "SELECT v.village_code, coalesce((SELECT name FROM roster WHERE code = v.village_code), v.village_code),
                count(DISTINCT v.visit_id)
         FROM revision r JOIN visit v ON v.visit_id = r.visit_id
         WHERE r.device = ?1 AND r.hlc >= ?2 AND r.hlc < ?3 AND r.deleted = 0
         GROUP BY v.village_code",
    )?;
    let mut saved_villages = st
        .query_map(params![device, day_from, day_to], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, usize::try_from(r.get::<_, i64>(2)?).unwrap_or(0)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    saved_villages.sort_by(|a, b| crate::hanzi::cmp(&a.1, &b.1).then_with(|| a.0.cmp(&b.0)));
    let saved = saved_villages.iter().map(|v| v.2).sum();
    // Only visits with a review can be returned: those are read one by one.
    let mut st = conn.prepare_cached(
        "SELECT v.visit_id, coalesce(o.name, v.village_code), v.survey_date
         FROM visit v LEFT JOIN roster o ON o.code = v.village_code
         WHERE v.village_code >= ?1 AND v.village_code < ?2
           AND v.visit_id IN (SELECT visit_id FROM review)",
    )?;
    let reviewed = st
        .query_map(params![lo, hi], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut returned = Vec::new();
    for (id, name, date) in reviewed {
        if let Some(note) = super::review::visit_review(conn, &id)?.returned_note() {
            returned.push((id.clone(), name, date, note.to_string()));
        }
    }
    returned.sort_by(|a, b| crate::hanzi::cmp(&a.1, &b.1).then_with(|| (&a.2, &a.0).cmp(&(&b.2, &b.0))));
    Ok(CrewDay { to_visit, villages, saved, saved_villages, returned })
}

impl Store {
    /// Saves a visit from the form (or deletes it, `data = None`) in one
    /// transaction that also drops the form's draft and remembers the surveyor.
    /// The revision's editor is this installation's editor (who typed it),
    /// not the visit's surveyor.
    /// `base` is the revision the form was opened from (`None`: a new visit):
    /// a change merged since then merges with this one or becomes a conflict.
    pub fn save_from_form(
        &mut self,
        author: &str,
        visit_id: &str,
        data: Option<&VisitData>,
        base: Option<&str>,
        draft_id: Option<&str>,
    ) -> Result<Saved> {
        let base: Vec<String> = base.map(str::to_string).into_iter().collect();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let maker = revisions::Maker { identity: &self.identity, editor: &self.editor };
        let saved = revisions::save_on(&tx, maker, visit_id, data, revisions::Base::Revs(&base))?;
        if let Some(d) = draft_id {
            delete_draft(&tx, d)?;
        }
        if data.is_some() {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![LAST_SURVEYOR, author],
            )?;
        }
        tx.commit()?;
        Ok(saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let s = Store::open_in_memory().unwrap();
        for (code, name, v) in [
            ("430202001001", "文化路社区居委会", 0),
            ("430202001201", "仙庾村", 1),
            ("430202002201", "明照村", 1),
            ("430203001201", "白关村", 1),
            ("430211001201", "云田村", 1),
        ] {
            s.conn
                .execute("INSERT INTO roster (code, name, is_village) VALUES (?1, ?2, ?3)", params![code, name, v])
                .unwrap();
        }
        s.conn.execute("INSERT INTO area VALUES ('430202', '荷塘区'), ('430202001', '月塘街道')", []).unwrap();
        s
    }

    #[test]
    fn areas_skip_through_the_key() {
        let s = store();
        let counties = areas(&s.conn, "").unwrap();
        assert_eq!(counties.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), ["430202", "430203", "430211"]);
        assert_eq!(counties[0].name.as_deref(), Some("荷塘区"));
        assert_eq!(counties[1].name, None);
        let towns = areas(&s.conn, "430202").unwrap();
        assert_eq!(towns.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), ["430202001", "430202002"]);
        // Named areas by pinyin (荷塘区 he), unnamed ones after them by code.
        assert_eq!(counties.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), ["430202", "430203", "430211"]);
        s.conn.execute("INSERT INTO area VALUES ('430203', '芦淞区'), ('430211', '天元区')", []).unwrap();
        s.conn.execute("UPDATE area SET name = '石峰区' WHERE code = '430202'", []).unwrap();
        let named = areas(&s.conn, "").unwrap();
        assert_eq!(
            named.iter().map(|a| a.name.as_deref().unwrap()).collect::<Vec<_>>(),
            ["芦淞区", "石峰区", "天元区"]
        );
        let path = path_of(&s.conn, "430202001201").unwrap();
        assert_eq!(path.iter().map(|a| a.code.as_str()).collect::<Vec<_>>(), ["430202", "430202001"]);
        assert_eq!(path[1].name.as_deref(), Some("月塘街道"));
    }

    #[test]
    fn villages_page_and_filter() {
        let s = store();
        let all = villages(&s.conn, "", "", 10, 0).unwrap();
        assert_eq!(all.len(), 5);
        let page = villages(&s.conn, "", "", 2, 2).unwrap();
        assert_eq!(page[0].code, "430202002201");
        assert_eq!(villages(&s.conn, "", "明照", 10, 0).unwrap()[0].code, "430202002201");
        assert_eq!(villages(&s.conn, "", "430203", 10, 0).unwrap().len(), 1);
        assert_eq!(villages(&s.conn, "", "43020200", 10, 0).unwrap().len(), 3);
        // A community is found too (the screen marks it as not surveyed).
        let found = villages(&s.conn, "", "4302020010", 10, 0).unwrap();
        assert_eq!(
            found.iter().map(|v| (v.code.as_str(), v.is_village)).collect::<Vec<_>>(),
            [("430202001001", false)]
        );
        assert_eq!(villages(&s.conn, "", "社区", 10, 0).unwrap().len(), 1);
        // Pinyin, initials or whole syllables, and where each lies.
        let py = villages(&s.conn, "", "mzc", 10, 0).unwrap();
        assert_eq!(py.iter().map(|v| v.code.as_str()).collect::<Vec<_>>(), ["430202002201"]);
        assert_eq!((py[0].township.as_deref(), py[0].county.as_deref()), (None, Some("荷塘区")));
        assert_eq!(villages(&s.conn, "", "baiguan", 10, 0).unwrap()[0].code, "430203001201");
        // A name search lists villages by pinyin: bai, ming, xian, yun.
        let cun = villages(&s.conn, "", "村", 10, 0).unwrap();
        assert_eq!(cun.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["白关村", "明照村", "仙庾村", "云田村"]);
        assert_eq!(villages(&s.conn, "430202", "4302030", 10, 0).unwrap().len(), 0);
        let town = villages(&s.conn, "430202001", "", 10, 0).unwrap();
        assert_eq!(town.iter().map(|v| v.is_village).collect::<Vec<_>>(), [true, false]);
    }

    #[test]
    fn save_from_form_drops_the_draft_and_remembers_the_surveyor() {
        let mut s = store();
        let d = Draft {
            draft_id: "d1".into(),
            visit_id: "v1".into(),
            base_rev: None,
            form: "{}".into(),
            updated_at: "2025-01-01T00:00:00".into(),
        };
        put_draft(&s.conn, &d).unwrap();
        assert_eq!(drafts(&s.conn).unwrap(), [d]);
        let mut rng = crate::generate::Rng::new(3);
        let mut data = crate::generate::random_visit(&mut rng, "430202001201", "2025-01-02");
        data.canonicalize();
        s.save_from_form("王芳", "v1", Some(&data), None, Some("d1")).unwrap();
        assert!(drafts(&s.conn).unwrap().is_empty());
        assert_eq!(s.meta(LAST_SURVEYOR).unwrap().as_deref(), Some("王芳"));
        let (_, loaded) = load_visit(&s.conn, "v1").unwrap().unwrap();
        assert_eq!(loaded, data);
        assert_eq!(previous_visit(&s.conn, "430202001201").unwrap(), Some(data));
        let list = visits_of(&s.conn, "430202001201").unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(villages(&s.conn, "430202001", "仙庾", 5, 0).unwrap()[0].last.as_ref().unwrap().0, "2025-01-02");
        let rev = s.current_revision("v1").unwrap();
        s.save_from_form("王芳", "v1", None, rev.as_deref(), None).unwrap();
        assert!(visits_of(&s.conn, "430202001201").unwrap().is_empty());
    }
}
