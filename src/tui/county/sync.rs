//! Choosing crews' `.db` files (a typed path with completion, or a folder
//! listing such as a USB stick), the dry run, the merge file by file with a
//! gauge, and what it did.

use std::path::{Path, PathBuf};

use anyhow::Result;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, HighlightSpacing, Paragraph, Row as TableRow, Table, TableState, Wrap};
use unicode_width::UnicodeWidthStr;

use super::path::{Entry, PathInput, expand, list_dir, tilde};
use super::{Action, County, DIM, ERR, HEAD, OK, sel_style};
use crate::store::Store;
use crate::store::sync::{FileOutcome, MergeOptions, MergeReport};
use crate::strings::Lang;
use crate::strings::county as s;
use crate::text::scroll;
use crate::text::{fit, pad};
use crate::tui::component::Hint;
use crate::tui::widgets::window_start;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Input,
    List,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Pick,
    /// The dry run of the chosen files.
    Preview(MergeReport),
    /// Merging file by file: the next file to merge and what is done so far.
    Merging {
        files: Vec<PathBuf>,
        next: usize,
        report: MergeReport,
    },
    Done(MergeReport),
}

#[derive(Debug)]
pub struct Sync {
    pub input: PathInput,
    /// The folder listed.
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
    pub list_error: bool,
    pub selected: usize,
    pub focus: Focus,
    /// The files chosen, in the order chosen.
    pub marked: Vec<PathBuf>,
    pub stage: Stage,
    /// First line of a long report shown.
    pub scroll: usize,
    /// The database the app has open, left out of the listings.
    pub own: Option<PathBuf>,
    /// The person agreed (E on the dry run, after seeing their names and
    /// fingerprints) to enrol the unknown crews of the chosen files.
    pub enrol_new: bool,
}

impl Sync {
    /// Scrolls a report of `lines` lines by one, down or up.
    fn scroll_report(&mut self, down: bool, lines: usize) {
        self.scroll = if down { (self.scroll + 1).min(lines) } else { self.scroll.saturating_sub(1) };
    }

    pub fn new(home: &Path, own: Option<PathBuf>) -> Sync {
        let mut s = Sync {
            input: PathInput::new(&format!("{}/", tilde(home, home).trim_end_matches('/'))),
            dir: home.to_path_buf(),
            entries: Vec::new(),
            list_error: false,
            selected: 0,
            focus: Focus::Input,
            marked: Vec::new(),
            stage: Stage::Pick,
            scroll: 0,
            own,
            enrol_new: false,
        };
        s.open_dir(home.to_path_buf());
        s
    }

    pub fn busy(&self) -> bool {
        matches!(self.stage, Stage::Merging { .. })
    }

    /// Lists a folder (without the database the app has open).
    pub fn open_dir(&mut self, dir: PathBuf) {
        match list_dir(&dir) {
            Ok(mut e) => {
                if let Some(own) = &self.own {
                    e.retain(|x| x.path.canonicalize().ok().as_ref() != Some(own));
                }
                self.entries = e;
                self.list_error = false;
            }
            Err(_) => {
                self.entries = Vec::new();
                self.list_error = true;
            }
        }
        // The listing starts on the first .db file, else on the first entry after `..`.
        self.selected = self
            .entries
            .iter()
            .position(|e| !e.is_dir)
            .unwrap_or(usize::from(self.entries.len() > 1 && self.entries[0].name == ".."));
        self.dir = dir;
    }

    fn toggle(&mut self, p: &Path) {
        match self.marked.iter().position(|m| m == p) {
            Some(i) => {
                self.marked.remove(i);
            }
            None => self.marked.push(p.to_path_buf()),
        }
    }
}

