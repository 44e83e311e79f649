//! Reading CSV files from people: any accepted encoding (see `textin`),
//! comma or tab, columns in any order, every problem collected as
//! `file:line: column: reason`; and the one rule that keeps cells written
//! for spreadsheets from being read as formulas.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result};

use super::textin::{self, Decoded, Guard, InputError};
use crate::domain::input::{Malformed, TextEncoding};
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

/// The first characters that make a spreadsheet read a cell as a formula
/// (OWASP's list), and the quote that marks a cell as text.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r', '\''];

/// A cell as written for spreadsheets: a text that a spreadsheet would take
/// for a formula (or that starts with the text mark `'`) gets one `'` in
/// front. [`from_spreadsheet`] undoes it exactly.
pub fn for_spreadsheet(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) { format!("'{cell}").into() } else { cell.into() }
}

/// A cell as read: one leading `'` comes off when what follows starts like
/// a formula or with `'` (the inverse of [`for_spreadsheet`]).
pub fn from_spreadsheet(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

/// Opens a file for reading, decompressing `.gz`. A FIFO, a device or a
/// folder (or a link to one) is refused before it is opened: reading one
/// could hang or never end.
pub fn open_reader(path: &Path) -> Result<Box<dyn Read + Send>> {
    let not_a_file = || InputError { line: 0, why: Malformed::NotAFile };
    let meta = std::fs::metadata(path).with_context(|| path.display().to_string())?;
    if !meta.is_file() {
        return Err(not_a_file().into());
    }
    let f = File::open(path).with_context(|| path.display().to_string())?;
    // Swapped for something else between the two looks.
    if !f.metadata().with_context(|| path.display().to_string())?.is_file() {
        return Err(not_a_file().into());
    }
    let r = BufReader::with_capacity(1 << 16, f);
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::with_capacity(1 << 16, flate2::read::GzDecoder::new(r)))
    } else {
        Box::new(r)
    })
}

type Source = Guard<Decoded<Box<dyn Read + Send>>>;

/// The line and reason of a CSV error: an input that is not well-formed
/// (from `textin`), text that is not UTF-8, or what the parser says.
fn csv_problem(e: &csv::Error) -> (u64, Reason) {
    let line = e.position().map_or(0, |p| p.line());
    match e.kind() {
        csv::ErrorKind::Io(io) => match InputError::of(io) {
            Some(x) => (x.line, Reason::Malformed(x.why.clone())),
            None => (line, Reason::Csv(e.to_string())),
        },
        csv::ErrorKind::Utf8 { .. } => (line, Reason::Malformed(Malformed::Undecodable(TextEncoding::Utf8))),
        _ => (line, Reason::Csv(e.to_string())),
    }
}

/// A CSV file whose header has been matched against the known columns.
pub struct Table {
    pub file: String,
    reader: csv::Reader<Source>,
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
        let raw = match open_reader(path) {
            Ok(r) => r,
            Err(e) => match e.downcast::<InputError>() {
                Ok(e) => {
                    problems.push(file, e.line, "-", &Reason::Malformed(e.why));
                    return Ok(None);
                }
                Err(e) => return Err(e),
            },
        };
        let mut text = Decoded::new(raw);
        let delim = textin::delimiter(text.peek_line());
        let guard = Guard::new(text, delim, textin::MAX_RECORD_BYTES);
        let mut reader = csv::ReaderBuilder::new().flexible(true).delimiter(delim).from_reader(guard);
        let header = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let (line, reason) = csv_problem(&e);
                problems.push(file, line.max(1), "-", &reason);
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
                    let (line, reason) = csv_problem(&e);
                    problems.push(&self.file, line, "-", &reason);
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return None;
                    }
                }
            }
        }
    }

    /// The cell of known column `k` in the current row ("" when absent), the
    /// text mark of [`for_spreadsheet`] taken off.
    pub fn get(&self, k: usize) -> &str {
        from_spreadsheet(self.index[k].and_then(|i| self.record.get(i)).unwrap_or(""))
    }

    /// The encoding the file is read in (final once it is read to the end).
    pub fn encoding(&self) -> TextEncoding {
        self.reader.get_ref().get_ref().encoding()
    }

    /// Whether the file has known column `k`.
    pub fn has(&self, k: usize) -> bool {
        self.index[k].is_some()
    }
}
