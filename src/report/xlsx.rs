//! `ruralsan report FILE.xlsx`: the summary workbook a county office hands
//! round. A sheet per level (county, township) with every figure of
//! [`COLUMNS`], the targets in a row under the header and missed targets
//! filled in colour *and* marked ✗; then a sheet with every administrative
//! village's status. Rates are stored as fractions and formatted as percent,
//! so the sheet computes with them. Headers and labels are those of
//! `report::summary`, the one source of every output's wording.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use unicode_width::UnicodeWidthStr;

use super::summary::{self as sm, COLUMNS, Column, Figure, labels};
use crate::domain::indicators::{Figures, Indicator, misses_target};
use crate::domain::{Level, Settings};
use crate::store::Store;
use crate::store::summary::{Counting, Summary, VillageStatus};
use crate::strings::Lang;

/// Row of the sheet title (as-of date, threshold, legend).
pub const TITLE_ROW: u32 = 0;
/// Row of the column headers on every sheet.
pub const HEADER_ROW: u32 = 1;
/// Row of the targets on the area sheets; the total row follows it.
pub const TARGET_ROW: u32 = 2;

/// Number format of a rate that misses its target: the mark is part of what
/// is shown (and printed), the cell keeps its number.
const MISSED_RATE: &str = "0.0%\" ✗\"";
/// Fill and font of a missed target (the spreadsheet programs' "bad" style).
const MISSED_FILL: u32 = 0xFFC7CE;
const MISSED_FONT: u32 = 0x9C0006;

struct Styles {
    title: Format,
    header: Format,
    text: Format,
    bold: Format,
    count: Format,
    tonnes: Format,
    rate: Format,
    rate_missed: Format,
    target: Format,
    none: Format,
    missed_text: Format,
    grey_text: Format,
}

impl Styles {
    fn new() -> Styles {
        let missed =
            |f: Format| f.set_background_color(Color::RGB(MISSED_FILL)).set_font_color(Color::RGB(MISSED_FONT));
        Styles {
            title: Format::new().set_bold().set_font_size(12),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(Color::RGB(0xD9E1F2))
                .set_border(FormatBorder::Thin),
            text: Format::new(),
            bold: Format::new().set_bold(),
            count: Format::new().set_num_format("#,##0"),
            tonnes: Format::new().set_num_format("#,##0.0"),
            rate: Format::new().set_num_format("0.0%"),
            rate_missed: missed(Format::new().set_num_format(MISSED_RATE)),
            target: Format::new().set_num_format("\"≥\"0.0%").set_bold().set_background_color(Color::RGB(0xFFF2CC)),
            none: Format::new().set_align(FormatAlign::Center),
            missed_text: missed(Format::new().set_align(FormatAlign::Center)),
            grey_text: Format::new().set_font_color(Color::RGB(0x808080)),
        }
    }
}

/// Writes cells and remembers the widest text of each column, so that the
/// columns fit Chinese text (a CJK character is two columns wide).
struct Sheet<'a> {
    ws: &'a mut Worksheet,
    widths: Vec<usize>,
}

