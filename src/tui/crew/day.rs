//! The crew's day: the villages of its township not visited since the
//! round started (a date the crew sets), and what it saved today, so a crew
//! knows where to go next and what it has done.

use anyhow::Result;

use super::{Crew, Msg, Screen};
use crate::domain::validate::parse_date;
use crate::store::Store;
use crate::store::browse::{AreaItem, CREW_TOWNSHIP, CrewDay, ROUND_START};
use crate::strings::tui as s;
use crate::tui::widgets::edit_line;

/// The day view's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub township: AreaItem,
    /// First day of the survey round (YYYY-MM-DD).
    pub start: String,
    pub data: CrewDay,
    pub selected: usize,
    /// The round's start being typed, with its cursor (in chars).
    pub editing: Option<(String, usize)>,
}

impl Crew {
    /// Ctrl-T: the day view. Inside a township (or a village of one) that
    /// township becomes the crew's; elsewhere the one set before is shown.
    pub(super) fn open_day(&mut self, store: &mut Store) -> Result<()> {
        let here = match self.screen {
            Screen::Visits => self.visits.as_ref().and_then(|v| v.path.get(1).cloned()),
            _ => self.browser.path.get(1).cloned(),
        };
        let township = match here {
            Some(t) => {
                store.set_meta(CREW_TOWNSHIP, &t.code)?;
                Some(t)
            }
            None => match store.meta(CREW_TOWNSHIP)? {
                Some(code) => store.village_path(&format!("{code}000")).ok().and_then(|p| p.get(1).cloned()),
                None => None,
            },
        };
        let Some(township) = township else {
            self.message = Some((s::day_needs_township(self.lang).into(), true));
            return Ok(());
        };
        // The round starts on the first day of the year until the crew says otherwise.
        let start = store.meta(ROUND_START)?.unwrap_or_else(|| self.today.format("%Y-01-01").to_string());
        let data = store.crew_day(&township.code, &start, self.today)?;
        self.day = Some(Day { township, start, data, selected: 0, editing: None });
        self.screen = Screen::Day;
        Ok(())
    }

    /// Reads the day again (after a save, a merge, a new start date).
    pub(super) fn reload_day(&mut self, store: &mut Store) -> Result<()> {
        if let Some(d) = &mut self.day {
            d.data = store.crew_day(&d.township.code, &d.start, self.today)?;
            d.selected = d.selected.min(d.data.to_visit.len().saturating_sub(1));
        }
        Ok(())
    }

    pub(super) fn update_day(&mut self, store: &mut Store, msg: Msg) -> Result<()> {
        let Some(d) = &mut self.day else { return Ok(()) };
        if let Some((text, cursor)) = &mut d.editing {
            match msg {
                Msg::Char(c) => {
                    edit_line(text, cursor, tui_input::InputRequest::InsertChar(c));
                }
                Msg::Edit(req) => {
                    edit_line(text, cursor, req);
                }
                Msg::Back => d.editing = None,
                Msg::Enter => {
                    // The date is read as every date is (2025-3-1, 2025/3/1, 2025年3月1日 …).
                    let parsed = parse_date(text);
                    match parsed {
                        Ok(Some(date)) if date.as_str() <= self.today.format("%Y-%m-%d").to_string().as_str() => {
                            store.set_meta(ROUND_START, &date)?;
                            d.start = date;
                            d.editing = None;
                            self.reload_day(store)?;
                        }
                        Ok(Some(_)) => {
                            let r = crate::domain::validate::Reason::FutureDate;
                            self.message =
                                Some((format!("{}: {}", s::round_start(self.lang), r.message(self.lang)), true));
                        }
                        Ok(None) | Err(_) => {
                            let r = parsed.err().unwrap_or(crate::domain::validate::Reason::Required);
                            self.message =
                                Some((format!("{}: {}", s::round_start(self.lang), r.message(self.lang)), true));
                        }
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        let n = d.data.to_visit.len();
        match msg {
            Msg::Up | Msg::Prev => d.selected = d.selected.saturating_sub(1),
            Msg::Down | Msg::Next => d.selected = (d.selected + 1).min(n.saturating_sub(1)),
            Msg::PageUp => d.selected = d.selected.saturating_sub(10),
            Msg::PageDown => d.selected = (d.selected + 10).min(n.saturating_sub(1)),
            Msg::Date => {
                let chars = d.start.chars().count();
                d.editing = Some((d.start.clone(), chars));
            }
            Msg::Enter => {
                if let Some(v) = d.data.to_visit.get(d.selected).cloned() {
                    self.open_visits(store, &v.code, &v.name)?;
                    if let Some(v) = &mut self.visits {
                        v.from_day = true;
                    }
                }
            }
            Msg::Back | Msg::Day => {
                self.screen = Screen::Browser;
                self.reload_browser(store)?;
            }
            _ => {}
        }
        Ok(())
    }
}
