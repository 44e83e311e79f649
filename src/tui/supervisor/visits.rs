//! The last drill-down step: a village's visits, newest first, read-only.

use anyhow::Result;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget};

use super::text::{fit, right};
use crate::store::Store;
use crate::strings::Lang;
use crate::strings::supervisor as s;

/// How a visit stands as of the dashboard's date (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The village's counting visit.
    Counting,
    /// Same date as the counting visit, smaller id: a duplicate visit.
    Duplicate,
    /// After the as-of date: not counted yet.
    After,
    /// An earlier visit, superseded.
    Older,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisitRow {
    pub visit_id: String,
    pub survey_date: String,
    pub surveyor: String,
    pub households: i64,
    pub hh_sewer_reuse: i64,
    pub hh_controlled: i64,
    pub nv_covered: i64,
    pub natural_villages: i64,
    pub notes: String,
    pub facilities_normal: i64,
    pub facilities: i64,
    pub farms: i64,
    pub water_bodies: i64,
    pub standing: Standing,
}

pub struct Visits {
    /// The date the standings were computed as of.
    pub as_of: String,
    pub code: String,
    pub name: String,
    pub rows: Vec<VisitRow>,
    pub selected: usize,
}

impl Visits {
    /// The visits of one village (a handful), newest first; the same order
    /// that picks the counting visit.
    pub fn load(store: &Store, code: &str, name: &str, as_of: &str) -> Result<Visits> {
        let mut st = store.conn_for_tui().prepare_cached(
            "SELECT visit_id, survey_date, surveyor, households, hh_sewer + hh_reuse, hh_controlled,
                    nv_garbage_covered, natural_villages, notes,
                    (SELECT count(*) FROM facility f WHERE f.visit_id = v.visit_id AND f.status = 'normal'),
                    (SELECT count(*) FROM facility f WHERE f.visit_id = v.visit_id),
                    (SELECT count(*) FROM farm f WHERE f.visit_id = v.visit_id),
                    (SELECT count(*) FROM water_body w WHERE w.visit_id = v.visit_id)
             FROM visit v WHERE village_code = ?1 ORDER BY survey_date DESC, visit_id DESC",
        )?;
        let mut rows = st
            .query_map([code], |r| {
                Ok(VisitRow {
                    visit_id: r.get(0)?,
                    survey_date: r.get(1)?,
                    surveyor: r.get(2)?,
                    households: r.get(3)?,
                    hh_sewer_reuse: r.get(4)?,
                    hh_controlled: r.get(5)?,
                    nv_covered: r.get(6)?,
                    natural_villages: r.get(7)?,
                    notes: r.get(8)?,
                    facilities_normal: r.get(9)?,
                    facilities: r.get(10)?,
                    farms: r.get(11)?,
                    water_bodies: r.get(12)?,
                    standing: Standing::Older,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut counting: Option<String> = None;
        for v in &mut rows {
            v.standing = if v.survey_date.as_str() > as_of {
                Standing::After
            } else if let Some(d) = &counting {
                if *d == v.survey_date { Standing::Duplicate } else { Standing::Older }
            } else {
                counting = Some(v.survey_date.clone());
                Standing::Counting
            };
        }
        Ok(Visits { as_of: as_of.to_string(), code: code.to_string(), name: name.to_string(), rows, selected: 0 })
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.rows.len() as isize;
        self.selected = if n == 0 { 0 } else { (self.selected as isize + delta).clamp(0, n - 1) as usize };
    }

    pub fn draw(&self, lang: Lang, area: Rect, buf: &mut Buffer) {
        if self.rows.is_empty() {
            Paragraph::new(s::no_visits(lang)).style(Style::default().fg(Color::DarkGray)).render(area, buf);
            return;
        }
        let standing = |st: Standing| match st {
            Standing::Counting => (s::v_counting(lang), Style::default().fg(Color::Green).add_modifier(Modifier::BOLD)),
            Standing::Duplicate => (s::v_duplicate(lang), Style::default().fg(Color::Yellow)),
            Standing::After => (s::v_after(lang), Style::default().fg(Color::DarkGray)),
            Standing::Older => (s::v_older(lang), Style::default().fg(Color::DarkGray)),
        };
        // Facility, farm and water-body counts only where there is room.
        let wide = area.width >= 100;
        let mut heads = vec![
            s::v_date(lang),
            s::v_counts(lang),
            s::v_surveyor(lang),
            s::v_households(lang),
            s::v_treated(lang),
            s::v_controlled(lang),
            s::v_garbage(lang),
        ];
        if wide {
            heads.extend([s::v_facilities(lang), s::v_farms(lang), s::v_water(lang)]);
        }
        heads.push(s::v_notes(lang));
        let w = |i: usize, min: usize| super::text::width(heads[i]).max(min) as u16;
        let standing_w = super::text::width(s::v_after(lang)).max(super::text::width(s::v_duplicate(lang)));
        let mut widths = vec![
            Constraint::Length(10),
            Constraint::Length(w(1, standing_w)),
            Constraint::Length(w(2, 6)),
            Constraint::Length(w(3, 5)),
            Constraint::Length(w(4, 5)),
            Constraint::Length(w(5, 5)),
            Constraint::Length(w(6, 7)),
        ];
        if wide {
            widths.extend([Constraint::Length(w(7, 5)), Constraint::Length(w(8, 3)), Constraint::Length(w(9, 3))]);
        }
        widths.push(Constraint::Fill(1));
        let num = |v: i64, i: usize| Cell::from(right(&v.to_string(), w(i, 5) as usize));
        let rows = self.rows.iter().map(|v| {
            let (text, style) = standing(v.standing);
            let notes = v.notes.replace(['\n', '\r'], " ⏎ ");
            let mut cells = vec![
                Cell::from(v.survey_date.clone()),
                Cell::from(text).style(style),
                Cell::from(fit(&v.surveyor, w(2, 6) as usize)),
                num(v.households, 3),
                num(v.hh_sewer_reuse, 4),
                num(v.hh_controlled, 5),
                Cell::from(right(&format!("{}/{}", v.nv_covered, v.natural_villages), w(6, 7) as usize)),
            ];
            if wide {
                cells.push(Cell::from(right(&format!("{}/{}", v.facilities_normal, v.facilities), w(7, 5) as usize)));
                cells.push(Cell::from(right(&v.farms.to_string(), w(8, 3) as usize)));
                cells.push(Cell::from(right(&v.water_bodies.to_string(), w(9, 3) as usize)));
            }
            cells.push(Cell::from(notes));
            Row::new(cells).style(if v.standing == Standing::After {
                Style::default().fg(Color::DarkGray)
            } else {
                Style::default()
            })
        });
        let table = Table::new(rows, widths)
            .header(
                Row::new(heads.iter().map(|h| Cell::from(*h)))
                    .style(Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
            )
            .column_spacing(1)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .highlight_symbol("▶ ");
        let mut state = TableState::default().with_selected(Some(self.selected));
        StatefulWidget::render(table, area, buf, &mut state);
    }
}
