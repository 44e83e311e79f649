//! The last drill-down step: a village's visits, newest first, read-only.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Paragraph, Row, StatefulWidget, Table, TableState, Widget};

use super::live::Key;
use crate::strings::Lang;
use crate::strings::supervisor as s;
use crate::text::{fit, right};

pub use crate::store::views::{Standing, VisitFigures as VisitRow};

pub struct Visits {
    /// The date the standings were computed as of.
    pub as_of: String,
    pub code: String,
    pub name: String,
    pub rows: Vec<VisitRow>,
    pub selected: usize,
    /// What the rows shown were computed for; None while pending.
    pub shown: Option<Key>,
}

impl Visits {
    /// A village's visit list, its rows yet to come.
    pub fn pending(code: &str, name: &str, as_of: &str) -> Visits {
        Visits {
            as_of: as_of.to_string(),
            code: code.to_string(),
            name: name.to_string(),
            rows: Vec::new(),
            selected: 0,
            shown: None,
        }
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
        let w = |i: usize, min: usize| crate::text::width(heads[i]).max(min) as u16;
        let standing_w = crate::text::width(s::v_after(lang)).max(crate::text::width(s::v_duplicate(lang)));
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
