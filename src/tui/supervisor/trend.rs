//! The trend of one area: each indicator as of every quarter end since the
//! area's first visit, all computed in one pass by `Store::trend`.

use chrono::{Datelike, NaiveDate};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, LegendPosition, Paragraph, Widget};

use super::dashboard::mark;
use super::live::Key;
use crate::domain::Level;
use crate::domain::indicators::{Indicator, Rates};
use crate::domain::settings::Settings;
use crate::strings::Lang;
use crate::strings::supervisor as s;
use crate::text::percent;
use crate::text::{fit, width};

/// The last day of the quarter holding `d`.
pub fn quarter_end(d: NaiveDate) -> NaiveDate {
    let last_month = (d.month() - 1) / 3 * 3 + 3;
    let (y, m) = if last_month == 12 { (d.year() + 1, 1) } else { (d.year(), last_month + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).and_then(|n| n.pred_opt()).unwrap_or(d)
}

/// The quarter ends from the quarter of `first` up to the quarter of `last`;
/// the final point is `last` itself when it falls inside its quarter.
pub fn quarter_points(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut q = quarter_end(first);
    while q < last {
        out.push(q);
        q = quarter_end(q.succ_opt().unwrap_or(q));
    }
    if first <= last {
        out.push(last);
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub date: NaiveDate,
    pub rates: Rates,
}

impl Point {
    pub fn label(&self) -> String {
        s::quarter(self.date.year(), (self.date.month() - 1) / 3 + 1)
    }
}

pub struct Trend {
    /// The date of the last point.
    pub as_of: String,
    pub level: Level,
    pub code: String,
    pub name: String,
    pub points: Vec<Point>,
    /// Index into `Indicator::ALL` of the indicator plotted.
    pub indicator: usize,
    /// What the points shown were computed for; None while pending.
    pub shown: Option<Key>,
}

impl Trend {
    /// The trend of an area, its points yet to come.
    pub fn pending(level: Level, code: &str, name: &str, as_of: &str) -> Trend {
        Trend {
            as_of: as_of.to_string(),
            level,
            code: code.to_string(),
            name: name.to_string(),
            points: Vec::new(),
            indicator: 0,
            shown: None,
        }
    }

    pub fn indicator(&self) -> Indicator {
        Indicator::ALL[self.indicator % Indicator::ALL.len()]
    }

    pub fn step_indicator(&mut self, forward: bool) {
        let n = Indicator::ALL.len();
        self.indicator = if forward { (self.indicator + 1) % n } else { (self.indicator + n - 1) % n };
    }

    pub fn draw(&self, settings: &Settings, lang: Lang, area: Rect, buf: &mut Buffer) {
        let ind = self.indicator();
        let target = ind.target(&settings.targets);
        // One line per indicator with its latest value, the plotted one marked.
        let tabs: Vec<Span> = Indicator::ALL
            .iter()
            .enumerate()
            .flat_map(|(k, i)| {
                let last = self.points.last().and_then(|p| i.rate(&p.rates));
                let (m, st) = mark(last, i.target(&settings.targets));
                let text = format!("{} {}{m}", s::indicator_short(*i, lang), percent(last));
                let style = if *i == ind { st.add_modifier(Modifier::REVERSED | Modifier::BOLD) } else { st };
                let sep = if k == 0 { "" } else { " │ " };
                [Span::raw(sep), Span::styled(if *i == ind { format!("[{text}]") } else { text }, style)]
            })
            .collect();
        let [tabs_area, chart_area, values_area] =
            Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
        Paragraph::new(Line::from(tabs)).render(tabs_area, buf);
        if self.points.is_empty() {
            Paragraph::new(s::trend_none(lang)).style(Style::default().fg(Color::DarkGray)).render(chart_area, buf);
            return;
        }
        let data: Vec<(f64, f64)> = self
            .points
            .iter()
            .enumerate()
            .filter_map(|(x, p)| {
                ind.rate(&p.rates).filter(|r| r.is_finite()).map(|r| (x as f64, r.clamp(0.0, 1.0) * 100.0))
            })
            .collect();
        let x_max = (self.points.len().max(2) - 1) as f64;
        let target_line = [(0.0, target * 100.0), (x_max, target * 100.0)];
        let target_name = format!("{} ≥{:.0}%", s::target(lang), target * 100.0);
        let datasets = vec![
            Dataset::default()
                .name(s::indicator_name(ind, lang))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(Color::Cyan))
                .data(&data),
            Dataset::default()
                .name(target_name)
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(Color::Yellow))
                .data(&target_line),
        ];
        let first = self.points.first().map(Point::label).unwrap_or_default();
        let last = self.points.last().map(Point::label).unwrap_or_default();
        let x_labels = if self.points.len() > 2 {
            vec![first, self.points[self.points.len() / 2].label(), last]
        } else {
            vec![first, last]
        };
        let title = format!(" {} · {} · {} ", s::trend_title(lang), self.name, s::indicator_name(ind, lang));
        let chart = Chart::new(datasets)
            .block(Block::default().borders(Borders::ALL).title(fit(&title, area.width.saturating_sub(2) as usize)))
            .x_axis(Axis::default().bounds([0.0, x_max]).labels(x_labels))
            .y_axis(Axis::default().bounds([0.0, 100.0]).labels(["0%", "50%", "100%"]))
            .legend_position(Some(LegendPosition::TopLeft))
            .hidden_legend_constraints((Constraint::Percentage(60), Constraint::Percentage(40)));
        chart.render(chart_area, buf);
        // The values in words, latest quarters that fit, so the chart is not the only way to read them.
        let mut parts: Vec<String> = Vec::new();
        let mut used = 0;
        for p in self.points.iter().rev() {
            let rate = ind.rate(&p.rates);
            let (m, _) = mark(rate, target);
            let part = format!("{} {}{m}", p.label(), percent(rate));
            let w = width(&part) + 2;
            if used + w > values_area.width as usize {
                break;
            }
            used += w;
            parts.push(part);
        }
        parts.reverse();
        Paragraph::new(parts.join("  ")).render(values_area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn quarter_ends() {
        assert_eq!(quarter_end(d("2024-02-09")), d("2024-03-31"));
        assert_eq!(quarter_end(d("2024-06-30")), d("2024-06-30"));
        assert_eq!(quarter_end(d("2024-11-01")), d("2024-12-31"));
        assert_eq!(quarter_end(d("2024-08-15")), d("2024-09-30"));
    }

    #[test]
    fn points_run_from_the_first_quarter_to_the_as_of_date() {
        let p = quarter_points(d("2024-02-09"), d("2024-11-20"));
        assert_eq!(p, vec![d("2024-03-31"), d("2024-06-30"), d("2024-09-30"), d("2024-11-20")]);
        assert_eq!(quarter_points(d("2024-02-09"), d("2024-06-30")), vec![d("2024-03-31"), d("2024-06-30")]);
        assert_eq!(quarter_points(d("2024-05-01"), d("2024-05-01")), vec![d("2024-05-01")]);
        assert!(quarter_points(d("2025-01-01"), d("2024-01-01")).is_empty());
    }
}
