//! The crew's screens: village browser, the visits of a village, the visit
//! form with live figures, inline validation and drafts. Keys become
//! [`keys::Msg`]s by the key map of the screen in front, and `update` is the
//! only thing that changes the state; drawing is in [`view`].

mod browser;
pub mod day;
mod edit;
pub mod keys;
pub mod view;
mod view_form;
mod visits;

use anyhow::Result;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::crossterm::event::Event;
use ratatui::layout::Rect;

use super::component::{Action, Component, Ctx, Hint};
use super::form::{Form, List, VISIT_FIELDS};
use crate::domain::VisitData;
use crate::domain::settings::Settings;
use crate::domain::validate::{Place, Problem, Reason};
use crate::store::Store;
use crate::store::browse::{AreaItem, Draft, LAST_SURVEYOR, VillageItem, VisitItem};
use crate::strings::Lang;
use crate::strings::tui as s;
pub use keys::Msg;

/// The key of the notes field: typed in a text area of several lines.
pub const NOTES: &str = "notes";

/// Rows fetched per page of a village list.
pub const PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Browser,
    Visits,
    Form,
    /// The crew's day: what is left to visit, what was saved today.
    Day,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Area(AreaItem),
    Village(VillageItem),
}

/// County → township → village, with a search box.
#[derive(Debug, Default)]
pub struct Browser {
    /// The chosen county, then township.
    pub path: Vec<AreaItem>,
    pub query: String,
    /// Cursor in `query`, in chars.
    pub cursor: usize,
    pub items: Vec<Item>,
    pub selected: usize,
    /// Whether another page may follow.
    pub more: bool,
    /// The query changed since the list was filled: keys typed in a burst
    /// (an IME commits several characters at once) cost one query.
    pub stale: bool,
    /// (scope, query) of a name search whose result is complete.
    pub complete_for: Option<(String, String)>,
}

/// The visits of one village.
#[derive(Debug)]
pub struct Visits {
    pub code: String,
    pub name: String,
    /// Its county and township: shown above the visits and the form, and
    /// the way back when it was opened from a restored draft.
    pub path: Vec<AreaItem>,
    pub rows: Vec<VisitItem>,
    pub selected: usize,
    /// Opened from the day view: Esc goes back there.
    pub from_day: bool,
}

/// The visit form in front.
#[derive(Debug)]
pub struct FormScreen {
    pub form: Form,
    pub draft_id: String,
    pub village_name: String,
    pub is_new: bool,
    /// 0 = village figures, 1..=3 = the lists of [`List::ALL`].
    pub section: usize,
    /// Focused field of section 0 or of the row being edited.
    pub focus: usize,
    pub row_sel: [usize; 3],
    /// The row being edited in the current list section.
    pub editing: Option<usize>,
    /// Cursor in the focused field, in chars.
    pub cursor: usize,
    /// The form's data as parsed, and every problem it has.
    pub data: VisitData,
    pub problems: Vec<Problem>,
    /// Changed since opened (or restored from a draft).
    pub changed: bool,
    /// Changed since the draft was last written.
    pub draft_dirty: bool,
    /// The focused field's value was just arrived at: a digit typed into a
    /// number (or a date) replaces it instead of being added to it.
    pub fresh: bool,
    /// The date for which a second visit that day was agreed to.
    pub same_day_ok: Option<String>,
    /// The notes as a text area (several lines), while they have the focus.
    pub notes: Option<ratatui_textarea::TextArea<'static>>,
}

