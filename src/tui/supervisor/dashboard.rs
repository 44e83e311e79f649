//! One level of the dashboard: the areas of a level inside a parent area, as
//! `Store::summary` computes them, sorted for display; and its drawing.

use std::cmp::Ordering;
use std::collections::HashMap;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, HighlightSpacing, LineGauge, Paragraph, Row, StatefulWidget, Table, TableState, Widget,
};

use super::bars::{bar, gauge_ratio};
use super::live::Key;
use crate::domain::Level;
use crate::domain::indicators::{Figures, Indicator, misses_target};
use crate::domain::settings::{Settings, Targets};
use crate::store::summary::{AreaRow, Summary};
use crate::store::views::ConflictsByArea;
use crate::strings::Lang;
use crate::strings::supervisor as s;
use crate::text::percent;
use crate::text::{fit, width};

/// The columns the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Code,
    Name,
    Surveyed,
    Indicator(Indicator),
    Duplicates,
    Conflicts,
}

impl SortColumn {
    pub const ALL: [SortColumn; 10] = [
        SortColumn::Code,
        SortColumn::Name,
        SortColumn::Surveyed,
        SortColumn::Indicator(Indicator::Sewage),
        SortColumn::Indicator(Indicator::Garbage),
        SortColumn::Indicator(Indicator::Manure),
        SortColumn::Indicator(Indicator::BlackOdor),
        SortColumn::Indicator(Indicator::Equipping),
        SortColumn::Duplicates,
        SortColumn::Conflicts,
    ];

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            SortColumn::Code => s::col_code(lang),
            SortColumn::Name => s::col_name(lang),
            SortColumn::Surveyed => s::col_surveyed(lang),
            SortColumn::Indicator(i) => s::indicator_short(i, lang),
            SortColumn::Duplicates => s::col_dup(lang),
            SortColumn::Conflicts => s::col_conflicts(lang),
        }
    }

    /// The next (or previous) column in the cycle.
    pub fn step(self, forward: bool) -> SortColumn {
        let n = Self::ALL.len();
        let i = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Self::ALL[if forward { (i + 1) % n } else { (i + n - 1) % n }]
    }
}

/// How the table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
    /// Areas that miss a target first (the sorted indicator's target when an
    /// indicator is sorted, else the number of targets missed).
    pub below_first: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort { column: SortColumn::Code, descending: false, below_first: false }
    }
}

/// How many targets an area misses (only `i` when given).
fn misses(f: &Figures, targets: &Targets, only: Option<Indicator>) -> usize {
    let r = f.rates();
    Indicator::ALL
        .iter()
        .filter(|i| only.is_none_or(|o| o == **i))
        .filter(|i| misses_target(i.rate(&r), i.target(targets)))
        .count()
}

/// One level of the drill-down.
pub struct Page {
    pub level: Level,
    /// The code prefix looked inside (None at the top).
    pub within: Option<String>,
    /// The parent area's name (None at the top).
    pub parent_name: Option<String>,
    /// Empty while the figures are pending (see `shown`).
    pub summary: Summary,
    pub conflicts: Option<HashMap<String, i64>>,
    /// Indexes into `summary.areas`, in display order.
    pub order: Vec<usize>,
    /// Index into `order`.
    pub selected: usize,
    /// What the figures shown were computed for; None while pending.
    pub shown: Option<Key>,
    /// The area to select when figures arrive.
    keep: Option<String>,
}

impl Page {
    /// A page whose figures are yet to come.
    pub fn pending(
        level: Level,
        within: Option<String>,
        parent_name: Option<String>,
        as_of: &str,
        settings: &Settings,
    ) -> Page {
        let summary = Summary {
            as_of: as_of.to_string(),
            settings: settings.clone(),
            level,
            total: Figures::default(),
            areas: Vec::new(),
            open_conflicts: 0,
            approved_only: false,
            flagged_checked: false,
        };
        Page {
            level,
            within,
            parent_name,
            summary,
            conflicts: None,
            order: Vec::new(),
            selected: 0,
            shown: None,
            keep: None,
        }
    }

    /// Drops the figures shown (they are of another date or were cancelled),
    /// remembering the area selected.
    pub fn clear(&mut self) {
        if let Some(code) = self.selected_row().map(|r| r.code.clone()) {
            self.keep = Some(code);
        }
        let fresh = Page::pending(self.level, self.within.take(), self.parent_name.take(), "", &self.summary.settings);
        let keep = self.keep.take();
        *self = Page { keep, ..fresh };
    }

