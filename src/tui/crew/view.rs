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
use crate::store::browse::{AreaItem, SewageFigures, VillageItem};
use crate::strings::tui as s;
use crate::strings::{Lang, pick};
use crate::text::{fit, pad, percent, right, scroll, width};
use crate::tui::theme::{DIM, ERR, HEAD, OK, TITLE, WARN};
use crate::tui::widgets::{list_table, window_start, wrap};

/// Draws the crew's screen into `area` (the app draws the key bar below it).
pub fn draw(app: &Crew, frame: &mut Frame, area: Rect) {
    // A message is shown whole: wrapped over up to three lines.
    let message = app.message.as_ref().map(|(text, is_err)| (wrap(text, area.width as usize), *is_err));
    let msg_h = message.as_ref().map_or(1, |(lines, _)| lines.len().clamp(1, 3)) as u16;
    let [top, body, msg] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(msg_h)]).areas(area);
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
        Screen::Day => app.day.as_ref().and_then(|d| draw_day(app, d, frame, body)),
    };
    if let Some((lines, is_err)) = message {
        let style = if is_err { ERR } else { OK };
        let lines: Vec<Line> = lines.into_iter().map(Line::raw).collect();
        frame.render_widget(Paragraph::new(lines).style(style), msg);
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

/// Where the crew is: the browser's path, or the village's own county and
/// township once a village is open (whichever way it was found).
fn breadcrumb(app: &Crew) -> String {
    let l = app.lang;
    let mut parts = vec![s::all_counties(l).to_string()];
    let open = app.visits.as_ref().filter(|_| app.screen != Screen::Browser);
    let path = open.map_or(&app.browser.path, |v| &v.path);
    for a in path {
        parts.push(area_label(a));
    }
    if let Some(v) = open {
        parts.push(v.name.clone());
    }
    if app.screen == Screen::Form
        && let Some(f) = &app.form
    {
        parts.push(if f.is_new { s::new_visit(l) } else { s::edit_visit(l) }.to_string());
    }
    parts.join(" › ")
}

/// An area by its name, or its code when the roster names it not.
pub(super) fn area_label(a: &AreaItem) -> String {
    a.name.clone().unwrap_or_else(|| a.code.clone())
}

/// "月塘街道 · 荷塘区": where a village-level unit lies.
pub(super) fn place_of(v: &VillageItem) -> String {
    let township = v.township.clone().unwrap_or_else(|| v.code.get(..9).unwrap_or("").to_string());
    let county = v.county.clone().unwrap_or_else(|| v.code.get(..6).unwrap_or("").to_string());
    format!("{township} · {county}")
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
    // A list that spans townships (a search) says where each unit lies.
    let places = villages && b.path.len() < 2;
    let rest = w.saturating_sub(12 + 10 + 12 + 4);
    let (name_w, place_w) = if places {
        let place_w = (rest / 2).min(28);
        (rest.saturating_sub(place_w + 1), place_w)
    } else if villages {
        (rest, 0)
    } else {
        (w.saturating_sub(13), 0)
    };
    let (header, widths) = if villages {
        let mut head = vec![s::code(l), s::name(l)];
        let mut widths = vec![Constraint::Length(12), Constraint::Length(name_w as u16)];
        if places {
            head.push(s::place(l));
            widths.push(Constraint::Length(place_w as u16));
        }
        head.extend([s::last_visit(l), s::sewage(l)]);
        widths.extend([Constraint::Length(10), Constraint::Length(12)]);
        (Row::new(head), widths)
    } else {
        (Row::new([s::code(l), s::name(l)]), vec![Constraint::Length(12), Constraint::Length(name_w as u16)])
    };
    // Only the rows in the window are made: a list may hold many pages.
    let h = (area.height as usize).saturating_sub(2 + usize::from(b.more));
    let start = window_start(b.selected, h);
    let rows = b.items.iter().skip(start).take(h).map(|item| match item {
        Item::Area(a) => Row::new([a.code.clone(), fit(&area_label(a), name_w)]),
        Item::Village(v) => {
            let (date, verdict, style) = match &v.last {
                _ if !v.is_village => (String::new(), s::community_not_surveyed(l).to_string(), DIM),
                Some((d, f)) => {
                    let (t, ok) = sewage_verdict(l, f, app.settings.village_threshold);
                    (d.clone(), t, if ok { OK } else { WARN })
                }
                None => (String::new(), s::not_surveyed(l).to_string(), WARN),
            };
            let mut cells = vec![Cell::from(v.code.clone()), Cell::from(fit(&v.name, name_w))];
            if places {
                cells.push(Cell::from(fit(&place_of(v), place_w)));
            }
            cells.extend([Cell::from(date), Cell::from(fit(&verdict, 12)).style(style)]);
            let row = Row::new(cells);
            if v.is_village { row } else { row.style(DIM) }
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
    // Columns as wide as their titles (no "House…" at 80 columns); numbers right-aligned.
    let hh_w = width(s::households(l)).max(6);
    let share_w = width(s::share_short(l)).max(6);
    let header = Row::new([
        Cell::from(fit(s::date(l), 10)),
        Cell::from(fit(s::surveyor(l), 10)),
        Cell::from(right(s::households(l), hh_w)),
        Cell::from(right(s::share_short(l), share_w)),
        Cell::from(fit(s::sewage(l), 12)),
        Cell::from(s::children(l).to_string()),
    ]);
    let widths = vec![
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(hh_w as u16),
        Constraint::Length(share_w as u16),
        Constraint::Length(12),
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
            right(&f.households.to_string(), hh_w),
            right(&percent(rate(treated as f64, f.households as f64)), share_w),
            fit(&verdict, 12),
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

/// The crew's day: the round's start (editable), what was saved today,
/// and the villages of the township not visited this round.
fn draw_day(app: &Crew, d: &super::day::Day, frame: &mut Frame, area: Rect) -> Option<Position> {
    let l = app.lang;
    let w = area.width as usize;
    let mut lines = Vec::new();
    lines.push(Line::styled(fit(&format!("{} · {}", s::day_title(l), area_label(&d.township)), w), HEAD));
    let label = format!("{}: ", s::round_start(l));
    let mut cursor = None;
    match &d.editing {
        Some((text, c)) => {
            let (shown, cx) = scroll(text, *c, 11);
            cursor = Some(Position::new(area.x + label.width() as u16 + cx, area.y + 1));
            lines.push(Line::from(vec![
                Span::raw(label.clone()),
                Span::styled(pad(&shown, 12), TITLE),
                Span::styled(fit(&format!(" {}", s::date_hint(l)), w.saturating_sub(label.width() + 12)), DIM),
            ]));
        }
        None => lines.push(Line::raw(fit(&format!("{label}{}  (d)", d.start), w))),
    }
    let saved = if d.data.saved == 0 {
        s::nothing_saved_today(l).to_string()
    } else {
        let names: Vec<String> = d
            .data
            .saved_villages
            .iter()
            .map(|(_, name, n)| if *n > 1 { format!("{name} ×{n}") } else { name.clone() })
            .collect();
        format!("{} {} {}: {}", s::saved_today(l), d.data.saved, s::visits_unit(l), names.join(pick(l, "、", ", ")))
    };
    // Said whole: wrapped, however many villages.
    let saved_lines = wrap(&saved, w);
    let saved_h = saved_lines.len().min(4);
    lines.extend(saved_lines.into_iter().take(saved_h).map(|x| Line::styled(x, OK)));
    if !d.data.returned.is_empty() {
        let each: Vec<String> = d
            .data
            .returned
            .iter()
            .map(|(_, name, date, note)| {
                let note = crate::text::one_line(note);
                match l {
                    Lang::Zh => format!("{name} {date}（{note}）"),
                    Lang::En => format!("{name} {date} ({note})"),
                }
            })
            .collect();
        let text = format!("↩ {} {}: {}", s::returned_visits(l), d.data.returned.len(), each.join(pick(l, "；", "; ")));
        lines.extend(wrap(&text, w).into_iter().take(3).map(|x| Line::styled(x, WARN)));
    }
    let left = d.data.to_visit.len();
    lines.push(Line::styled(
        fit(
            &if left == 0 {
                s::all_visited(l).to_string()
            } else {
                format!("{} ({left}/{})", s::to_visit(l), d.data.villages)
            },
            w,
        ),
        HEAD,
    ));
    let head_h = lines.len() as u16;
    frame.render_widget(Paragraph::new(lines), Rect { height: head_h.min(area.height), ..area });
    if left > 0 && area.height > head_h {
        let list = Rect { y: area.y + head_h, height: area.height - head_h, ..area };
        let name_w = w.saturating_sub(12 + 10 + 12 + 3);
        let header = Row::new([s::code(l), s::name(l), s::last_visit(l), s::sewage(l)]);
        let widths = vec![
            Constraint::Length(12),
            Constraint::Length(name_w as u16),
            Constraint::Length(10),
            Constraint::Length(12),
        ];
        let h = (list.height as usize).saturating_sub(1);
        let start = window_start(d.selected, h);
        let rows = d.data.to_visit.iter().skip(start).take(h).map(|v| {
            let (date, verdict, style) = match &v.last {
                Some((date, f)) => {
                    let (t, ok) = sewage_verdict(l, f, app.settings.village_threshold);
                    (date.clone(), t, if ok { OK } else { WARN })
                }
                None => (String::new(), s::not_surveyed(l).to_string(), WARN),
            };
            Row::new([
                Cell::from(v.code.clone()),
                Cell::from(fit(&v.name, name_w)),
                Cell::from(date),
                Cell::from(fit(&verdict, 12)).style(style),
            ])
        });
        let shown = left.saturating_sub(start).min(h);
        list_table(frame, list, header, rows, widths, d.selected.checked_sub(start).filter(|_| shown > 0));
    }
    cursor
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
                    Confirm::SameDay { .. } => s::confirm_same_day(l),
                }
                .to_string(),
            ];
            // What the question is about, named.
            match c {
                Confirm::RestoreDraft(_, about) | Confirm::DeleteVisit(_, _, about) => v.push(about.clone()),
                Confirm::DeleteRow => v.extend(super::view_form::selected_row(app)),
                Confirm::SameDay { date, .. } => {
                    v.push(format!("{} · {date}", app.visits.as_ref().map_or("", |x| x.name.as_str())))
                }
                Confirm::Discard { .. } => {}
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