impl FormScreen {
    pub fn list(&self) -> Option<List> {
        self.section.checked_sub(1).map(|i| List::ALL[i])
    }
    /// The fields, place and values of the record whose fields are in front.
    pub fn record(&self) -> Option<(&'static [super::form::Field], Place, &Vec<String>)> {
        match (self.list(), self.editing) {
            (None, _) => Some((VISIT_FIELDS, Place::Visit, &self.form.visit)),
            (Some(l), Some(i)) => Some((l.fields(), l.place(i), &self.form.rows(l)[i].values)),
            (Some(_), None) => None,
        }
    }
    /// The focused field's text.
    pub(super) fn focused_mut(&mut self) -> Option<&mut String> {
        let k = self.focus;
        match (self.list(), self.editing) {
            (None, _) => self.form.visit.get_mut(k),
            (Some(l), Some(i)) => self.form.rows_mut(l)[i].values.get_mut(k),
            (Some(_), None) => None,
        }
    }
    /// The problem of one field, if any; a facility's households served
    /// also show the households problem they cause ([`Self::echo`]).
    pub fn problem(&self, place: Place, key: &str) -> Option<&Problem> {
        self.problems.iter().find(|p| p.place == place && p.field == key).or_else(|| match place {
            Place::Facility(i) if key == "households_served" => self.echo(i),
            _ => None,
        })
    }
    /// The households problem (more households treated or controlled than
    /// live there) when facility `i` serves households: it is as much the
    /// facility's as 常住户数's, so it shows on both.
    pub fn echo(&self, i: usize) -> Option<&Problem> {
        let serves = self.data.facilities.get(i).is_some_and(|f| f.households_served > 0);
        let own = self.problems.iter().any(|p| p.place == Place::Facility(i) && p.field == "households_served");
        self.problems
            .iter()
            .find(|p| p.place == Place::Visit && matches!(p.reason, Reason::HouseholdsExceeded { .. }))
            .filter(|_| serves && !own)
    }
    /// The first problem of a record, its echo included.
    pub fn first_problem(&self, place: Place) -> Option<&Problem> {
        self.problems.iter().find(|p| p.place == place).or_else(|| match place {
            Place::Facility(i) => self.echo(i),
            _ => None,
        })
    }
    /// Problems in a section (0 = village figures), echoes included.
    pub fn problems_in(&self, section: usize) -> usize {
        let own = self
            .problems
            .iter()
            .filter(|p| match p.place {
                Place::Visit => section == 0,
                Place::Facility(_) => section == 1,
                Place::Farm(_) => section == 2,
                Place::Water(_) => section == 3,
            })
            .count();
        let echoes =
            if section == 1 { (0..self.data.facilities.len()).filter(|i| self.echo(*i).is_some()).count() } else { 0 };
        own + echoes
    }
    /// Whether any of `keys` of the record at `place` has a problem: its
    /// live figure is then shown as "—", never as 958.3 %.
    pub fn any_problem(&self, place: Place, keys: &[&str]) -> bool {
        self.problems.iter().any(|p| p.place == place && keys.contains(&p.field))
    }
    /// After the focus moved: the cursor at the end of the new field, its
    /// value replaceable, and the notes opened as a text area.
    pub(super) fn refocus(&mut self) {
        self.cursor = self.focused_len();
        self.fresh = true;
        self.notes = None;
        if let Some((fields, _, values)) = self.record()
            && self.list().is_none()
            && fields.get(self.focus).is_some_and(|f| f.key == NOTES)
        {
            let text = values.get(self.focus).cloned().unwrap_or_default();
            let mut area = ratatui_textarea::TextArea::new(text.split('\n').map(str::to_string).collect());
            area.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
            area.set_cursor_line_style(ratatui::style::Style::new());
            area.move_cursor(ratatui_textarea::CursorMove::Bottom);
            area.move_cursor(ratatui_textarea::CursorMove::End);
            self.notes = Some(area);
        }
    }
    pub(super) fn focused_len(&self) -> usize {
        self.record().map(|(_, _, v)| v.get(self.focus).map_or(0, |s| s.chars().count())).unwrap_or(0)
    }
}

/// Questions that need a yes or no.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Visit id, the revision the list showed, and what it is (village,
    /// date, surveyor) for the question.
    DeleteVisit(String, String, String),
    /// The row of the list in front; the question names it.
    DeleteRow,
    /// A second visit of the village on a day that has one already (it
    /// would count as a duplicate): `save` when asked on saving.
    SameDay {
        date: String,
        save: bool,
    },
    Discard {
        then_quit: bool,
    },
    /// A draft, and a line saying whose and when.
    RestoreDraft(Draft, String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
}

