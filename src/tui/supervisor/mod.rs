//! The supervisor views: coverage dashboard with drill-down (area levels →
//! villages → a village's visits), the as-of date, and the trend of an area.
//!
//! A [`Component`] for the app to host: inside, key events become [`Msg`]s,
//! [`Supervisor::update`] changes the state, drawing only reads it.
//! Every figure comes from [`Store::summary`] with `within` (the trend from
//! `Store::trend`), so nothing loads the whole roster; [`live::Live`]
//! computes them off the UI thread and keeps the latest, and a view waits
//! for them without making anything else wait ([`Supervisor::sync`]).

pub mod bars;
pub mod dashboard;
pub mod live;
pub mod trend;
mod view;
pub mod visits;

use anyhow::Result;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::component::{Action, Component, Ctx, Hint};
use super::roles::Role;
use crate::domain::Level;
use crate::domain::settings::Settings;
use crate::store::Store;
use crate::store::live::DataStamp;
use crate::strings::Lang;
use crate::strings::supervisor as s;
use crate::text::{fit, width};
pub use dashboard::{Page, Sort, SortColumn};
use live::{Key, Live, Output, View};
pub use trend::Trend;
pub use visits::Visits;

/// Everything the supervisor views can be asked to do (what a key means here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Move(isize),
    Home,
    End,
    Drill,
    Back,
    NextSort,
    PrevSort,
    Reverse,
    BelowFirst,
    OpenDate,
    DateChar(char),
    DateBackspace,
    DateApply,
    DateCancel,
    OpenTrend,
    Indicator(bool),
    Help,
    CloseHelp,
    /// Esc while figures are being computed: stop.
    Cancel,
    /// Compute again after a cancel.
    Recompute,
    Quit,
}

/// The as-of date being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateInput {
    pub text: String,
    pub error: Option<String>,
}

const PAGE: isize = 10;

pub struct Supervisor {
    pub settings: Settings,
    pub lang: Lang,
    pub today: NaiveDate,
    pub as_of: String,
    /// The drill-down path; never empty. The first page is the top level.
    pub pages: Vec<Page>,
    pub visits: Option<Visits>,
    pub trend: Option<Trend>,
    pub sort: Sort,
    pub date_input: Option<DateInput>,
    pub help: bool,
    /// Where the figures come from, and the latest ones.
    pub live: Live,
    /// The person cancelled the figures of the view shown: none is asked
    /// for again until they move elsewhere or press F5.
    pub cancelled: bool,
}

impl Supervisor {
    /// The dashboard at the top level, as of `today`, its figures computed
    /// at once on this thread.
    pub fn new(store: &Store, settings: Settings, lang: Lang, today: NaiveDate) -> Result<Self> {
        Supervisor::with_live(store, settings, lang, today, Live::inline())
    }

    /// The dashboard with its figures computed off the UI thread (when the
    /// store is a file): it is drawn at once, and the figures fill in as
    /// [`Supervisor::tick`] brings them. `gate`: see [`Live::background`].
    pub fn background(
        store: &Store,
        settings: Settings,
        lang: Lang,
        today: NaiveDate,
        gate: Option<std::sync::mpsc::Receiver<()>>,
    ) -> Result<Self> {
        let live = Live::for_store(store, gate)?;
        Supervisor::with_live(store, settings, lang, today, live)
    }

    fn with_live(store: &Store, settings: Settings, lang: Lang, today: NaiveDate, live: Live) -> Result<Self> {
        let as_of = today.format("%Y-%m-%d").to_string();
        let top = Page::pending(store.village_span()?.top_level(), None, None, &as_of, &settings);
        let mut sup = Supervisor {
            settings,
            lang,
            today,
            as_of,
            pages: vec![top],
            visits: None,
            trend: None,
            sort: Sort::default(),
            date_input: None,
            help: false,
            live,
            cancelled: false,
        };
        sup.sync(store)?;
        Ok(sup)
    }

