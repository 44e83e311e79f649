//! Drawing the visit form: sections, fields with their problems, the rows
//! of the lists and the village's live figures.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::{Crew, FormScreen, NOTES};
use crate::domain::FacilityStatus;
use crate::domain::indicators::{
    WaterOutcome, black_odor_failures, is_scale_farm, manure_produced_t, rate, treated_households, village_reaches,
    water_outcome,
};
use crate::domain::validate::Place;
use crate::strings::tui as s;
use crate::strings::{Lang, pick};
use crate::text::{fit, pad, percent, scroll};
use crate::tui::form::{Field, Kind, List, VISIT_FIELDS};
use crate::tui::theme::{DIM, ERR, HEAD, OK, TITLE, WARN, sel_style};
use crate::tui::widgets::{window_start, wrap};

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

/// What the form's body needs kept in view and where its pieces go.
#[derive(Default)]
struct Body {
    lines: Vec<Line<'static>>,
    /// First and last line to keep visible (the focused field and its problem).
    focus: (usize, usize),
    /// Line and column of the text cursor.
    cursor: Option<(usize, u16)>,
    /// The notes box: first line, height, and whether it has the focus.
    notes: Option<(usize, usize, bool)>,
}

/// A problem's text wrapped to `w` columns, each line indented by `indent`.
fn problem_lines(text: &str, indent: usize, w: usize) -> Vec<Line<'static>> {
    wrap(text, w.saturating_sub(indent).max(8))
        .into_iter()
        .map(|t| Line::styled(format!("{}{t}", " ".repeat(indent)), ERR))
        .collect()
}

