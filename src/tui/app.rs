//! The UI's state and `update`: key events become [`Msg`]s (by the key map of
//! the screen in front), and `update` is the only thing that changes state.

use anyhow::Result;
use chrono::NaiveDate;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::county::County;
use super::form::{Form, Kind, List, VISIT_FIELDS, new_id};
use super::supervisor::{Role, Supervisor};
use crate::domain::VisitData;
use crate::domain::settings::Settings;
use crate::domain::validate::{Place, Problem};
use crate::store::Store;
use crate::store::browse::{AreaItem, Draft, LAST_SURVEYOR, VillageItem, VisitItem};
use crate::store::revisions::Saved;
use crate::strings::Lang;
use crate::strings::tui as s;

/// Rows fetched per page of a village list.
pub const PAGE: usize = 100;

/// What a key means where it was pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Up,
    Down,
    PageUp,
    PageDown,
    Next,
    Prev,
    Left,
    Right,
    Home,
    End,
    Enter,
    Back,
    Save,
    Help,
    Quit,
    Char(char),
    Backspace,
    Delete,
    Add,
    Remove,
    New,
    Yes,
    No,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Browser,
    Visits,
    Form,
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
    pub rows: Vec<VisitItem>,
    pub selected: usize,
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
    fn focused_mut(&mut self) -> Option<&mut String> {
        let k = self.focus;
        match (self.list(), self.editing) {
            (None, _) => self.form.visit.get_mut(k),
            (Some(l), Some(i)) => self.form.rows_mut(l)[i].values.get_mut(k),
            (Some(_), None) => None,
        }
    }
    /// The problem of one field, if any.
    pub fn problem(&self, place: Place, key: &str) -> Option<&Problem> {
        self.problems.iter().find(|p| p.place == place && p.field == key)
    }
    /// Problems in a section (0 = village figures).
    pub fn problems_in(&self, section: usize) -> usize {
        self.problems
            .iter()
            .filter(|p| match p.place {
                Place::Visit => section == 0,
                Place::Facility(_) => section == 1,
                Place::Farm(_) => section == 2,
                Place::Water(_) => section == 3,
            })
            .count()
    }
    fn focused_len(&self) -> usize {
        self.record().map(|(_, _, v)| v.get(self.focus).map_or(0, |s| s.chars().count())).unwrap_or(0)
    }
}

/// Questions that need a yes or no.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    DeleteVisit(String),
    DeleteRow,
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

pub struct App {
    pub store: Store,
    pub lang: Lang,
    pub settings: Settings,
    pub today: NaiveDate,
    pub screen: Screen,
    pub browser: Browser,
    pub visits: Option<Visits>,
    pub form: Option<FormScreen>,
    pub overlay: Option<Overlay>,
    /// A line for the person: text and whether it is an error.
    pub message: Option<(String, bool)>,
    pub quit: bool,
    /// Drafts still to be offered back.
    pending_drafts: Vec<Draft>,
    /// The role in front (F2 crew, F3 county, F4 supervisor), and the
    /// county and supervisor screens, made on first use.
    pub role: Role,
    pub county: Option<County>,
    pub supervisor: Option<Supervisor>,
    /// The county's count of changes when the supervisor views were made.
    pub supervisor_seen: u64,
}

fn insert_at(s: &mut String, cursor: usize, c: char) {
    let at = s.char_indices().nth(cursor).map_or(s.len(), |(i, _)| i);
    s.insert(at, c);
}

fn remove_at(s: &mut String, cursor: usize) -> bool {
    match s.char_indices().nth(cursor) {
        Some((i, _)) => {
            s.remove(i);
            true
        }
        None => false,
    }
}

impl App {
    /// Opens the UI state on a store; drafts left from a crash are offered back.
    pub fn new(store: Store, lang: Lang, settings: Settings, today: NaiveDate) -> Result<App> {
        let pending_drafts = store.drafts()?;
        let mut app = App {
            store,
            lang,
            settings,
            today,
            screen: Screen::Browser,
            browser: Browser::default(),
            visits: None,
            form: None,
            overlay: None,
            message: None,
            quit: false,
            pending_drafts,
            role: Role::Crew,
            county: None,
            supervisor: None,
            supervisor_seen: 0,
        };
        app.reload_browser()?;
        app.offer_next_draft();
        Ok(app)
    }

