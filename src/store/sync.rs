//! Sync by USB stick (DESIGN.md "Files from elsewhere are untrusted"):
//! snapshots to carry, and the merge of other crews' databases.
//!
//! A file to merge is copied to a staging file, hashed, opened read-only on
//! its own connection with SQLite's defences on, checked (header, quick_check,
//! application_id, user_version, the exact schema objects) and every row is
//! read through the same validation as typed input. Anything wrong refuses the
//! whole file and leaves the local database as it was. The merge of one file
//! is one transaction: set union of revisions, roster codes added, the touched
//! visits re-materialised (merging automatically what merges cleanly).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use super::bundle::roster_problem;
use super::conflict::{self, MERGE_DEVICE};
use super::revisions::{self, Revision, revision_id};
use super::{APPLICATION_ID, NoProgress, Phase, Progress, SCHEMA_VERSION, Store};
use crate::domain::VisitData;
use crate::domain::settings::ManureCoefficients;
use crate::domain::validate::{is_division_code, validate_visit};
use crate::strings::{lang, sync as s};

/// Largest string or blob read from a file from elsewhere (bytes). A visit's
/// payload is a few kilobytes; anything near this is hostile or broken.
pub const MAX_VALUE_BYTES: i32 = 4 * 1024 * 1024;
/// Write-ahead log pages before a checkpoint during a merge (~256 MB of 4 KB pages).
const MERGE_CHECKPOINT_PAGES: i64 = 65_536;
/// Most problems listed for a refused file; the rest are counted.
const MAX_LISTED: usize = 50;
/// Longest id, device or author accepted from a file, in characters.
const MAX_NAME_CHARS: usize = 100;

/// A file refused whole, with the reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRefused {
    pub file: String,
    pub reasons: Vec<String>,
    pub total: usize,
}

impl fmt::Display for FileRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.reasons {
            writeln!(f, "{}: {r}", self.file)?;
        }
        if self.total > self.reasons.len() {
            writeln!(f, "{}: … {} {}", self.file, self.total - self.reasons.len(), s::more_problems())?;
        }
        write!(f, "{}: {}", self.file, s::file_refused())
    }
}

impl std::error::Error for FileRefused {}

/// Problems found in one file.
#[derive(Debug, Default)]
struct Problems {
    list: Vec<String>,
    total: usize,
}

impl Problems {
    fn push(&mut self, p: String) {
        self.total += 1;
        if self.list.len() < MAX_LISTED {
            self.list.push(p);
        }
    }
}

/// What merging one file did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileReport {
    pub file: String,
    pub hash: String,
    pub source_device: String,
    pub revisions: u64,
    pub new_revisions: u64,
    pub new_visits: u64,
    pub touched_visits: u64,
    pub auto_merged: u64,
    pub conflicts: u64,
    pub roster_added: u64,
    /// Roster units whose name differs here and there: (code, here, there).
    pub roster_names_differ: Vec<(String, String, String)>,
}

/// The fate of one file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    Merged(FileReport),
    /// The same file (by hash) was merged before: nothing changed.
    AlreadyMerged {
        file: String,
        merged_at: String,
        first_name: String,
    },
    Refused(FileRefused),
}

/// What a merge command did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeReport {
    pub files: Vec<FileOutcome>,
    /// The backup of the local database taken before writing.
    pub backup: Option<PathBuf>,
    pub open_conflicts: i64,
    pub dry_run: bool,
}

impl MergeReport {
    pub fn refused(&self) -> usize {
        self.files.iter().filter(|f| matches!(f, FileOutcome::Refused(_))).count()
    }
}

/// How to merge.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeOptions {
    /// Check and report only; write nothing.
    pub dry_run: bool,
    /// Report progress to the store's [`Progress`] (a bar on a terminal).
    pub progress: bool,
}

/// What a snapshot wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub revisions: i64,
    pub visits: i64,
}

