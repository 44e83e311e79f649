//! The CSV bundle of SPEC §6: import (all or nothing, every problem listed)
//! and export. Rows are staged in temporary tables so that memory stays
//! bounded however large the bundle.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::csvio::{Problems, Table, for_spreadsheet};
use super::revisions::{self, Base, Saved};
use super::roster::{self, RosterReport};
use super::{Phase, Progress, Store, Work};
use crate::domain::input::TextEncoding;
use crate::domain::validate::{self, Place, Reason, parse_bool, parse_date, parse_decimal, parse_int, required};
use crate::domain::*;

pub const VISIT_COLS: &[&str] = &[
    "visit_id",
    "village_code",
    "survey_date",
    "surveyor",
    "households",
    "hh_sewer",
    "hh_reuse",
    "hh_controlled",
    "natural_villages",
    "nv_garbage_covered",
    "notes",
];
/// `visits.csv` may also carry the revision each row was exported at: a
/// re-imported row names it as its base, so that a change merged since the
/// export merges with the row's edit or becomes a conflict. Without it (a
/// bundle made by hand) a row is an edit of whatever wins now.
pub const REV_COL: &str = "rev";
const VISIT_COLS_IN: &[&str] = &[
    "visit_id",
    "village_code",
    "survey_date",
    "surveyor",
    "households",
    "hh_sewer",
    "hh_reuse",
    "hh_controlled",
    "natural_villages",
    "nv_garbage_covered",
    "notes",
    REV_COL,
];
pub const FACILITY_COLS: &[&str] = &["visit_id", "facility_id", "kind", "households_served", "status", "capacity_m3_d"];
pub const FARM_COLS: &[&str] = &[
    "visit_id",
    "farm_id",
    "name",
    "species",
    "head_on_hand",
    "annual_out",
    "manure_t",
    "utilized_pct",
    "facility_equipped",
];
pub const WATER_COLS: &[&str] = &[
    "visit_id",
    "water_id",
    "name",
    "kind",
    "area_m2",
    "length_m",
    "depth_cm",
    "transparency_cm",
    "do_mg_l",
    "nh3n_mg_l",
    "listed",
    "status",
];

/// Columns that may be left empty.
const OPTIONAL: &[&str] = &[
    "notes",
    "capacity_m3_d",
    "manure_t",
    "name",
    "area_m2",
    "length_m",
    "depth_cm",
    "transparency_cm",
    "do_mg_l",
    "nh3n_mg_l",
];

pub use super::error::Refused;

impl From<Problems> for Refused {
    fn from(p: Problems) -> Self {
        Refused { problems: p.list, total: p.total }
    }
}

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub roster: Option<RosterReport>,
    pub visits: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub facilities: u64,
    pub farms: u64,
    pub water_bodies: u64,
    /// The encoding each file of visits and child rows was read in, in file
    /// order (the roster's is in `roster`).
    pub encodings: Vec<(String, TextEncoding)>,
}

/// Reads one cell through a parser, recording a problem on failure.
struct RowReader<'a> {
    t: &'a Table,
    cols: &'static [&'static str],
    line: u64,
    problems: &'a mut Problems,
    /// The columns of this row whose cells were refused, comma-separated.
    bad: String,
}

impl RowReader<'_> {
    fn cell(&self, col: &str) -> &str {
        self.t.get(self.cols.iter().position(|c| *c == col).expect("known column"))
    }
    fn fail(&mut self, col: &str, r: Reason) {
        self.problems.push(&self.t.file, self.line, col, &r);
        self.bad.push_str(col);
        self.bad.push(',');
    }
    fn take<T: Default>(&mut self, col: &str, v: Result<T, Reason>) -> T {
        v.unwrap_or_else(|r| {
            self.fail(col, r);
            T::default()
        })
    }
    fn text(&mut self, col: &str) -> String {
        let s = self.cell(col).to_string();
        if s.trim().is_empty() && !OPTIONAL.contains(&col) {
            self.fail(col, Reason::Required);
        }
        s
    }
    fn id(&mut self, col: &str) -> String {
        self.text(col).trim().to_string()
    }
    fn int(&mut self, col: &str) -> i64 {
        let v = required(parse_int(self.cell(col)));
        self.take(col, v)
    }
    fn dec(&mut self, col: &str) -> Option<f64> {
        let v = parse_decimal(self.cell(col));
        self.take(col, v)
    }
    fn req_dec(&mut self, col: &str) -> f64 {
        let v = required(parse_decimal(self.cell(col)));
        self.take(col, v)
    }
    fn bool(&mut self, col: &str) -> bool {
        let v = required(parse_bool(self.cell(col)));
        self.take(col, v)
    }
    fn date(&mut self, col: &str) -> String {
        let v = required(parse_date(self.cell(col)));
        self.take(col, v)
    }
    fn enumeration<E: Copy>(&mut self, col: &str, parse: fn(&str) -> Option<E>, expected: fn() -> String, d: E) -> E {
        let cell = self.cell(col);
        if cell.trim().is_empty() {
            self.fail(col, Reason::Required);
            return d;
        }
        match parse(cell) {
            Some(e) => e,
            None => {
                self.fail(col, Reason::BadEnum(expected()));
                d
            }
        }
    }
}

const STAGING: &str = "
CREATE TEMP TABLE IF NOT EXISTS s_visit (visit_id TEXT NOT NULL, line INTEGER NOT NULL, village_code TEXT NOT NULL,
  bad TEXT NOT NULL, data TEXT NOT NULL, base TEXT);