    /// Shows the figures computed for `key`, sorted, the same area selected.
    pub fn fill(&mut self, key: Key, summary: Summary, conflicts: ConflictsByArea, sort: &Sort) {
        let keep = self.selected_row().map(|r| r.code.clone()).or(self.keep.take());
        self.order = (0..summary.areas.len()).collect();
        self.summary = summary;
        self.conflicts = Some(conflicts);
        self.shown = Some(key);
        self.selected = 0;
        self.sort(sort);
        if let Some(code) = keep {
            self.select_code(&code);
        }
    }

    pub fn conflicts_of(&self, code: &str) -> Option<i64> {
        self.conflicts.as_ref().map(|m| m.get(code).copied().unwrap_or(0))
    }

    /// The areas in display order.
    pub fn rows(&self) -> impl Iterator<Item = &AreaRow> {
        self.order.iter().map(|i| &self.summary.areas[*i])
    }

    pub fn selected_row(&self) -> Option<&AreaRow> {
        self.order.get(self.selected).map(|i| &self.summary.areas[*i])
    }

    /// Selects the area with this code, if shown.
    pub fn select_code(&mut self, code: &str) {
        if let Some(p) = self.order.iter().position(|i| self.summary.areas[*i].code == code) {
            self.selected = p;
        }
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.order.len();
        if n == 0 {
            self.selected = 0;
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, n as isize - 1) as usize;
    }

    /// Sorts the rows, keeping the selected area selected.
    pub fn sort(&mut self, sort: &Sort) {
        let keep = self.selected_row().map(|r| r.code.clone());
        let targets = &self.summary.settings.targets;
        let areas = &self.summary.areas;
        let conflicts = |a: &AreaRow| self.conflicts.as_ref().map(|m| m.get(&a.code).copied().unwrap_or(0));
        let only = match sort.column {
            SortColumn::Indicator(i) => Some(i),
            _ => None,
        };
        // Missing values (no rate, no conflict counter) sort last either way.
        let opt = |a: Option<f64>, b: Option<f64>, desc: bool| match (a, b) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if desc { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let dir = |o: Ordering| if sort.descending { o.reverse() } else { o };
        self.order.sort_by(|&x, &y| {
            let (a, b) = (&areas[x], &areas[y]);
            let first = if sort.below_first {
                misses(&b.figures, targets, only).cmp(&misses(&a.figures, targets, only))
            } else {
                Ordering::Equal
            };
            let by = match sort.column {
                SortColumn::Code => dir(a.code.cmp(&b.code)),
                // Chinese names in pinyin order (the crew's lists use the same rule).
                SortColumn::Name => dir(crate::hanzi::cmp(&a.name, &b.name)),
                SortColumn::Surveyed => {
                    let share = |f: &Figures| crate::domain::indicators::rate(f.surveyed as f64, f.villages as f64);
                    opt(share(&a.figures), share(&b.figures), sort.descending)
                        .then(dir(a.figures.surveyed.cmp(&b.figures.surveyed)))
                }
                SortColumn::Indicator(i) => {
                    opt(i.rate(&a.figures.rates()), i.rate(&b.figures.rates()), sort.descending)
                }
                SortColumn::Duplicates => dir(a.figures.duplicate_visits.cmp(&b.figures.duplicate_visits)),
                SortColumn::Conflicts => {
                    opt(conflicts(a).map(|v| v as f64), conflicts(b).map(|v| v as f64), sort.descending)
                }
            };
            first.then(by).then(a.code.cmp(&b.code))
        });
        self.selected = 0;
        if let Some(code) = keep {
            self.select_code(&code);
        }
    }
}

/// The name to show for an area: the roster's, or for a province (which the
/// roster does not name) its well-known name.
pub fn area_name(row: &AreaRow, lang: Lang) -> String {
    match row.level {
        Level::Province => s::province_name(&row.code, lang).map_or_else(|| row.name.clone(), str::to_string),
        _ => row.name.clone(),
    }
}

/// The styles of met and missed figures (the ✓/✗ marks carry the same meaning).
pub fn mark(rate: Option<f64>, target: f64) -> (&'static str, Style) {
    match rate {
        None => (" ", Style::default().fg(Color::DarkGray)),
        Some(_) if misses_target(rate, target) => ("✗", Style::default().fg(Color::Red)),
        Some(_) => ("✓", Style::default().fg(Color::Green)),
    }
}

/// The text of an indicator cell: optional bar, percent, mark.
fn indicator_cell(rate: Option<f64>, target: f64, bar_cells: usize) -> Cell<'static> {
    let (m, style) = mark(rate, target);
    let pct = format!("{:>6}", percent(rate));
    let text = if bar_cells > 0 { format!("{} {pct}{m}", bar(rate, target, bar_cells)) } else { format!("{pct}{m}") };
    Cell::from(text).style(style)
}