/// A staged copy of a file, removed when dropped.
struct Staged {
    path: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        for ext in ["-wal", "-shm", "-journal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A file that passed the checks that need only the file itself.
struct Checked {
    conn: Connection,
    hash: String,
    source_device: String,
    _staged: Staged,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies `src` to `dst`, hashing the bytes on the way (the file is read once).
fn copy_hashing(src: &Path, dst: &Path) -> std::io::Result<String> {
    use std::io::Write;
    let mut from = std::fs::File::open(src)?;
    let mut to = std::fs::File::create(dst)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    to.flush()?;
    Ok(hex(&h.finalize()))
}

/// A URI for a local path, escaping what URIs give meaning to.
fn file_uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// The SQLite header's verdict: not SQLite, or truncated.
fn check_header(path: &Path) -> Result<Option<String>> {
    let len = std::fs::metadata(path)?.len();
    let mut head = [0u8; 100];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut head)?;
    if n < 16 || &head[..16] != b"SQLite format 3\0" {
        return Ok(Some(s::not_sqlite().to_string()));
    }
    if n < 100 {
        return Ok(Some(s::truncated().to_string()));
    }
    let page_size = match u16::from_be_bytes([head[16], head[17]]) {
        1 => 65536u64,
        p => p as u64,
    };
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Ok(Some(s::not_sqlite().to_string()));
    }
    let pages = u32::from_be_bytes([head[28], head[29], head[30], head[31]]) as u64;
    let valid_for = u32::from_be_bytes([head[92], head[93], head[94], head[95]]);
    let change = u32::from_be_bytes([head[24], head[25], head[26], head[27]]);
    if len % page_size != 0 || (valid_for == change && pages > 0 && len < pages * page_size) {
        return Ok(Some(s::truncated().to_string()));
    }
    Ok(None)
}

/// The schema objects of a fresh ruralsan database.
/// A schema object: type, name, table name, SQL.
type SchemaObject = (String, String, String, Option<String>);

fn expected_schema() -> Result<Vec<SchemaObject>> {
    let fresh = Store::open_in_memory()?;
    Ok(schema_objects(&fresh.conn)?)
}

fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<SchemaObject>> {
    let mut st = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect()
}

/// Opens a staged file read-only with SQLite's defences on.
fn open_defended(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        file_uri(path) + "?immutable=1",
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)?;
    conn.set_limit(Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.execute_batch("PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON; PRAGMA mmap_size = 0;")?;
    Ok(conn)
}

/// Why SQLite would not read a file, for people.
fn sqlite_reason(e: &rusqlite::Error) -> String {
    use rusqlite::ffi::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(TooBig) => s::value_too_big(MAX_VALUE_BYTES as usize),
        Some(NotADatabase) => s::not_sqlite().to_string(),
        Some(DatabaseCorrupt) => format!("{} ({e})", s::corrupt()),
        _ => format!("{} ({e})", s::unreadable()),
    }
}

/// What staging found.
enum Staging {
    Refused(String),
    /// Merged before (same hash): when, and under which name.
    Already(String, String),
    Checked(Checked),
}

/// Copies and hashes a file, stops there when `local` logged its hash
/// already, else opens and checks it on its own.
fn stage_and_check(src: &Path, staging: &Path, n: usize, local: &Connection) -> Result<Staging> {
    if !src.is_file() {
        return Ok(Staging::Refused(s::no_such_file().to_string()));
    }
    let mut wal = src.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Ok(Staging::Refused(s::live_database().to_string()));
    }
    std::fs::create_dir_all(staging).with_context(|| staging.display().to_string())?;
    let staged = Staged { path: staging.join(format!("staged-{}-{n}.db", std::process::id())) };
    let hash = copy_hashing(src, &staged.path).with_context(|| format!("{}: {}", src.display(), s::cannot_copy()))?;
    let done: Option<(String, String)> = local
        .query_row("SELECT merged_at, file_name FROM merge_log WHERE file_hash = ?1", [&hash], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((at, first)) = done {
        return Ok(Staging::Already(at, first));
    }
    Ok(match check_staged(staged, hash)? {
        Ok(c) => Staging::Checked(c),
        Err(why) => Staging::Refused(why),
    })
}

