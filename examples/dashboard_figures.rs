//! Prints how long the supervisor views take on a database (a program that
//! prints figures, not a timed test):
//!
//!     cargo run --release --example dashboard_figures -- /tmp/nat.db [AS_OF]
//!
//! Times the first frame (dashboard state at the top level), each drill-down
//! step along the biggest area, the visit list, an as-of change and a trend.

use std::time::Instant;

use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ruralsan::domain::settings::Settings;
use ruralsan::store::Store;
use ruralsan::strings::Lang;
use ruralsan::tui::app::draw_screen;
use ruralsan::tui::component::{Component, Ctx};
use ruralsan::tui::roles::Role;
use ruralsan::tui::supervisor::Supervisor;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: dashboard_figures DB [AS_OF]");
    let as_of = args.next().unwrap_or_else(|| "2025-12-31".into());
    let today = NaiveDate::parse_from_str(&as_of, "%Y-%m-%d")?;
    let mut store = Store::open(std::path::Path::new(&db))?;
    // The example's own connection: the store keeps its connection private.
    let conn = rusqlite::Connection::open(&db)?;
    let villages: i64 = conn.query_row("SELECT count(*) FROM roster WHERE is_village = 1", [], |r| r.get(0))?;
    let visits: i64 = conn.query_row("SELECT count(*) FROM visit", [], |r| r.get(0))?;
    println!("{db}: {villages} villages, {visits} visits, as of {as_of}");
    let mut term = Terminal::new(TestBackend::new(120, 40))?;
    let key = |c| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));

    // The parts of the first frame, each on its own (warm cache after the first).
    for round in 0..2 {
        let t = Instant::now();
        let top = store.village_span()?.top_level();
        let t_top = ms(t);
        let t = Instant::now();
        let sum = store.summary(&as_of, top, None, &Settings::default())?;
        let t_sum = ms(t);
        let t = Instant::now();
        let conf = store.conflicts_by_area(top.prefix_len(), "")?;
        println!(
            "round {round}: top level {top:?} {t_top:.0} ms, summary ({} areas) {t_sum:.0} ms, conflicts ({} areas) {:.0} ms",
            sum.areas.len(),
            conf.len(),
            ms(t)
        );
    }

    // As the terminal UI runs it: the first frame at once, the figures from
    // the worker thread drawn when they come.
    let t = Instant::now();
    let mut bg = Supervisor::background(&store, Settings::default(), Lang::Zh, today, None)?;
    term.draw(|f| {
        draw_screen(&bg, Role::Supervisor, Lang::Zh, f);
    })?;
    println!("background: first frame {:.0} ms (figures pending: {})", ms(t), bg.waiting());
    while bg.waiting() {
        bg.tick_waiting(&store, std::time::Duration::from_secs(600))?;
    }
    term.draw(|f| {
        draw_screen(&bg, Role::Supervisor, Lang::Zh, f);
    })?;
    println!("background: figures drawn {:.0} ms ({} areas)", ms(t), bg.page().order.len());
    // Then the checks, for the flagged counts.
    while bg.live.pending() {
        bg.tick_waiting(&store, std::time::Duration::from_secs(600))?;
    }
    term.draw(|f| {
        draw_screen(&bg, Role::Supervisor, Lang::Zh, f);
    })?;
    println!("background: flagged counts drawn {:.0} ms", ms(t));
    drop(bg);

    // Computed on this thread (as for an in-memory store), the figures and
    // the flagged counts together; the checks' set is kept for the views after.
    let t = Instant::now();
    let mut s = Supervisor::new(&store, Settings::default(), Lang::Zh, today)?;
    term.draw(|f| {
        draw_screen(&s, Role::Supervisor, Lang::Zh, f);
    })?;
    println!("first frame ({:?}, {} areas): {:.0} ms", s.page().level, s.page().order.len(), ms(t));

    // Drill down along the area with the most villages at each level.
    while s.visits.is_none() {
        let biggest = s.page().rows().enumerate().max_by_key(|(_, r)| r.figures.surveyed).map(|(i, _)| i);
        let Some(i) = biggest else { break };
        s.page_select(i);
        let name = s.page().selected_row().map(|r| r.name.clone()).unwrap_or_default();
        let t = Instant::now();
        s.handle(&key(KeyCode::Enter), &mut Ctx { store: &mut store })?;
        term.draw(|f| {
            draw_screen(&s, Role::Supervisor, Lang::Zh, f);
        })?;
        match &s.visits {
            Some(v) => println!("  visits of {name}: {} rows in {:.0} ms", v.rows.len(), ms(t)),
            None => println!("  into {name} ({:?}, {} areas): {:.0} ms", s.page().level, s.page().order.len(), ms(t)),
        }
    }
    for _ in 0..4 {
        s.handle(&key(KeyCode::Esc), &mut Ctx { store: &mut store })?;
    }
    let t = Instant::now();
    s.set_as_of("2024-06-30", &store)?;
    term.draw(|f| {
        draw_screen(&s, Role::Supervisor, Lang::Zh, f);
    })?;
    println!("as-of change with {} levels open: {:.0} ms", s.pages.len(), ms(t));
    for _ in 0..3 {
        let t = Instant::now();
        s.handle(&key(KeyCode::Char('t')), &mut Ctx { store: &mut store })?;
        term.draw(|f| {
            draw_screen(&s, Role::Supervisor, Lang::Zh, f);
        })?;
        let tr = s.trend.as_ref().expect("trend");
        println!("trend of {} ({:?}, {} quarters): {:.0} ms", tr.name, tr.level, tr.points.len(), ms(t));
        s.handle(&key(KeyCode::Esc), &mut Ctx { store: &mut store })?;
        s.handle(&key(KeyCode::Esc), &mut Ctx { store: &mut store })?;
    }
    println!("(the second and third trend come from the kept figures)");

    // The one-pass trend against one summary per quarter, same area and dates.
    if let Some(row) = s.page().selected_row().cloned() {
        let first = store.first_visit_date(&row.code)?.unwrap_or_else(|| as_of.clone());
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d");
        let dates: Vec<String> = ruralsan::tui::supervisor::trend::quarter_points(day(&first)?, day(&as_of)?)
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect();
        let settings = Settings::default();
        let t = Instant::now();
        store.trend(&row.code, &dates, &settings)?;
        let one = ms(t);
        let t = Instant::now();
        for d in &dates {
            store.summary(d, row.level, Some(&row.code), &settings)?;
        }
        println!(
            "trend of {} ({} dates): one pass {one:.0} ms, a summary per date {:.0} ms",
            row.code,
            dates.len(),
            ms(t)
        );
    }
    Ok(())
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
