//! Roster import (SPEC §1): streamed, upsert by code, all or nothing.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use rusqlite::{Connection, params};

use super::csvio::{Problems, Table};
use crate::domain::input::{Malformed, TextEncoding};
use crate::domain::name_is_village;
use crate::domain::validate::{NAME_MAX_CHARS, Reason, check_code, check_line, check_roster_name};

const COLS: &[&str] = &["code", "name", "kind", "township_name", "county_name", "urban_rural_code"];
const CODE: usize = 0;
const NAME: usize = 1;
const KIND: usize = 2;
const TOWNSHIP: usize = 3;
const COUNTY: usize = 4;
const URBAN_RURAL: usize = 5;

/// What a roster import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RosterReport {
    pub rows: u64,
    pub added: u64,
    pub updated: u64,
    pub villages: u64,
    /// The encoding the file was read in.
    pub encoding: TextEncoding,
}

/// Loads roster rows from `path` into the caller's transaction. Problems are
/// collected; the caller rolls back when there are any.
pub fn load(conn: &Connection, path: &Path, file: &str, problems: &mut Problems) -> Result<RosterReport> {
    let mut report = RosterReport::default();
    let Some(mut t) = Table::open(path, file, COLS, &["code", "name"], true, problems)? else {
        return Ok(report);
    };
    let mut exists = conn.prepare_cached("SELECT 1 FROM roster WHERE code = ?1")?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO roster (code, name, is_village, urban_rural_code) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, is_village = excluded.is_village,
           urban_rural_code = excluded.urban_rural_code
         WHERE (name, is_village, urban_rural_code) IS NOT (excluded.name, excluded.is_village, excluded.urban_rural_code)",
    )?;
    let mut area = conn.prepare_cached(
        "INSERT INTO area (code, name) VALUES (?1, ?2)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name",
    )?;
    let (mut last_county, mut last_township) = (String::new(), String::new());
    // The line of each code in this file: the same code twice is refused,
    // never "the last one wins". Codes are 12 digits: a u64 each.
    let mut seen: HashMap<u64, u64> = HashMap::new();
    while let Some(line) = t.next_row(problems) {
        report.rows += 1;
        let code = t.get(CODE).trim();
        let name = t.get(NAME).trim();
        let mut ok = true;
        if let Err(r) = check_code(code) {
            problems.push(file, line, "code", &r);
            ok = false;
        } else if let Some(&first_line) = seen.get(&code.parse().expect("12 digits")) {
            problems.push(file, line, "code", &Reason::Malformed(Malformed::DuplicateCode { first_line }));
            ok = false;
        } else {
            seen.insert(code.parse().expect("12 digits"), line);
        }
        // The domain's rules for names, as a merge will judge them.
        for (col, r) in [
            ("name", check_roster_name(name)),
            ("township_name", check_line(t.get(TOWNSHIP).trim(), NAME_MAX_CHARS)),
            ("county_name", check_line(t.get(COUNTY).trim(), NAME_MAX_CHARS)),
            ("urban_rural_code", check_line(t.get(URBAN_RURAL).trim(), NAME_MAX_CHARS)),
        ] {
            if let Err(why) = r {
                problems.push(file, line, col, &why);
                ok = false;
            }
        }
        let is_village = match t.get(KIND).trim() {
            "" => name_is_village(name),
            "village" | "行政村" => true,
            "community" | "社区" => false,
            _ => {
                problems.push(file, line, "kind", &Reason::BadEnum("village (行政村), community (社区)".into()));
                ok = false;
                false
            }
        };
        if !ok || !problems.is_empty() {
            continue;
        }
        report.villages += is_village as u64;
        let urban_rural = Some(t.get(URBAN_RURAL).trim()).filter(|s| !s.is_empty());
        let existed = exists.exists([code])?;
        if upsert.execute(params![code, name, is_village, urban_rural])? > 0 {
            if existed { report.updated += 1 } else { report.added += 1 }
        }
        for (k, len, last) in [(COUNTY, 6, &mut last_county), (TOWNSHIP, 9, &mut last_township)] {
            let area_name = t.get(k).trim();
            let area_code = &code[..len];
            if !area_name.is_empty() && (last.as_str() != area_code) {
                area.execute(params![area_code, area_name])?;
                *last = area_code.to_string();
            }
        }
    }
    report.encoding = t.encoding();
    Ok(report)
}