fn check_staged(staged: Staged, hash: String) -> Result<std::result::Result<Checked, String>> {
    if let Some(why) = check_header(&staged.path)? {
        return Ok(Err(why));
    }
    let conn = match open_defended(&staged.path) {
        Ok(c) => c,
        Err(e) => return Ok(Err(sqlite_reason(&e))),
    };
    let want = expected_schema()?;
    let checks = || -> std::result::Result<std::result::Result<String, String>, rusqlite::Error> {
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        if app_id != APPLICATION_ID {
            return Ok(Err(s::wrong_application_id(app_id)));
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Ok(Err(s::newer_version(version, SCHEMA_VERSION)));
        }
        if version != SCHEMA_VERSION {
            return Ok(Err(s::older_version(version, SCHEMA_VERSION)));
        }
        let quick: Vec<String> = {
            let mut st = conn.prepare("PRAGMA quick_check(20)")?;
            st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        if quick.first().map(String::as_str) != Some("ok") {
            return Ok(Err(format!("{}: {}", s::integrity_failed(), quick.join("; "))));
        }
        let got = schema_objects(&conn)?;
        if got != want {
            let name = |(t, n, _, _): &SchemaObject| format!("{t} {n}");
            let known: HashSet<&str> = want.iter().map(|w| w.1.as_str()).collect();
            let extra: Vec<String> =
                got.iter().filter(|o| !want.contains(o) && !known.contains(o.1.as_str())).map(name).collect();
            let missing_or_changed: Vec<String> = want.iter().filter(|w| !got.contains(w)).map(name).collect();
            return Ok(Err(s::schema_differs(&extra, &missing_or_changed)));
        }
        let device: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'device_id'", [], |r| r.get(0)).optional()?;
        match device {
            Some(d) if !d.trim().is_empty() && d.chars().count() <= MAX_NAME_CHARS => Ok(Ok(d)),
            _ => Ok(Err(s::bad_device_id().to_string())),
        }
    };
    match checks() {
        Err(e) => Ok(Err(sqlite_reason(&e))),
        Ok(Err(why)) => Ok(Err(why)),
        Ok(Ok(source_device)) => Ok(Ok(Checked { conn, hash, source_device, _staged: staged })),
    }
}

fn is_rev_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_hlc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19 && b[13] == b'.' && b.iter().enumerate().all(|(i, c)| i == 13 || c.is_ascii_digit())
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// A name-like text from a file: non-empty, bounded, no control characters.
fn name_ok(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().count() <= MAX_NAME_CHARS && !s.chars().any(char::is_control)
}

/// Checks one revision read from a file, as typed input would be checked.
/// `group` holds the revision ids of the same visit in the file.
fn check_revision(
    conn: &Connection,
    r: &Revision,
    group: &HashSet<String>,
    today: chrono::NaiveDate,
    roster_cache: &mut HashMap<String, Option<String>>,
    problems: &mut Problems,
) -> Result<Option<VisitData>> {
    let at = format!("{} {} ({} {})", s::revision(), short(&r.rev_id), s::visit(), short(&r.visit_id));
    let mut parsed = None;
    let before = problems.total;
    let mut bad = |field: &str, why: String| problems.push(format!("{at}: {field}: {why}"));
    if !name_ok(&r.visit_id) {
        bad("visit_id", s::bad_text().into());
    }
    if !is_rev_id(&r.rev_id) {
        bad("rev_id", s::bad_rev_id().into());
    }
    if !is_hlc(&r.hlc) {
        bad("hlc", s::bad_hlc().into());
    }
    if !name_ok(&r.device) {
        bad("device", s::bad_text().into());
    }
    if !name_ok(&r.author) {
        bad("author", s::bad_text().into());
    }
    if !r.parents.windows(2).all(|w| w[0] < w[1]) {
        bad("parents", s::parents_unsorted().into());
    }
    for p in &r.parents {
        if !group.contains(p) {
            bad("parents", s::parent_missing(&short(p)));
        }
    }
    if r.device == MERGE_DEVICE && r.parents.len() < 2 {
        bad("parents", s::merge_needs_parents().into());
    }
    if r.deleted {
        if !r.payload.is_empty() {
            bad("payload", s::deleted_with_payload().into());
        }
    } else {
        match serde_json::from_str::<VisitData>(&r.payload) {
            Err(e) => bad("payload", format!("{} ({e})", s::payload_unreadable())),
            Ok(v) => {
                if v.canonical_json() != r.payload {
                    bad("payload", s::payload_not_canonical().into());
                }
                for p in validate_visit(&v, today, &ManureCoefficients::default()) {
                    bad(p.field, p.reason.message(lang()));
                }
                if is_division_code(&v.village_code) {
                    let verdict = match roster_cache.get(&v.village_code) {
                        Some(v) => v.clone(),
                        None => {
                            let why = roster_problem(conn, &v.village_code)?.map(|r| r.message(lang()));
                            roster_cache.insert(v.village_code.clone(), why.clone());
                            why
                        }
                    };
                    if let Some(why) = verdict {
                        bad("village_code", format!("{} {why}", v.village_code));
                    }
                }
                parsed = Some(v);
            }
        }
    }
    if problems.total == before && revision_id(&r.visit_id, &r.parents, &r.payload, r.deleted) != r.rev_id {
        problems.push(format!("{at}: rev_id: {}", s::rev_id_mismatch()));
    }
    Ok(parsed)
}

/// A revision as read from a file: the parents column is parsed strictly.
fn read_revision(row: &rusqlite::Row) -> rusqlite::Result<(Revision, Option<String>)> {
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
        },
        bad.or_else(|| (!(0..=1).contains(&deleted)).then(|| "deleted".to_string())),
    ))
}