pub fn handle_key(c: &mut County, key: KeyEvent, store: &mut Store) -> Result<Action> {
    let l = c.lang;
    match &c.sync.stage {
        Stage::Pick => {}
        Stage::Preview(report) => {
            match key.code {
                KeyCode::Enter | KeyCode::Char('y' | 'Y') => {
                    // Every file chosen: a refused one is refused again and
                    // named in the result, and changes nothing.
                    let files = c.sync.marked.clone();
                    if !report.files.iter().any(|f| matches!(f, FileOutcome::Merged(_))) {
                        c.message = Some((s::nothing_to_merge(l).into(), true));
                    } else {
                        c.message = None;
                        c.sync.stage = Stage::Merging { files, next: 0, report: MergeReport::default() };
                    }
                }
                KeyCode::Esc | KeyCode::Char('n' | 'N') => {
                    c.sync.stage = Stage::Pick;
                    c.sync.enrol_new = false;
                    c.message = None;
                }
                KeyCode::Char('e' | 'E') if unknown_crews(report) => {
                    // The names and fingerprints are on screen: enrol them and check again.
                    c.sync.enrol_new = true;
                    dry_run(c, store)?;
                }
                KeyCode::Up | KeyCode::Down => {
                    let n = report_lines(l, report, &c.home, 80).len();
                    c.sync.scroll_report(key.code == KeyCode::Down, n);
                }
                _ => return Ok(Action::Ignored),
            }
            return Ok(Action::Handled);
        }
        Stage::Merging { .. } => return Ok(Action::Handled),
        Stage::Done(report) => {
            match key.code {
                KeyCode::Enter | KeyCode::Esc => {
                    c.sync.stage = Stage::Pick;
                    c.sync.enrol_new = false;
                    c.sync.marked.clear();
                    c.message = None;
                    let dir = c.sync.dir.clone();
                    c.sync.open_dir(dir);
                }
                KeyCode::Up | KeyCode::Down => {
                    let n = report_lines(l, report, &c.home, 80).len();
                    c.sync.scroll_report(key.code == KeyCode::Down, n);
                }
                _ => return Ok(Action::Ignored),
            }
            return Ok(Action::Handled);
        }
    }
    if key.code == KeyCode::F(8) {
        return dry_run(c, store).map(|_| Action::Handled);
    }
    let sy = &mut c.sync;
    match sy.focus {
        Focus::Input => match key.code {
            KeyCode::Char(ch) => sy.input.insert(ch),
            KeyCode::Backspace => sy.input.backspace(),
            KeyCode::Delete => sy.input.delete(),
            KeyCode::Left => sy.input.left(),
            KeyCode::Right => sy.input.right(),
            KeyCode::Home => sy.input.home(),
            KeyCode::End => sy.input.end(),
            KeyCode::Tab => sy.input.complete(&c.home),
            KeyCode::Down | KeyCode::BackTab => sy.focus = Focus::List,
            KeyCode::Enter => {
                c.message = None;
                let p = expand(sy.input.text.trim(), &c.home);
                if p.is_dir() {
                    sy.open_dir(p);
                    sy.focus = Focus::List;
                } else if p.is_file() {
                    if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("db")) {
                        sy.toggle(&p);
                        if let Some(d) = p.parent() {
                            sy.open_dir(d.to_path_buf());
                            if let Some(i) = sy.entries.iter().position(|e| e.path == p) {
                                sy.selected = i;
                            }
                        }
                    } else {
                        c.message = Some((format!("{}: {}", sy.input.text, s::not_db(l)), true));
                    }
                } else {
                    c.message = Some((format!("{}: {}", sy.input.text, s::no_such_path(l)), true));
                }
            }
            _ => return Ok(Action::Ignored),
        },
        Focus::List => match key.code {
            KeyCode::Up if sy.selected == 0 => sy.focus = Focus::Input,
            KeyCode::Up => sy.selected -= 1,
            KeyCode::Down => sy.selected = (sy.selected + 1).min(sy.entries.len().saturating_sub(1)),
            KeyCode::PageUp => sy.selected = sy.selected.saturating_sub(10),
            KeyCode::PageDown => sy.selected = (sy.selected + 10).min(sy.entries.len().saturating_sub(1)),
            KeyCode::Home => sy.selected = 0,
            KeyCode::End => sy.selected = sy.entries.len().saturating_sub(1),
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('/') => sy.focus = Focus::Input,
            KeyCode::Backspace | KeyCode::Left => {
                if let Some(parent) = sy.dir.parent().map(Path::to_path_buf) {
                    let from = sy.dir.clone();
                    sy.open_dir(parent);
                    if let Some(i) = sy.entries.iter().position(|e| e.path == from) {
                        sy.selected = i;
                    }
                    sy.input.set(&dir_text(&sy.dir, &c.home));
                }
            }
            KeyCode::Enter | KeyCode::Right | KeyCode::Char(' ') => {
                let Some(e) = sy.entries.get(sy.selected).cloned() else { return Ok(Action::Handled) };
                if e.is_dir {
                    if key.code != KeyCode::Char(' ') {
                        let from = sy.dir.clone();
                        sy.open_dir(e.path.clone());
                        if e.name == ".."
                            && let Some(i) = sy.entries.iter().position(|x| x.path == from)
                        {
                            sy.selected = i;
                        }
                        sy.input.set(&dir_text(&sy.dir, &c.home));
                    }
                } else if key.code != KeyCode::Right {
                    sy.toggle(&e.path);
                    if key.code == KeyCode::Char(' ') {
                        sy.selected = (sy.selected + 1).min(sy.entries.len().saturating_sub(1));
                    }
                }
            }
            _ => return Ok(Action::Ignored),
        },
    }
    Ok(Action::Handled)
}