    fn offer_next_draft(&mut self) {
        if let Some(d) = self.pending_drafts.pop() {
            let about = self.draft_about(&d);
            self.overlay = Some(Overlay::Confirm(Confirm::RestoreDraft(d, about)));
        }
    }

    /// "village code · new/edit visit · survey date · saved at" of a draft.
    fn draft_about(&self, d: &Draft) -> String {
        let l = self.lang;
        let form: Option<Form> = serde_json::from_str(&d.form).ok();
        let Some(form) = form else { return d.updated_at.clone() };
        let name = self.store.roster_unit(&form.village_code).ok().flatten().map(|u| u.0);
        let when = crate::text::local_minute(&d.updated_at);
        format!(
            "{} {} · {} · {} · {} {when}",
            name.unwrap_or_default(),
            form.village_code,
            if form.base_rev.is_none() { s::new_visit(l) } else { s::edit_visit(l) },
            form.visit.first().map(String::as_str).unwrap_or(""),
            s::draft_saved_at(l),
        )
    }

    /// Whether the key in front takes typed characters.
    fn typing(&self) -> bool {
        match self.screen {
            Screen::Browser => true,
            Screen::Visits => false,
            Screen::Form => self.form.as_ref().is_some_and(|f| {
                f.record().is_some_and(|(fields, _, _)| fields.get(f.focus).is_some_and(|x| x.kind.is_typed()))
            }),
        }
    }

    fn field_focus(&self) -> bool {
        self.screen == Screen::Form && self.form.as_ref().is_some_and(|f| f.record().is_some())
    }

