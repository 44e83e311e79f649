//! The county screens: merge crews' database files from a USB stick (dry
//! run first, then file by file with a gauge), settle conflicting edits side
//! by side, and export (CSV bundle, snapshot, spreadsheet).
//!
//! A [`Component`] for the app to host: a key changes the state, drawing
//! only reads it. A merge runs one file per [`County::step`], so the app
//! draws the gauge between files.

pub mod conflicts;
pub mod export;
pub mod path;
pub mod review;
pub mod sync;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use anyhow::Result;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::domain::settings::Settings;
use crate::store::Store;
use crate::strings::Lang;
use crate::strings::county as s;
use crate::text::fit;

pub use crate::tui::component::Action;
use crate::tui::component::{Component, Ctx, Hint};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Sync,
    Conflicts,
    Export,
    Review,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Sync, Tab::Conflicts, Tab::Export, Tab::Review];

    fn key(self) -> KeyCode {
        match self {
            Tab::Sync => KeyCode::F(5),
            Tab::Conflicts => KeyCode::F(6),
            Tab::Export => KeyCode::F(7),
            Tab::Review => KeyCode::F(9),
        }
    }

    fn label(self, l: Lang) -> &'static str {
        match self {
            Tab::Sync => s::tab_sync(l),
            Tab::Conflicts => s::tab_conflicts(l),
            Tab::Export => s::tab_export(l),
            Tab::Review => crate::strings::checks::tab_review(l),
        }
    }
}

pub struct County {
    pub lang: Lang,
    pub settings: Settings,
    pub today: NaiveDate,
    /// What `~` means in paths.
    pub home: PathBuf,
    pub tab: Tab,
    pub sync: sync::Sync,
    pub conflicts: conflicts::Conflicts,
    pub export: export::Export,
    pub queue: review::Queue,
    /// A line for the person: text and whether it is an error.
    pub message: Option<(String, bool)>,
    pub help: bool,
    /// Merges and resolutions done here, so hosts know when their figures are stale.
    pub changes: u64,
}

pub(crate) use crate::tui::theme::{DIM, ERR, HEAD, OK, sel_style};

/// The home folder, else the current one.
pub fn home_dir() -> PathBuf {
    directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()).unwrap_or_else(|| PathBuf::from("."))
}

impl County {
    /// With the settings (for the spreadsheet), the date and the home folder given.
    pub fn with(store: &Store, lang: Lang, settings: Settings, today: NaiveDate, home: PathBuf) -> Result<County> {
        let own = store.file_path();
        let sync = sync::Sync::new(&home, own);
        let export = export::Export::new(&home, today);
        let conflicts = conflicts::Conflicts::load(store)?;
        Ok(County {
            lang,
            settings,
            today,
            home,
            tab: Tab::Sync,
            sync,
            conflicts,
            export,
            queue: review::Queue::default(),
            message: None,
            help: false,
            changes: 0,
        })
    }

    /// Handles one key event (only presses count).
    fn handle_key(&mut self, key: KeyEvent, store: &mut Store) -> Result<Action> {
        if key.kind != KeyEventKind::Press {
            return Ok(Action::Ignored);
        }
        if self.help {
            self.help = false;
            return Ok(Action::Handled);
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('q' | 'c')) {
            return Ok(Action::Quit);
        }
        if self.busy() {
            // A merge under way finishes first.
            return Ok(Action::Handled);
        }
        if key.code == KeyCode::F(1) {
            self.help = true;
            return Ok(Action::Handled);
        }
        if let Some(t) = Tab::ALL.into_iter().find(|t| t.key() == key.code) {
            self.message = None;
            self.tab = t;
            match t {
                Tab::Conflicts => self.conflicts.reload(store)?,
                Tab::Export => self.export.snapshot_into(&self.sync.dir, &self.home, self.today),
                // (A reading under way goes on.)
                Tab::Review if !self.queue.loading() => {
                    let as_of = self.today.format("%Y-%m-%d").to_string();
                    self.queue.reload(store, &as_of, &self.settings)?
                }
                Tab::Review => {}
                Tab::Sync => {}
            }
            return Ok(Action::Handled);
        }
        let r = match self.tab {
            Tab::Sync => sync::handle_key(self, key, store),
            Tab::Conflicts => conflicts::handle_key(self, key, store),
            Tab::Export => export::handle_key(self, key, store),
            Tab::Review => review::handle_key(self, key, store),
        };
        match r {
            Ok(o) => Ok(o),
            Err(e) => {
                self.message = Some((crate::strings::errors::error_line(&e, self.lang), true));
                Ok(Action::Handled)
            }
        }
    }

