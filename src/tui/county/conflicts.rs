//! The open conflicts, one visit's heads side by side, and settling it by
//! taking a whole side or field by field.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row as TableRow};
use serde_json::Value;

use super::{Action, County, DIM, HEAD, sel_style};
use crate::store::Store;
use crate::store::browse::LAST_SURVEYOR;
use crate::store::conflict::{Conflict, DELETED_FIELD, Resolution};
use crate::strings::Lang;
use crate::strings::county as s;
use crate::text::{fit, pad};
use crate::tui::component::Hint;
use crate::tui::widgets::{list_table, window_start};

/// One head of a conflicting visit, as the store reads it (`fields`
/// `None`: this side deleted the visit).
pub type Head = crate::store::conflict::HeadFields;

/// One field across the heads.
#[derive(Debug, Clone)]
pub struct Row {
    pub field: String,
    /// The value on each head, for people.
    pub values: Vec<String>,
    /// The value at the heads' common ancestor, for a field someone must
    /// choose (`None`: not shown).
    pub base: Option<String>,
    /// The live heads disagree on it (a deleted side differs on nothing but
    /// the deletion).
    pub differs: bool,
    /// A conflict: someone must choose.
    pub conflict: bool,
}

/// A visit's heads side by side, and the choices made so far.
#[derive(Debug, Clone)]
pub struct Detail {
    pub conflict: Conflict,
    pub heads: Vec<Head>,
    pub rows: Vec<Row>,
    pub selected: usize,
    /// A whole side taken (index into `heads`).
    pub take: Option<usize>,
    /// Fields taken from a side (index into `heads`).
    pub choice: BTreeMap<String, usize>,
}

#[derive(Debug, Default)]
pub struct Conflicts {
    pub list: Vec<Conflict>,
    pub selected: usize,
    pub detail: Option<Detail>,
}

impl Conflicts {
    pub fn load(store: &Store) -> Result<Conflicts> {
        let mut c = Conflicts::default();
        c.reload(store)?;
        Ok(c)
    }

    /// Reads the open conflicts again (after a merge or a resolution).
    pub fn reload(&mut self, store: &Store) -> Result<()> {
        self.list = store.conflicts()?;
        self.selected = self.selected.min(self.list.len().saturating_sub(1));
        Ok(())
    }
}

/// A value for people.
fn show(l: Lang, v: Option<&Value>) -> String {
    match v {
        None => s::absent(l).to_string(),
        Some(Value::Null) => "—".to_string(),
        Some(Value::String(x)) => x.clone(),
        Some(Value::Bool(b)) => if *b { crate::strings::tui::yes(l) } else { crate::strings::tui::no(l) }.to_string(),
        Some(x) => x.to_string(),
    }
}

/// The label of an option (`normal` → 正常运行) of a child row's choice field.
fn choice_label(l: Lang, key: &str, value: &str) -> Option<String> {
    use crate::tui::form::{Kind, List};
    let (list, field) = key.split_once('[').map(|(list, rest)| (list, rest.rsplit_once("].").map(|x| x.1)))?;
    let list = match list {
        "facilities" => List::Facilities,
        "farms" => List::Farms,
        _ => List::Water,
    };
    let f = list.fields().iter().find(|f| Some(f.key) == field)?;
    let Kind::Choice(c) = f.kind else { return None };
    let (_, zh, en) = c.options().into_iter().find(|o| o.0 == value)?;
    Some(crate::strings::pick(l, zh, en).to_string())
}

/// A field name for people.
pub fn field_label(l: Lang, key: &str) -> String {
    if key == DELETED_FIELD {
        return s::deleted_label(l).to_string();
    }
    for list in ["facilities", "farms", "water_bodies"] {
        if let Some(rest) = key.strip_prefix(list).and_then(|r| r.strip_prefix('['))
            && let Some((id, f)) = rest.rsplit_once("].")
        {
            // Ids are long (UUIDs): their first characters tell rows apart.
            let short: String = id.chars().take(6).collect();
            return s::child_field(l, list, &short, f);
        }
    }
    match crate::strings::tui::field(l, key) {
        "?" => key.to_string(),
        x => x.to_string(),
    }
}

