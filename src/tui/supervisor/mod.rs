//! The supervisor views: coverage dashboard with drill-down (area levels →
//! villages → a village's visits), the as-of date, and the trend of an area.
//!
//! A [`Component`] for the app to host: inside, key events become [`Msg`]s,
//! [`Supervisor::update`] changes the state, drawing only reads it.
//! Every figure comes from [`Store::summary`] with `within`, so nothing loads
//! the whole roster.

pub mod bars;
pub mod dashboard;
pub mod trend;
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
use crate::strings::Lang;
use crate::strings::supervisor as s;
use crate::text::{fit, width};
pub use dashboard::{Page, Sort, SortColumn};
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
}

impl Supervisor {
    /// The dashboard at the top level, as of `today`.
    pub fn new(store: &Store, settings: Settings, lang: Lang, today: NaiveDate) -> Result<Self> {
        let as_of = today.format("%Y-%m-%d").to_string();
        let top = Page::load(store, &as_of, store.village_span()?.top_level(), None, None, &settings)?;
        Ok(Supervisor {
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
        })
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
            _ => return None,
        })
    }

    /// Handles one key event (only presses count).
    fn handle_key(&mut self, key: KeyEvent, store: &Store) -> Result<Action> {
        match self.message(key) {
            Some(msg) => self.update(msg, store),
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
            Msg::Drill => self.drill(store)?,
            Msg::Back => {
                if self.trend.is_some() {
                    self.trend = None;
                } else if self.visits.is_some() {
                    self.visits = None;
                } else if self.pages.len() > 1 {
                    self.pages.pop();
                } else {
                    return Ok(Action::Ignored);
                }
                self.refresh(store)?;
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
            Msg::OpenTrend => self.open_trend(store)?,
            Msg::Indicator(forward) => {
                if let Some(t) = &mut self.trend {
                    t.step_indicator(forward);
                }
            }
            Msg::Help => self.help = true,
            Msg::CloseHelp => self.help = false,
            Msg::Quit => return Ok(Action::Quit),
        }
        Ok(Action::Handled)
    }

    fn resort(&mut self) {
        let sort = self.sort;
        self.page_mut().sort(&sort);
    }

    fn drill(&mut self, store: &Store) -> Result<()> {
        let page = self.page();
        let Some(row) = page.selected_row() else { return Ok(()) };
        let (code, name) = (row.code.clone(), dashboard::area_name(row, self.lang));
        match page.level.child() {
            Some(child) => {
                let mut p = Page::load(store, &self.as_of, child, Some(code), Some(name), &self.settings)?;
                p.sort(&self.sort);
                self.pages.push(p);
            }
            None => self.visits = Some(Visits::load(store, &code, &name, &self.as_of, &self.settings)?),
        }
        Ok(())
    }

    fn open_trend(&mut self, store: &Store) -> Result<()> {
        let (level, code, name) = match &self.visits {
            Some(v) => (Level::Village, v.code.clone(), v.name.clone()),
            None => match self.page().selected_row() {
                Some(r) => (r.level, r.code.clone(), dashboard::area_name(r, self.lang)),
                None => return Ok(()),
            },
        };
        self.trend = Some(Trend::load(store, level, &code, &name, &self.as_of, &self.settings)?);
        Ok(())
    }

    /// Moves the as-of date. Only the view shown is recomputed now; the levels
    /// beneath it are recomputed when they are shown again (each is one
    /// summary query, and at national scale the top level is the dearest).
    pub fn set_as_of(&mut self, date: &str, store: &Store) -> Result<()> {
        self.as_of = date.to_string();
        self.refresh(store)
    }

    /// Recomputes the view shown if it was computed as of another date,
    /// keeping sort, selection and the trend's indicator.
    fn refresh(&mut self, store: &Store) -> Result<()> {
        let date = self.as_of.clone();
        if let Some(t) = &self.trend {
            if t.as_of != date {
                let mut nt = Trend::load(store, t.level, &t.code, &t.name, &date, &self.settings)?;
                nt.indicator = t.indicator;
                self.trend = Some(nt);
            }
        } else if let Some(v) = &self.visits {
            if v.as_of != date {
                let mut nv = Visits::load(store, &v.code, &v.name, &date, &self.settings)?;
                nv.selected = v.selected.min(nv.rows.len().saturating_sub(1));
                self.visits = Some(nv);
            }
        } else if self.page().summary.as_of != date {
            let old = self.page();
            let mut p =
                Page::load(store, &date, old.level, old.within.clone(), old.parent_name.clone(), &self.settings)?;
            p.sort(&self.sort);
            if let Some(r) = old.selected_row() {
                p.select_code(&r.code);
            }
            *self.page_mut() = p;
        }
        Ok(())
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

    /// Draws the views into `area` and places the cursor of the date input.
    fn draw_into(&self, frame: &mut Frame, area: Rect) {
        frame.render_widget(self, area);
        if let Some(pos) = self.cursor(area) {
            frame.set_cursor_position(pos);
        }
    }

    /// Where the date input's cursor goes (by display width).
    pub fn cursor(&self, area: Rect) -> Option<Position> {
        let input = self.date_input.as_ref()?;
        let popup = date_popup(area);
        Some(Position::new(popup.x + 1 + 2 + width(&input.text) as u16, popup.y + 1))
    }

    fn breadcrumb(&self) -> String {
        let mut parts = vec![s::national(self.lang).to_string()];
        parts.extend(self.pages.iter().filter_map(|p| p.parent_name.clone()));
        if let Some(v) = &self.visits {
            parts.push(v.name.clone());
        }
        let tail = match &self.visits {
            Some(v) => format!("{} {}", s::visits_title(self.lang), v.code),
            None => {
                let p = self.page();
                format!("{} {}", s::level_name(p.level, self.lang), s::count_areas(p.order.len(), self.lang))
            }
        };
        format!("{} · {tail}", parts.join(" › "))
    }

    fn status_line(&self) -> Line<'static> {
        let l = self.lang;
        let mut spans = vec![
            Span::styled(format!("{} {}", s::as_of(l), self.as_of), Style::default().add_modifier(Modifier::BOLD)),
            Span::raw("  "),
        ];
        if self.visits.is_none() && self.trend.is_none() {
            let arrow = if self.sort.descending { "▼" } else { "▲" };
            let mut sort = format!("{} {}{arrow}", s::sort(l), self.sort.column.label(l));
            if self.sort.below_first {
                sort.push_str(&format!(" · {}", s::below_first(l)));
            }
            spans.push(Span::raw(sort));
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(format!("✓{}", s::met(l)), Style::default().fg(Color::Green)));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!("✗{}", s::missed(l)), Style::default().fg(Color::Red)));
        spans.push(Span::raw(format!(" —{}", s::no_data(l))));
        Line::from(spans)
    }
}