impl<'a> Sheet<'a> {
    /// Starts a sheet (its title row written): the header row is made tall
    /// enough for two lines before it is written, as a constant-memory sheet
    /// only takes row formatting in order.
    fn new(ws: &'a mut Worksheet) -> Result<Sheet<'a>> {
        ws.set_row_height(HEADER_ROW, 36)?;
        Ok(Sheet { ws, widths: Vec::new() })
    }

    fn note(&mut self, col: u16, width: usize) {
        let c = col as usize;
        if self.widths.len() <= c {
            self.widths.resize(c + 1, 0);
        }
        self.widths[c] = self.widths[c].max(width);
    }

    fn text(&mut self, row: u32, col: u16, s: &str, f: &Format) -> Result<()> {
        self.ws.write_string_with_format(row, col, s, f)?;
        self.note(col, s.width());
        Ok(())
    }

    /// A header: wrapped onto two lines, so it asks for about half its width.
    fn header(&mut self, col: u16, s: &str, f: &Format) -> Result<()> {
        self.ws.write_string_with_format(HEADER_ROW, col, s, f)?;
        // Chinese wraps between any two characters, English between words.
        let longest_word = s.split(|c: char| c.is_whitespace() || !c.is_ascii()).map(str::len).max().unwrap_or(0);
        self.note(col, s.width().div_ceil(2).max(longest_word) + 1);
        Ok(())
    }

    fn number(&mut self, row: u32, col: u16, v: f64, shown: usize, f: &Format) -> Result<()> {
        self.ws.write_number_with_format(row, col, v, f)?;
        self.note(col, shown);
        Ok(())
    }

    /// A figure of `column`; a rate of a targeted indicator that misses its
    /// target is filled and marked.
    fn figure(&mut self, row: u32, col: u16, column: &Column, f: &Figures, s: &Settings, st: &Styles) -> Result<()> {
        let v = (column.value)(f);
        let shown = v.text().width();
        match v {
            Figure::Count(n) => self.number(row, col, n as f64, shown + shown / 3, &st.count),
            Figure::Tonnes(t) => self.number(row, col, t, shown + shown / 3, &st.tonnes),
            Figure::Rate(None) => self.text(row, col, "—", &st.none),
            Figure::Rate(Some(r)) => {
                let missed = column.indicator.is_some_and(|i| misses_target(Some(r), i.target(&s.targets)));
                if missed {
                    self.number(row, col, r, shown + 2, &st.rate_missed)
                } else {
                    self.number(row, col, r, shown, &st.rate)
                }
            }
        }
    }

    fn finish(self) -> Result<()> {
        for (c, w) in self.widths.iter().enumerate() {
            self.ws.set_column_width(c as u16, (*w as f64 + 2.0).clamp(6.0, 48.0))?;
        }
        Ok(())
    }
}

fn title(s: &Summary, what: &str, lang: Lang) -> String {
    format!(
        "{} · {what}    {} {}    {} {}    {} {}    {}",
        labels::SUMMARY_OF.get(lang),
        labels::AS_OF.get(lang),
        s.as_of,
        labels::THRESHOLD.get(lang),
        sm::percent(Some(s.settings.village_threshold)),
        labels::OPEN_CONFLICTS.get(lang),
        s.open_conflicts,
        labels::MISSED.get(lang),
    )
}

/// A sheet of one level: code, name, every figure, then whether each target
/// is met; the target row under the header; the total row first.
fn area_sheet(ws: &mut Worksheet, s: &Summary, lang: Lang, st: &Styles) -> Result<()> {
    let level = sm::level_name(s.level.code(), lang);
    ws.set_name(level)?;
    ws.write_string_with_format(TITLE_ROW, 0, title(s, level, lang), &st.title)?;
    let mut sh = Sheet::new(ws)?;
    let first = 2u16;
    let met_first = first + COLUMNS.len() as u16;
    sh.header(0, labels::CODE.get(lang), &st.header)?;
    sh.header(1, labels::NAME.get(lang), &st.header)?;
    for (k, c) in COLUMNS.iter().enumerate() {
        sh.header(first + k as u16, c.label.get(lang), &st.header)?;
    }
    for (k, i) in Indicator::ALL.iter().enumerate() {
        sh.header(met_first + k as u16, &sm::met_header(*i, lang), &st.header)?;
    }
    sh.text(TARGET_ROW, 1, labels::TARGET.get(lang), &st.bold)?;
    for (k, c) in COLUMNS.iter().enumerate() {
        if let Some(i) = c.indicator {
            sh.number(TARGET_ROW, first + k as u16, i.target(&s.settings.targets), 7, &st.target)?;
        }
    }
    for (n, (_, code, name, f)) in sm::rows(s, lang).into_iter().enumerate() {
        let row = TARGET_ROW + 1 + n as u32;
        let name_format = if n == 0 { &st.bold } else { &st.text };
        sh.text(row, 0, &code, &st.text)?;
        sh.text(row, 1, &name, name_format)?;
        for (k, c) in COLUMNS.iter().enumerate() {
            sh.figure(row, first + k as u16, c, f, &s.settings, st)?;
        }
        for (k, i) in Indicator::ALL.iter().enumerate() {
            let m = sm::met(f, *i, &s.settings);
            let format = if m == Some(false) { &st.missed_text } else { &st.none };
            sh.text(row, met_first + k as u16, sm::met_text(m, lang), format)?;
        }
    }
    sh.finish()?;
    ws.set_freeze_panes(TARGET_ROW + 1, 2)?;
    ws.set_landscape();
    ws.set_repeat_rows(HEADER_ROW, TARGET_ROW)?;
    ws.set_repeat_columns(0, 1)?;
    Ok(())
}

/// The village sheet's own columns, before the per-village figures.
pub const VILLAGE_STATUS_COLUMNS: usize = 9;

/// Every administrative village with its status: county, township, code,
/// name, surveyed or not, counting visit date, same-day duplicates, treated,
/// treated or controlled, then the figures that mean something for one
/// village. Unsurveyed villages leave their figures empty.
fn village_sheet(
    ws: &mut Worksheet,
    s: &Summary,
    store: &Store,
    names: &HashMap<String, String>,
    lang: Lang,
    st: &Styles,
) -> Result<usize> {
    let level = sm::level_name(Level::Village.code(), lang);
    ws.set_name(level)?;
    ws.write_string_with_format(TITLE_ROW, 0, title(s, level, lang), &st.title)?;
    let mut sh = Sheet::new(ws)?;
    let own = [
        sm::level_name(Level::County.code(), lang),
        sm::level_name(Level::Township.code(), lang),
        labels::CODE.get(lang),
        labels::NAME.get(lang),
        labels::STATUS.get(lang),
        labels::COUNTING_DATE.get(lang),
        labels::SAME_DAY.get(lang),
        labels::TREATED.get(lang),
        labels::CONTROLLED.get(lang),
    ];
    debug_assert_eq!(own.len(), VILLAGE_STATUS_COLUMNS);
    for (k, h) in own.iter().enumerate() {
        sh.header(k as u16, h, &st.header)?;
    }
    let figures: Vec<&Column> = COLUMNS.iter().filter(|c| c.per_village).collect();
    let first = own.len() as u16;
    for (k, c) in figures.iter().enumerate() {
        sh.header(first + k as u16, c.label.get(lang), &st.header)?;
    }
    fn name_of<'n>(names: &'n HashMap<String, String>, code: &'n str, len: usize) -> &'n str {
        names.get(&code[..len]).map(String::as_str).unwrap_or(&code[..len])
    }
    let yes_no = |b: bool| if b { labels::YES.get(lang) } else { labels::NO.get(lang) };
    let mut n = 0usize;
    let counting = Counting { approved_only: s.approved_only, flagged: s.flagged_checked };
    store.each_village_status_counting(&s.as_of, None, &s.settings, counting, |v: VillageStatus| {
        let row = HEADER_ROW + 1 + n as u32;
        n += 1;
        let (code, f) = (v.row.code.as_str(), &v.row.figures);
        sh.text(row, 0, name_of(names, code, 6), &st.text)?;
        sh.text(row, 1, name_of(names, code, 9), &st.text)?;
        sh.text(row, 2, code, &st.text)?;
        sh.text(row, 3, &v.row.name, &st.text)?;
        let Some(date) = &v.counting_date else {
            sh.text(row, 4, labels::UNSURVEYED.get(lang), &st.grey_text)?;
            return Ok(());
        };
        sh.text(row, 4, labels::SURVEYED.get(lang), &st.text)?;
        sh.text(row, 5, date, &st.text)?;
        sh.text(row, 6, yes_no(f.duplicate_visits > 0), &st.none)?;
        sh.text(row, 7, yes_no(f.villages_treated > 0), &st.none)?;
        sh.text(row, 8, yes_no(f.villages_controlled > 0), &st.none)?;
        for (k, c) in figures.iter().enumerate() {
            sh.figure(row, first + k as u16, c, f, &s.settings, st)?;
        }
        Ok(())
    })?;
    let last_col = first + figures.len() as u16 - 1;
    sh.finish()?;
    ws.set_freeze_panes(HEADER_ROW + 1, 4)?;
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + n.max(1) as u32, last_col)?;
    ws.set_landscape();
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    ws.set_repeat_columns(0, 3)?;
    Ok(n)
}

