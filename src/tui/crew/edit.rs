//! Editing the visit form: fields, rows of the lists, checking as typed,
//! and saving.

use anyhow::Result;

use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use super::{Confirm, Crew, FormScreen, Msg, Overlay, Screen, Visits};
use crate::domain::validate::Place;
use crate::store::Store;
use crate::store::browse::Draft;
use crate::store::revisions::Saved;
use crate::strings::tui as s;
use crate::tui::form::{Form, Kind, List, VISIT_FIELDS, new_id};
use crate::tui::widgets::edit_line;

/// Inserts a typed character at the cursor, as the other editing keys edit.
fn tui_input_insert(v: &mut String, cursor: &mut usize, c: char) {
    edit_line(v, cursor, tui_input::InputRequest::InsertChar(c));
}

impl Crew {
    pub(super) fn open_form(
        &mut self,
        store: &mut Store,
        form: Form,
        village_name: String,
        draft_id: String,
        is_new: bool,
        changed: bool,
    ) -> Result<()> {
        let focus = if is_new { 2 } else { 0 };
        let roster = store.roster_problem(&form.village_code)?;
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
            cursor: 0,
            data,
            problems,
            changed,
            draft_dirty: false,
            fresh: true,
            same_day_ok: None,
            notes: None,
        });
        if let Some(f) = &mut self.form {
            f.refocus();
        }
        self.screen = Screen::Form;
        Ok(())
    }

    pub(super) fn restore_draft(&mut self, store: &mut Store, d: &Draft) -> Result<()> {
        let mut form: Form = serde_json::from_str(&d.form)?;
        form.normalize();
        let (name, _) = store.roster_unit(&form.village_code)?.unwrap_or_default();
        let path = store.village_path(&form.village_code)?;
        // Esc goes back the real way: the village's township, then its county.
        self.browser.path = path.clone();
        self.browser.query.clear();
        self.browser.cursor = 0;
        self.reload_browser(store)?;
        self.browser.selected = self
            .browser
            .items
            .iter()
            .position(|i| matches!(i, super::Item::Village(v) if v.code == form.village_code))
            .unwrap_or(0);
        self.visits = Some(Visits {
            code: form.village_code.clone(),
            name: name.clone(),
            path,
            rows: Vec::new(),
            selected: 0,
            from_day: false,
        });
        self.reload_visits(store)?;
        let is_new = form.base_rev.is_none();
        self.open_form(store, form, name, d.draft_id.clone(), is_new, true)
    }

    /// Re-parses and re-judges the form.
    pub(super) fn recheck(&mut self, store: &mut Store) -> Result<()> {
        let Some(f) = &mut self.form else { return Ok(()) };
        let roster = store.roster_problem(&f.form.village_code)?;
        let (data, problems) = f.form.check(self.today, &self.settings.manure, roster);
        f.data = data;
        f.problems = problems;
        Ok(())
    }

    /// After any edit of the form.
    pub(super) fn touched(&mut self, store: &mut Store) -> Result<()> {
        if let Some(f) = &mut self.form {
            f.changed = true;
            f.draft_dirty = true;
        }
        self.recheck(store)
    }

    pub(super) fn save(&mut self, store: &mut Store) -> Result<()> {
        self.recheck(store)?;
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
            f.refocus();
            return Ok(());
        }
        // A new visit dated a day the village has a visit on already would
        // count as a duplicate: asked once per date.
        if f.is_new && f.same_day_ok.as_deref() != Some(f.data.survey_date.as_str()) {
            let date = f.data.survey_date.clone();
            let taken = self
                .visits
                .as_ref()
                .is_some_and(|v| v.rows.iter().any(|r| r.survey_date == date && r.visit_id != f.form.visit_id));
            if taken {
                self.overlay = Some(Overlay::Confirm(Confirm::SameDay { date, save: true }));
                return Ok(());
            }
        }
        let author = f.data.surveyor.trim().to_string();
        let mut data = f.data.clone();
        data.surveyor = author.clone();
        let visit_id = f.form.visit_id.clone();
        let draft_id = f.draft_id.clone();
        // The revision the form was opened from (kept in a draft too): a
        // change merged meanwhile is merged with this edit, never reverted.
        let base = f.form.base_rev.clone();
        let saved = store.save_from_form(&author, &visit_id, Some(&data), base.as_deref(), Some(&draft_id))?;
        self.form = None;
        self.screen = Screen::Visits;
        self.reload_visits(store)?;
        if let Some(v) = &mut self.visits {
            v.selected = v.rows.iter().position(|r| r.visit_id == visit_id).unwrap_or(0);
        }
        let text = if saved == Saved::Unchanged { s::unchanged(lang) } else { s::saved(lang) };
        self.message = Some((text.into(), false));
        // Another draft left by a crash comes next.
        self.offer_next_draft(store)?;
        Ok(())
    }

    pub(super) fn update_form(&mut self, store: &mut Store, msg: Msg) -> Result<()> {
        if msg == Msg::Save {
            return self.save(store);
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
                f.refocus();
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
                    store.delete_draft(&id)?;
                    self.screen = Screen::Visits;
                    self.reload_visits(store)?;
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
                        f.refocus();
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
                        self.touched(store)?;
                    }
                    Msg::Char(c) if field.kind.is_typed() => {
                        let replace = f.fresh && matches!(field.kind, Kind::Int | Kind::Dec | Kind::Date);
                        f.fresh = false;
                        let mut cursor = f.cursor;
                        if let Some(v) = f.focused_mut() {
                            // A value just arrived at is replaced by what is typed
                            // (187, then 2: 2); a lone 0 is a starting value too.
                            if replace
                                || (matches!(field.kind, Kind::Int | Kind::Dec) && v == "0" && c.is_ascii_digit())
                            {
                                v.clear();
                                cursor = 0;
                            }
                            cursor = cursor.min(v.chars().count());
                            tui_input_insert(v, &mut cursor, c);
                        }
                        f.cursor = cursor;
                        self.touched(store)?;
                    }
                    Msg::Edit(req) if field.kind.is_typed() => {
                        f.fresh = false;
                        let mut cursor = f.cursor;
                        let changed = f.focused_mut().is_some_and(|v| edit_line(v, &mut cursor, req));
                        f.cursor = cursor;
                        if changed {
                            self.touched(store)?;
                        }
                    }
                    Msg::Area(key) => {
                        f.fresh = false;
                        let Some(area) = f.notes.as_mut() else { return Ok(()) };
                        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                        // Ctrl-U clears back to the start of the line, as in every other field.
                        let changed = if ctrl && key.code == KeyCode::Char('u') {
                            area.delete_line_by_head()
                        } else {
                            area.input(key)
                        };
                        if changed {
                            let text = area.lines().join("\n");
                            if let Some(v) = f.focused_mut() {
                                *v = text;
                            }
                            self.touched(store)?;
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
                        f.refocus();
                    }
                    Msg::Prev => {
                        f.section -= 1;
                        f.focus = if f.section == 0 { VISIT_FIELDS.len() - 1 } else { 0 };
                        f.refocus();
                    }
                    Msg::Enter if rows > 0 => {
                        f.editing = Some(f.row_sel[k]);
                        f.focus = 0;
                        f.refocus();
                    }
                    Msg::Add | Msg::Enter => {
                        f.form.rows_mut(l).push(crate::tui::form::Row { id: new_id(), values: l.blank() });
                        f.row_sel[k] = rows;
                        f.editing = Some(rows);
                        f.focus = 0;
                        f.refocus();
                        self.touched(store)?;
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