fn date_popup(area: Rect) -> Rect {
    let w = 46.min(area.width);
    let h = 5.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let (w, h) = (w.min(area.width), h.min(area.height));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

impl Widget for &Supervisor {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let l = self.lang;
        let [crumb, status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);
        Paragraph::new(fit(&self.breadcrumb(), crumb.width as usize))
            .style(Style::default().add_modifier(Modifier::BOLD))
            .render(crumb, buf);
        Paragraph::new(self.status_line()).render(status, buf);
        if let Some(t) = &self.trend {
            t.draw(&self.settings, l, body, buf);
        } else if let Some(v) = &self.visits {
            v.draw(l, body, buf);
        } else {
            let page = self.page();
            let detail_h = if body.height >= 16 { 7 } else { 0 };
            let [table, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(detail_h)]).areas(body);
            dashboard::draw_table(page, &self.sort, l, table, buf);
            if detail_h > 0 {
                let (name, figures) = match page.selected_row() {
                    Some(r) => (dashboard::area_name(r, l), &r.figures),
                    None => (s::total(l).to_string(), &page.summary.total),
                };
                dashboard::draw_detail(&name, figures, &self.settings, l, detail, buf);
            }
        }
        if let Some(input) = &self.date_input {
            let popup = date_popup(area);
            Clear.render(popup, buf);
            let block = Block::default().borders(Borders::ALL).title(format!(" {} ", s::date_title(l)));
            let inner = block.inner(popup);
            block.render(popup, buf);
            let lines = vec![
                Line::from(format!("> {}", input.text)),
                match &input.error {
                    Some(e) => Line::styled(format!("✗ {e}"), Style::default().fg(Color::Red)),
                    None => Line::from(s::date_hint(l)),
                },
            ];
            Paragraph::new(lines).render(inner, buf);
        }
        if self.help {
            self.render_help(area, buf);
        }
    }
}

impl Supervisor {
    fn help_lines(&self) -> Vec<(String, String)> {
        let l = self.lang;
        let mut lines: Vec<(String, String)> =
            Role::ALL.iter().map(|r| (r.key().to_string(), format!("{} · {}", s::help_roles(l), r.name(l)))).collect();
        lines.push((String::new(), String::new()));
        let keys: [(&str, &str); 11] = [
            ("↑↓ PgUp PgDn", s::k_move(l)),
            ("Enter →", s::k_drill(l)),
            ("Esc ←", s::k_back(l)),
            ("s / S", s::k_sort(l)),
            ("r", s::k_reverse(l)),
            ("b", s::k_below(l)),
            ("d", s::k_date(l)),
            ("t", s::k_trend(l)),
            ("← → Tab", s::k_indicator(l)),
            ("? F1", s::k_help(l)),
            ("q", s::k_quit(l)),
        ];
        lines.extend(keys.iter().map(|(k, d)| (k.to_string(), d.to_string())));
        lines.push((String::new(), String::new()));
        lines.push(("✓ ✗ —".to_string(), format!("{} / {} / {}", s::met(l), s::missed(l), s::no_data(l))));
        lines
    }

    fn render_help(&self, area: Rect, buf: &mut Buffer) {
        let lines = self.help_lines();
        let kw = lines.iter().map(|(k, _)| width(k)).max().unwrap_or(0);
        let dw = lines.iter().map(|(_, d)| width(d)).max().unwrap_or(0);
        let popup = centered(area, (kw + dw + 5) as u16, lines.len() as u16 + 2);
        Clear.render(popup, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", s::help_title(self.lang)))
            .title_bottom(format!(" {} ", s::help_close(self.lang)));
        let inner = block.inner(popup);
        block.render(popup, buf);
        let text: Vec<Line> = lines
            .iter()
            .map(|(k, d)| {
                Line::from(vec![
                    Span::styled(
                        format!("{k}{}", " ".repeat(kw - width(k))),
                        Style::default().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw("  "),
                    Span::raw(d.clone()),
                ])
            })
            .collect();
        Paragraph::new(text).render(inner, buf);
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