/// The crew's screens and what they show.
pub struct Crew {
    pub lang: Lang,
    pub settings: Settings,
    pub today: NaiveDate,
    pub screen: Screen,
    pub browser: Browser,
    pub visits: Option<Visits>,
    pub form: Option<FormScreen>,
    pub day: Option<day::Day>,
    pub overlay: Option<Overlay>,
    /// A line for the person: text and whether it is an error.
    pub message: Option<(String, bool)>,
    pub quit: bool,
    /// Drafts still to be offered back.
    pending_drafts: Vec<Draft>,
}

impl Crew {
    /// The village browser on a store; drafts left from a crash are offered back.
    pub fn new(store: &mut Store, lang: Lang, settings: Settings, today: NaiveDate) -> Result<Crew> {
        let pending_drafts = store.drafts()?;
        let mut crew = Crew {
            lang,
            settings,
            today,
            screen: Screen::Browser,
            browser: Browser::default(),
            visits: None,
            form: None,
            day: None,
            overlay: None,
            message: None,
            quit: false,
            pending_drafts,
        };
        crew.reload_browser(store)?;
        crew.offer_next_draft(store)?;
        Ok(crew)
    }

    pub(super) fn offer_next_draft(&mut self, store: &mut Store) -> Result<()> {
        if let Some(d) = self.pending_drafts.pop() {
            let about = self.draft_about(store, &d)?;
            self.overlay = Some(Overlay::Confirm(Confirm::RestoreDraft(d, about)));
        }
        Ok(())
    }

    /// "village code · new/edit visit · survey date · saved at" of a draft.
    /// A draft that cannot be read is still offered, by its time alone:
    /// restoring it then says what is wrong with it.
    pub(super) fn draft_about(&self, store: &Store, d: &Draft) -> Result<String> {
        let l = self.lang;
        let form: Option<Form> = serde_json::from_str(&d.form).ok();
        let Some(form) = form else { return Ok(d.updated_at.clone()) };
        let name = store.roster_unit(&form.village_code)?.map(|u| u.0);
        let when = crate::text::local_minute(&d.updated_at);
        Ok(format!(
            "{} {} · {} · {} · {} {when}",
            name.unwrap_or_default(),
            form.village_code,
            if form.base_rev.is_none() { s::new_visit(l) } else { s::edit_visit(l) },
            form.visit.first().map(String::as_str).unwrap_or(""),
            s::draft_saved_at(l),
        ))
    }

    /// Reads the village list and the visits again (after a county merge).
    pub fn reload_lists(&mut self, store: &mut Store) -> Result<()> {
        self.reload_browser(store)?;
        self.reload_visits(store)?;
        self.reload_day(store)
    }

    /// Runs the queries that keys have made due (the village search).
    pub fn settle(&mut self, store: &mut Store) {
        if self.browser.stale
            && let Err(e) = self.search(store)
        {
            self.message = Some((crate::strings::errors::error_line(&e, self.lang), true));
        }
    }

    /// Changes state in answer to one message; a failure becomes the message line.
    pub fn update(&mut self, store: &mut Store, msg: Msg) {
        if let Err(e) = self.try_update(store, msg) {
            self.message = Some((crate::strings::errors::error_line(&e, self.lang), true));
        }
    }

    pub(super) fn try_update(&mut self, store: &mut Store, msg: Msg) -> Result<()> {
        if !matches!(msg, Msg::Char(_)) || self.screen != Screen::Browser {
            self.message = None;
        }
        if msg == Msg::Help {
            self.overlay = Some(Overlay::Help);
            return Ok(());
        }
        if let Some(o) = self.overlay.clone() {
            return self.update_overlay(store, o, msg);
        }
        if msg == Msg::Quit {
            if self.form.as_ref().is_some_and(|f| f.changed) {
                self.overlay = Some(Overlay::Confirm(Confirm::Discard { then_quit: true }));
            } else {
                self.quit = true;
            }
            return Ok(());
        }
        if msg == Msg::Day && self.screen != Screen::Day {
            return self.open_day(store);
        }
        match self.screen {
            Screen::Browser => self.update_browser(store, msg),
            Screen::Visits => self.update_visits(store, msg),
            Screen::Form => self.update_form(store, msg),
            Screen::Day => self.update_day(store, msg),
        }
    }

