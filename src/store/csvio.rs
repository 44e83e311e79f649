//! Reading CSV files from people: optional BOM, columns in any order, every
//! problem collected as `file:line: column: reason`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result};

use crate::domain::validate::{LineProblem, Reason};

/// Most problems kept for the report; the rest are only counted.
const MAX_KEPT: usize = 100_000;

/// Problems found in input files: file, line, column and reason of each.
#[derive(Debug, Default)]
pub struct Problems {
    pub list: Vec<LineProblem>,
    pub total: usize,
}

impl Problems {
    pub fn push(&mut self, file: &str, line: u64, column: &str, reason: &Reason) {
        self.total += 1;
        if self.list.len() < MAX_KEPT {
            self.list.push(LineProblem {
                file: file.to_string(),
                line,
                column: column.to_string(),
                reason: reason.clone(),
            });
        }
    }
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Opens a file for reading, decompressing `.gz`.
pub fn open_reader(path: &Path) -> Result<Box<dyn Read>> {
    let f = File::open(path).with_context(|| path.display().to_string())?;
    let r = BufReader::with_capacity(1 << 16, f);
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::with_capacity(1 << 16, flate2::read::GzDecoder::new(r)))
    } else {
        Box::new(r)
    })
}

/// A CSV file whose header has been matched against the known columns.
pub struct Table {
    pub file: String,
    reader: csv::Reader<Box<dyn Read>>,
    /// For each known column, its index in the file.
    index: Vec<Option<usize>>,
    width: usize,
    record: csv::StringRecord,
}

impl Table {
    /// Opens `path` and maps its header. Unknown columns are problems unless
    /// `allow_extra`; missing `required` columns are problems. Returns `None`
    /// when the header is unusable (the problems say why).
    pub fn open(
        path: &Path,
        file: &str,
        known: &[&'static str],
        required: &[&'static str],
        allow_extra: bool,
        problems: &mut Problems,
    ) -> Result<Option<Table>> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(open_reader(path)?);
        let header = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                problems.push(file, 1, "-", &Reason::Csv(e.to_string()));
                return Ok(None);
            }
        };
        let mut index = vec![None; known.len()];
        let mut ok = true;
        for (i, name) in header.iter().enumerate() {
            let name = name.trim_start_matches('\u{feff}').trim();
            match known.iter().position(|k| *k == name) {
                Some(k) if index[k].is_some() => {
                    problems.push(file, 1, name, &Reason::DuplicateColumn);
                    ok = false;
                }
                Some(k) => index[k] = Some(i),
                None if allow_extra => {}
                None => {
                    problems.push(file, 1, name, &Reason::UnknownColumn);
                    ok = false;
                }
            }
        }
        for r in required {
            let k = known.iter().position(|k| k == r).expect("required columns are known");
            if index[k].is_none() {
                problems.push(file, 1, r, &Reason::MissingColumn);
                ok = false;
            }
        }
        Ok(ok.then(|| Table {
            file: file.to_string(),
            reader,
            index,
            width: header.len(),
            record: csv::StringRecord::new(),
        }))
    }

    /// Advances to the next row; returns its line number, or `None` at the end.
    /// A malformed row is a problem and is skipped.
    pub fn next_row(&mut self, problems: &mut Problems) -> Option<u64> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    if self.record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let line = self.record.position().map_or(0, |p| p.line());
                    if self.record.len() != self.width {
                        let why = format!("{} fields, the header has {}", self.record.len(), self.width);
                        problems.push(&self.file, line, "-", &Reason::Csv(why));
                        continue;
                    }
                    return Some(line);
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    problems.push(&self.file, line, "-", &Reason::Csv(e.to_string()));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return None;
                    }
                }
            }
        }
    }

    /// The cell of known column `k` in the current row ("" when absent).
    pub fn get(&self, k: usize) -> &str {
        self.index[k].and_then(|i| self.record.get(i)).unwrap_or("")
    }

    /// Whether the file has known column `k`.
    pub fn has(&self, k: usize) -> bool {
        self.index[k].is_some()
    }
}