impl Detail {
    pub fn load(store: &Store, c: &Conflict, l: Lang) -> Result<Detail> {
        let heads: Vec<Head> = store.conflict_heads(&c.visit_id)?;
        let open: BTreeSet<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
        let mut keys: Vec<String> = Vec::new();
        if heads.iter().any(|h| h.fields.is_none()) {
            keys.push(DELETED_FIELD.to_string());
        }
        let mut seen = BTreeSet::new();
        // The visit's own fields first (in the order of the first live head), then child rows.
        for h in heads.iter().filter_map(|h| h.fields.as_ref()) {
            for k in h.keys() {
                if seen.insert(k.clone()) {
                    keys.push(k.clone());
                }
            }
        }
        // The deletion first, then the visit's fields in the form's order, then child rows.
        let rank = |k: &String| {
            let own = crate::tui::form::VISIT_FIELDS.iter().position(|f| f.key == k.as_str());
            (k != DELETED_FIELD, k.contains('['), own.unwrap_or(usize::MAX))
        };
        keys.sort_by_key(rank);
        let rows = keys
            .into_iter()
            .map(|k| {
                let values: Vec<String> = heads
                    .iter()
                    .map(|h| match (&h.fields, k == DELETED_FIELD) {
                        (None, true) => s::deleted_value(l).to_string(),
                        (Some(_), true) => s::kept_value(l).to_string(),
                        (None, false) => "—".to_string(),
                        (Some(f), false) => {
                            let v = show(l, f.get(&k));
                            choice_label(l, &k, &v).unwrap_or(v)
                        }
                    })
                    .collect();
                let conflict = open.contains(k.as_str());
                let live: Vec<&String> =
                    heads.iter().zip(&values).filter(|(h, _)| h.fields.is_some()).map(|(_, v)| v).collect();
                let differs = conflict || k == DELETED_FIELD || live.iter().any(|v| *v != live[0]);
                let base = c.fields.iter().find(|f| f.field == k).map(|f| match (&f.base, k == DELETED_FIELD) {
                    (Some(_), true) => s::kept_value(l).to_string(),
                    (None, true) => "—".to_string(),
                    (v, false) => {
                        let v = show(l, v.as_ref());
                        choice_label(l, &k, &v).unwrap_or(v)
                    }
                });
                Row { conflict, field: k, values, base, differs }
            })
            .collect::<Vec<_>>();
        let selected = rows.iter().position(|r| r.conflict).unwrap_or(0);
        Ok(Detail { conflict: c.clone(), heads, rows, selected, take: None, choice: BTreeMap::new() })
    }

    /// The side that a row's value comes from, as chosen so far.
    /// Choosing a side of the deletion chooses that side whole.
    pub fn chosen(&self, row: &Row) -> Option<usize> {
        self.choice.get(&row.field).copied().or(self.take).or_else(|| self.choice.get(DELETED_FIELD).copied())
    }

    /// The resolution chosen, if it settles every conflicting field.
    pub fn resolution(&self) -> Option<Resolution> {
        let all = self.rows.iter().filter(|r| r.conflict).all(|r| self.chosen(r).is_some());
        if !all {
            return None;
        }
        // A deletion conflict is settled by taking a whole side.
        let take = match (self.take, self.choice.get(DELETED_FIELD)) {
            (_, Some(i)) => Some(*i),
            (t, None) => t,
        };
        Some(Resolution {
            take: take.map(|i| self.heads[i].rev_id.clone()),
            fields: self
                .choice
                .iter()
                .filter(|(f, i)| f.as_str() != DELETED_FIELD && Some(**i) != take)
                .map(|(f, i)| (f.clone(), self.heads[*i].rev_id.clone()))
                .collect(),
            seen: self.heads.iter().map(|h| h.rev_id.clone()).collect(),
        })
    }
}

