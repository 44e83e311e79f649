//! Drawing: a pure function of the [`App`] state. Text is measured and cut
//! by display width, so Chinese lines up and the cursor lands where it is.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Confirm, FormScreen, Item, Overlay, Screen};
use super::form::{Field, Kind, List};
use super::theme::{DIM, ERR, HEAD, KEY_BAR, OK, TITLE, WARN, sel_style};
use crate::domain::indicators::{
    WaterOutcome, is_scale_farm, manure_produced_t, meets_black_odor, rate, treated_households, village_reaches,
    water_outcome,
};
use crate::domain::validate::Place;
use crate::domain::{FacilityStatus, VisitData};
use crate::store::browse::SewageFigures;
use crate::strings::tui as s;
use crate::strings::{Lang, pick};
use crate::text::{fit, one_line, pad, percent};

/// The part of `text` shown in a field `w` columns wide so that the cursor
/// (in chars) stays visible, and the cursor's column within it.
pub fn scroll(text: &str, cursor: usize, w: usize) -> (String, u16) {
    let chars: Vec<char> = one_line(text).chars().collect();
    let cursor = cursor.min(chars.len());
    let width_of = |a: usize, b: usize| chars[a..b].iter().map(|c| c.width().unwrap_or(0)).sum::<usize>();
    let mut start = 0;
    while start < cursor && width_of(start, cursor) >= w.max(1) {
        start += 1;
    }
    let mut shown = String::new();
    let mut used = 0;
    for &c in &chars[start..] {
        let cw = c.width().unwrap_or(0);
        if used + cw > w {
            break;
        }
        shown.push(c);
        used += cw;
    }
    (shown, width_of(start, cursor) as u16)
}


/// Draws the whole screen.
pub fn draw(app: &App, frame: &mut Frame) {
    let area = super::roles::split(app, frame);
    if super::roles::draw_role(app, frame, area) {
        return;
    }
    let [top, body, msg, keys] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    let l = app.lang;
    let crumb = breadcrumb(app);
    let title = format!(" {} · {crumb}", s::title(l));
    frame.render_widget(
        Paragraph::new(fit(&title, top.width as usize)).style(TITLE),
        top,
    );
    let cursor = match app.screen {
        Screen::Browser => draw_browser(app, frame, body),
        Screen::Visits => {
            draw_visits(app, frame, body);
            None
        }
        Screen::Form => app.form.as_ref().and_then(|f| draw_form(app, f, frame, body)),
    };
    if let Some((text, is_err)) = &app.message {
        let style = if *is_err { ERR } else { OK };
        frame.render_widget(Paragraph::new(fit(text, msg.width as usize)).style(style), msg);
    }
    frame.render_widget(
        Paragraph::new(fit(key_bar(app), keys.width as usize)).style(KEY_BAR),
        keys,
    );
    match &app.overlay {
        Some(o) => draw_overlay(app, o, frame, area),
        None => {
            if let Some(p) = cursor {
                frame.set_cursor_position(p);
            }
        }
    }
}

fn breadcrumb(app: &App) -> String {
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

fn key_bar(app: &App) -> &'static str {
    let l = app.lang;
    match &app.overlay {
        Some(Overlay::Help) => return s::keys_help(l),
        Some(Overlay::Confirm(_)) => return s::keys_confirm(l),
        None => {}
    }
    match app.screen {
        Screen::Browser => s::keys_browser(l),
        Screen::Visits => s::keys_visits(l),
        Screen::Form => match app.form.as_ref() {
            Some(f) if f.editing.is_some() => s::keys_row(l),
            Some(f) if f.section > 0 => s::keys_list(l),
            _ => s::keys_fields(l),
        },
    }
}

/// The treated verdict of a visit's sewage figures, by the domain's rule.
fn sewage_verdict(l: Lang, f: &SewageFigures, threshold: f64) -> (String, bool) {
    let treated = treated_households(f.hh_sewer, f.hh_reuse, f.normal_served);
    let ok = village_reaches(treated, f.households, threshold);
    (if ok { s::treated(l) } else { s::not_treated(l) }.to_string(), ok)
}

/// The first row of a list that keeps `selected` in a window of `h` rows.
fn window_start(selected: usize, h: usize) -> usize {
    if h == 0 || selected < h { 0 } else { selected + 1 - h }
}

