//! The visits of one village: open one, start a new one, delete one.

use anyhow::Result;

use super::{Confirm, Crew, Msg, Overlay, Screen, Visits};
use crate::store::Store;
use crate::store::browse::LAST_SURVEYOR;
use crate::tui::form::{Form, new_id};

impl Crew {
    pub fn open_visits(&mut self, store: &mut Store, code: &str, name: &str) -> Result<()> {
        let path = store.village_path(code)?;
        self.visits =
            Some(Visits { code: code.into(), name: name.into(), path, rows: Vec::new(), selected: 0, from_day: false });
        self.screen = Screen::Visits;
        self.reload_visits(store)
    }

    pub(super) fn reload_visits(&mut self, store: &mut Store) -> Result<()> {
        if let Some(v) = &mut self.visits {
            v.rows = store.visits_of(&v.code)?;
            v.selected = v.selected.min(v.rows.len().saturating_sub(1));
        }
        Ok(())
    }

    pub(super) fn update_visits(&mut self, store: &mut Store, msg: Msg) -> Result<()> {
        let Some(v) = &mut self.visits else { return Ok(()) };
        match msg {
            Msg::Up | Msg::Prev => v.selected = v.selected.saturating_sub(1),
            Msg::Down | Msg::Next => v.selected = (v.selected + 1).min(v.rows.len().saturating_sub(1)),
            Msg::Back if v.from_day && self.day.is_some() => {
                self.screen = Screen::Day;
                self.reload_day(store)?;
            }
            Msg::Back => {
                self.screen = Screen::Browser;
                self.reload_browser(store)?;
            }
            Msg::Remove => {
                if let Some(r) = v.rows.get(v.selected) {
                    let about = format!("{} {} · {} · {}", v.name, v.code, r.survey_date, r.surveyor);
                    self.overlay =
                        Some(Overlay::Confirm(Confirm::DeleteVisit(r.visit_id.clone(), r.rev_id.clone(), about)));
                }
            }
            Msg::Enter => {
                if let Some(r) = v.rows.get(v.selected)
                    && let Some((rev, data)) = store.load_visit(&r.visit_id)?
                {
                    let form = Form::from_data(&r.visit_id, Some(rev), &data);
                    let name = v.name.clone();
                    self.open_form(store, form, name, new_id(), false, false)?;
                }
            }
            Msg::New | Msg::Add => {
                // A visit today already: a second one would count as a duplicate; ask first.
                let today = self.today.format("%Y-%m-%d").to_string();
                if v.rows.iter().any(|r| r.survey_date == today) {
                    self.overlay = Some(Overlay::Confirm(Confirm::SameDay { date: today, save: false }));
                } else {
                    self.new_visit(store)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A new visit of the village in front, copied forward from its last one.
    pub(super) fn new_visit(&mut self, store: &mut Store) -> Result<()> {
        let Some(v) = &self.visits else { return Ok(()) };
        let previous = store.previous_visit(&v.code)?;
        let surveyor = store.meta(LAST_SURVEYOR)?.unwrap_or_default();
        let form = Form::new_visit(&v.code, previous.as_ref(), self.today, &surveyor);
        let name = v.name.clone();
        let today = self.today.format("%Y-%m-%d").to_string();
        let asked = v.rows.iter().any(|r| r.survey_date == today);
        self.open_form(store, form, name, new_id(), true, false)?;
        if let Some(f) = self.form.as_mut().filter(|_| asked) {
            f.same_day_ok = Some(today);
        }
        Ok(())
    }
}