pub fn handle_key(c: &mut County, key: KeyEvent, store: &mut Store) -> Result<Action> {
    let l = c.lang;
    let cs = &mut c.conflicts;
    let Some(d) = &mut cs.detail else {
        match key.code {
            KeyCode::Up => cs.selected = cs.selected.saturating_sub(1),
            KeyCode::Down => cs.selected = (cs.selected + 1).min(cs.list.len().saturating_sub(1)),
            KeyCode::Enter | KeyCode::Right => {
                if let Some(x) = cs.list.get(cs.selected) {
                    cs.detail = Some(Detail::load(store, x, l)?);
                    c.message = None;
                }
            }
            _ => return Ok(Action::Ignored),
        }
        return Ok(Action::Handled);
    };
    let n = d.heads.len();
    match key.code {
        KeyCode::Esc => {
            cs.detail = None;
            c.message = None;
        }
        KeyCode::Up => d.selected = d.selected.saturating_sub(1),
        KeyCode::Down => d.selected = (d.selected + 1).min(d.rows.len().saturating_sub(1)),
        KeyCode::PageUp => d.selected = d.selected.saturating_sub(10),
        KeyCode::PageDown => d.selected = (d.selected + 10).min(d.rows.len().saturating_sub(1)),
        KeyCode::Tab => {
            let k = d.rows.len();
            if let Some(i) = (1..=k).map(|j| (d.selected + j) % k).find(|&i| d.rows[i].conflict) {
                d.selected = i;
            }
        }
        KeyCode::Left | KeyCode::Right => {
            if let Some(row) = d.rows.get(d.selected).filter(|r| r.conflict).cloned() {
                let now = d.chosen(&row);
                let next = match (now, key.code) {
                    (None, KeyCode::Right) => 0,
                    (None, _) => n - 1,
                    (Some(i), KeyCode::Right) => (i + 1) % n,
                    (Some(i), _) => (i + n - 1) % n,
                };
                d.choice.insert(row.field, next);
            }
        }
        KeyCode::Char(ch) if ch.is_ascii_digit() => {
            let i = ch.to_digit(10).unwrap_or(0) as usize;
            if (1..=n).contains(&i) {
                d.take = Some(i - 1);
                d.choice.clear();
            }
        }
        KeyCode::Enter => {
            let Some(how) = d.resolution() else {
                c.message = Some((s::choose_all(l).into(), true));
                return Ok(Action::Handled);
            };
            let author = store.meta(LAST_SURVEYOR)?.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| "county".into());
            let visit_id = d.conflict.visit_id.clone();
            store.resolve_conflict(Some(&author), &visit_id, &how)?;
            c.changes += 1;
            cs.detail = None;
            cs.reload(store)?;
            c.message = Some((format!("{} · {}", s::resolved(l), s::n_conflicts(l, cs.list.len())), false));
        }
        _ => return Ok(Action::Ignored),
    }
    Ok(Action::Handled)
}

pub fn key_hints(c: &County) -> Vec<Hint> {
    let l = c.lang;
    match &c.conflicts.detail {
        None => vec![("↑↓", s::k_move(l)), ("Enter", s::k_view(l)), ("F5", s::tab_sync(l)), ("F7", s::tab_export(l))],
        Some(_) => vec![
            ("←→", s::k_side(l)),
            ("1/2", s::k_take(l)),
            ("Enter", s::k_apply(l)),
            ("Tab", s::k_next_conflict(l)),
            ("Esc", s::k_back(l)),
        ],
    }
}

pub fn draw(c: &County, frame: &mut Frame, area: Rect) {
    match &c.conflicts.detail {
        None => draw_list(c, frame, area),
        Some(d) => draw_detail(c.lang, d, frame, area),
    }
}