pub(super) fn draw_form(app: &Crew, f: &FormScreen, frame: &mut Frame, area: Rect) -> Option<Position> {
    let l = app.lang;
    let w = area.width as usize;
    let mut head = Vec::new();
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
    let mut title_spans = vec![Span::styled(title, HEAD)];
    if let Some(p) = f.problem(Place::Visit, "village_code") {
        title_spans.push(Span::styled(format!("  ✗ {}", p.reason.message(l)), ERR));
    }
    head.push(Line::from(title_spans));
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
    head.push(Line::from(tabs));
    if let Some(c) = &f.form.copied_from {
        head.push(Line::styled(fit(&s::copied_banner(l, &c.date, &c.surveyor), w), WARN));
    }
    let head_h = head.len().min(area.height as usize);
    let body_h = (area.height as usize).saturating_sub(head_h);
    let mut b = Body::default();
    match (f.list(), f.record()) {
        (_, Some((fields, place, values))) => {
            if let (Some(list), Some(i)) = (f.list(), f.editing) {
                b.lines.push(Line::styled(
                    fit(
                        &format!(
                            "{} {}/{} · {}",
                            section_name(l, f.section),
                            i + 1,
                            f.form.rows(list).len(),
                            row_summary(app, f, list, i)
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
                let first = b.lines.len();
                let marker = if focused { "▸ " } else { "  " };
                let label = pad(&format!("{marker}{}", s::field(l, field.key)), label_w);
                let value = &values[k];
                let problem = f.problem(place, field.key).map(|p| {
                    let echo = matches!(place, Place::Facility(_)) && p.place == Place::Visit;
                    let field_name = if echo { s::from_facilities(l) } else { "" };
                    format!("✗ {}{field_name}", p.reason.message(l))
                });
                if field.key == NOTES && f.list().is_none() {
                    // Notes: a box of several lines below the label, as wide as the screen.
                    let mut spans = vec![Span::styled(label, if focused { HEAD } else { Style::new() })];
                    if let Some(p) = &problem {
                        spans.push(Span::styled(fit(p, w.saturating_sub(label_w)), ERR));
                    }
                    b.lines.push(Line::from(spans));
                    let n = value.split('\n').count();
                    let box_h = if focused { (n + 1).clamp(3, 6) } else { n.clamp(1, 3) };
                    b.notes = Some((b.lines.len(), box_h, focused));
                    b.lines.extend((0..box_h).map(|_| Line::raw("")));
                    if focused {
                        b.focus = (first, b.lines.len() - 1);
                    }
                    continue;
                }
                let (shown, cx) = if focused && field.kind.is_typed() {
                    scroll(value, f.cursor, value_w.saturating_sub(1))
                } else {
                    (fit(&shown_value(l, field, value), value_w.saturating_sub(1)), 0)
                };
                if focused && field.kind.is_typed() {
                    b.cursor = Some((first, label_w as u16 + cx));
                }
                // A value just arrived at shows selected: typing replaces it.
                let replaceable = focused && f.fresh && matches!(field.kind, Kind::Int | Kind::Dec | Kind::Date);
                let vstyle = if replaceable {
                    TITLE.add_modifier(Modifier::REVERSED)
                } else if focused {
                    TITLE
                } else {
                    Style::new().add_modifier(Modifier::UNDERLINED)
                };
                let mut spans = vec![
                    Span::styled(label, if focused { HEAD } else { Style::new() }),
                    Span::styled(pad(&shown, value_w.saturating_sub(1)), vstyle),
                    Span::raw(" "),
                ];
                // A problem is shown whole: beside the field when it fits, else below it.
                let mut below = Vec::new();
                if let Some(p) = &problem {
                    if p.width() <= err_w {
                        spans.push(Span::styled(p.clone(), ERR));
                    } else {
                        below = problem_lines(p, label_w, w);
                    }
                }
                b.lines.push(Line::from(spans));
                b.lines.extend(below);
                if focused {
                    b.focus = (first, b.lines.len() - 1);
                }
            }
            b.lines.push(Line::raw(""));
            match (f.list(), f.editing) {
                (None, _) => b.lines.extend(village_figures(app, f, w)),
                (Some(list), Some(i)) => {
                    if let Some(p) = f.problems.iter().find(|p| p.place == list.place(i) && p.field == list.id_key()) {
                        let text = format!("{}: ✗ {}", s::field(l, p.field), p.reason.message(l));
                        b.lines.extend(problem_lines(&text, 0, w));
                    }
                }
                _ => {}
            }
        }
        (Some(list), None) => {
            let rows = f.form.rows(list);
            if rows.is_empty() {
                b.lines.push(Line::styled(s::no_rows(l), DIM));
            }
            let sel = f.row_sel[f.section - 1];
            let h = body_h.saturating_sub(3);
            let start = window_start(sel, h);
            for i in (0..rows.len()).skip(start).take(h) {
                let bad = f.first_problem(list.place(i)).is_some();
                let text = format!("{}{:>2}. {}", if bad { "!" } else { " " }, i + 1, row_summary(app, f, list, i));
                let style = sel_style(i == sel);
                if i == sel {
                    b.focus = (b.lines.len(), b.lines.len());
                }
                b.lines.push(Line::styled(fit(&text, w), if bad { style.fg(Color::Red) } else { style }));
            }
            if let Some(p) = f.first_problem(list.place(sel)) {
                b.lines.push(Line::raw(""));
                let text = format!("{}: ✗ {}", s::field(l, p.field), p.reason.message(l));
                b.lines.extend(problem_lines(&text, 0, w));
            }
        }
        (None, None) => {}
    }
    frame.render_widget(Paragraph::new(head), Rect { height: head_h as u16, ..area });
    let body = Rect { y: area.y + head_h as u16, height: body_h as u16, ..area };
    // A short terminal scrolls the form so that the focused field is in view.
    let (top, bottom) = b.focus;
    let offset = if bottom < body_h { 0 } else { (bottom + 1 - body_h).min(top) };
    frame.render_widget(Paragraph::new(b.lines).scroll((offset as u16, 0)), body);
    let visible = |line: usize| line >= offset && line - offset < body_h;
    if let Some((line, box_h, focused)) = b.notes
        && visible(line)
    {
        let y = body.y + (line - offset) as u16;
        let rect = Rect {
            x: body.x + 2,
            y,
            width: body.width.saturating_sub(2),
            height: (box_h as u16).min(body.y + body.height - y),
        };
        let frame_block = Block::new().borders(Borders::LEFT).border_style(if focused { HEAD } else { DIM });
        match f.notes.as_ref().filter(|_| focused) {
            Some(area) => {
                let mut shown = area.clone();
                shown.set_block(frame_block);
                frame.render_widget(&shown, rect);
            }
            None => {
                let text: Vec<Line> = f.form.visit[VISIT_FIELDS.iter().position(|x| x.key == NOTES).unwrap_or(0)]
                    .split('\n')
                    .map(|x| Line::raw(crate::text::safe(x).into_owned()))
                    .collect();
                frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(frame_block), rect);
            }
        }
    }
    b.cursor
        .filter(|(line, _)| visible(*line))
        .map(|(line, col)| Position::new(area.x + col, body.y + (line - offset) as u16))
}

/// What the village figures mean, by the domain's formulas; a figure whose
/// fields have a problem is shown as "—", never as 958.3 % or −2300 %.
fn village_figures(app: &Crew, f: &FormScreen, w: usize) -> Vec<Line<'static>> {
    let l = app.lang;
    let d = &f.data;
    let threshold = app.settings.village_threshold;
    let sewage_bad = f.any_problem(Place::Visit, &["households", "hh_sewer", "hh_reuse", "hh_controlled"])
        || (0..d.facilities.len()).any(|i| f.any_problem(Place::Facility(i), &["households_served", "status"]));
    let garbage_bad = f.any_problem(Place::Visit, &["natural_villages", "nv_garbage_covered"]);
    let sewage = if sewage_bad {
        (format!("{}: {}", s::treated_share(l), s::no_figure(l)), DIM)
    } else {
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
        (
            format!(
                "{}: {treated}/{} = {} ({} {}) → {verdict}",
                s::treated_share(l),
                d.households,
                percent(share),
                pick(l, "标准", "threshold"),
                percent(Some(threshold))
            ),
            if ok { OK } else { WARN },
        )
    };
    let garbage = if garbage_bad {
        format!("{}: {}", s::garbage_coverage(l), s::no_figure(l))
    } else {
        format!(
            "{}: {}/{} = {}",
            s::garbage_coverage(l),
            d.nv_garbage_covered,
            d.natural_villages,
            percent(rate(d.nv_garbage_covered as f64, d.natural_villages as f64))
        )
    };
    vec![Line::styled(fit(&sewage.0, w), sewage.1), Line::raw(fit(&garbage, w))]
}

/// "养殖场 1/2 · 周家养猪场 生猪 …": the row selected in the list in front.
pub(super) fn selected_row(app: &Crew) -> Option<String> {
    let f = app.form.as_ref()?;
    let list = f.list()?;
    let i = f.row_sel[f.section - 1];
    (i < f.form.rows(list).len()).then(|| {
        format!(
            "{} {}/{} · {}",
            section_name(app.lang, f.section),
            i + 1,
            f.form.rows(list).len(),
            row_summary(app, f, list, i)
        )
    })
}

/// One line about a child row, with what its figures mean.
fn row_summary(app: &Crew, fs: &FormScreen, list: List, i: usize) -> String {
    let l = app.lang;
    let d = &fs.data;
    let fields = list.fields();
    let values = &fs.form.rows(list)[i].values;
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
            let keys = ["species", "head_on_hand", "annual_out", "manure_t", "utilized_pct"];
            let (tonnes, scale) = if fs.any_problem(list.place(i), &keys) {
                (s::no_figure(l).to_string(), s::no_figure(l))
            } else {
                let t = manure_produced_t(f.species, f.head_on_hand, f.annual_out, f.manure_t, c);
                let scale = if is_scale_farm(f.species, f.head_on_hand, f.annual_out, c) {
                    s::scale_farm(l)
                } else {
                    s::not_scale(l)
                };
                (format!("{t:.1}"), scale)
            };
            format!(
                "{} {} {}/{} → {} {tonnes} {} · {scale} · {} {}%",
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
            let keys = ["depth_cm", "transparency_cm", "do_mg_l", "nh3n_mg_l"];
            let verdict = if fs.any_problem(list.place(i), &keys) {
                s::no_figure(l).to_string()
            } else {
                let failures = black_odor_failures(w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l);
                let outcome = match water_outcome(w.listed, w.status, !failures.is_empty()) {
                    WaterOutcome::Relapsed => format!(" · {}", s::relapsed(l)),
                    WaterOutcome::Remediated => format!(" · {}", s::remediated(l)),
                    _ => String::new(),
                };
                if failures.is_empty() {
                    format!("{}{outcome}", s::not_black_odor(l))
                } else {
                    // Which measurement failed, and against what: 透明度 18 cm < 25 cm.
                    let why: Vec<String> = failures.iter().map(|x| s::odor_failure(l, x)).collect();
                    format!("{} ({}){outcome}", s::black_odor(l), why.join(pick(l, "，", ", ")))
                }
            };
            format!("{} {} {} {} → {verdict}", w.name, label("kind"), label("listed"), label("status"))
        }
    }
}