/// Merges the roster and areas of a checked file into the transaction.
fn merge_roster(tx: &Connection, file: &Connection, report: &mut FileReport, problems: &mut Problems) -> Result<()> {
    let mut st =
        file.prepare("SELECT code, name, is_village, urban_rural_code FROM roster ORDER BY code").map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut local = tx.prepare_cached("SELECT name FROM roster WHERE code = ?1")?;
    let mut ins =
        tx.prepare_cached("INSERT INTO roster (code, name, is_village, urban_rural_code) VALUES (?1, ?2, ?3, ?4)")?;
    while let Some(r) = rows.next().map_err(bad_file)? {
        let code: String = r.get(0).map_err(bad_file)?;
        let name: String = r.get(1).map_err(bad_file)?;
        let is_village: i64 = r.get(2).map_err(bad_file)?;
        let urban: Option<String> = r.get(3).map_err(bad_file)?;
        let at = format!("roster {}", short(&code));
        if !is_division_code(&code) {
            problems.push(format!("{at}: code: {}", s::bad_code()));
            continue;
        }
        if !name_ok(&name) || !(0..=1).contains(&is_village) || urban.as_deref().is_some_and(|u| !name_ok(u)) {
            problems.push(format!("{at}: {}", s::bad_roster_row()));
            continue;
        }
        match local.query_row([&code], |r| r.get::<_, String>(0)).optional()? {
            None => {
                ins.execute(params![code, name, is_village, urban])?;
                report.roster_added += 1;
            }
            Some(here) if here != name => report.roster_names_differ.push((code, here, name)),
            Some(_) => {}
        }
    }
    let mut st = file.prepare("SELECT code, name FROM area ORDER BY code").map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO area (code, name) VALUES (?1, ?2)")?;
    while let Some(r) = rows.next().map_err(bad_file)? {
        let code: String = r.get(0).map_err(bad_file)?;
        let name: String = r.get(1).map_err(bad_file)?;
        if !matches!(code.len(), 6 | 9) || !code.bytes().all(|b| b.is_ascii_digit()) || !name_ok(&name) {
            problems.push(format!("area {}: {}", short(&code), s::bad_roster_row()));
            continue;
        }
        ins.execute(params![code, name])?;
    }
    Ok(())
}