fn draw_browser(app: &App, frame: &mut Frame, area: Rect) -> Option<Position> {
    let l = app.lang;
    let b = &app.browser;
    let w = area.width as usize;
    let label = format!("{}: ", s::search(l));
    let field_w = w.saturating_sub(label.width()).min(40);
    let (shown, cx) = scroll(&b.query, b.cursor, field_w.saturating_sub(1));
    let mut lines = vec![Line::from(vec![
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
    ])];
    let villages = b.items.iter().any(|i| matches!(i, Item::Village(_)));
    let name_w = if villages { w.saturating_sub(12 + 10 + 12 + 3) } else { w.saturating_sub(13) };
    lines.push(Line::styled(
        if villages {
            format!(
                "{} {} {} {}",
                pad(s::code(l), 12),
                pad(s::name(l), name_w),
                pad(s::last_visit(l), 10),
                s::sewage(l)
            )
        } else {
            format!("{} {}", pad(s::code(l), 12), s::name(l))
        },
        HEAD,
    ));
    let h = (area.height as usize).saturating_sub(lines.len() + usize::from(b.more));
    let start = window_start(b.selected, h);
    for (i, item) in b.items.iter().enumerate().skip(start).take(h) {
        let sel = i == b.selected;
        let line = match item {
            Item::Area(a) => Line::styled(
                format!("{} {}", pad(&a.code, 12), fit(a.name.as_deref().unwrap_or(&a.code), name_w)),
                sel_style(sel),
            ),
            Item::Village(v) if !v.is_village => Line::styled(
                format!("{} {} {} {}", pad(&v.code, 12), pad(&v.name, name_w), pad("", 10), s::community(l)),
                sel_style(sel).patch(DIM),
            ),
            Item::Village(v) => {
                let (date, verdict, ok) = match &v.last {
                    Some((d, f)) => {
                        let (t, ok) = sewage_verdict(l, f, app.settings.village_threshold);
                        (d.clone(), t, ok)
                    }
                    None => (String::new(), s::not_surveyed(l).to_string(), false),
                };
                Line::from(vec![
                    Span::raw(format!("{} {} {} ", pad(&v.code, 12), pad(&v.name, name_w), pad(&date, 10))),
                    Span::styled(
                        pad(&verdict, 12),
                        if ok { OK } else { WARN },
                    ),
                ])
                .style(sel_style(sel))
            }
        };
        lines.push(line);
    }
    if b.items.is_empty() {
        lines.push(Line::styled(s::nothing(l), DIM));
    }
    if b.more && start + h >= b.items.len() {
        lines.push(Line::styled(fit(s::more(l), w), DIM));
    }
    frame.render_widget(Paragraph::new(lines), area);
    Some(Position::new(area.x + label.width() as u16 + cx, area.y))
}

