//! Editing the visit form: fields, rows of the lists, checking as typed,
//! and saving.

use anyhow::Result;

use super::{Confirm, Crew, FormScreen, Msg, Overlay, Screen, Visits, insert_at, remove_at};
use crate::domain::validate::Place;
use crate::store::Store;
use crate::store::browse::Draft;
use crate::store::revisions::Saved;
use crate::strings::tui as s;
use crate::tui::form::{Form, Kind, List, VISIT_FIELDS, new_id};

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
        let cursor = form.visit[focus].chars().count();
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
            cursor,
            data,
            problems,
            changed,
            draft_dirty: false,
        });
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
        self.visits =
            Some(Visits { code: form.village_code.clone(), name: name.clone(), path, rows: Vec::new(), selected: 0 });
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
            f.cursor = f.focused_len();
            return Ok(());
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
                        self.touched(store)?;
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
                        self.touched(store)?;
                    }
                    Msg::Backspace if field.kind.is_typed() && f.cursor > 0 => {
                        f.cursor -= 1;
                        let cursor = f.cursor;
                        if let Some(v) = f.focused_mut() {
                            remove_at(v, cursor);
                        }
                        self.touched(store)?;
                    }
                    Msg::Delete if field.kind.is_typed() => {
                        let cursor = f.cursor;
                        if let Some(v) = f.focused_mut()
                            && remove_at(v, cursor)
                        {
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
                        f.form.rows_mut(l).push(crate::tui::form::Row { id: new_id(), values: l.blank() });
                        f.row_sel[k] = rows;
                        f.editing = Some(rows);
                        f.focus = 0;
                        f.cursor = f.focused_len();
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