    /// What the view shown needs, on data `data`.
    fn wanted(&self, data: DataStamp) -> Key {
        let view = if let Some(t) = &self.trend {
            View::Trend { level: t.level, code: t.code.clone() }
        } else if let Some(v) = &self.visits {
            View::Visits { code: v.code.clone() }
        } else {
            let p = self.page();
            View::Areas { level: p.level, within: p.within.clone(), flagged: false }
        };
        let mut key = Key { data, settings: self.settings.clone(), as_of: self.as_of.clone(), view };
        // Once the figures of this very state are shown, the flagged counts.
        let shown = self.page().shown.as_ref().is_some_and(|k| k.data == data && k.same_view(&key));
        if let View::Areas { flagged, .. } = &mut key.view {
            *flagged = shown;
        }
        key
    }

    /// What the view shown shows.
    fn shown(&self) -> Option<&Key> {
        match (&self.trend, &self.visits) {
            (Some(t), _) => t.shown.as_ref(),
            (None, Some(v)) => v.shown.as_ref(),
            (None, None) => self.page().shown.as_ref(),
        }
    }

    /// Whether the view shown waits for its figures.
    pub fn waiting(&self) -> bool {
        self.shown().is_none() && !self.cancelled
    }

    /// Brings the view shown up to date: from the kept figures when they
    /// are there, else asks for them (the view shows "computing…" meanwhile;
    /// figures of older data stay up until the new ones come).
    /// Figures shown may make the view want more (the flagged counts after
    /// the figures), so this goes on until it waits or has everything.
    pub fn sync(&mut self, store: &Store) -> Result<()> {
        let data = store.data_stamp()?;
        loop {
            let want = self.wanted(data);
            if self.shown() == Some(&want) || self.cancelled {
                return Ok(());
            }
            match self.live.get(&want, store)? {
                Some(out) => self.fill(want, &out),
                None => {
                    if !self.shown().is_some_and(|k| k.same_view(&want)) {
                        self.clear_shown();
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Takes the figures that have come back and shows them if they are the
    /// view's; then checks the data (another process may have merged).
    pub fn tick(&mut self, store: &Store) -> Result<()> {
        self.tick_waiting(store, std::time::Duration::ZERO)
    }

    /// [`Supervisor::tick`], waiting up to `wait` for figures (tests and
    /// measurements; the event loop never waits here).
    pub fn tick_waiting(&mut self, store: &Store, wait: std::time::Duration) -> Result<()> {
        self.live.poll(wait)?;
        self.sync(store)
    }

    fn fill(&mut self, key: Key, out: &Output) {
        match (out, &mut self.trend, &mut self.visits) {
            (Output::Trend(points), Some(t), _) => {
                t.points = points.clone();
                t.as_of = key.as_of.clone();
                t.shown = Some(key);
            }
            (Output::Visits(v), None, Some(vs)) => {
                vs.rows = v.rows.clone();
                vs.as_of = v.as_of.clone();
                vs.selected = vs.selected.min(vs.rows.len().saturating_sub(1));
                vs.shown = Some(key);
            }
            (Output::Areas { summary, conflicts }, None, None) => {
                let sort = self.sort;
                self.page_mut().fill(key, (**summary).clone(), conflicts.clone(), &sort);
            }
            _ => {}
        }
    }

    /// Drops the figures of the view shown (of another date, or cancelled).
    fn clear_shown(&mut self) {
        match (&mut self.trend, &mut self.visits) {
            (Some(t), _) => {
                t.points.clear();
                t.shown = None;
            }
            (None, Some(v)) => {
                v.rows.clear();
                v.shown = None;
            }
            (None, None) => self.page_mut().clear(),
        }
    }

    /// The page shown (the deepest of the drill-down).
    pub fn page(&self) -> &Page {
        self.pages.last().expect("never empty")
    }

    /// Selects the `i`-th row shown.
    pub fn page_select(&mut self, i: usize) {
        let p = self.page_mut();
        p.selected = i.min(p.order.len().saturating_sub(1));
    }

    fn page_mut(&mut self) -> &mut Page {
        self.pages.last_mut().expect("never empty")
    }

    /// The message for a key, in the state the views are in.
    pub fn message(&self, key: KeyEvent) -> Option<Msg> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        if self.help {
            return Some(Msg::CloseHelp);
        }
        if self.date_input.is_some() {
            return match key.code {
                KeyCode::Char(c) if c.is_ascii_digit() || c == '-' => Some(Msg::DateChar(c)),
                KeyCode::Backspace => Some(Msg::DateBackspace),
                KeyCode::Enter => Some(Msg::DateApply),
                KeyCode::Esc => Some(Msg::DateCancel),
                _ => None,
            };
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return None;
        }
        // Esc stops figures being waited for; once they are shown (the
        // flagged counts may still be coming) it goes back as ever.
        if key.code == KeyCode::Esc && self.live.pending() && self.waiting() {
            return Some(Msg::Cancel);
        }
        let in_trend = self.trend.is_some();
        let in_areas = self.trend.is_none() && self.visits.is_none();
        Some(match key.code {
            KeyCode::Up | KeyCode::Char('k') if !in_trend => Msg::Move(-1),
            KeyCode::Down | KeyCode::Char('j') if !in_trend => Msg::Move(1),
            KeyCode::PageUp if !in_trend => Msg::Move(-PAGE),
            KeyCode::PageDown if !in_trend => Msg::Move(PAGE),
            KeyCode::Home if !in_trend => Msg::Home,
            KeyCode::End if !in_trend => Msg::End,
            KeyCode::Right | KeyCode::Tab if in_trend => Msg::Indicator(true),
            KeyCode::Left | KeyCode::BackTab if in_trend => Msg::Indicator(false),
            KeyCode::Enter | KeyCode::Right if in_areas => Msg::Drill,
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Left => Msg::Back,
            KeyCode::Char('s') if in_areas => Msg::NextSort,
            KeyCode::Char('S') if in_areas => Msg::PrevSort,
            KeyCode::Char('r') if in_areas => Msg::Reverse,
            KeyCode::Char('b') if in_areas => Msg::BelowFirst,
            KeyCode::Char('d') => Msg::OpenDate,
            KeyCode::Char('t') if !in_trend => Msg::OpenTrend,
            KeyCode::Char('?') | KeyCode::F(1) => Msg::Help,
            KeyCode::Char('q') => Msg::Quit,
            KeyCode::F(5) => Msg::Recompute,
            _ => return None,
        })
    }

    /// Handles one key event (only presses count).
    fn handle_key(&mut self, key: KeyEvent, store: &Store) -> Result<Action> {
        match self.message(key) {
            Some(msg) => {
                let action = self.update(msg, store)?;
                self.sync(store)?;
                Ok(action)
            }
            None if self.date_input.is_some() || self.help => Ok(Action::Handled),
            None => Ok(Action::Ignored),
        }
    }

    /// Changes the state for one message.
    pub fn update(&mut self, msg: Msg, store: &Store) -> Result<Action> {
        match msg {
            Msg::Move(d) => match &mut self.visits {
                Some(v) => v.move_by(d),
                None => self.page_mut().move_by(d),
            },
            Msg::Home => self.update(Msg::Move(isize::MIN / 2), store).map(drop)?,
            Msg::End => self.update(Msg::Move(isize::MAX / 2), store).map(drop)?,
            Msg::Drill => self.drill(),
            Msg::Back => {
                if self.trend.is_some() {
                    self.trend = None;
                } else if self.visits.is_some() {
                    self.visits = None;
                } else if self.pages.len() > 1 {
                    self.pages.pop();
                    // The sort may have changed below: the page shown again
                    // follows it, so the indicator and the rows agree.
                    self.resort();
                } else {
                    return Ok(Action::Ignored);
                }
                self.cancelled = false;
            }
            Msg::NextSort | Msg::PrevSort => {
                self.sort.column = self.sort.column.step(msg == Msg::NextSort);
                self.sort.descending = matches!(self.sort.column, SortColumn::Duplicates | SortColumn::Conflicts);
                self.resort();
            }
            Msg::Reverse => {
                self.sort.descending = !self.sort.descending;
                self.resort();
            }
            Msg::BelowFirst => {
                self.sort.below_first = !self.sort.below_first;
                self.resort();
            }
            Msg::OpenDate => self.date_input = Some(DateInput { text: self.as_of.clone(), error: None }),
            Msg::DateChar(c) => {
                if let Some(d) = &mut self.date_input
                    && d.text.len() < 10
                {
                    d.text.push(c);
                    d.error = None;
                }
            }
            Msg::DateBackspace => {
                if let Some(d) = &mut self.date_input {
                    d.text.pop();
                    d.error = None;
                }
            }
            Msg::DateCancel => self.date_input = None,
            Msg::DateApply => {
                let Some(input) = &mut self.date_input else { return Ok(Action::Handled) };
                match crate::domain::validate::parse_date(&input.text) {
                    Ok(Some(date)) => {
                        self.date_input = None;
                        self.set_as_of(&date, store)?;
                    }
                    _ => input.error = Some(s::bad_date(self.lang).to_string()),
                }
            }
            Msg::OpenTrend => self.open_trend(),
            Msg::Indicator(forward) => {
                if let Some(t) = &mut self.trend {
                    t.step_indicator(forward);
                }
            }
            Msg::Help => self.help = true,
            Msg::CloseHelp => self.help = false,
            Msg::Cancel => {
                if self.live.cancel() {
                    self.cancelled = true;
                    self.clear_shown();
                }
            }
            Msg::Recompute => self.cancelled = false,
            Msg::Quit => return Ok(Action::Quit),
        }
        Ok(Action::Handled)
    }

    fn resort(&mut self) {
        let sort = self.sort;
        self.page_mut().sort(&sort);
    }

    fn drill(&mut self) {
        let page = self.page();
        let Some(row) = page.selected_row() else { return };
        let (code, name) = (row.code.clone(), dashboard::area_name(row, self.lang));
        match page.level.child() {
            Some(child) => {
                let p = Page::pending(child, Some(code), Some(name), &self.as_of, &self.settings);
                self.pages.push(p);
            }
            None => self.visits = Some(Visits::pending(&code, &name, &self.as_of)),
        }
        self.cancelled = false;
    }

    fn open_trend(&mut self) {
        let (level, code, name) = match &self.visits {
            Some(v) => (Level::Village, v.code.clone(), v.name.clone()),
            None => match self.page().selected_row() {
                Some(r) => (r.level, r.code.clone(), dashboard::area_name(r, self.lang)),
                None => return,
            },
        };
        self.trend = Some(Trend::pending(level, &code, &name, &self.as_of));
        self.cancelled = false;
    }

    /// Moves the as-of date. Only the view shown is recomputed now; the levels
    /// beneath it are recomputed when they are shown again (each is one
    /// summary query, and at national scale the top level is the dearest).
    pub fn set_as_of(&mut self, date: &str, store: &Store) -> Result<()> {
        self.as_of = date.to_string();
        self.cancelled = false;
        self.sync(store)
    }

    /// The keys of the view shown, for the app's key bar.
    fn key_hints(&self) -> Vec<Hint> {
        let l = self.lang;
        if self.help {
            return vec![("", s::help_close(l))];
        }
        if self.date_input.is_some() {
            return vec![("Enter", s::k_apply(l)), ("Esc", s::k_cancel(l))];
        }
        // While figures are computed Esc stops them; after that F5 asks again.
        let mut hints = self.view_hints();
        if self.live.pending() && self.waiting() {
            hints.retain(|(k, _)| *k != "Esc");
            hints.insert(0, ("Esc", s::k_stop(l)));
        } else if self.cancelled {
            hints.insert(0, ("F5", s::k_recompute(l)));
        }
        hints
    }

    fn view_hints(&self) -> Vec<Hint> {
        let l = self.lang;
        if self.trend.is_some() {
            return vec![
                ("←→", s::k_indicator(l)),
                ("Esc", s::k_back(l)),
                ("d", s::k_date(l)),
                ("?", s::k_help(l)),
                ("q", s::k_quit(l)),
            ];
        }
        if self.visits.is_some() {
            return vec![
                ("↑↓", s::k_move(l)),
                ("Esc", s::k_back(l)),
                ("t", s::k_trend(l)),
                ("d", s::k_date(l)),
                ("?", s::k_help(l)),
                ("q", s::k_quit(l)),
            ];
        }
        // Most used first: a narrow key bar cuts from the end, and ? lists all.
        vec![
            ("↑↓", s::k_move(l)),
            ("Enter", s::k_drill(l)),
            ("Esc", s::k_back(l)),
            ("?", s::k_help(l)),
            ("s", s::k_sort(l)),
            ("t", s::k_trend(l)),
            ("d", s::k_date(l)),
            ("r", s::k_reverse(l)),
            ("b", s::k_below(l)),
            ("q", s::k_quit(l)),
        ]
    }
}

impl Component for Supervisor {
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
