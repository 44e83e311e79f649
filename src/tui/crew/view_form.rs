//! Drawing the visit form: sections, fields with their problems, the rows
//! of the lists and the village's live figures.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::{Crew, FormScreen};
use crate::domain::indicators::{
    WaterOutcome, is_scale_farm, manure_produced_t, meets_black_odor, rate, treated_households, village_reaches,
    water_outcome,
};
use crate::domain::validate::Place;
use crate::domain::{FacilityStatus, VisitData};
use crate::strings::tui as s;
use crate::strings::{Lang, pick};
use crate::text::{fit, pad, percent, scroll};
use crate::tui::form::{Field, Kind, List};
use crate::tui::theme::{DIM, ERR, HEAD, OK, TITLE, WARN, sel_style};
use crate::tui::widgets::window_start;

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

pub(super) fn draw_form(app: &Crew, f: &FormScreen, frame: &mut Frame, area: Rect) -> Option<Position> {
    let l = app.lang;
    let w = area.width as usize;
    let mut lines = Vec::new();
    // The full path: three 新华村 in one county are told apart by it.
    let mut place: Vec<String> = app.visits.iter().flat_map(|v| v.path.iter().map(super::view::area_label)).collect();
    place.push(f.village_name.clone());
    let title = format!(
        "{} · {} {} · {}",
        if f.is_new { s::new_visit(l) } else { s::edit_visit(l) },
        place.join(" › "),
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
                let vstyle = if focused { TITLE } else { Style::new().add_modifier(Modifier::UNDERLINED) };
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
fn village_figures(app: &Crew, d: &VisitData, w: usize) -> Vec<Line<'static>> {
    let l = app.lang;
    let threshold = app.settings.village_threshold;
    // Saturating: the preview shows typed numbers before validation bounds them.
    let normal = d
        .facilities
        .iter()
        .filter(|f| f.status == FacilityStatus::Normal)
        .fold(0i64, |a, f| a.saturating_add(f.households_served));
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
    vec![Line::styled(fit(&sewage, w), if ok { OK } else { WARN }), Line::raw(fit(&garbage, w))]
}

/// One line about a child row, with what its figures mean.
fn row_summary(app: &Crew, d: &VisitData, list: List, i: usize) -> String {
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
