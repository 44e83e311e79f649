//! Drawing: a pure function of the [`App`] state. Text is measured and cut
//! by display width, so Chinese lines up and the cursor lands where it is.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Wrap};
use unicode_width::UnicodeWidthStr;

use super::{Confirm, Crew, Item, Overlay, Screen};
use crate::domain::indicators::{rate, treated_households, village_reaches};
use crate::store::browse::SewageFigures;
use crate::strings::Lang;
use crate::strings::tui as s;
use crate::text::{fit, pad, percent, scroll};
use crate::tui::theme::{DIM, ERR, HEAD, OK, TITLE, WARN};
use crate::tui::widgets::{list_table, window_start};

/// Draws the crew's screen into `area` (the app draws the key bar below it).
pub fn draw(app: &Crew, frame: &mut Frame, area: Rect) {
    let [top, body, msg] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let l = app.lang;
    let crumb = breadcrumb(app);
    let title = format!(" {} · {crumb}", s::title(l));
    frame.render_widget(Paragraph::new(fit(&title, top.width as usize)).style(TITLE), top);
    let cursor = match app.screen {
        Screen::Browser => draw_browser(app, frame, body),
        Screen::Visits => {
            draw_visits(app, frame, body);
            None
        }
        Screen::Form => app.form.as_ref().and_then(|f| super::view_form::draw_form(app, f, frame, body)),
    };
    if let Some((text, is_err)) = &app.message {
        let style = if *is_err { ERR } else { OK };
        frame.render_widget(Paragraph::new(fit(text, msg.width as usize)).style(style), msg);
    }
    match &app.overlay {
        Some(o) => draw_overlay(app, o, frame, area),
        None => {
            if let Some(p) = cursor {
                frame.set_cursor_position(p);
            }
        }
    }
}

fn breadcrumb(app: &Crew) -> String {
    let l = app.lang;
    let mut parts = vec![s::all_counties(l).to_string()];
    for a in &app.browser.path {
        parts.push(a.name.clone().unwrap_or_else(|| a.code.clone()));
    }
    if app.screen != Screen::Browser
        && let Some(v) = &app.visits
    {
        parts.push(v.name.clone());
    }
    if app.screen == Screen::Form
        && let Some(f) = &app.form
    {
        parts.push(if f.is_new { s::new_visit(l) } else { s::edit_visit(l) }.to_string());
    }
    parts.join(" › ")
}

/// The treated verdict of a visit's sewage figures, by the domain's rule.
pub(super) fn sewage_verdict(l: Lang, f: &SewageFigures, threshold: f64) -> (String, bool) {
    let treated = treated_households(f.hh_sewer, f.hh_reuse, f.normal_served);
    let ok = village_reaches(treated, f.households, threshold);
    (if ok { s::treated(l) } else { s::not_treated(l) }.to_string(), ok)
}

fn draw_browser(app: &Crew, frame: &mut Frame, area: Rect) -> Option<Position> {
    let l = app.lang;
    let b = &app.browser;
    let w = area.width as usize;
    let label = format!("{}: ", s::search(l));
    let field_w = w.saturating_sub(label.width()).min(40);
    let (shown, cx) = scroll(&b.query, b.cursor, field_w.saturating_sub(1));
    let search = Line::from(vec![
        Span::styled(label.clone(), HEAD),
        Span::styled(pad(&shown, field_w), Style::new().add_modifier(Modifier::UNDERLINED)),
        Span::styled(
            if b.query.is_empty() {
                fit(&format!(" {}", s::search_hint(l)), w.saturating_sub(label.width() + field_w))
            } else {
                String::new()
            },
            DIM,
        ),
    ]);
    frame.render_widget(Paragraph::new(search), Rect { height: 1.min(area.height), ..area });
    let villages = b.items.iter().any(|i| matches!(i, Item::Village(_)));
    let name_w = if villages { w.saturating_sub(12 + 10 + 12 + 3) } else { w.saturating_sub(13) };
    let (header, widths) = if villages {
        (
            Row::new([s::code(l), s::name(l), s::last_visit(l), s::sewage(l)]),
            vec![
                Constraint::Length(12),
                Constraint::Length(name_w as u16),
                Constraint::Length(10),
                Constraint::Length(12),
            ],
        )
    } else {
        (Row::new([s::code(l), s::name(l)]), vec![Constraint::Length(12), Constraint::Length(name_w as u16)])
    };
    // Only the rows in the window are made: a list may hold many pages.
    let h = (area.height as usize).saturating_sub(2 + usize::from(b.more));
    let start = window_start(b.selected, h);
    let rows = b.items.iter().skip(start).take(h).map(|item| match item {
        Item::Area(a) => Row::new([a.code.clone(), fit(a.name.as_deref().unwrap_or(&a.code), name_w)]),
        Item::Village(v) if !v.is_village => {
            Row::new([v.code.clone(), fit(&v.name, name_w), String::new(), s::community(l).to_string()]).style(DIM)
        }
        Item::Village(v) => {
            let (date, verdict, ok) = match &v.last {
                Some((d, f)) => {
                    let (t, ok) = sewage_verdict(l, f, app.settings.village_threshold);
                    (d.clone(), t, ok)
                }
                None => (String::new(), s::not_surveyed(l).to_string(), false),
            };
            Row::new([
                Cell::from(v.code.clone()),
                Cell::from(fit(&v.name, name_w)),
                Cell::from(date),
                Cell::from(verdict).style(if ok { OK } else { WARN }),
            ])
        }
    });
    let shown = b.items.len().saturating_sub(start).min(h);
    let table_area = Rect { y: area.y + 1, height: ((1 + shown) as u16).min(area.height.saturating_sub(1)), ..area };
    list_table(frame, table_area, header, rows, widths, b.selected.checked_sub(start).filter(|_| shown > 0));
    let below = Rect { y: table_area.y + table_area.height, height: 1, ..area };
    if below.y < area.y + area.height {
        if b.items.is_empty() {
            frame.render_widget(Paragraph::new(Line::styled(s::nothing(l), DIM)), below);
        } else if b.more && start + h >= b.items.len() {
            frame.render_widget(Paragraph::new(Line::styled(fit(s::more(l), w), DIM)), below);
        }
    }
    Some(Position::new(area.x + label.width() as u16 + cx, area.y))
}

