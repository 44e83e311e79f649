//! Export from the UI: a CSV bundle, a snapshot for the stick, the
//! spreadsheet report; each with a path prefilled and completed by Tab.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::path::{PathInput, expand, tilde};
use super::{Action, County, DIM, HEAD, sel_style};
use crate::store::Store;
use crate::strings::Lang;
use crate::strings::county as s;
use crate::text::scroll;
use crate::text::{fit, pad};
use crate::tui::component::Hint;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Csv,
    Snapshot,
    Xlsx,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Csv, Kind::Snapshot, Kind::Xlsx];

    fn label(self, l: Lang) -> &'static str {
        match self {
            Kind::Csv => s::export_csv(l),
            Kind::Snapshot => s::export_snapshot(l),
            Kind::Xlsx => s::export_xlsx(l),
        }
    }

    /// The path offered first: in `dir` (the home folder), dated.
    fn default_path(self, dir: &Path, home: &Path, today: NaiveDate) -> String {
        let d = today.format("%Y%m%d");
        let name = match self {
            Kind::Csv => format!("ruralsan-export-{d}/"),
            Kind::Snapshot => format!("ruralsan-snapshot-{d}.db"),
            Kind::Xlsx => format!("ruralsan-report-{d}.xlsx"),
        };
        format!("{}/{name}", tilde(dir, home).trim_end_matches('/'))
    }
}

#[derive(Debug)]
pub struct Export {
    pub selected: usize,
    pub inputs: [PathInput; 3],
    /// Paths typed by the person, which defaults no longer replace.
    pub edited: [bool; 3],
}

impl Export {
    pub fn new(home: &Path, today: NaiveDate) -> Export {
        Export {
            selected: 0,
            inputs: Kind::ALL.map(|k| PathInput::new(&k.default_path(home, home, today))),
            edited: [false; 3],
        }
    }

    /// Offers the snapshot in the folder the crews' files came from (the
    /// stick), unless a path was typed.
    pub fn snapshot_into(&mut self, dir: &Path, home: &Path, today: NaiveDate) {
        if !self.edited[1] {
            self.inputs[1] = PathInput::new(&Kind::Snapshot.default_path(dir, home, today));
        }
    }
}

pub fn handle_key(c: &mut County, key: KeyEvent, store: &mut Store) -> Result<Action> {
    let sel = c.export.selected;
    if matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete | KeyCode::Tab) {
        c.export.edited[sel] = true;
    }
    let input = &mut c.export.inputs[sel];
    match key.code {
        KeyCode::Up => c.export.selected = sel.saturating_sub(1),
        KeyCode::Down => c.export.selected = (sel + 1).min(Kind::ALL.len() - 1),
        KeyCode::Char(ch) => input.insert(ch),
        KeyCode::Backspace => input.backspace(),
        KeyCode::Delete => input.delete(),
        KeyCode::Left => input.left(),
        KeyCode::Right => input.right(),
        KeyCode::Home => input.home(),
        KeyCode::End => input.end(),
        KeyCode::Tab => input.complete(&c.home),
        KeyCode::Enter => {
            let text = input.text.trim().to_string();
            c.message = Some(match run(c, Kind::ALL[sel], &text, store) {
                Ok(done) => (done, false),
                Err(err) => {
                    (format!("{}: {}", s::export_failed(c.lang), crate::strings::errors::render(&err, c.lang)), true)
                }
            });
        }
        _ => return Ok(Action::Ignored),
    }
    Ok(Action::Handled)
}

/// Writes one export; the sentence saying what was written.
pub fn run(c: &County, kind: Kind, text: &str, store: &Store) -> Result<String> {
    let l = c.lang;
    let path = expand(text, &c.home);
    let shown = tilde(&path, &c.home);
    Ok(match kind {
        Kind::Csv => {
            let r = store.export_bundle(&path)?;
            s::wrote_csv(l, &shown, r.villages, r.visits, r.facilities, r.farms, r.water_bodies)
        }
        Kind::Snapshot => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let r = store.snapshot(&path)?;
            s::wrote_snapshot(l, &shown, r.visits, r.revisions, r.bytes)
        }
        Kind::Xlsx => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let as_of = c.today.format("%Y-%m-%d").to_string();
            let r = crate::report::xlsx::write_report(store, &path, &as_of, &c.settings, l)?;
            s::wrote_xlsx(l, &shown, r.counties, r.townships, r.villages)
        }
    })
}

pub fn key_hints(c: &County) -> Vec<Hint> {
    let l = c.lang;
    vec![
        ("↑↓", s::k_item(l)),
        ("Enter", s::k_run(l)),
        ("Tab", s::k_complete(l)),
        ("F5", s::tab_sync(l)),
        ("F6", s::tab_conflicts(l)),
    ]
}

pub fn draw(c: &County, frame: &mut Frame, area: Rect) {
    let l = c.lang;
    let e = &c.export;
    let w = area.width as usize;
    let mut lines = vec![Line::styled(fit(s::export_intro(l), w), DIM), Line::raw("")];
    let mut cursor = None;
    for (i, k) in Kind::ALL.into_iter().enumerate() {
        let sel = i == e.selected;
        lines.push(Line::styled(
            format!("{} {}", if sel { "›" } else { " " }, fit(k.label(l), w.saturating_sub(2))),
            sel_style(sel),
        ));
        let label = format!("    {}: ", s::path(l));
        let field_w = w.saturating_sub(label.width()).max(1);
        let input = &e.inputs[i];
        let (shown, cx) = scroll(&input.text, input.cursor, field_w.saturating_sub(1));
        let style = if sel { Style::new().add_modifier(Modifier::UNDERLINED) } else { DIM };
        if sel {
            cursor = Some(Position::new(area.x + label.width() as u16 + cx, area.y + lines.len() as u16));
        }
        lines.push(Line::from(vec![Span::styled(label, HEAD), Span::styled(pad(&shown, field_w), style)]));
        if sel && !input.choices.is_empty() {
            lines.push(Line::raw(format!("    {}", fit(&input.choices.join("  "), w.saturating_sub(4)))));
        }
        lines.push(Line::raw(""));
    }
    frame.render_widget(Paragraph::new(lines), area);
    if let Some(p) = cursor
        && p.y < area.y + area.height
    {
        frame.set_cursor_position(p);
    }
}