/// Reads, checks and inserts the revisions of a checked file; the visits touched.
fn merge_revisions(
    tx: &Connection,
    file: &Connection,
    name: &str,
    opts: MergeOptions,
    report: &mut FileReport,
    problems: &mut Problems,
    progress: &dyn Progress,
) -> Result<(Vec<String>, String)> {
    let today = chrono::Local::now().date_naive();
    let total: i64 = file.query_row("SELECT count(*) FROM revision", [], |r| r.get(0)).map_err(bad_file)?;
    let quiet = NoProgress;
    let bar = Phase::new(
        if opts.progress { progress } else { &quiet },
        &format!("{name}: {}", s::revisions_checked()),
        total as u64,
    );
    let mut st = file
        .prepare(
            "SELECT rev_id, visit_id, parents, payload, deleted, hlc, device, author FROM revision ORDER BY visit_id, rev_id",
        )
        .map_err(bad_file)?;
    let mut rows = st.query([]).map_err(bad_file)?;
    let mut existing = tx.prepare_cached("SELECT hlc, device, author FROM revision WHERE rev_id = ?1")?;
    let mut known_visit = tx.prepare_cached("SELECT 1 FROM revision WHERE visit_id = ?1 LIMIT 1")?;
    let mut restamp = tx.prepare_cached("UPDATE revision SET hlc = ?2, device = ?3, author = ?4 WHERE rev_id = ?1")?;
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
        if problems.total > 0 {
            group.clear();
            return Ok(());
        }
        let visit_id = group[0].visit_id.clone();
        let is_new = !known_visit.exists([&visit_id])?;
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
        for r in group.drain(..) {
            if r.hlc > max_hlc {
                max_hlc = r.hlc.clone();
            }
            // A revision id hashes its visit id: a visit new here has none of them.
            let here: Option<(String, String, String)> = if is_new {
                None
            } else {
                existing.query_row([&r.rev_id], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?))).optional()?
            };
            match here {
                None => {
                    revisions::insert_revision(tx, &r)?;
                    report.new_revisions += 1;
                    changed = true;
                }
                // The same revision stamped differently on two devices (the
                // same bundle imported twice): keep the least stamp, so every
                // merge order agrees.
                Some(h) if (&r.hlc, &r.device, &r.author) < (&h.0, &h.1, &h.2) => {
                    restamp.execute(params![r.rev_id, r.hlc, r.device, r.author])?;
                    changed = true;
                }
                Some(_) => {}
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
            problems.push(format!("{} {}: parents/deleted: {}", s::revision(), short(&r.rev_id), short(&why)));
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

/// A reason to refuse the file found while reading it (SQLite refused a row).
#[derive(Debug)]
struct FileRefusedReason(String);

impl fmt::Display for FileRefusedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileRefusedReason {}

impl Store {
    /// Writes a consistent, self-contained copy of the database to `dest`
    /// (with `VACUUM INTO`, safe while the app has the database open),
    /// checks its integrity and leaves no sidecar files.
    pub fn snapshot(&self, dest: &Path) -> Result<SnapshotReport> {
        if dest.exists() {
            bail!("{}: {}", dest.display(), s::snapshot_exists());
        }
        let name = dest.file_name().ok_or_else(|| anyhow!("{}: {}", dest.display(), s::bad_path()))?;
        let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".partial");
        let tmp = dir.join(tmp_name);
        let remove_tmp = || {
            let _ = std::fs::remove_file(&tmp);
            for ext in ["-wal", "-shm", "-journal"] {
                let mut p = tmp.clone().into_os_string();
                p.push(ext);
                let _ = std::fs::remove_file(p);
            }
        };
        remove_tmp();
        let result = (|| -> Result<SnapshotReport> {
            let tmp_str = tmp.to_str().ok_or_else(|| anyhow!("{}: {}", dest.display(), s::bad_path()))?;
            self.conn
                .execute("VACUUM INTO ?1", [tmp_str])
                .with_context(|| format!("{}: {}", dest.display(), s::snapshot_failed()))?;
            let (revs, visits) = {
                let c = Connection::open(&tmp)?;
                let _: String = c.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
                let ok: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
                let app: i64 = c.query_row("PRAGMA application_id", [], |r| r.get(0))?;
                let ver: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if ok != "ok" || app != APPLICATION_ID || ver != SCHEMA_VERSION {
                    bail!("{}: {} ({ok})", dest.display(), s::snapshot_check_failed());
                }
                let revs: i64 = c.query_row("SELECT count(*) FROM revision", [], |r| r.get(0))?;
                let visits: i64 = c.query_row("SELECT count(*) FROM visit", [], |r| r.get(0))?;
                (revs, visits)
            };
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, dest).with_context(|| dest.display().to_string())?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            let bytes = std::fs::metadata(dest)?.len();
            Ok(SnapshotReport { path: dest.to_path_buf(), bytes, revisions: revs, visits })
        })();
        remove_tmp();
        result
    }

    /// Takes a backup of the local database (backup API) into `backups/`
    /// next to it; `None` for an in-memory database.
    pub fn backup_local(&self) -> Result<Option<PathBuf>> {
        let Some(db) = self.conn.path().filter(|p| !p.is_empty()).map(PathBuf::from) else { return Ok(None) };
        let dir = db.parent().map(|p| p.join("backups")).unwrap_or_else(|| PathBuf::from("backups"));
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let stem = db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "ruralsan".into());
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let mut path = dir.join(format!("{stem}-{stamp}.db"));
        let mut i = 1;
        while path.exists() {
            path = dir.join(format!("{stem}-{stamp}-{i}.db"));
            i += 1;
        }
        self.conn
            .backup(rusqlite::MAIN_DB, &path, None::<fn(rusqlite::backup::Progress)>)
            .with_context(|| format!("{}: {}", path.display(), s::backup_failed()))?;
        Ok(Some(path))
    }

    /// The staging folder for files to merge.
    fn staging_dir(&self) -> PathBuf {
        match self.conn.path().filter(|p| !p.is_empty()) {
            Some(p) => Path::new(p).parent().unwrap_or(Path::new(".")).join("staging"),
            None => std::env::temp_dir().join("ruralsan-staging"),
        }
    }

    /// Merges other ruralsan databases into this one, each file in one
    /// transaction; a refused file changes nothing.
    pub fn merge_files(&mut self, files: &[PathBuf], opts: MergeOptions) -> Result<MergeReport> {
        self.merge_files_after(files, opts, None)
    }

    /// As [`Store::merge_files`], continuing a merge whose backup was already
    /// taken (`backup`): the terminal UI merges file by file to show its
    /// progress, and one backup before the first file is enough.
    pub fn merge_files_after(
        &mut self,
        files: &[PathBuf],
        opts: MergeOptions,
        backup: Option<PathBuf>,
    ) -> Result<MergeReport> {
        let mut report = MergeReport { dry_run: opts.dry_run, backup, ..Default::default() };
        let staging = self.staging_dir();
        // Each file's transaction rewrites pages all over the database
        // (visit ids are random); copying them back after every file doubled
        // the writes. Checkpoint when the log passes ~256 MB, and once at the end.
        self.conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {MERGE_CHECKPOINT_PAGES}"))?;
        let mut run = || -> Result<()> {
            for (n, path) in files.iter().enumerate() {
                let outcome = self.merge_one(path, &staging, n, opts, &mut report.backup)?;
                report.files.push(outcome);
            }
            Ok(())
        };
        let result = run();
        let _ = std::fs::remove_dir(&staging);
        self.conn.execute_batch("PRAGMA wal_autocheckpoint = 1000")?;
        result?;
        if !opts.dry_run {
            // Without waiting: another program reading the database keeps the log for now.
            self.conn.busy_timeout(std::time::Duration::ZERO)?;
            let _ = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            self.conn.busy_timeout(std::time::Duration::from_secs(10))?;
        }
        report.open_conflicts = conflict::open_conflicts(&self.conn)?;
        Ok(report)
    }

    fn merge_one(
        &mut self,
        path: &Path,
        staging: &Path,
        n: usize,
        opts: MergeOptions,
        backup: &mut Option<PathBuf>,
    ) -> Result<FileOutcome> {
        let name = path.display().to_string();
        let refuse = |reasons: Vec<String>, total: usize| {
            Ok(FileOutcome::Refused(FileRefused { file: name.clone(), reasons, total }))
        };
        let checked = match stage_and_check(path, staging, n, &self.conn)? {
            Staging::Checked(c) => c,
            Staging::Refused(why) => return refuse(vec![why], 1),
            Staging::Already(merged_at, first_name) => {
                return Ok(FileOutcome::AlreadyMerged { file: name, merged_at, first_name });
            }
        };
        if !opts.dry_run && backup.is_none() {
            *backup = self.backup_local()?;
        }
        let mut report = FileReport {
            file: name.clone(),
            hash: checked.hash.clone(),
            source_device: checked.source_device.clone(),
            ..Default::default()
        };
        let mut problems = Problems::default();
        let progress = self.progress.as_ref();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let read = (|| -> Result<(Vec<String>, String)> {
            merge_roster(&tx, &checked.conn, &mut report, &mut problems)?;
            merge_revisions(&tx, &checked.conn, &name, opts, &mut report, &mut problems, progress)
        })();
        let (touched, max_hlc) = match read {
            Ok(x) => x,
            Err(e) => match e.downcast::<FileRefusedReason>() {
                Ok(r) => return refuse(vec![r.0], 1),
                Err(e) => return Err(e),
            },
        };
        if problems.total > 0 {
            return refuse(problems.list, problems.total);
        }
        let quiet = NoProgress;
        let bar = Phase::new(
            if opts.progress { progress } else { &quiet },
            &format!("{name}: {}", s::visits_updated()),
            touched.len() as u64,
        );
        for visit_id in &touched {
            let r = conflict::refresh(&tx, visit_id)?;
            report.auto_merged += r.auto_merged as u64;
            report.conflicts += r.conflict as u64;
            bar.step();
        }
        drop(bar);
        report.touched_visits += touched.len() as u64;
        if !max_hlc.is_empty() {
            revisions::observe_hlc(&tx, &max_hlc)?;
        }
        tx.execute(
            "INSERT INTO merge_log (file_hash, source_device, merged_at, file_name, revisions, new_revisions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                checked.hash,
                checked.source_device,
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                name,
                report.revisions as i64,
                report.new_revisions as i64
            ],
        )?;
        if !opts.dry_run {
            tx.commit()?;
        }
        Ok(FileOutcome::Merged(report))
    }
}