    /// Whether a merge is under way: the host calls [`County::step`] after each frame.
    pub fn busy(&self) -> bool {
        self.sync.busy()
    }

    /// Merges the next file of a merge under way.
    pub fn step(&mut self, store: &mut Store) {
        if let Err(e) = sync::step(self, store) {
            self.message = Some((crate::strings::errors::error_line(&e, self.lang), true));
        }
    }

    /// Runs a merge under way to its end (for tests and hosts without frames).
    pub fn finish(&mut self, store: &mut Store) {
        while self.busy() {
            self.step(store);
        }
    }

    /// The keys of the screen shown, for the host's key bar: (key, meaning).
    fn key_hints(&self) -> Vec<Hint> {
        let l = self.lang;
        if self.help {
            return vec![("Esc", s::k_back(l))];
        }
        let mut v = match self.tab {
            Tab::Sync => sync::key_hints(self),
            Tab::Conflicts => conflicts::key_hints(self),
            Tab::Export => export::key_hints(self),
            Tab::Review => review::key_hints(self),
        };
        v.push(("F1", s::k_help(l)));
        v
    }

    /// Draws the screens into `area` and places the cursor of a path being typed.
    fn draw_into(&self, frame: &mut Frame, area: Rect) {
        // A long message (what an export wrote) takes two lines.
        let msg_h = match &self.message {
            Some((text, _)) if text.width() > area.width as usize => 2,
            _ => 1,
        };
        let [tabs, body, msg] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(msg_h)]).areas(area);
        frame.render_widget(Paragraph::new(self.tab_line(tabs.width as usize)), tabs);
        match self.tab {
            Tab::Sync => sync::draw(self, frame, body),
            Tab::Conflicts => conflicts::draw(self, frame, body),
            Tab::Export => export::draw(self, frame, body),
            Tab::Review => review::draw(self, frame, body),
        }
        if let Some((text, is_err)) = &self.message {
            let style = if *is_err { ERR } else { OK };
            frame.render_widget(
                Paragraph::new(text.as_str()).wrap(Wrap { trim: false }).style(style.add_modifier(Modifier::BOLD)),
                msg,
            );
        }
        if self.help {
            draw_help(self.lang, frame, area);
        }
    }

    /// The sub-screens with their keys; the one shown in brackets (not only colour).
    fn tab_line(&self, w: usize) -> Line<'static> {
        let l = self.lang;
        let mut spans = Vec::new();
        for t in Tab::ALL {
            let key = match t.key() {
                KeyCode::F(n) => format!("F{n}"),
                _ => String::new(),
            };
            let mut label = format!("{key} {}", t.label(l));
            if t == Tab::Conflicts && !self.conflicts.list.is_empty() {
                label.push_str(&format!(" ({})", self.conflicts.list.len()));
            }
            if t == Tab::Review && !self.queue.all.is_empty() {
                label.push_str(&format!(" ({})", self.queue.all.len()));
            }
            if t == self.tab {
                spans.push(Span::styled(format!("[{label}]"), HEAD.add_modifier(Modifier::REVERSED)));
            } else {
                spans.push(Span::raw(format!(" {label} ")));
            }
            spans.push(Span::raw(" "));
        }
        let used: usize = spans.iter().map(|x| x.content.width()).sum();
        if used > w {
            return Line::raw(fit(&spans.iter().map(|x| x.content.as_ref()).collect::<String>(), w));
        }
        Line::from(spans)
    }
}

impl Component for County {
    fn handle(&mut self, ev: &Event, ctx: &mut Ctx) -> Result<Action> {
        match ev {
            Event::Key(key) => self.handle_key(*key, ctx.store),
            _ => Ok(Action::Ignored),
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect) {
        self.draw_into(frame, area);
    }

    fn hints(&self) -> Vec<Hint> {
        self.key_hints()
    }
}

fn draw_help(l: Lang, frame: &mut Frame, area: Rect) {
    let lines = s::help(l);
    let width = area.width.saturating_sub(2).min(84);
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|x| x.width().div_ceil(inner).max(1)).sum();
    let height = (rows as u16 + 2).min(area.height);
    let rect =
        Rect::new(area.x + (area.width - width) / 2, area.y + area.height.saturating_sub(height) / 2, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines.iter().map(|x| Line::raw(*x)).collect::<Vec<_>>())
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(Borders::ALL).title(format!(" {} ", s::help_title(l)))),
        rect,
    );
}