/// Whether a dry run refused a file for a signer not enrolled here.
fn unknown_crews(r: &MergeReport) -> bool {
    r.files.iter().any(|f| {
        matches!(f, FileOutcome::Refused(x) if x.reasons.iter().any(|w| matches!(w, crate::store::error::Refusal::NotEnrolled { .. })))
    })
}

/// A folder as shown in the path field: with `~` and a final `/`.
fn dir_text(dir: &Path, home: &Path) -> String {
    let t = tilde(dir, home);
    if t.ends_with('/') { t } else { format!("{t}/") }
}

/// Checks the chosen files without writing anything.
fn dry_run(c: &mut County, store: &mut Store) -> Result<()> {
    if c.sync.marked.is_empty() {
        c.message = Some((s::mark_first(c.lang).into(), true));
        return Ok(());
    }
    let opts = MergeOptions { dry_run: true, enrol_new: c.sync.enrol_new, ..Default::default() };
    let report = store.merge_files(&c.sync.marked, opts)?;
    c.message = None;
    c.sync.scroll = 0;
    c.sync.stage = Stage::Preview(report);
    Ok(())
}

/// Merges the next file of the merge under way.
pub fn step(c: &mut County, store: &mut Store) -> Result<()> {
    let Stage::Merging { files, next, report } = &mut c.sync.stage else { return Ok(()) };
    let Some(file) = files.get(*next).cloned() else { return Ok(()) };
    let opts = MergeOptions { enrol_new: c.sync.enrol_new, ..Default::default() };
    let r = match store.merge_files_after(std::slice::from_ref(&file), opts, report.backup.clone()) {
        Ok(r) => r,
        Err(e) => {
            // What was merged stays merged; show it, with the error.
            let done = std::mem::take(report);
            c.sync.stage = Stage::Done(done);
            c.conflicts.reload(store)?;
            return Err(e);
        }
    };
    c.changes += 1;
    report.files.extend(r.files);
    report.backup = r.backup;
    report.open_conflicts = r.open_conflicts;
    *next += 1;
    if *next >= files.len() {
        let done = std::mem::take(report);
        c.sync.stage = Stage::Done(done);
        c.sync.scroll = 0;
        c.conflicts.reload(store)?;
    }
    Ok(())
}