impl MergeReport {
    /// The report for people: what was merged (stdout) and what was refused (stderr).
    pub fn render(&self) -> (String, String) {
        let (mut out, mut err) = (String::new(), String::new());
        if self.dry_run {
            out.push_str(s::dry_run());
            out.push('\n');
        }
        if let Some(b) = &self.backup {
            out.push_str(&format!("{} {}\n", s::backup_taken(), b.display()));
        }
        for f in &self.files {
            match f {
                FileOutcome::Merged(r) => {
                    out.push_str(&s::merged_line(
                        &r.file,
                        r.revisions,
                        r.new_revisions,
                        r.new_visits,
                        r.auto_merged,
                        r.conflicts,
                        r.roster_added,
                        &r.source_device,
                        self.dry_run,
                    ));
                    out.push('\n');
                    for (code, here, there) in r.roster_names_differ.iter().take(10) {
                        out.push_str(&s::roster_name_differs(code, here, there));
                        out.push('\n');
                    }
                    if r.roster_names_differ.len() > 10 {
                        out.push_str(&s::more_names_differ(r.roster_names_differ.len() - 10));
                        out.push('\n');
                    }
                }
                FileOutcome::AlreadyMerged { file, merged_at, first_name } => {
                    out.push_str(&s::already_merged_line(file, merged_at, first_name));
                    out.push('\n');
                }
                FileOutcome::Refused(r) => {
                    err.push_str(&r.to_string());
                    err.push('\n');
                }
            }
        }
        out.push_str(&format!("{}: {}\n", s::open_conflicts(), self.open_conflicts));
        (out, err)
    }
}

/// SQLite would not give a row of the file: the file is bad.
fn bad_file(e: rusqlite::Error) -> anyhow::Error {
    FileRefusedReason(sqlite_reason(&e)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checks_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.db");
        std::fs::write(&p, b"hello, not a database at all").unwrap();
        assert_eq!(check_header(&p).unwrap(), Some(s::not_sqlite().to_string()));
        assert!(is_hlc("1700000000000.00001"));
        assert!(!is_hlc("1700000000000-00001"));
        assert!(is_rev_id("0123456789abcdef0123456789abcdef"));
        assert!(!is_rev_id("0123456789ABCDEF0123456789abcdef"));
        assert_eq!(file_uri(Path::new("/a b/c?d#e%f")), "file:/a b/c%3fd%23e%25f");
    }
}