    pub(super) fn update_overlay(&mut self, store: &mut Store, o: Overlay, msg: Msg) -> Result<()> {
        let Overlay::Confirm(c) = o else {
            self.overlay = None;
            return Ok(());
        };
        if msg == Msg::Quit {
            self.quit = true;
            return Ok(());
        }
        if !matches!(msg, Msg::Yes | Msg::No | Msg::Back) {
            return Ok(());
        }
        self.overlay = None;
        let yes = msg == Msg::Yes;
        match c {
            Confirm::SameDay { save: false, .. } if yes => self.new_visit(store)?,
            Confirm::SameDay { date, save: true } if yes => {
                if let Some(f) = &mut self.form {
                    f.same_day_ok = Some(date);
                }
                self.save(store)?;
            }
            Confirm::DeleteVisit(id, rev, _) if yes => {
                let author = match store.meta(LAST_SURVEYOR)? {
                    Some(a) => a,
                    None => store.load_visit(&id)?.map(|(_, d)| d.surveyor).unwrap_or_default(),
                };
                store.save_from_form(&author, &id, None, Some(&rev), None)?;
                self.reload_visits(store)?;
                self.message = Some((s::deleted(self.lang).into(), false));
            }
            Confirm::DeleteRow if yes => {
                if let Some(f) = &mut self.form
                    && let Some(l) = f.list()
                {
                    let i = f.row_sel[f.section - 1];
                    let rows = f.form.rows_mut(l);
                    if i < rows.len() {
                        rows.remove(i);
                        f.row_sel[f.section - 1] = i.min(rows.len().saturating_sub(1));
                    }
                    self.touched(store)?;
                }
            }
            Confirm::Discard { then_quit } if yes => {
                if let Some(f) = self.form.take() {
                    store.delete_draft(&f.draft_id)?;
                }
                if then_quit {
                    self.quit = true;
                } else {
                    self.screen = Screen::Visits;
                    self.reload_visits(store)?;
                    self.offer_next_draft(store)?;
                }
            }
            Confirm::RestoreDraft(d, _) => {
                if yes {
                    self.restore_draft(store, &d)?;
                } else if msg == Msg::No {
                    store.delete_draft(&d.draft_id)?;
                    self.message = Some((s::draft_discarded(self.lang).into(), false));
                    self.offer_next_draft(store)?;
                } else {
                    // Esc: keep the draft for another time.
                    self.offer_next_draft(store)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a draft write is due.
    pub fn draft_pending(&self) -> bool {
        self.form.as_ref().is_some_and(|f| f.draft_dirty)
    }

    /// Writes the form being typed as a draft (its own small transaction).
    pub fn flush_draft(&mut self, store: &mut Store) -> Result<()> {
        let Some(f) = &mut self.form else { return Ok(()) };
        if !f.draft_dirty {
            return Ok(());
        }
        store.put_draft(&Draft {
            draft_id: f.draft_id.clone(),
            visit_id: f.form.visit_id.clone(),
            base_rev: f.form.base_rev.clone(),
            form: serde_json::to_string(&f.form)?,
            // Local wall time with its offset: shown as the crew's clock read it.
            updated_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        })?;
        f.draft_dirty = false;
        Ok(())
    }
}

impl Component for Crew {
    fn handle(&mut self, ev: &Event, ctx: &mut Ctx) -> Result<Action> {
        let Event::Key(key) = ev else { return Ok(Action::Ignored) };
        match self.key_to_msg(*key) {
            Some(m) => self.update(ctx.store, m),
            None => return Ok(Action::Ignored),
        }
        Ok(if self.quit { Action::Quit } else { Action::Handled })
    }

    fn draw(&self, frame: &mut Frame, area: Rect) {
        view::draw(self, frame, area);
    }

    fn hints(&self) -> Vec<Hint> {
        keys::hints(self)
    }
}