pub fn key_hints(c: &County) -> Vec<Hint> {
    let l = c.lang;
    match &c.sync.stage {
        Stage::Pick => match c.sync.focus {
            Focus::Input => vec![
                ("Tab", s::k_complete(l)),
                ("Enter", s::k_open(l)),
                ("↓", s::k_list(l)),
                ("F8", s::k_check(l)),
                ("F6", s::tab_conflicts(l)),
                ("F7", s::tab_export(l)),
            ],
            Focus::List => vec![
                ("↑↓", s::k_move(l)),
                ("Enter", s::k_open(l)),
                ("Space", s::k_mark(l)),
                ("Bksp", s::k_up(l)),
                ("F8", s::k_check(l)),
                ("Tab", s::k_input(l)),
                ("F6", s::tab_conflicts(l)),
            ],
        },
        Stage::Preview(r) if unknown_crews(r) => vec![
            ("E", crate::strings::trust::k_enrol(l)),
            ("Enter", s::k_merge(l)),
            ("Esc", s::k_back(l)),
            ("↑↓", s::k_move(l)),
        ],
        Stage::Preview(_) => vec![("Enter", s::k_merge(l)), ("Esc", s::k_back(l)), ("↑↓", s::k_move(l))],
        Stage::Merging { .. } => vec![],
        Stage::Done(_) => vec![("Enter", s::k_continue(l)), ("F6", s::tab_conflicts(l)), ("↑↓", s::k_move(l))],
    }
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

pub fn draw(c: &County, frame: &mut Frame, area: Rect) {
    match &c.sync.stage {
        Stage::Pick => draw_pick(c, frame, area),
        Stage::Preview(r) => {
            let mut lines = vec![Line::styled(s::preview_title(c.lang), HEAD)];
            lines.extend(report_lines(c.lang, r, &c.home, area.width as usize));
            lines.extend(crate::strings::trust::render_enrolled(r, c.lang).lines().map(|t| Line::raw(t.to_string())));
            lines.push(Line::raw(""));
            if unknown_crews(r) {
                lines.push(Line::styled(crate::strings::trust::enrol_question(c.lang), HEAD));
            }
            lines.push(Line::styled(s::preview_confirm(c.lang), HEAD));
            draw_lines(frame, area, lines, c.sync.scroll);
        }
        Stage::Merging { files, next, report } => {
            let [title, gauge, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
            let name = files.get(*next).map(|p| tilde(p, &c.home)).unwrap_or_default();
            frame.render_widget(
                Paragraph::new(fit(&format!("{} {name}", s::merging(c.lang)), title.width as usize)).style(HEAD),
                title,
            );
            let ratio = if files.is_empty() { 0.0 } else { *next as f64 / files.len() as f64 };
            let ratio = if ratio.is_nan() { 0.0 } else { ratio.clamp(0.0, 1.0) };
            frame.render_widget(
                Gauge::default()
                    .ratio(ratio)
                    .label(s::progress(c.lang, *next, files.len()))
                    .gauge_style(Style::new().add_modifier(Modifier::REVERSED)),
                gauge,
            );
            draw_lines(frame, rest, report_lines(c.lang, report, &c.home, area.width as usize), 0);
        }
        Stage::Done(r) => {
            let mut lines = vec![Line::styled(s::done_title(c.lang), HEAD.patch(OK))];
            lines.extend(report_lines(c.lang, r, &c.home, area.width as usize));
            lines.push(Line::raw(""));
            lines.push(Line::styled(s::done_hint(c.lang), DIM));
            draw_lines(frame, area, lines, c.sync.scroll);
        }
    }
}

fn draw_lines(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, scroll: usize) {
    // Lines wrap, so the last can always be scrolled to the top.
    let max = lines.len().saturating_sub(1);
    let lines: Vec<Line> = lines.into_iter().skip(scroll.min(max)).collect();
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// The report of a merge (or dry run), a few lines per file.
pub fn report_lines(l: Lang, r: &MergeReport, home: &Path, w: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let (mut merged, mut already, mut refused) = (0, 0, 0);
    let mut total = (0, 0, 0, 0, 0, 0);
    for f in &r.files {
        match f {
            FileOutcome::Merged(x) => {
                merged += 1;
                total.0 += x.revisions;
                total.1 += x.new_revisions;
                total.2 += x.new_visits;
                total.3 += x.auto_merged;
                total.4 += x.conflicts;
                total.5 += x.roster_added;
                out.push(Line::from(vec![
                    Span::styled("✓ ", OK),
                    Span::styled(fit(&tilde(Path::new(&x.file), home), w.saturating_sub(2)), HEAD),
                ]));
                // Wrapped, not cut: every count matters.
                out.push(Line::raw(format!(
                    "  {}",
                    s::file_counts(
                        l,
                        x.revisions,
                        x.new_revisions,
                        x.new_visits,
                        x.auto_merged,
                        x.conflicts,
                        x.roster_added
                    )
                )));
            }
            FileOutcome::AlreadyMerged { file, merged_at, first_name } => {
                already += 1;
                out.push(Line::from(vec![
                    Span::styled("= ", DIM),
                    Span::styled(fit(&tilde(Path::new(file), home), w.saturating_sub(2)), HEAD),
                ]));
                out.push(Line::styled(
                    format!("  {}", fit(&s::merged_before(l, merged_at, first_name), w.saturating_sub(2))),
                    DIM,
                ));
            }
            FileOutcome::Refused(x) => {
                refused += 1;
                out.push(Line::from(vec![
                    Span::styled("✗ ", ERR),
                    Span::styled(fit(&tilde(Path::new(&x.file), home), w.saturating_sub(2)), HEAD),
                    Span::styled(format!("  {}", if r.dry_run { s::refused_dry(l) } else { s::refused(l) }), ERR),
                ]));
                for reason in x.reasons.iter().take(5) {
                    out.push(Line::styled(
                        format!("  {}", fit(&crate::strings::errors::refusal(reason, l), w.saturating_sub(2))),
                        ERR,
                    ));
                }
                if x.total > 5 {
                    out.push(Line::styled(format!("  … {}", x.total - 5), ERR));
                }
            }
        }
    }
    out.push(Line::styled(s::outcome_counts(l, merged, already, refused, r.dry_run), HEAD));
    // A dry run judges each file against the database as it is: no sum.
    if merged > 1 && !r.dry_run {
        out.push(Line::raw(format!(
            "{}: {}",
            s::total(l),
            s::file_counts(l, total.0, total.1, total.2, total.3, total.4, total.5)
        )));
    }
    out.push(Line::raw(format!("{}: {}", s::open_conflicts(l), r.open_conflicts)));
    if let Some(b) = &r.backup {
        out.push(Line::styled(fit(&format!("{} {}", s::backup(l), tilde(b, home)), w), DIM));
    }
    out
}

fn draw_pick(c: &County, frame: &mut Frame, area: Rect) {
    let l = c.lang;
    let sy = &c.sync;
    let w = area.width as usize;
    let marked_h = (sy.marked.len().min(4) + 1) as u16;
    let [input, choices, folder, list, marked] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(marked_h),
    ])
    .areas(area);
    // The path field.
    let label = format!("{}: ", s::path(l));
    let field_w = w.saturating_sub(label.width()).max(1);
    let (shown, cx) = scroll(&sy.input.text, sy.input.cursor, field_w.saturating_sub(1));
    let focused = sy.focus == Focus::Input;
    let field_style = if focused { Style::new().add_modifier(Modifier::UNDERLINED) } else { DIM };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(label.clone(), HEAD),
            Span::styled(pad(&shown, field_w), field_style),
        ])),
        input,
    );
    if focused {
        frame.set_cursor_position(Position::new(input.x + label.width() as u16 + cx, input.y));
    }
    // Completion choices, or the hint.
    let choice_line = if sy.input.choices.is_empty() {
        Line::styled(fit(s::path_hint(l), w), DIM)
    } else {
        Line::raw(fit(&sy.input.choices.join("  "), w))
    };
    frame.render_widget(Paragraph::new(choice_line), choices);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("{}: ", s::folder(l)), HEAD),
            Span::raw(fit(&tilde(&sy.dir, &c.home), w.saturating_sub(s::folder(l).width() + 2))),
        ])),
        folder,
    );
    // The folder listing: cursor, mark, name, size.
    let h = list.height as usize;
    let note = if sy.list_error {
        Some(Line::styled(s::unreadable_folder(l), ERR))
    } else if sy.entries.iter().all(|e| e.name == "..") {
        Some(Line::styled(s::empty_folder(l), DIM))
    } else {
        None
    };
    let skip = usize::from(note.is_some());
    if let Some(n) = note {
        frame.render_widget(Paragraph::new(n), Rect { height: 1.min(list.height), ..list });
    }
    let room = h.saturating_sub(skip);
    let start = window_start(sy.selected, room);
    let name_w = w.saturating_sub(4 + 10);
    let rows = sy.entries.iter().enumerate().skip(start).take(room).map(|(i, e)| {
        let cursor = if i == sy.selected { "›" } else { " " };
        if e.is_dir {
            let name = if e.name == ".." { format!("../ ({})", s::parent(l)) } else { format!("{}/", e.name) };
            TableRow::new([cursor.to_string(), String::new(), fit(&name, name_w), String::new()])
        } else {
            let mark = if sy.marked.contains(&e.path) { "[x]" } else { "[ ]" };
            TableRow::new([
                cursor.to_string(),
                mark.to_string(),
                fit(&e.name, name_w),
                format!(" {:>9}", size_text(e.size)),
            ])
        }
    });
    let widths =
        vec![Constraint::Length(1), Constraint::Length(3), Constraint::Length(name_w as u16), Constraint::Length(10)];
    let table = Table::new(rows, widths)
        .column_spacing(0)
        .row_highlight_style(sel_style(true))
        .highlight_spacing(HighlightSpacing::Never);
    let selected = sy.selected.checked_sub(start).filter(|_| sy.focus == Focus::List);
    let table_area = Rect { y: list.y + skip as u16, height: list.height.saturating_sub(skip as u16), ..list };
    frame.render_stateful_widget(table, table_area, &mut TableState::default().with_selected(selected));
    // The files chosen.
    let mut m = vec![Line::from(vec![
        Span::styled(format!("{} ", s::marked_title(l)), HEAD),
        Span::raw(format!("({})", sy.marked.len())),
    ])];
    if sy.marked.is_empty() {
        m = vec![Line::styled(fit(s::none_marked(l), w), DIM)];
    }
    for p in sy.marked.iter().take(4) {
        m.push(Line::raw(format!("  {}", fit(&tilde(p, &c.home), w.saturating_sub(2)))));
    }
    frame.render_widget(Paragraph::new(m), marked);
}