fn draw_list(c: &County, frame: &mut Frame, area: Rect) {
    let l = c.lang;
    let cs = &c.conflicts;
    let w = area.width as usize;
    if cs.list.is_empty() {
        frame.render_widget(Paragraph::new(Line::styled(s::conflicts_none(l), DIM)), area);
        return;
    }
    let vw = (w * 3 / 10).clamp(8, 32);
    let idw = 10;
    let fw = w.saturating_sub(vw + idw + 2);
    frame.render_widget(
        Paragraph::new(Line::styled(s::n_conflicts(l, cs.list.len()), HEAD)),
        Rect { height: 1.min(area.height), ..area },
    );
    let header = TableRow::new([fit(s::village(l), vw), fit(s::visit(l), idw), fit(s::fields_in_conflict(l), fw)]);
    let widths = vec![Constraint::Length(vw as u16), Constraint::Length(idw as u16), Constraint::Length(fw as u16)];
    let h = (area.height as usize).saturating_sub(2);
    let start = window_start(cs.selected, h);
    let rows = cs.list.iter().skip(start).take(h).map(|x| {
        let fields: Vec<String> = x.fields.iter().map(|f| field_label(l, &f.field)).collect();
        let village = format!("{} {}", x.village_name, x.village_code);
        TableRow::new([fit(&village, vw), fit(&x.visit_id, idw), fit(&fields.join(s::list_sep(l)), fw)])
    });
    let table_area = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    list_table(frame, table_area, header, rows, widths, cs.selected.checked_sub(start));
}

fn draw_detail(l: Lang, d: &Detail, frame: &mut Frame, area: Rect) {
    let w = area.width as usize;
    // The base column, when some field to choose has one to show.
    let with_base = d.rows.iter().any(|r| r.base.is_some());
    let n = d.heads.len().max(1) + usize::from(with_base);
    let label_w = (w / 4).clamp(10, 26);
    // Each side: a mark column and the value.
    let col_w = (w.saturating_sub(3 + label_w)) / n;
    let mut lines = vec![
        Line::styled(
            fit(
                &format!(
                    "{} {} · {} {}",
                    d.conflict.village_name,
                    d.conflict.village_code,
                    s::visit(l),
                    d.conflict.visit_id
                ),
                w,
            ),
            HEAD,
        ),
        Line::styled(
            fit(
                &match (d.take, d.choice.is_empty()) {
                    (Some(i), true) => format!("{} {}", s::taking_side(l), i + 1),
                    (Some(i), false) => format!("{} {} + {}", s::taking_side(l), i + 1, s::field_by_field(l)),
                    (None, _) => format!(
                        "{}: {}/{} {}",
                        s::field_by_field(l),
                        d.rows.iter().filter(|r| r.conflict && d.chosen(r).is_some()).count(),
                        d.rows.iter().filter(|r| r.conflict).count(),
                        s::chosen(l)
                    ),
                },
                w,
            ),
            DIM,
        ),
    ];
    let mut head = format!("  {} ", pad(s::field(l), label_w));
    if with_base {
        head.push_str(&pad(s::base_title(l), col_w.saturating_sub(1)));
        head.push(' ');
    }
    for (i, h) in d.heads.iter().enumerate() {
        let when = crate::text::stamp_short(&h.hlc);
        let title = s::side_title(l, i + 1, &h.crew, &h.author, &when, h.file.as_deref());
        head.push_str(&pad(&title, col_w.saturating_sub(1)));
        head.push(' ');
    }
    lines.push(Line::styled(head, HEAD));
    let h = (area.height as usize).saturating_sub(lines.len() + 1);
    let start = if h == 0 || d.selected < h { 0 } else { d.selected + 1 - h };
    for (i, r) in d.rows.iter().enumerate().skip(start).take(h) {
        let mark = if r.conflict {
            "!"
        } else if r.differs {
            "≠"
        } else {
            " "
        };
        let chosen = if r.conflict || d.take.is_some() { d.chosen(r) } else { None };
        let mut spans = vec![Span::raw(format!("{mark} {} ", pad(&field_label(l, &r.field), label_w)))];
        if with_base {
            let b = r.base.as_deref().unwrap_or("");
            spans.push(Span::styled(pad(&format!(" {b}"), col_w.saturating_sub(1)) + " ", DIM));
        }
        for (j, v) in r.values.iter().enumerate() {
            let tick = if chosen == Some(j) { "▶" } else { " " };
            let style = if r.differs { HEAD } else { ratatui::style::Style::new() };
            spans.push(Span::styled(pad(&format!("{tick}{v}"), col_w.saturating_sub(1)) + " ", style));
        }
        let line = Line::from(spans);
        lines.push(if i == d.selected { line.style(sel_style(true)) } else { line });
    }
    lines.push(Line::styled(fit(s::legend(l), w), DIM));
    frame.render_widget(Paragraph::new(lines), area);
}