fn draw_visits(app: &Crew, frame: &mut Frame, area: Rect) {
    let l = app.lang;
    let Some(v) = &app.visits else { return };
    let w = area.width as usize;
    let title = fit(&format!("{} {} · {} ({})", v.name, v.code, s::visits(l), v.rows.len()), w);
    frame.render_widget(Paragraph::new(Line::styled(title, HEAD)), Rect { height: 1.min(area.height), ..area });
    let header = Row::new([
        fit(s::date(l), 10),
        fit(s::surveyor(l), 10),
        fit(s::households(l), 6),
        fit(s::share_short(l), 8),
        fit(s::sewage(l), 10),
        s::children(l).to_string(),
    ]);
    let widths = vec![
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let h = (area.height as usize).saturating_sub(2);
    let start = window_start(v.selected, h);
    let rows = v.rows.iter().skip(start).take(h).map(|r| {
        let f = &r.sewage;
        let treated = treated_households(f.hh_sewer, f.hh_reuse, f.normal_served);
        let (verdict, _) = sewage_verdict(l, f, app.settings.village_threshold);
        let children = format!(
            "{}/{}/{}{}",
            r.facilities,
            r.farms,
            r.water_bodies,
            if r.conflict { format!("  ⚠ {}", s::conflict(l)) } else { String::new() }
        );
        let children = match &r.returned {
            Some(note) => {
                format!("{children}  ↩ {}", crate::text::one_line(&crate::strings::checks::returned(note, l)))
            }
            None => children,
        };
        Row::new([
            fit(&r.survey_date, 10),
            fit(&r.surveyor, 10),
            f.households.to_string(),
            percent(rate(treated as f64, f.households as f64)),
            fit(&verdict, 10),
            children,
        ])
    });
    let shown = v.rows.len().saturating_sub(start).min(h);
    let table_area = Rect { y: area.y + 1, height: ((1 + shown) as u16).min(area.height.saturating_sub(1)), ..area };
    list_table(frame, table_area, header, rows, widths, v.selected.checked_sub(start).filter(|_| shown > 0));
    if v.rows.is_empty() && area.height > 2 {
        frame.render_widget(
            Paragraph::new(Line::styled(s::no_visits(l), DIM)),
            Rect { y: area.y + 2, height: 1, ..area },
        );
    }
}

fn draw_overlay(app: &Crew, o: &Overlay, frame: &mut Frame, area: Rect) {
    let l = app.lang;
    let (title, lines): (&str, Vec<String>) = match o {
        Overlay::Help => (s::help_title(l), s::help(l).iter().map(|x| x.to_string()).collect()),
        Overlay::Confirm(c) => {
            let mut v = vec![
                match c {
                    Confirm::DeleteVisit(..) => s::confirm_delete_visit(l),
                    Confirm::DeleteRow => s::confirm_delete_row(l),
                    Confirm::Discard { .. } => s::confirm_discard(l),
                    Confirm::RestoreDraft(..) => s::confirm_draft(l),
                }
                .to_string(),
            ];
            if let Confirm::RestoreDraft(_, about) = c {
                v.push(about.clone());
            }
            v.push(String::new());
            v.push(s::confirm_keys(l).to_string());
            (s::title(l), v)
        }
    };
    let width = (area.width.saturating_sub(4)).min(if matches!(o, Overlay::Help) { 90 } else { 60 });
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|x| x.width().div_ceil(inner).max(1)).sum();
    let height = (rows as u16 + 2).min(area.height.saturating_sub(2));
    let rect =
        Rect::new(area.x + (area.width - width) / 2, area.y + (area.height.saturating_sub(height)) / 2, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines.into_iter().map(Line::raw).collect::<Vec<_>>())
            .wrap(Wrap { trim: false })
            .block(Block::new().borders(Borders::ALL).title(format!(" {title} "))),
        rect,
    );
}