fn draw_visits(app: &App, frame: &mut Frame, area: Rect) {
    let l = app.lang;
    let Some(v) = &app.visits else { return };
    let w = area.width as usize;
    let mut lines = vec![
        Line::styled(fit(&format!("{} {} · {} ({})", v.name, v.code, s::visits(l), v.rows.len()), w), HEAD),
        Line::styled(
            fit(
                &format!(
                    "{} {} {} {} {} {}",
                    pad(s::date(l), 10),
                    pad(s::surveyor(l), 10),
                    pad(s::households(l), 6),
                    pad(s::share_short(l), 8),
                    pad(s::sewage(l), 10),
                    s::children(l)
                ),
                w,
            ),
            HEAD,
        ),
    ];
    if v.rows.is_empty() {
        lines.push(Line::styled(s::no_visits(l), DIM));
    }
    let h = (area.height as usize).saturating_sub(2);
    let start = window_start(v.selected, h);
    for (i, r) in v.rows.iter().enumerate().skip(start).take(h) {
        let f = &r.sewage;
        let treated = treated_households(f.hh_sewer, f.hh_reuse, f.normal_served);
        let (verdict, _) = sewage_verdict(l, f, app.settings.village_threshold);
        lines.push(Line::styled(
            fit(
                &format!(
                    "{} {} {} {} {} {}/{}/{}{}",
                    pad(&r.survey_date, 10),
                    pad(&r.surveyor, 10),
                    pad(&f.households.to_string(), 6),
                    pad(&percent(rate(treated as f64, f.households as f64)), 8),
                    pad(&verdict, 10),
                    r.facilities,
                    r.farms,
                    r.water_bodies,
                    if r.conflict { format!("  ⚠ {}", s::conflict(l)) } else { String::new() }
                ),
                w,
            ),
            sel_style(i == v.selected),
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn section_name(l: Lang, i: usize) -> &'static str {
    match i {
        0 => s::sec_village(l),
        1 => s::sec_facilities(l),
        2 => s::sec_farms(l),
        _ => s::sec_water(l),
    }
}

/// How a field's value reads: typed text as is, options by their label.
fn shown_value(l: Lang, field: &Field, value: &str) -> String {
    match field.kind {
        Kind::Bool => format!("◂ {} ▸", if value == "1" { s::yes(l) } else { s::no(l) }),
        Kind::Choice(c) => {
            let label = c.options().into_iter().find(|o| o.0 == value).map(|o| pick(l, o.1, o.2)).unwrap_or(value);
            format!("◂ {label} ▸")
        }
        _ => value.to_string(),
    }
}

fn choice_label(l: Lang, field: &Field, value: &str) -> String {
    shown_value(l, field, value).trim_start_matches("◂ ").trim_end_matches(" ▸").to_string()
}

fn draw_form(app: &App, f: &FormScreen, frame: &mut Frame, area: Rect) -> Option<Position> {
    let l = app.lang;
    let w = area.width as usize;
    let mut lines = Vec::new();
    let title = format!(
        "{} · {} {} · {}",
        if f.is_new { s::new_visit(l) } else { s::edit_visit(l) },
        f.village_name,
        f.form.village_code,
        f.form.visit[0]
    );
    let mut head = vec![Span::styled(title.clone(), HEAD)];
    if let Some(p) = f.problem(Place::Visit, "village_code") {
        head.push(Span::styled(format!("  ✗ {}", p.reason.message(l)), ERR));
    }
    lines.push(Line::from(head));
    let mut tabs = Vec::new();
    for i in 0..4 {
        let n = match i {
            0 => String::new(),
            _ => format!(" {}", f.form.rows(List::ALL[i - 1]).len()),
        };
        let bad = if f.problems_in(i) > 0 { "!" } else { "" };
        let text = format!(" {}{n}{bad} ", section_name(l, i));
        let style =
            if i == f.section { Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD) } else { Style::new() };
        tabs.push(Span::styled(text, if bad.is_empty() { style } else { style.fg(Color::Red) }));
        tabs.push(Span::raw("│"));
    }
    lines.push(Line::from(tabs));
    let mut cursor = None;
    match (f.list(), f.record()) {
        (_, Some((fields, place, values))) => {
            if let (Some(list), Some(i)) = (f.list(), f.editing) {
                lines.push(Line::styled(
                    fit(
                        &format!(
                            "{} {}/{} · {}",
                            section_name(l, f.section),
                            i + 1,
                            f.form.rows(list).len(),
                            row_summary(app, &f.data, list, i)
                        ),
                        w,
                    ),
                    HEAD,
                ));
            }
            let label_w = fields.iter().map(|x| s::field(l, x.key).width()).max().unwrap_or(10).min(20) + 3;
            let value_w = w.saturating_sub(label_w).clamp(8, 30);
            let err_w = w.saturating_sub(label_w + value_w + 1);
            for (k, field) in fields.iter().enumerate() {
                let focused = k == f.focus;
                let marker = if focused { "▸ " } else { "  " };
                let label = pad(&format!("{marker}{}", s::field(l, field.key)), label_w);
                let value = &values[k];
                let (shown, cx) = if focused && field.kind.is_typed() {
                    scroll(value, f.cursor, value_w.saturating_sub(1))
                } else {
                    (fit(&shown_value(l, field, value), value_w.saturating_sub(1)), 0)
                };
                if focused && field.kind.is_typed() {
                    cursor = Some(Position::new(area.x + label_w as u16 + cx, area.y + lines.len() as u16));
                }
                let vstyle = if focused {
                    TITLE
                } else {
                    Style::new().add_modifier(Modifier::UNDERLINED)
                };
                let mut spans = vec![
                    Span::styled(label, if focused { HEAD } else { Style::new() }),
                    Span::styled(pad(&shown, value_w.saturating_sub(1)), vstyle),
                    Span::raw(" "),
                ];
                if let Some(p) = f.problem(place, field.key) {
                    spans.push(Span::styled(fit(&format!("✗ {}", p.reason.message(l)), err_w), ERR));
                }
                lines.push(Line::from(spans));
            }
            lines.push(Line::raw(""));
            match (f.list(), f.editing) {
                (None, _) => lines.extend(village_figures(app, &f.data, w)),
                (Some(list), Some(i)) => {
                    if let Some(p) = f.problems.iter().find(|p| p.place == list.place(i) && p.field == list.id_key()) {
                        lines.push(Line::styled(
                            fit(&format!("{}: ✗ {}", s::field(l, p.field), p.reason.message(l)), w),
                            ERR,
                        ));
                    }
                }
                _ => {}
            }
        }
        (Some(list), None) => {
            let rows = f.form.rows(list);
            if rows.is_empty() {
                lines.push(Line::styled(s::no_rows(l), DIM));
            }
            let sel = f.row_sel[f.section - 1];
            let h = (area.height as usize).saturating_sub(lines.len() + 2);
            let start = window_start(sel, h);
            for i in (0..rows.len()).skip(start).take(h) {
                let bad = f.problems.iter().any(|p| p.place == list.place(i));
                let text =
                    format!("{}{:>2}. {}", if bad { "!" } else { " " }, i + 1, row_summary(app, &f.data, list, i));
                let style = sel_style(i == sel);
                lines.push(Line::styled(fit(&text, w), if bad { style.fg(Color::Red) } else { style }));
            }
            if let Some(p) = f.problems.iter().find(|p| p.place == list.place(sel)) {
                lines.push(Line::raw(""));
                lines.push(Line::styled(fit(&format!("{}: ✗ {}", s::field(l, p.field), p.reason.message(l)), w), ERR));
            }
        }
        (None, None) => {}
    }
    frame.render_widget(Paragraph::new(lines), area);
    cursor
}

/// What the village figures mean, by the domain's formulas.
fn village_figures(app: &App, d: &VisitData, w: usize) -> Vec<Line<'static>> {
    let l = app.lang;
    let threshold = app.settings.village_threshold;
    let normal: i64 =
        d.facilities.iter().filter(|f| f.status == FacilityStatus::Normal).map(|f| f.households_served).sum();
    let treated = treated_households(d.hh_sewer, d.hh_reuse, normal);
    let ok = village_reaches(treated, d.households, threshold);
    let share = rate(treated as f64, d.households as f64);
    let verdict = if ok { s::counts_treated(l) } else { s::counts_not_treated(l) };
    let sewage = format!(
        "{}: {treated}/{} = {} ({} {}) → {verdict}",
        s::treated_share(l),
        d.households,
        percent(share),
        pick(l, "标准", "threshold"),
        percent(Some(threshold))
    );
    let garbage = format!(
        "{}: {}/{} = {}",
        s::garbage_coverage(l),
        d.nv_garbage_covered,
        d.natural_villages,
        percent(rate(d.nv_garbage_covered as f64, d.natural_villages as f64))
    );
    vec![
        Line::styled(fit(&sewage, w), if ok { OK } else { WARN }),
        Line::raw(fit(&garbage, w)),
    ]
}

/// One line about a child row, with what its figures mean.
fn row_summary(app: &App, d: &VisitData, list: List, i: usize) -> String {
    let l = app.lang;
    let fields = list.fields();
    let form = &app.form.as_ref().expect("form in front").form;
    let values = &form.rows(list)[i].values;
    let label = |k: &str| {
        let j = fields.iter().position(|x| x.key == k).expect("field");
        choice_label(l, &fields[j], &values[j])
    };
    match list {
        List::Facilities => {
            let f = &d.facilities[i];
            format!("{} {} {} {} {}", label("kind"), s::served(l), f.households_served, s::hh_unit(l), label("status"))
        }
        List::Farms => {
            let f = &d.farms[i];
            let c = &app.settings.manure;
            let t = manure_produced_t(f.species, f.head_on_hand, f.annual_out, f.manure_t, c);
            let scale = if is_scale_farm(f.species, f.head_on_hand, f.annual_out, c) {
                s::scale_farm(l)
            } else {
                s::not_scale(l)
            };
            format!(
                "{} {} {}/{} → {} {t:.1} {} · {scale} · {} {}%",
                f.name,
                label("species"),
                f.head_on_hand,
                f.annual_out,
                s::manure(l),
                s::tonnes(l),
                s::utilized(l),
                f.utilized_pct
            )
        }
        List::Water => {
            let w = &d.water_bodies[i];
            let meets = meets_black_odor(w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l);
            let outcome = match water_outcome(w.listed, w.status, meets) {
                WaterOutcome::Relapsed => format!(" · {}", s::relapsed(l)),
                WaterOutcome::Remediated => format!(" · {}", s::remediated(l)),
                _ => String::new(),
            };
            format!(
                "{} {} {} {} → {}{outcome}",
                w.name,
                label("kind"),
                label("listed"),
                label("status"),
                if meets { s::black_odor(l) } else { s::not_black_odor(l) }
            )
        }
    }
}

fn draw_overlay(app: &App, o: &Overlay, frame: &mut Frame, area: Rect) {
    let l = app.lang;
    let (title, lines): (&str, Vec<String>) = match o {
        Overlay::Help => (s::help_title(l), s::help(l).iter().map(|x| x.to_string()).collect()),
        Overlay::Confirm(c) => {
            let mut v = vec![
                match c {
                    Confirm::DeleteVisit(_) => s::confirm_delete_visit(l),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_bar_fits_80_columns() {
        for l in [Lang::Zh, Lang::En] {
            for bar in s::key_bars(l) {
                assert!(bar.width() <= 80, "{bar}: {}", bar.width());
            }
            for line in s::help(l) {
                assert!(line.width() <= 88, "{line}");
            }
        }
    }

    #[test]
    fn cutting_is_by_display_width() {
        assert_eq!(fit("仙庾村村民委员会", 7), "仙庾村…");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(pad("村", 4), "村  ");
        let (shown, x) = scroll("一二三四五", 5, 6);
        assert_eq!((shown.as_str(), x), ("四五", 4));
        let (shown, x) = scroll("一二三", 1, 10);
        assert_eq!((shown.as_str(), x), ("一二三", 2));
    }
}