    /// The key map: what a key means in front of the screen shown now.
    pub fn key_to_msg(&self, key: KeyEvent) -> Option<Msg> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('q' | 'c') if ctrl => return Some(Msg::Quit),
            KeyCode::Char('s') if ctrl => return Some(Msg::Save),
            KeyCode::F(1) => return Some(Msg::Help),
            _ if ctrl => return None,
            _ => {}
        }
        match &self.overlay {
            Some(Overlay::Help) => return Some(Msg::Back),
            Some(Overlay::Confirm(_)) => {
                return match key.code {
                    KeyCode::Char('y' | 'Y') => Some(Msg::Yes),
                    KeyCode::Char('n' | 'N') => Some(Msg::No),
                    KeyCode::Esc => Some(Msg::Back),
                    _ => None,
                };
            }
            None => {}
        }
        let common = match key.code {
            KeyCode::Up => Some(Msg::Up),
            KeyCode::Down => Some(Msg::Down),
            KeyCode::PageUp => Some(Msg::PageUp),
            KeyCode::PageDown => Some(Msg::PageDown),
            KeyCode::Tab => Some(Msg::Next),
            KeyCode::BackTab => Some(Msg::Prev),
            KeyCode::Enter => Some(Msg::Enter),
            KeyCode::Esc => Some(Msg::Back),
            KeyCode::Left => Some(Msg::Left),
            KeyCode::Right => Some(Msg::Right),
            KeyCode::Home => Some(Msg::Home),
            KeyCode::End => Some(Msg::End),
            KeyCode::Backspace => Some(Msg::Backspace),
            KeyCode::Delete => Some(Msg::Delete),
            KeyCode::Insert => Some(Msg::Add),
            _ => None,
        };
        if common.is_some() {
            if self.field_focus() {
                return common.map(|m| match m {
                    Msg::Up => Msg::Prev,
                    Msg::Down => Msg::Next,
                    m => m,
                });
            }
            return common;
        }
        let KeyCode::Char(c) = key.code else { return None };
        if self.screen == Screen::Browser && c == '?' {
            return Some(Msg::Help);
        }
        if self.typing() {
            return Some(Msg::Char(c));
        }
        match c {
            '?' => Some(Msg::Help),
            ' ' if self.field_focus() => Some(Msg::Right),
            'n' if self.screen == Screen::Visits => Some(Msg::New),
            'd' if !self.field_focus() => Some(Msg::Remove),
            'a' if self.screen == Screen::Form && !self.field_focus() => Some(Msg::Add),
            _ => None,
        }
    }

    /// Handles a key: maps it, updates, and settles.
    pub fn key(&mut self, key: KeyEvent) {
        self.key_unsettled(key);
        self.settle();
    }

    /// Handles a key without running the queries it makes due; the event
    /// loop calls [`App::settle`] once the keys waiting have been handled.
    pub fn key_unsettled(&mut self, key: KeyEvent) {
        if self.role_key(key) {
            return;
        }
        if let Some(m) = self.key_to_msg(key) {
            self.update(m);
        }
    }

    /// Reads the village list and the visits again (after a county merge).
    pub fn reload_lists(&mut self) -> Result<()> {
        self.reload_browser()?;
        self.reload_visits()
    }

    /// Runs the queries that keys have made due (the village search).
    pub fn settle(&mut self) {
        if self.browser.stale
            && let Err(e) = self.search()
        {
            self.message = Some((format!("{}: {e:#}", s::error(self.lang)), true));
        }
    }

    /// Changes state in answer to one message; a failure becomes the message line.
    pub fn update(&mut self, msg: Msg) {
        if let Err(e) = self.try_update(msg) {
            self.message = Some((format!("{}: {e:#}", s::error(self.lang)), true));
        }
    }

    fn try_update(&mut self, msg: Msg) -> Result<()> {
        if !matches!(msg, Msg::Char(_)) || self.screen != Screen::Browser {
            self.message = None;
        }
        if msg == Msg::Help {
            self.overlay = Some(Overlay::Help);
            return Ok(());
        }
        if let Some(o) = self.overlay.clone() {
            return self.update_overlay(o, msg);
        }
        if msg == Msg::Quit {
            if self.form.as_ref().is_some_and(|f| f.changed) {
                self.overlay = Some(Overlay::Confirm(Confirm::Discard { then_quit: true }));
            } else {
                self.quit = true;
            }
            return Ok(());
        }
        match self.screen {
            Screen::Browser => self.update_browser(msg),
            Screen::Visits => self.update_visits(msg),
            Screen::Form => self.update_form(msg),
        }
    }

    fn update_overlay(&mut self, o: Overlay, msg: Msg) -> Result<()> {
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
            Confirm::DeleteVisit(id) if yes => {
                let author = match self.store.meta(LAST_SURVEYOR)? {
                    Some(a) => a,
                    None => self.store.load_visit(&id)?.map(|(_, d)| d.surveyor).unwrap_or_default(),
                };
                self.store.save_from_form(&author, &id, None, None)?;
                self.reload_visits()?;
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
                    self.touched()?;
                }
            }
            Confirm::Discard { then_quit } if yes => {
                if let Some(f) = self.form.take() {
                    self.store.delete_draft(&f.draft_id)?;
                }
                if then_quit {
                    self.quit = true;
                } else {
                    self.screen = Screen::Visits;
                    self.reload_visits()?;
                    self.offer_next_draft();
                }
            }
            Confirm::RestoreDraft(d, _) => {
                if yes {
                    self.restore_draft(&d)?;
                } else if msg == Msg::No {
                    self.store.delete_draft(&d.draft_id)?;
                    self.message = Some((s::draft_discarded(self.lang).into(), false));
                    self.offer_next_draft();
                } else {
                    // Esc: keep the draft for another time.
                    self.offer_next_draft();
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ----- village browser -----

    fn prefix(&self) -> String {
        self.browser.path.last().map(|a| a.code.clone()).unwrap_or_default()
    }

    /// Refills the browser's list from the database (first page).
    pub fn reload_browser(&mut self) -> Result<()> {
        let b = &mut self.browser;
        let prefix = b.path.last().map(|a| a.code.clone()).unwrap_or_default();
        let q = b.query.trim().to_string();
        b.complete_for = None;
        if q.is_empty() && b.path.len() < 2 {
            b.items = self.store.areas(&prefix)?.into_iter().map(Item::Area).collect();
            b.more = false;
        } else {
            let v = self.store.villages(&prefix, &q, PAGE, 0)?;
            b.more = v.len() == PAGE;
            b.items = v.into_iter().map(Item::Village).collect();
            if !b.more && !q.is_empty() && !q.bytes().all(|c| c.is_ascii_digit()) {
                b.complete_for = Some((prefix, q));
            }
        }
        b.selected = b.selected.min(b.items.len().saturating_sub(1));
        b.stale = false;
        Ok(())
    }

    /// Runs the search typed. A name search that found everything it could
    /// (less than a page) and is then typed longer is narrowed in memory:
    /// whatever contains the longer text contains the shorter. These are the
    /// searches that had to read the whole roster, so the next keystroke
    /// does not read it again.
    fn search(&mut self) -> Result<()> {
        let b = &mut self.browser;
        let prefix = b.path.last().map(|a| a.code.clone()).unwrap_or_default();
        let q = b.query.trim().to_string();
        if let Some((p, old)) = &b.complete_for
            && *p == prefix
            && q != *old
            && q.contains(old.as_str())
        {
            b.items.retain(|i| matches!(i, Item::Village(v) if v.name.contains(q.as_str())));
            b.complete_for = Some((prefix, q));
            b.selected = 0;
            b.stale = false;
            return Ok(());
        }
        self.reload_browser()
    }

    fn more_villages(&mut self) -> Result<()> {
        let prefix = self.prefix();
        let b = &mut self.browser;
        let v = self.store.villages(&prefix, &b.query, PAGE, b.items.len())?;
        b.more = v.len() == PAGE;
        b.items.extend(v.into_iter().map(Item::Village));
        Ok(())
    }

    fn update_browser(&mut self, msg: Msg) -> Result<()> {
        if self.browser.stale && !matches!(msg, Msg::Char(_) | Msg::Backspace | Msg::Delete) {
            self.search()?;
        }
        let step = match msg {
            Msg::Down | Msg::Next => 1,
            Msg::PageDown => 10,
            _ => 0,
        };
        if step > 0 {
            let want = self.browser.selected + step;
            while want >= self.browser.items.len() && self.browser.more {
                self.more_villages()?;
            }
            self.browser.selected = want.min(self.browser.items.len().saturating_sub(1));
            return Ok(());
        }
        let b = &mut self.browser;
        match msg {
            Msg::Up | Msg::Prev => b.selected = b.selected.saturating_sub(1),
            Msg::PageUp => b.selected = b.selected.saturating_sub(10),
            Msg::Char(c) => {
                insert_at(&mut b.query, b.cursor, c);
                b.cursor += 1;
                b.selected = 0;
                b.stale = true;
            }
            Msg::Backspace if b.cursor > 0 => {
                b.cursor -= 1;
                remove_at(&mut b.query, b.cursor);
                b.selected = 0;
                b.stale = true;
            }
            Msg::Delete if remove_at(&mut b.query, b.cursor) => {
                b.selected = 0;
                b.stale = true;
            }
            Msg::Left => b.cursor = b.cursor.saturating_sub(1),
            Msg::Right => b.cursor = (b.cursor + 1).min(b.query.chars().count()),
            Msg::Home => b.cursor = 0,
            Msg::End => b.cursor = b.query.chars().count(),
            Msg::Back => {
                if !b.query.is_empty() {
                    b.query.clear();
                    b.cursor = 0;
                    b.selected = 0;
                } else if let Some(a) = b.path.pop() {
                    self.reload_browser()?;
                    let b = &mut self.browser;
                    b.selected =
                        b.items.iter().position(|i| matches!(i, Item::Area(x) if x.code == a.code)).unwrap_or(0);
                    return Ok(());
                } else {
                    self.quit = true;
                    return Ok(());
                }
                self.reload_browser()?;
            }
            Msg::Enter => match b.items.get(b.selected).cloned() {
                Some(Item::Area(a)) => {
                    b.path.push(a);
                    b.selected = 0;
                    self.reload_browser()?;
                }
                Some(Item::Village(v)) if !v.is_village => {
                    self.message = Some((s::community_refused(self.lang).into(), true));
                }
                Some(Item::Village(v)) => self.open_visits(&v.code, &v.name)?,
                None => {}
            },
            _ => {}
        }
        Ok(())
    }

    // ----- visits of a village -----

    pub fn open_visits(&mut self, code: &str, name: &str) -> Result<()> {
        self.visits = Some(Visits { code: code.into(), name: name.into(), rows: Vec::new(), selected: 0 });
        self.screen = Screen::Visits;
        self.reload_visits()
    }

    fn reload_visits(&mut self) -> Result<()> {
        if let Some(v) = &mut self.visits {
            v.rows = self.store.visits_of(&v.code)?;
            v.selected = v.selected.min(v.rows.len().saturating_sub(1));
        }
        Ok(())
    }

    fn update_visits(&mut self, msg: Msg) -> Result<()> {
        let Some(v) = &mut self.visits else { return Ok(()) };
        match msg {
            Msg::Up | Msg::Prev => v.selected = v.selected.saturating_sub(1),
            Msg::Down | Msg::Next => v.selected = (v.selected + 1).min(v.rows.len().saturating_sub(1)),
            Msg::Back => {
                self.screen = Screen::Browser;
                self.reload_browser()?;
            }
            Msg::Remove => {
                if let Some(r) = v.rows.get(v.selected) {
                    self.overlay = Some(Overlay::Confirm(Confirm::DeleteVisit(r.visit_id.clone())));
                }
            }
            Msg::Enter => {
                if let Some(r) = v.rows.get(v.selected)
                    && let Some((rev, data)) = self.store.load_visit(&r.visit_id)?
                {
                    let form = Form::from_data(&r.visit_id, Some(rev), &data);
                    let name = v.name.clone();
                    self.open_form(form, name, new_id(), false, false)?;
                }
            }
            Msg::New | Msg::Add => {
                let previous = self.store.previous_visit(&v.code)?;
                let surveyor = self.store.meta(LAST_SURVEYOR)?.unwrap_or_default();
                let form = Form::new_visit(&v.code, previous.as_ref(), self.today, &surveyor);
                let name = v.name.clone();
                self.open_form(form, name, new_id(), true, false)?;
            }
            _ => {}
        }
        Ok(())
    }

    // ----- the form -----

    fn open_form(
        &mut self,
        form: Form,
        village_name: String,
        draft_id: String,
        is_new: bool,
        changed: bool,
    ) -> Result<()> {
        let focus = if is_new { 2 } else { 0 };
        let cursor = form.visit[focus].chars().count();
        let roster = self.store.roster_problem(&form.village_code)?;
        let (data, problems) = form.check(self.today, &self.settings.manure, roster);
        self.form = Some(FormScreen {
            form,
            draft_id,
            village_name,
            is_new,
            section: 0,
            focus,
            row_sel: [0; 3],
            editing: None,
            cursor,
            data,
            problems,
            changed,
            draft_dirty: false,
        });
        self.screen = Screen::Form;
        Ok(())
    }

    fn restore_draft(&mut self, d: &Draft) -> Result<()> {
        let mut form: Form = serde_json::from_str(&d.form)?;
        form.normalize();
        let (name, _) = self.store.roster_unit(&form.village_code)?.unwrap_or_default();
        self.visits =
            Some(Visits { code: form.village_code.clone(), name: name.clone(), rows: Vec::new(), selected: 0 });
        self.reload_visits()?;
        let is_new = form.base_rev.is_none();
        self.open_form(form, name, d.draft_id.clone(), is_new, true)
    }

    /// Re-parses and re-judges the form.
    fn recheck(&mut self) -> Result<()> {
        let Some(f) = &mut self.form else { return Ok(()) };
        let roster = self.store.roster_problem(&f.form.village_code)?;
        let (data, problems) = f.form.check(self.today, &self.settings.manure, roster);
        f.data = data;
        f.problems = problems;
        Ok(())
    }

    /// After any edit of the form.
    fn touched(&mut self) -> Result<()> {
        if let Some(f) = &mut self.form {
            f.changed = true;
            f.draft_dirty = true;
        }
        self.recheck()
    }

    /// Whether a draft write is due.
    pub fn draft_pending(&self) -> bool {
        self.form.as_ref().is_some_and(|f| f.draft_dirty)
    }

    /// Writes the form being typed as a draft (its own small transaction).
    pub fn flush_draft(&mut self) -> Result<()> {
        let Some(f) = &mut self.form else { return Ok(()) };
        if !f.draft_dirty {
            return Ok(());
        }
        self.store.put_draft(
            &Draft {
                draft_id: f.draft_id.clone(),
                visit_id: f.form.visit_id.clone(),
                base_rev: f.form.base_rev.clone(),
                form: serde_json::to_string(&f.form)?,
                // Local wall time with its offset: shown as the crew's clock read it.
                updated_at: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
            },
        )?;
        f.draft_dirty = false;
        Ok(())
    }

    fn save(&mut self) -> Result<()> {
        self.recheck()?;
        let lang = self.lang;
        let Some(f) = &mut self.form else { return Ok(()) };
        if let Some(p) = f.problems.first().cloned() {
            let n = f.problems.len();
            self.message = Some((
                format!(
                    "{} {n} {}: {} {}",
                    s::cannot_save(lang),
                    s::problems_unit(lang),
                    s::field(lang, p.field),
                    p.reason.message(lang)
                ),
                true,
            ));
            // Show the first problem.
            let (section, row) = match p.place {
                Place::Visit => (0, None),
                Place::Facility(i) => (1, Some(i)),
                Place::Farm(i) => (2, Some(i)),
                Place::Water(i) => (3, Some(i)),
            };
            f.section = section;
            f.editing = row;
            if let Some(i) = row {
                f.row_sel[section - 1] = i;
            }
            let fields = f.record().map(|(fl, _, _)| fl).unwrap_or(VISIT_FIELDS);
            f.focus = fields.iter().position(|x| x.key == p.field).unwrap_or(0);
            f.cursor = f.focused_len();
            return Ok(());
        }
        let author = f.data.surveyor.trim().to_string();
        let mut data = f.data.clone();
        data.surveyor = author.clone();
        let visit_id = f.form.visit_id.clone();
        let draft_id = f.draft_id.clone();
        let saved = self.store.save_from_form(&author, &visit_id, Some(&data), Some(&draft_id))?;
        self.form = None;
        self.screen = Screen::Visits;
        self.reload_visits()?;
        if let Some(v) = &mut self.visits {
            v.selected = v.rows.iter().position(|r| r.visit_id == visit_id).unwrap_or(0);
        }
        let text = if saved == Saved::Unchanged { s::unchanged(lang) } else { s::saved(lang) };
        self.message = Some((text.into(), false));
        // Another draft left by a crash comes next.
        self.offer_next_draft();
        Ok(())
    }

    fn update_form(&mut self, msg: Msg) -> Result<()> {
        if msg == Msg::Save {
            return self.save();
        }
        let Some(f) = &mut self.form else { return Ok(()) };
        // Section changes work everywhere.
        let sections = 1 + List::ALL.len();
        match msg {
            Msg::PageDown | Msg::PageUp => {
                let d = if msg == Msg::PageDown { 1 } else { sections - 1 };
                f.section = (f.section + d) % sections;
                f.editing = None;
                f.focus = 0;
                f.cursor = f.focused_len();
                return Ok(());
            }
            Msg::Back => {
                if f.editing.is_some() {
                    f.editing = None;
                } else if f.changed {
                    self.overlay = Some(Overlay::Confirm(Confirm::Discard { then_quit: false }));
                } else {
                    let id = f.draft_id.clone();
                    self.form = None;
                    self.store.delete_draft(&id)?;
                    self.screen = Screen::Visits;
                    self.reload_visits()?;
                }
                return Ok(());
            }
            _ => {}
        }
        match f.record() {
            Some((fields, _, values)) => {
                let n = fields.len();
                let field = fields[f.focus];
                let value = values[f.focus].clone();
                let len = value.chars().count();
                match msg {
                    Msg::Next | Msg::Prev | Msg::Enter => {
                        if msg == Msg::Enter && f.editing.is_some() {
                            f.editing = None;
                        } else if msg == Msg::Prev {
                            if f.focus == 0 && f.editing.is_none() {
                                f.section = sections - 1;
                            } else {
                                f.focus = (f.focus + n - 1) % n;
                            }
                        } else if f.focus + 1 == n && f.editing.is_none() {
                            f.section = 1;
                            f.focus = 0;
                        } else {
                            f.focus = (f.focus + 1) % n;
                        }
                        f.cursor = f.focused_len();
                    }
                    Msg::Left | Msg::Right if !field.kind.is_typed() => {
                        let next = match field.kind {
                            Kind::Bool => if value == "1" { "0" } else { "1" }.to_string(),
                            Kind::Choice(c) => {
                                let opts = c.options();
                                let i = opts.iter().position(|o| o.0 == value).unwrap_or(0);
                                let j = if msg == Msg::Right {
                                    (i + 1) % opts.len()
                                } else {
                                    (i + opts.len() - 1) % opts.len()
                                };
                                opts[j].0.to_string()
                            }
                            _ => value,
                        };
                        if let Some(v) = f.focused_mut() {
                            *v = next;
                        }
                        self.touched()?;
                    }
                    Msg::Left => f.cursor = f.cursor.saturating_sub(1),
                    Msg::Right => f.cursor = (f.cursor + 1).min(len),
                    Msg::Home => f.cursor = 0,
                    Msg::End => f.cursor = len,
                    Msg::Char(c) if field.kind.is_typed() => {
                        let mut cursor = f.cursor;
                        if let Some(v) = f.focused_mut() {
                            // A lone 0 in a number field is a starting value: typing replaces it.
                            if matches!(field.kind, Kind::Int | Kind::Dec) && v == "0" && c.is_ascii_digit() {
                                v.clear();
                            }
                            cursor = cursor.min(v.chars().count());
                            insert_at(v, cursor, c);
                        }
                        f.cursor = cursor + 1;
                        self.touched()?;
                    }
                    Msg::Backspace if field.kind.is_typed() && f.cursor > 0 => {
                        f.cursor -= 1;
                        let cursor = f.cursor;
                        if let Some(v) = f.focused_mut() {
                            remove_at(v, cursor);
                        }
                        self.touched()?;
                    }
                    Msg::Delete if field.kind.is_typed() => {
                        let cursor = f.cursor;
                        if let Some(v) = f.focused_mut()
                            && remove_at(v, cursor)
                        {
                            self.touched()?;
                        }
                    }
                    _ => {}
                }
            }
            None => {
                let l = f.list().expect("a list section");
                let k = f.section - 1;
                let rows = f.form.rows(l).len();
                match msg {
                    Msg::Up => f.row_sel[k] = f.row_sel[k].saturating_sub(1),
                    Msg::Down => f.row_sel[k] = (f.row_sel[k] + 1).min(rows.saturating_sub(1)),
                    Msg::Next => {
                        f.section = (f.section + 1) % sections;
                        f.focus = 0;
                        f.cursor = f.focused_len();
                    }
                    Msg::Prev => {
                        f.section -= 1;
                        f.focus = if f.section == 0 { VISIT_FIELDS.len() - 1 } else { 0 };
                        f.cursor = f.focused_len();
                    }
                    Msg::Enter if rows > 0 => {
                        f.editing = Some(f.row_sel[k]);
                        f.focus = 0;
                        f.cursor = f.focused_len();
                    }
                    Msg::Add | Msg::Enter => {
                        f.form.rows_mut(l).push(super::form::Row { id: new_id(), values: l.blank() });
                        f.row_sel[k] = rows;
                        f.editing = Some(rows);
                        f.focus = 0;
                        f.cursor = f.focused_len();
                        self.touched()?;
                    }
                    Msg::Remove | Msg::Delete if rows > 0 => {
                        self.overlay = Some(Overlay::Confirm(Confirm::DeleteRow));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