/// The open checks (疑点): township, village, visit, rule, what was found.
fn checks_sheet(
    ws: &mut Worksheet,
    s: &Summary,
    checks: &[crate::domain::checks::Check],
    names: &HashMap<String, String>,
    lang: Lang,
    st: &Styles,
) -> Result<()> {
    use crate::strings::checks as words;
    let what = labels::CHECKS.get(lang);
    ws.set_name(what)?;
    ws.write_string_with_format(TITLE_ROW, 0, title(s, what, lang), &st.title)?;
    let mut sh = Sheet::new(ws)?;
    let header = [
        sm::level_name(Level::Township.code(), lang),
        labels::CODE.get(lang),
        labels::VISIT.get(lang),
        labels::RULE.get(lang),
        labels::FOUND.get(lang),
    ];
    for (k, h) in header.iter().enumerate() {
        sh.header(k as u16, h, &st.header)?;
    }
    for (n, c) in checks.iter().enumerate() {
        let row = HEADER_ROW + 1 + n as u32;
        sh.text(row, 0, names.get(&c.area).map(String::as_str).unwrap_or(&c.area), &st.text)?;
        sh.text(row, 1, c.village_code.as_deref().unwrap_or(""), &st.text)?;
        sh.text(row, 2, c.visit_id.as_deref().unwrap_or(""), &st.text)?;
        sh.text(row, 3, words::rule_name(c.rule(), lang), &st.text)?;
        sh.text(row, 4, &words::message(&c.finding, lang), &st.text)?;
    }
    sh.finish()?;
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    ws.autofilter(HEADER_ROW, 0, HEADER_ROW + checks.len().max(1) as u32, 4)?;
    Ok(())
}