/// The flagged count of figures on a page: `None` until the checks ran.
pub fn flagged_of(page: &Page, f: &Figures) -> Option<i64> {
    page.summary.flagged_checked.then_some(f.flagged)
}

/// Draws the table of areas (total row first) into `area`; `computing`:
/// the flagged counts are on their way.
pub fn draw_table(page: &Page, sort: &Sort, lang: Lang, computing: bool, area: Rect, buf: &mut Buffer) {
    let targets = &page.summary.settings.targets;
    let wide = area.width >= 110;
    let bar_cells = if wide { 6 } else { 0 };
    let ind_w = if wide { 14 } else { 7 };
    let sorted = |c: SortColumn, text: &str| -> String {
        if sort.column == c {
            format!("{text}{}", if sort.descending { "▼" } else { "▲" })
        } else {
            text.to_string()
        }
    };
    let surveyed = |f: &Figures| format!("{}/{}", f.surveyed, f.villages);
    let conflicts = |code: &str| page.conflicts_of(code).map_or("—".to_string(), |v| v.to_string());
    let col_w = |header: &str, cells: &mut dyn Iterator<Item = String>| {
        cells.map(|c| width(&c)).chain([width(header)]).max().unwrap_or(1) as u16
    };
    let h_surveyed = sorted(SortColumn::Surveyed, s::col_surveyed(lang));
    let h_dup = sorted(SortColumn::Duplicates, s::col_dup(lang));
    let h_conf = sorted(SortColumn::Conflicts, s::col_conflicts(lang));
    let h_code = sorted(SortColumn::Code, s::col_code(lang));
    let no_code = String::new();
    let all = || page.rows().map(|r| (&r.code, &r.figures)).chain([(&no_code, &page.summary.total)]);
    let w_surveyed = col_w(&h_surveyed, &mut all().map(|(_, f)| surveyed(f)));
    let w_dup = col_w(&h_dup, &mut all().map(|(_, f)| f.duplicate_visits.to_string()));
    let w_conf = col_w(&h_conf, &mut all().map(|(c, _)| conflicts(c)));
    let w_code = col_w(&h_code, &mut page.rows().map(|r| r.code.clone()));
    let review = |f: &Figures| s::review_cell(f.approved, flagged_of(page, f), computing);
    let h_review = s::col_review(lang);
    let w_review = col_w(h_review, &mut all().map(|(_, f)| review(f)));
    // The review column only where the names keep room (12 cells) beside it:
    // the columns, one cell between each, and the selection mark.
    let n = Indicator::ALL.len() as u16;
    let others = [w_code, w_surveyed, w_dup, w_conf].iter().sum::<u16>() + n * ind_w + (n + 4) + 2;
    let with_review = wide && area.width >= others + w_review + 1 + 12;

    let mut header = Vec::new();
    let mut widths = Vec::new();
    if wide {
        header.push(Cell::from(h_code));
        widths.push(Constraint::Length(w_code));
    }
    header.push(Cell::from(sorted(SortColumn::Name, s::col_name(lang))));
    widths.push(Constraint::Fill(1));
    header.push(Cell::from(h_surveyed));
    widths.push(Constraint::Length(w_surveyed));
    for i in Indicator::ALL {
        let h = sorted(SortColumn::Indicator(i), s::indicator_short(i, lang));
        let h = if wide { format!("{h} ≥{:.0}%", i.target(targets) * 100.0) } else { h };
        header.push(Cell::from(fit(&h, ind_w as usize)));
        widths.push(Constraint::Length(ind_w));
    }
    header.push(Cell::from(h_dup));
    widths.push(Constraint::Length(w_dup));
    header.push(Cell::from(h_conf));
    widths.push(Constraint::Length(w_conf));
    if with_review {
        header.push(Cell::from(h_review));
        widths.push(Constraint::Length(w_review));
    }

    let row_of = |code: &str, name: &str, f: &Figures, conf: String| -> Row<'static> {
        let r = f.rates();
        let mut cells = Vec::new();
        if wide {
            cells.push(Cell::from(code.to_string()));
        }
        cells.push(Cell::from(name.to_string()));
        cells.push(Cell::from(crate::text::right(&surveyed(f), w_surveyed as usize)));
        for i in Indicator::ALL {
            cells.push(indicator_cell(i.rate(&r), i.target(targets), bar_cells));
        }
        cells.push(Cell::from(crate::text::right(&f.duplicate_visits.to_string(), w_dup as usize)));
        cells.push(Cell::from(crate::text::right(&conf, w_conf as usize)));
        if with_review {
            cells.push(Cell::from(crate::text::right(&review(f), w_review as usize)));
        }
        Row::new(cells)
    };
    let total_conf = page.conflicts.as_ref().map_or("—".to_string(), |m| m.values().sum::<i64>().to_string());
    let total = row_of("", s::total(lang), &page.summary.total, total_conf)
        .style(Style::default().add_modifier(Modifier::BOLD));
    let rows: Vec<Row> =
        page.rows().map(|a| row_of(&a.code, &area_name(a, lang), &a.figures, conflicts(&a.code))).collect();

    // Header and total stay put while the areas scroll beneath them; both
    // tables reserve the selection column so their columns line up.
    let [top, rest] = Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
    let head = Table::new(vec![total], widths.clone())
        .header(Row::new(header).style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)))
        .column_spacing(1)
        .highlight_spacing(HighlightSpacing::Always)
        .highlight_symbol("▶ ");
    Widget::render(head, top, buf);
    let table = Table::new(rows, widths)
        .column_spacing(1)
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶ ");
    let mut state = TableState::default();
    if !page.order.is_empty() {
        state.select(Some(page.selected));
    }
    StatefulWidget::render(table, rest, buf, &mut state);
    if page.order.is_empty() && rest.height > 1 {
        let msg = Rect { y: rest.y + 1, height: 1, ..rest };
        Paragraph::new(s::empty(lang)).style(Style::default().fg(Color::DarkGray)).render(msg, buf);
    }
}