-- Both appended in file order and sorted once when read: a tree kept in
-- visit_id order took random reads and writes all over the temporary file
-- for every row (a national bundle's visits are ~200 MB staged). seq, not line, orders the rows: a lone CR
-- ends a record without starting a new line.
CREATE TEMP TABLE IF NOT EXISTS s_child (visit_id TEXT NOT NULL, kind INTEGER NOT NULL, seq INTEGER NOT NULL,
  line INTEGER NOT NULL, bad TEXT NOT NULL, data TEXT NOT NULL);
DELETE FROM s_visit; DELETE FROM s_child;
";

const KIND_FACILITY: i64 = 0;
const KIND_FARM: i64 = 1;
const KIND_WATER: i64 = 2;

fn child_file(kind: i64) -> (&'static str, &'static [&'static str]) {
    match kind {
        KIND_FACILITY => ("facilities.csv", FACILITY_COLS),
        KIND_FARM => ("farms.csv", FARM_COLS),
        _ => ("water_bodies.csv", WATER_COLS),
    }
}

/// The visit ids of visits.csv, as 64-bit hashes (a national bundle's ids
/// take ~20 MB so, several times that as text): the children check their
/// visit here while staging. A hash shared by two ids would let a child of
/// no visit through, and two visits with the same id pass: both are caught
/// exactly when the sorted rows are read back (`import_staged`).
#[derive(Default)]
struct VisitIds {
    hasher: std::hash::RandomState,
    ids: std::collections::HashSet<u64>,
}

impl VisitIds {
    fn key(&self, id: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, id)
    }
}

/// A row of visits.csv: its visit id, the revision it names as its base,
/// and its figures (no child rows yet). Cells that do not parse are
/// problems, and their columns are listed in `r.bad`.
fn read_visit(r: &mut RowReader) -> (String, Option<String>, VisitData) {
    let base = Some(r.cell(REV_COL).trim().to_string()).filter(|b| !b.is_empty());
    let visit_id = r.id("visit_id");
    // An empty id is already refused as required.
    if !visit_id.is_empty()
        && let Err(why) = validate::check_id(&visit_id)
    {
        r.fail("visit_id", why);
    }
    let v = VisitData {
        village_code: r.id("village_code"),
        survey_date: r.date("survey_date"),
        surveyor: r.text("surveyor").trim().to_string(),
        households: r.int("households"),
        hh_sewer: r.int("hh_sewer"),
        hh_reuse: r.int("hh_reuse"),
        hh_controlled: r.int("hh_controlled"),
        natural_villages: r.int("natural_villages"),
        nv_garbage_covered: r.int("nv_garbage_covered"),
        notes: r.text("notes"),
        facilities: vec![],
        farms: vec![],
        water_bodies: vec![],
    };
    (visit_id, base, v)
}

/// A row of a file of child rows.
enum Child {
    Facility(Facility),
    Farm(Farm),
    Water(WaterBody),
}

impl Child {
    fn json(&self) -> serde_json::Result<String> {
        match self {
            Child::Facility(x) => serde_json::to_string(x),
            Child::Farm(x) => serde_json::to_string(x),
            Child::Water(x) => serde_json::to_string(x),
        }
    }

    fn add_to(self, v: &mut VisitData) {
        match self {
            Child::Facility(x) => v.facilities.push(x),
            Child::Farm(x) => v.farms.push(x),
            Child::Water(x) => v.water_bodies.push(x),
        }
    }
}

/// A row of a file of child rows of `kind`: the visit id it names, and the row.
fn read_child(kind: i64, r: &mut RowReader) -> (String, Child) {
    let visit_id = r.id("visit_id");
    let child = match kind {
        KIND_FACILITY => Child::Facility(Facility {
            facility_id: r.id("facility_id"),
            kind: r.enumeration("kind", FacilityKind::parse, FacilityKind::expected, FacilityKind::Central),
            households_served: r.int("households_served"),
            status: r.enumeration("status", FacilityStatus::parse, FacilityStatus::expected, FacilityStatus::Normal),
            capacity_m3_d: r.dec("capacity_m3_d"),
        }),
        KIND_FARM => Child::Farm(Farm {
            farm_id: r.id("farm_id"),
            name: r.text("name").trim().to_string(),
            species: r.enumeration("species", Species::parse, Species::expected, Species::Other),
            head_on_hand: r.int("head_on_hand"),
            annual_out: r.int("annual_out"),
            manure_t: r.dec("manure_t"),
            utilized_pct: r.req_dec("utilized_pct"),
            facility_equipped: r.bool("facility_equipped"),
        }),
        _ => Child::Water(WaterBody {
            water_id: r.id("water_id"),
            name: r.text("name").trim().to_string(),
            kind: r.enumeration("kind", WaterKind::parse, WaterKind::expected, WaterKind::Other),
            area_m2: r.dec("area_m2"),
            length_m: r.dec("length_m"),
            depth_cm: r.dec("depth_cm"),
            transparency_cm: r.dec("transparency_cm"),
            do_mg_l: r.dec("do_mg_l"),
            nh3n_mg_l: r.dec("nh3n_mg_l"),
            listed: r.enumeration("listed", Listed::parse, Listed::expected, Listed::None),
            status: r.enumeration("status", WaterStatus::parse, WaterStatus::expected, WaterStatus::Identified),
        }),
    };
    (visit_id, child)
}

/// Stages visits.csv; the encoding it was read in.
fn stage_visits(
    conn: &Connection,
    dir: &Path,
    ids: &mut VisitIds,
    problems: &mut Problems,
    progress: &dyn Progress,
) -> Result<Option<TextEncoding>> {
    let file = "visits.csv";
    let Some(mut t) = Table::open(&dir.join(file), file, VISIT_COLS_IN, VISIT_COLS, false, problems)? else {
        return Ok(None);
    };
    let mut ins = conn.prepare_cached(
        "INSERT INTO s_visit (visit_id, line, village_code, bad, data, base) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let _bar = Phase::new(progress, Work::File(file), 0);
    while let Some(line) = t.next_row(problems) {
        _bar.step();
        let mut r = RowReader { t: &t, cols: VISIT_COLS_IN, line, problems, bad: String::new() };
        let (visit_id, base, v) = read_visit(&mut r);
        let bad = std::mem::take(&mut r.bad);
        if visit_id.is_empty() {
            continue;
        }
        // A second visit with this id is reported when the rows are read back in order.
        ids.ids.insert(ids.key(&visit_id));
        ins.execute(params![visit_id, line as i64, v.village_code, bad, serde_json::to_string(&v)?, base])?;
    }
    Ok(Some(t.encoding()))
}

/// Stages one file of child rows, when there is one; the encoding it was read in.
fn stage_children(
    conn: &Connection,
    dir: &Path,
    kind: i64,
    ids: &VisitIds,
    problems: &mut Problems,
    progress: &dyn Progress,
) -> Result<Option<TextEncoding>> {
    let (file, cols) = child_file(kind);
    let path = dir.join(file);
    if !path.exists() {
        return Ok(None);
    }
    let Some(mut t) = Table::open(&path, file, cols, cols, false, problems)? else {
        return Ok(None);
    };
    let mut seq: i64 = 0;
    let mut ins = conn
        .prepare_cached("INSERT INTO s_child (visit_id, kind, seq, line, bad, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    let _bar = Phase::new(progress, Work::File(file), 0);
    while let Some(line) = t.next_row(problems) {
        _bar.step();
        let mut r = RowReader { t: &t, cols, line, problems, bad: String::new() };
        let (visit_id, child) = read_child(kind, &mut r);
        let data = child.json()?;
        let bad = std::mem::take(&mut r.bad);
        if visit_id.is_empty() {
            continue;
        }
        if !ids.ids.contains(&ids.key(&visit_id)) {
            problems.push(file, line, "visit_id", &Reason::UnknownVisit);
            continue;
        }
        seq += 1;
        ins.execute(params![visit_id, kind, seq, line as i64, bad, data])?;
    }
    Ok(Some(t.encoding()))
}

/// The current tables a streamed import writes, each appended to a
/// temporary copy in file order and put into its table in key order once,
/// with the key order each is sorted by. (Revisions go straight into their
/// table: its rows are appended, and its one index kept meanwhile, on the
/// revision id, is small enough to stay in the page cache. The heads are
/// the visits' revisions, read back in order from the visit table.)
const STREAMED: &[(&str, &str)] = &[
    ("visit", "visit_id"),
    ("facility", "visit_id, facility_id"),
    ("farm", "visit_id, farm_id"),
    ("water_body", "visit_id, water_id"),
];

/// Secondary indexes a streamed import builds once at the end (they are
/// dropped while the tables fill; the tables were empty): inserting into
/// them row by row, in an order that is not theirs, was most of the work.
const REBUILT_INDEXES: &[&str] = &["revision_visit", "visit_village_date"];

/// Drops the indexes of [`REBUILT_INDEXES`] (inside the caller's
/// transaction); the statements that make them again, exactly as the
/// schema made them.
fn drop_indexes(conn: &Connection) -> Result<Vec<String>> {
    let mut rebuilt = Vec::new();
    for name in REBUILT_INDEXES {
        let sql: Option<String> = conn
            .query_row("SELECT sql FROM main.sqlite_schema WHERE type = 'index' AND name = ?1", [name], |r| r.get(0))
            .optional()?;
        if let Some(sql) = sql {
            conn.execute_batch(&format!("DROP INDEX main.{name}"))?;
            rebuilt.push(sql);
        }
    }
    Ok(rebuilt)
}

/// The fast way for the common case of a first import (the database holds
/// no revisions yet) of a bundle whose child rows come in the order of
/// their visits (as `export` and `generate` write them): one pass over the
/// four files side by side, each visit checked whole as it is read (the
/// same cell readers and rules as the general way), its rows appended to
/// temporary tables and put into the current tables in key order at the
/// end, the secondary indexes built once. The reading and checking, and
/// the signing, run on threads of their own ahead of the writing (see
/// [`Reading`]); the stamps are issued in file order as before.
///
/// Returns false, having possibly written part of the bundle, when the way
/// does not apply or the bundle has any problem: the caller rolls back to
/// its savepoint and takes the general way, which lists every problem. So a
/// bundle is accepted or refused exactly as by the general way.
fn import_streaming(
    conn: &Connection,
    dir: &Path,
    maker: revisions::Maker,
    report: &mut ImportReport,
    progress: &dyn Progress,
) -> Result<bool> {
    if conn.prepare("SELECT 1 FROM revision LIMIT 1")?.exists([])? {
        return Ok(false);
    }
    // Any problem at all sends the bundle the general way.
    let mut problems = Problems::default();
    let Some(visits) =
        Table::open(&dir.join("visits.csv"), "visits.csv", VISIT_COLS_IN, VISIT_COLS, false, &mut problems)?
    else {
        return Ok(false);
    };
    let mut kids: Vec<(i64, Table, bool)> = Vec::new();
    for kind in [KIND_FACILITY, KIND_FARM, KIND_WATER] {
        let (file, cols) = child_file(kind);
        let path = dir.join(file);
        if !path.exists() {
            continue;
        }
        let Some(mut t) = Table::open(&path, file, cols, cols, false, &mut problems)? else { return Ok(false) };
        let more = t.next_row(&mut problems).is_some();
        kids.push((kind, t, more));
    }
    if !problems.is_empty() {
        return Ok(false);
    }
    // The stamps are issued by the reading thread, in file order, from the
    // clock of the import's batch (no other writer runs meanwhile).
    let Some(clock) = revisions::lend_clock() else { return Ok(false) };
    for (table, _) in STREAMED {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.t_{table}; CREATE TEMP TABLE t_{table} AS SELECT * FROM main.{table} WHERE 0;"
        ))?;
    }
    let insert = |table: &str, n: usize| {
        let marks = (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        conn.prepare(&format!("INSERT INTO temp.t_{table} VALUES ({marks})"))
    };
    // Only the index on the revision id while the rows go in (see REBUILT_INDEXES).
    let rebuilt = drop_indexes(conn)?;
    let mut ins_rev = conn.prepare(
        "INSERT INTO main.revision (rev_id, visit_id, parents, payload, deleted, hlc, device, author, crew, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let (device, crew) = (maker.identity.key_id(), maker.identity.crew());
    let mut ins_visit = insert("visit", 12)?;
    let mut ins_fac = insert("facility", 6)?;
    let mut ins_farm = insert("farm", 9)?;
    let mut ins_water = insert("water_body", 12)?;
    let reading = Reading {
        visits,
        kids,
        clock,
        today: chrono::Local::now().date_naive(),
        coefficients: crate::domain::settings::ManureCoefficients::default(),
        figures: super::figures::table_coefficients(conn)?,
    };
    let bar = Phase::new(progress, Work::File("visits.csv"), 0);
    // Threads passing batches on through bounded channels: the reading
    // thread (parse, check, payload, id, stamp), the signing threads, and
    // this one, which checks the village against the roster and writes.
    // Whichever stops early drops its end of a channel, and the others stop
    // at their next batch.
    let (read, written, clock) = std::thread::scope(|s| {
        // Signing costs the most: two signing threads take the batches in
        // turn, and the writer takes them back in the same turn (file order).
        let mut to_sign = Vec::new();
        let mut signed = Vec::new();
        for _ in 0..SIGNERS {
            let (to_signer, signing) = std::sync::mpsc::sync_channel::<Vec<Made>>(PIPELINE_DEPTH);
            let (to_write, writing) = std::sync::mpsc::sync_channel::<Vec<Made>>(PIPELINE_DEPTH);
            to_sign.push(to_signer);
            signed.push(writing);
            let (device, crew) = (&device, &crew);
            s.spawn(move || {
                for mut batch in signing {
                    for m in &mut batch {
                        m.signature = maker.identity.sign(&revisions::signed_message(
                            &m.rev_id,
                            &m.hlc,
                            device,
                            crew,
                            maker.editor,
                        ));
                    }
                    if to_write.send(batch).is_err() {
                        break;
                    }
                }
            });
        }
        let reader = s.spawn(move || reading.run(InTurn { to: to_sign, next: 0 }));
        // Owns the receivers: when the writing stops, they are dropped and
        // the signers, then the reader, stop at their next batch.
        let writing = (0..).map_while(move |i: usize| signed[i % SIGNERS].recv().ok());
        let written = (|| -> Result<bool> {
            for batch in writing {
                for m in batch {
                    bar.step();
                    if roster_problem(conn, &m.v.village_code)?.is_some() {
                        return Ok(false);
                    }
                    let Made { visit_id, v, rev_id, payload, hlc, signature, figures } = &m;
                    ins_rev.execute(params![
                        rev_id,
                        visit_id,
                        "[]",
                        payload,
                        false,
                        hlc,
                        device,
                        maker.editor,
                        crew,
                        signature
                    ])?;
                    revisions::insert_rows(
                        [&mut ins_visit, &mut ins_fac, &mut ins_farm, &mut ins_water],
                        visit_id,
                        rev_id,
                        v,
                    )?;
                    super::figures::write_computed(conn, visit_id, v, figures)?;
                    report.visits += 1;
                    report.new += 1;
                    report.facilities += v.facilities.len() as u64;
                    report.farms += v.farms.len() as u64;
                    report.water_bodies += v.water_bodies.len() as u64;
                }
            }
            Ok(true)
        })();
        let (read, clock) = reader.join().expect("the reading thread panicked");
        (read, written, clock)
    });
    // The stamps issued, kept or not, as when they were issued here.
    revisions::return_clock(clock);
    drop(bar);
    let encodings = match (written?, read?) {
        (true, Some(encodings)) => encodings,
        _ => return Ok(false),
    };
    report.encodings.extend(encodings);
    drop((ins_rev, ins_visit, ins_fac, ins_farm, ins_water));
    let _bar = Phase::new(progress, Work::WriteVisits, 0);
    // Each sort takes up to the main page cache's size in memory: a smaller
    // cache while sorting keeps the import under 200 MB.
    let cache: i64 = conn.query_row("PRAGMA main.cache_size", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA main.cache_size = -32768")?;
    let flushed = (|| -> rusqlite::Result<()> {
        for (table, order) in STREAMED {
            conn.execute_batch(&format!(
                "INSERT INTO main.{table} SELECT * FROM temp.t_{table} ORDER BY {order}; DROP TABLE temp.t_{table};"
            ))?;
        }
        // In visit id order already (the visit table's key), no sort.
        conn.execute_batch(
            "INSERT INTO main.head (visit_id, rev_id) SELECT visit_id, rev_id FROM main.visit ORDER BY visit_id",
        )?;
        for sql in &rebuilt {
            conn.execute_batch(sql)?;
        }
        Ok(())
    })();
    conn.execute_batch(&format!("PRAGMA main.cache_size = {cache}"))?;
    match flushed {
        Ok(()) => Ok(true),
        // Two rows with one key (ids that differ only where the checks do
        // not look): the general way names them.
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Batches of visits in flight between the threads of a streamed import,
/// per channel (memory stays bounded: a few thousand visits in all).
const PIPELINE_DEPTH: usize = 4;
/// Visits per batch.
const BATCH_VISITS: usize = 256;
/// Threads signing the revisions of a streamed import.
const SIGNERS: usize = 2;

/// Channels sent to in turn (batch i to channel i mod n); the receiving
/// side takes them back in the same turn, so the order is kept.
struct InTurn<T> {
    to: Vec<std::sync::mpsc::SyncSender<T>>,
    next: usize,
}

impl<T> InTurn<T> {
    /// Sends to the next channel; false when its receiver has stopped.
    fn send(&mut self, batch: T) -> bool {
        let ok = self.to[self.next].send(batch).is_ok();
        self.next = (self.next + 1) % self.to.len();
        ok
    }
}

/// A visit read and checked, made into its first revision, on its way to be signed and written.
struct Made {
    visit_id: String,
    v: VisitData,
    rev_id: String,
    /// The payload kept in the revision ('' when the current rows give it back exactly).
    payload: String,
    hlc: String,
    /// Filled in by the signing thread.
    signature: String,
    figures: crate::domain::indicators::VisitFigures,
}

/// The encoding each file was read in, in file order.
type Encodings = Vec<(String, TextEncoding)>;

/// The reading end of a streamed import: the four files side by side.
struct Reading {
    visits: Table,
    /// Each file of child rows with its kind, and whether a row is read ahead.
    kids: Vec<(i64, Table, bool)>,
    clock: revisions::Clock,
    today: chrono::NaiveDate,
    coefficients: crate::domain::settings::ManureCoefficients,
    /// The coefficients of the figures table.
    figures: crate::domain::settings::ManureCoefficients,
}

impl Reading {
    /// Reads, checks and makes revisions of every visit in file order,
    /// sending them on in batches: the encodings of the files when all was
    /// read, `None` when the bundle must go the general way (or the
    /// writing stopped); and the clock, having issued the stamps.
    fn run(mut self, mut to_sign: InTurn<Vec<Made>>) -> (Result<Option<Encodings>>, revisions::Clock) {
        let read = self.read(&mut to_sign);
        (read, self.clock)
    }

    fn read(&mut self, to_sign: &mut InTurn<Vec<Made>>) -> Result<Option<Encodings>> {
        let problems = &mut Problems::default();
        let mut ids = VisitIds::default();
        let mut batch = Vec::with_capacity(BATCH_VISITS);
        while let Some(line) = self.visits.next_row(problems) {
            let mut r = RowReader { t: &self.visits, cols: VISIT_COLS_IN, line, problems, bad: String::new() };
            let (visit_id, _base, mut v) = read_visit(&mut r);
            // A visit id seen before (or sharing a hash with one): the general
            // way tells a duplicate from a coincidence.
            if !r.bad.is_empty() || !problems.is_empty() || visit_id.is_empty() || !ids.ids.insert(ids.key(&visit_id)) {
                return Ok(None);
            }
            for (kind, t, more) in self.kids.iter_mut() {
                let cols = child_file(*kind).1;
                while *more && t.get(0).trim() == visit_id {
                    let mut r = RowReader { t, cols, line: 0, problems, bad: String::new() };
                    let (_, child) = read_child(*kind, &mut r);
                    if !r.bad.is_empty() {
                        return Ok(None);
                    }
                    child.add_to(&mut v);
                    *more = t.next_row(problems).is_some();
                }
            }
            // (The village is checked against the roster when written.)
            if !problems.is_empty() || !validate::validate_visit(&v, self.today, &self.coefficients).is_empty() {
                return Ok(None);
            }
            // A revision with no parents, made here now, as `revisions::save_on`
            // makes the first revision of a visit; its payload is kept in the
            // current rows alone when they give it back exactly.
            let mut payload = v.canonical_json();
            let rev_id = revisions::revision_id(&visit_id, &[], &payload, false);
            if super::payload::round_trips(&v) {
                payload = String::new();
            }
            let hlc = self.clock.next();
            let figures = crate::domain::indicators::visit_figures(&v, &self.figures);
            batch.push(Made { visit_id, v, rev_id, payload, hlc, signature: String::new(), figures });
            if batch.len() == BATCH_VISITS
                && !to_sign.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_VISITS)))
            {
                return Ok(None);
            }
        }
        if !batch.is_empty() && !to_sign.send(batch) {
            return Ok(None);
        }
        // A child row left over names no visit, or comes out of its visit's order.
        if !problems.is_empty() || self.kids.iter().any(|(_, _, more)| *more) {
            return Ok(None);
        }
        let mut encodings = vec![("visits.csv".to_string(), self.visits.encoding())];
        for (kind, t, _) in &self.kids {
            encodings.push((child_file(*kind).0.into(), t.encoding()));
        }
        Ok(Some(encodings))
    }
}

/// The roster verdict on a village code: `None` when it is an administrative village.
pub fn roster_problem(conn: &Connection, code: &str) -> Result<Option<Reason>> {
    let v: Option<bool> = conn
        .prepare_cached("SELECT is_village FROM roster WHERE code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?;
    Ok(match v {
        None => Some(Reason::UnknownVillage),
        Some(false) => Some(Reason::NotAVillage),
        Some(true) => None,
    })
}

/// Staged visits whose village is not an administrative village of the
/// roster, in one pass over the roster rather than a lookup per visit.
fn check_villages(conn: &Connection, problems: &mut Problems) -> Result<()> {
    let mut st = conn.prepare(
        "SELECT s.line, s.village_code, r.is_village FROM s_visit s LEFT JOIN roster r ON r.code = s.village_code
         WHERE r.is_village IS NOT 1 ORDER BY s.line",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let code: String = r.get(1)?;
        if !validate::is_division_code(&code) {
            continue; // reported by the visit rules
        }
        let reason = if r.get::<_, Option<bool>>(2)?.is_some() { Reason::NotAVillage } else { Reason::UnknownVillage };
        problems.push("visits.csv", r.get::<_, i64>(0)? as u64, "village_code", &reason);
    }
    Ok(())
}

/// A staged child row as read back.
struct StagedChild {
    visit_id: String,
    kind: usize,
    line: u64,
    data: String,
    bad: String,
}

fn import_staged(
    conn: &Connection,
    maker: revisions::Maker,
    problems: &mut Problems,
    report: &mut ImportReport,
    progress: &dyn Progress,
) -> Result<()> {
    check_villages(conn, problems)?;
    let today = chrono::Local::now().date_naive();
    let coefficients = crate::domain::settings::ManureCoefficients::default();
    let mut visits = conn.prepare("SELECT visit_id, line, data, bad, base FROM s_visit ORDER BY visit_id, line")?;
    // Both cursors in visit_id order: each visit takes the run of child rows
    // that carry its id; a child passed over names no visit (its id's hash
    // matched another's while staging).
    let mut children =
        conn.prepare("SELECT visit_id, kind, line, data, bad FROM s_child ORDER BY visit_id, kind, seq")?;
    // Each sort takes up to the main page cache's size in memory (SQLite
    // sizes its sorters from cache_size when they start): two sorts of 64 MB
    // beside the 64 MB cache took a national import over 200 MB. Sorted
    // with 16 MB each (spilling to the temporary file), then the cache
    // grows back for the writes.
    let cache: i64 = conn.query_row("PRAGMA main.cache_size", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA main.cache_size = -16384")?;
    let mut kids = children.query([])?;
    let next_kid = |kids: &mut rusqlite::Rows| -> Result<Option<StagedChild>> {
        Ok(match kids.next()? {
            Some(k) => Some(StagedChild {
                visit_id: k.get(0)?,
                kind: k.get::<_, i64>(1)? as usize,
                line: k.get::<_, i64>(2)? as u64,
                data: k.get(3)?,
                bad: k.get(4)?,
            }),
            None => None,
        })
    };
    let mut kid = next_kid(&mut kids)?;
    let staged: i64 = conn.query_row("SELECT count(*) FROM s_visit", [], |r| r.get(0))?;
    let _bar = Phase::new(progress, Work::WriteVisits, staged as u64);
    let mut rows = visits.query([])?;
    let mut cache_back = Some(format!("PRAGMA main.cache_size = {cache}"));
    let mut previous = String::new();
    let unknown = |k: &StagedChild, problems: &mut Problems| {
        problems.push(child_file(k.kind as i64).0, k.line, "visit_id", &Reason::UnknownVisit);
    };
    while let Some(row) = rows.next()? {
        if let Some(sql) = cache_back.take() {
            conn.execute_batch(&sql)?; // both sorts have started
        }
        _bar.step();
        let visit_id: String = row.get(0)?;
        let line: u64 = row.get::<_, i64>(1)? as u64;
        if visit_id == previous {
            problems.push("visits.csv", line, "visit_id", &Reason::DuplicateVisit);
            continue;
        }
        previous.clone_from(&visit_id);
        let mut v: VisitData = serde_json::from_str(row.get_ref(2)?.as_str()?)?;
        // Cells that did not parse were reported while staging; their
        // placeholder values must not produce complaints of their own.
        let visit_bad: String = row.get(3)?;
        let mut bad: [Vec<String>; 3] = Default::default();
        let mut lines: [Vec<u64>; 3] = Default::default();
        while let Some(k) = kid.take_if(|k| k.visit_id < visit_id) {
            unknown(&k, problems);
            kid = next_kid(&mut kids)?;
        }
        while let Some(k) = kid.take_if(|k| k.visit_id == visit_id) {
            lines[k.kind].push(k.line);
            bad[k.kind].push(k.bad);
            match k.kind as i64 {
                KIND_FACILITY => v.facilities.push(serde_json::from_str(&k.data)?),
                KIND_FARM => v.farms.push(serde_json::from_str(&k.data)?),
                _ => v.water_bodies.push(serde_json::from_str(&k.data)?),
            }
            kid = next_kid(&mut kids)?;
        }
        report.visits += 1;
        report.facilities += v.facilities.len() as u64;
        report.farms += v.farms.len() as u64;
        report.water_bodies += v.water_bodies.len() as u64;
        let mut ok = visit_bad.is_empty() && bad.iter().flatten().all(String::is_empty);
        for p in validate::validate_visit(&v, today, &coefficients) {
            let (file, at, row_bad) = match p.place {
                Place::Visit => ("visits.csv", line, &visit_bad),
                Place::Facility(i) => (child_file(KIND_FACILITY).0, lines[0][i], &bad[0][i]),
                Place::Farm(i) => (child_file(KIND_FARM).0, lines[1][i], &bad[1][i]),
                Place::Water(i) => (child_file(KIND_WATER).0, lines[2][i], &bad[2][i]),
            };
            let cross_field =
                matches!(p.reason, Reason::HouseholdsExceeded { .. } | Reason::CoveredExceedsNatural { .. });
            let inputs_bad = !visit_bad.is_empty() || bad[0].iter().any(|b| !b.is_empty());
            if row_bad.split(',').any(|f| f == p.field) || (cross_field && inputs_bad) {
                continue;
            }
            problems.push(file, at, p.field, &p.reason);
            ok = false;
        }
        if !ok || !problems.is_empty() {
            continue;
        }
        let base_rev: Option<String> = row.get(4)?;
        let base: Vec<String> = base_rev.into_iter().collect();
        let base = if base.is_empty() { Base::Current } else { Base::Revs(&base) };
        match revisions::save_on(conn, maker, &visit_id, Some(&v), base)? {
            Saved::New => report.new += 1,
            Saved::Changed => report.changed += 1,
            Saved::Unchanged => report.unchanged += 1,
        }
    }
    while let Some(k) = kid.take() {
        unknown(&k, problems);
        kid = next_kid(&mut kids)?;
    }
    Ok(())
}

impl Store {
    /// Imports a CSV bundle: all or nothing. A refused bundle returns a
    /// [`Refused`] error listing every problem and leaves the database as it was.
    pub fn import_bundle(&mut self, dir: &Path, dry_run: bool) -> Result<ImportReport> {
        if !dir.is_dir() {
            return Err(super::StoreError::NotAFolder { path: dir.to_path_buf() }.into());
        }
        // What an import writes is about three times its CSV: rows, indexes, the log.
        if !dry_run {
            self.ensure_room(super::fsutil::folder_bytes(dir).saturating_mul(3))?;
        }
        // A first import writes nearly the whole database. In WAL mode each
        // page would be written twice (into the log, then into the file at
        // the checkpoint); with a rollback journal the new pages go into the
        // file once, and the journal keeps the few pages that were there
        // before (an import that does not commit, even by a power cut, is
        // rolled back from it and the file cut back to its old length).
        let first = !dry_run && !self.conn.prepare("SELECT 1 FROM revision LIMIT 1")?.exists([])?;
        let journal = first && super::try_journal_mode(&self.conn, "delete")?;
        let imported = self.import_bundle_in(dir, dry_run);
        // If another connection came meanwhile, WAL mode comes back at the
        // next open (`Store::setup`). The import's own error, if any, is
        // the one to tell.
        let back = if journal { super::try_journal_mode(&self.conn, "wal").map(drop) } else { Ok(()) };
        let imported = imported?;
        back?;
        Ok(imported)
    }

    fn import_bundle_in(&mut self, dir: &Path, dry_run: bool) -> Result<ImportReport> {
        let progress = self.progress.as_ref();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let maker = revisions::Maker { identity: &self.identity, editor: &self.editor };
        let mut problems = Problems::default();
        let mut report = ImportReport::default();
        let roster_file = dir.join("villages.csv");
        if roster_file.exists() {
            report.roster = Some(roster::load(&tx, &roster_file, "villages.csv", &mut problems)?);
        }
        let deferred = super::figures::Deferred::begin(&tx)?;
        let stamps = revisions::StampBatch::begin(&tx)?;
        let mut streamed = false;
        if problems.is_empty() {
            tx.execute_batch("SAVEPOINT streamed")?;
            streamed = import_streaming(&tx, dir, maker, &mut report, progress)?;
            if streamed {
                tx.execute_batch("RELEASE streamed")?;
            } else {
                tx.execute_batch("ROLLBACK TO streamed; RELEASE streamed")?;
                report = ImportReport { roster: report.roster.take(), ..ImportReport::default() };
            }
        }
        if !streamed {
            tx.execute_batch(STAGING)?;
            let mut ids = VisitIds::default();
            if let Some(e) = stage_visits(&tx, dir, &mut ids, &mut problems, progress)? {
                report.encodings.push(("visits.csv".into(), e));
            }
            for kind in [KIND_FACILITY, KIND_FARM, KIND_WATER] {
                if let Some(e) = stage_children(&tx, dir, kind, &ids, &mut problems, progress)? {
                    report.encodings.push((child_file(kind).0.into(), e));
                }
            }
            drop(ids);
            import_staged(&tx, maker, &mut problems, &mut report, progress)?;
            tx.execute_batch("DELETE FROM s_visit; DELETE FROM s_child;")?;
        }
        stamps.finish()?;
        deferred.finish()?;
        if !problems.is_empty() {
            return Err(Refused::from(problems).into());
        }
        if !dry_run {
            tx.commit()?;
        }
        Ok(report)
    }

    /// Imports a roster file: all or nothing.
    pub fn import_roster(&mut self, path: &Path) -> Result<RosterReport> {
        self.ensure_room(super::fsutil::file_size(path).saturating_mul(3))?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut problems = Problems::default();
        let name = path.display().to_string();
        let report = roster::load(&tx, path, &name, &mut problems)?;
        if !problems.is_empty() {
            return Err(Refused::from(problems).into());
        }
        tx.commit()?;
        Ok(report)
    }

    /// Writes the current state as a CSV bundle (with the roster), each file
    /// with a BOM so that spreadsheet programs read the Chinese right, and
    /// every text that a spreadsheet would take for a formula marked as text
    /// (`csvio::for_spreadsheet`; import takes the mark off again).
    pub fn export_bundle(&self, dir: &Path) -> Result<ExportReport> {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        let c = &self.conn;
        let export_query = |c: &Connection, dir: &Path, file: &str, header: &[&str], sql: &str| {
            export_query(c, dir, file, header, sql, self.progress())
        };
        let mut report = ExportReport::default();
        // One read transaction, so the files agree with each other.
        c.execute_batch("BEGIN")?;
        let result = (|| -> Result<()> {
            report.villages = export_query(
                c,
                dir,
                "villages.csv",
                &["code", "name", "kind", "township_name", "county_name", "urban_rural_code"],
                "SELECT r.code, r.name, CASE r.is_village WHEN 1 THEN 'village' ELSE 'community' END,
                        t.name, c.name, r.urban_rural_code
                 FROM roster r LEFT JOIN area t ON t.code = substr(r.code, 1, 9)
                 LEFT JOIN area c ON c.code = substr(r.code, 1, 6) ORDER BY r.code",
            )?;
            report.visits = export_query(
                c,
                dir,
                "visits.csv",
                VISIT_COLS_IN,
                &format!("SELECT {}, rev_id FROM visit ORDER BY visit_id", VISIT_COLS.join(", ")),
            )?;
            report.facilities = export_query(
                c,
                dir,
                "facilities.csv",
                FACILITY_COLS,
                &format!("SELECT {} FROM facility ORDER BY visit_id, facility_id", FACILITY_COLS.join(", ")),
            )?;
            report.farms = export_query(
                c,
                dir,
                "farms.csv",
                FARM_COLS,
                &format!("SELECT {} FROM farm ORDER BY visit_id, farm_id", FARM_COLS.join(", ")),
            )?;
            report.water_bodies = export_query(
                c,
                dir,
                "water_bodies.csv",
                WATER_COLS,
                &format!("SELECT {} FROM water_body ORDER BY visit_id, water_id", WATER_COLS.join(", ")),
            )?;
            Ok(())
        })();
        c.execute_batch("COMMIT")?;
        result.map(|_| report)
    }
}

/// What an export wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub villages: u64,
    pub visits: u64,
    pub facilities: u64,
    pub farms: u64,
    pub water_bodies: u64,
}

/// Streams a query into `dir/file`, written whole or not at all.
fn export_query(
    conn: &Connection,
    dir: &Path,
    file: &str,
    header: &[&str],
    sql: &str,
    progress: &dyn Progress,
) -> Result<u64> {
    // The rows to write, for the bar (SQLite counts from the table's pages,
    // which the export reads next anyway).
    let table = sql.split(" FROM ").nth(1).and_then(|t| t.split_whitespace().next()).unwrap_or("visit");
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
    let _bar = Phase::new(progress, Work::File(file), total as u64);
    let path = dir.join(file);
    super::fsutil::write_atomic(&path, |f| {
        let mut out = std::io::BufWriter::new(f);
        out.write_all("\u{feff}".as_bytes())?;
        let mut w = csv::Writer::from_writer(out);
        w.write_record(header)?;
        let mut st = conn.prepare(sql)?;
        let n = st.column_count();
        let mut rows = st.query([])?;
        let mut count = 0;
        let mut rec: Vec<String> = Vec::with_capacity(n);
        while let Some(row) = rows.next()? {
            _bar.step();
            rec.clear();
            for i in 0..n {
                rec.push(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                    // Text only: numbers are never negative, so never start like a formula.
                    rusqlite::types::ValueRef::Text(t) => for_spreadsheet(&String::from_utf8_lossy(t)).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => String::new(),
                });
            }
            w.write_record(&rec)?;
            count += 1;
        }
        let out = w.into_inner().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        out.into_inner().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(count)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches sent in turn to several channels come back in the order they
    /// were sent when taken in the same turn, and the taking ends with the
    /// last batch; a receiver gone stops the sender.
    #[test]
    fn batches_sent_in_turn_come_back_in_order() {
        let (mut tx, mut rx) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let (t, r) = std::sync::mpsc::sync_channel::<usize>(8);
            tx.push(t);
            rx.push(r);
        }
        let mut turn = InTurn { to: tx, next: 0 };
        for i in 0..10 {
            assert!(turn.send(i));
        }
        drop(turn);
        let back: Vec<usize> = (0..).map_while(|i: usize| rx[i % 3].recv().ok()).collect();
        assert_eq!(back, (0..10).collect::<Vec<_>>());
        let (t, r) = std::sync::mpsc::sync_channel::<usize>(1);
        drop(r);
        assert!(!InTurn { to: vec![t], next: 0 }.send(1));
    }
}