/// What a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportCounts {
    pub counties: usize,
    pub townships: usize,
    pub villages: usize,
}

/// Writes the workbook as of `as_of` to `path`: to a temporary file beside
/// it first, synced and then renamed, so that `path` is either the old file
/// or the whole new one.
pub fn write_report(store: &Store, path: &Path, as_of: &str, settings: &Settings, lang: Lang) -> Result<ReportCounts> {
    // The workbook is read at meetings: it says how many counting visits are flagged.
    write_report_counting(store, path, as_of, settings, Counting { flagged: true, ..Counting::default() }, lang)
}

/// [`write_report`], counting the visits `counting` says (`report --approved-only`).
pub fn write_report_counting(
    store: &Store,
    path: &Path,
    as_of: &str,
    settings: &Settings,
    counting: Counting,
    lang: Lang,
) -> Result<ReportCounts> {
    let county = store.summary_counting(as_of, Level::County, None, settings, counting)?;
    let township = store.summary_counting(as_of, Level::Township, None, settings, counting)?;
    // Open checks: those of a visit whose current revision a reviewer has
    // approved are settled (the reviewer saw them), the others stay open.
    let approved = store.approved_visits()?;
    let mut checks = store.checks(as_of, settings)?;
    checks.retain(|c| c.visit_id.as_ref().is_none_or(|v| !approved.contains(v)));
    let names: HashMap<String, String> =
        county.areas.iter().chain(&township.areas).map(|a| (a.code.clone(), a.name.clone())).collect();

    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let st = Styles::new();
    let mut wb = Workbook::new();
    wb.set_tempdir(&dir).with_context(|| dir.display().to_string())?;
    area_sheet(wb.add_worksheet(), &county, lang, &st)?;
    area_sheet(wb.add_worksheet(), &township, lang, &st)?;
    // The village sheet can hold every village of a country: rows go to a
    // temporary file as they are written instead of staying in memory.
    let villages = village_sheet(wb.add_worksheet_with_constant_memory()?, &county, store, &names, lang, &st)?;
    checks_sheet(wb.add_worksheet(), &county, &checks, &names, lang, &st)?;

    path.file_name().with_context(|| format!("{}: not a file name", path.display()))?;
    crate::store::fsutil::write_atomic(path, |file| Ok(wb.save_to_writer(file)?))?;
    Ok(ReportCounts { counties: county.areas.len(), townships: township.areas.len(), villages })
}