/// Draws the selected area's indicators as gauges against their targets,
/// and under them `review` (the review standing of its counting visits).
pub fn draw_detail(
    name: &str,
    figures: &Figures,
    settings: &Settings,
    review: &str,
    lang: Lang,
    area: Rect,
    buf: &mut Buffer,
) {
    let title = format!(" {} · {} ", s::detail_title(lang), name);
    let block = Block::default().borders(Borders::ALL).title(fit(&title, area.width.saturating_sub(2) as usize));
    let inner = block.inner(area);
    block.render(area, buf);
    let r = figures.rates();
    let label_w = Indicator::ALL.iter().map(|i| width(s::indicator_name(*i, lang))).max().unwrap_or(0) as u16;
    let rows = Layout::vertical(vec![Constraint::Length(1); Indicator::ALL.len() + 1]).split(inner);
    if let Some(last) = rows.get(Indicator::ALL.len()).filter(|r| r.height > 0) {
        Paragraph::new(fit(review, last.width as usize)).style(Style::default().fg(Color::DarkGray)).render(*last, buf);
    }
    for (i, row) in Indicator::ALL.iter().zip(rows.iter()) {
        let target = i.target(&settings.targets);
        let rate = i.rate(&r);
        let (m, style) = mark(rate, target);
        let word = match rate {
            None => s::no_data(lang),
            Some(_) if misses_target(rate, target) => s::missed(lang),
            Some(_) => s::met(lang),
        };
        let verdict = format!("{:>6} / {} ≥{:.0}% {m}{word}", percent(rate), s::target(lang), target * 100.0);
        let [l, g, v] = Layout::horizontal([
            Constraint::Length(label_w),
            Constraint::Fill(1),
            Constraint::Length(width(&verdict) as u16 + 1),
        ])
        .spacing(1)
        .areas(*row);
        Paragraph::new(fit(s::indicator_name(*i, lang), l.width as usize)).render(l, buf);
        LineGauge::default()
            .ratio(gauge_ratio(rate))
            .filled_symbol("█")
            .unfilled_symbol("─")
            .filled_style(style)
            .unfilled_style(Style::default().fg(Color::DarkGray))
            .label("")
            .render(g, buf);
        // The target as a tick on the unfilled part of the gauge.
        if g.width > 0 && gauge_ratio(rate) < target {
            let x = g.x + ((gauge_ratio(Some(target)) * g.width as f64) as u16).min(g.width - 1);
            buf[(x, g.y)].set_symbol("┆");
        }
        Paragraph::new(Line::from(vec![Span::styled(fit(&verdict, v.width as usize), style)])).render(v, buf);
    }
}
