//! The supervisor's figures come from a worker thread: the first frame is
//! drawn before they arrive, Esc cancels, returning to a view is served from
//! the kept figures, other connections' writes are noticed on the next tick,
//! and the trend's one pass equals a summary per quarter.

mod common;

use std::sync::mpsc::{Sender, channel};
use std::time::Duration;

use chrono::NaiveDate;
use common::sample;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ruralsan::domain::Level;
use ruralsan::domain::indicators::Figures;
use ruralsan::domain::settings::Settings;
use ruralsan::store::Store;
use ruralsan::strings::Lang;
use ruralsan::strings::supervisor as s;
use ruralsan::tui::app::draw_screen;
use ruralsan::tui::component::{Component, Ctx};
use ruralsan::tui::roles::Role;
use ruralsan::tui::supervisor::Supervisor;
use ruralsan::tui::supervisor::trend::quarter_points;

const AS_OF: &str = "2025-12-31";
/// Only a guard against a hung worker, never a measure: figures of the
/// sample come in milliseconds.
const PATIENCE: Duration = Duration::from_secs(60);

fn fixture() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store.import_bundle(&sample("sample"), false).unwrap();
    (dir, store)
}

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap()
}

/// A supervisor whose worker computes one request per `()` sent on the gate.
fn gated(store: &Store, lang: Lang) -> (Supervisor, Sender<()>) {
    let (go, gate) = channel();
    (Supervisor::background(store, Settings::default(), lang, today(), Some(gate)).unwrap(), go)
}

fn free(store: &Store) -> Supervisor {
    Supervisor::background(store, Settings::default(), Lang::Zh, today(), None).unwrap()
}

fn press(sup: &mut Supervisor, store: &mut Store, code: KeyCode) {
    sup.handle(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), &mut Ctx { store }).unwrap();
}

/// The summary the dashboard shows once every figure is in: with the flagged counts.
fn full(store: &Store, level: Level, within: Option<&str>) -> ruralsan::store::summary::Summary {
    let counting = ruralsan::store::summary::Counting { flagged: true, ..Default::default() };
    store.summary_counting(AS_OF, level, within, &Settings::default(), counting).unwrap()
}

/// Ticks until the view shows figures.
fn until_shown(sup: &mut Supervisor, store: &Store) {
    while sup.waiting() {
        sup.tick_waiting(store, PATIENCE).unwrap();
    }
}

/// Ticks until the request out (if any) has come back.
fn settle(sup: &mut Supervisor, store: &Store) {
    while sup.live.pending() {
        sup.tick_waiting(store, PATIENCE).unwrap();
    }
}

fn screen(sup: &Supervisor, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| {
        draw_screen(sup, Role::Supervisor, sup.lang, f);
    })
    .unwrap();
    term
}

fn text(sup: &Supervisor) -> String {
    screen(sup, 120, 40).backend().to_string()
}

#[test]
fn the_first_frame_is_drawn_before_the_figures_which_then_equal_summary() {
    let (_d, mut store) = fixture();
    for lang in [Lang::Zh, Lang::En] {
        let (mut sup, go) = gated(&store, lang);
        assert!(sup.waiting() && sup.live.pending());
        let first = text(&sup);
        assert!(first.contains(s::computing(lang)), "{first}");
        assert!(!first.contains(s::total(lang)), "no total row of zeros: {first}");
        let l = if lang == Lang::Zh { "zh" } else { "en" };
        for (w, h) in [(80, 24), (120, 40)] {
            insta::assert_snapshot!(format!("pending_{l}_{w}x{h}"), screen(&sup, w, h).backend());
        }
        // Keys work meanwhile: the as-of input opens and closes, moving does nothing harmful.
        press(&mut sup, &mut store, KeyCode::Down);
        press(&mut sup, &mut store, KeyCode::Char('d'));
        assert!(sup.date_input.is_some());
        press(&mut sup, &mut store, KeyCode::Esc);
        assert!(sup.date_input.is_none() && sup.live.pending(), "Esc closed the input, not the computation");
        go.send(()).unwrap();
        until_shown(&mut sup, &store);
        // The figures first, then the checks run for the flagged counts.
        let plain = store.summary(AS_OF, Level::County, None, &Settings::default()).unwrap();
        assert_eq!(sup.page().summary, plain);
        assert!(sup.live.pending(), "the flagged counts are asked for next");
        // The detail box shows the selected area's review standing.
        let t = &sup.page().selected_row().unwrap().figures;
        let between = text(&sup);
        assert!(between.contains(&s::review_line(lang, t.approved, t.surveyed, None, true)), "{between}");
        go.send(()).unwrap();
        settle(&mut sup, &store);
        let expected = full(&store, Level::County, None);
        assert!(expected.flagged_checked && expected.total.flagged > 0, "the sample trips checks");
        assert_eq!(sup.page().summary, expected);
        assert!(!sup.waiting());
        let after = text(&sup);
        assert!(after.contains(s::total(lang)) && !after.contains(s::computing(lang)), "{after}");
        let t = &sup.page().selected_row().unwrap().figures;
        assert!(after.contains(&s::review_line(lang, t.approved, t.surveyed, Some(t.flagged), false)), "{after}");
        assert_eq!(sup.live.computed, 2);
    }
}

#[test]
fn esc_cancels_the_pending_computation_and_nothing_stale_is_shown() {
    let (_d, mut store) = fixture();
    let (mut sup, go) = gated(&store, Lang::En);
    // The figures, then the flagged counts.
    go.send(()).unwrap();
    go.send(()).unwrap();
    settle(&mut sup, &store);
    // Into a county: its figures are pending; Esc stops them (not "back").
    press(&mut sup, &mut store, KeyCode::Enter);
    assert_eq!(sup.pages.len(), 2);
    assert!(sup.live.pending());
    press(&mut sup, &mut store, KeyCode::Esc);
    assert!(!sup.live.pending() && sup.cancelled);
    assert_eq!(sup.pages.len(), 2, "Esc cancelled, it did not go back");
    // The worker is let go: what it would send is dropped.
    go.send(()).unwrap();
    sup.tick_waiting(&store, Duration::from_millis(200)).unwrap();
    assert!(sup.page().shown.is_none() && sup.page().summary.areas.is_empty());
    assert_eq!(sup.live.computed, 2, "the cancelled computation delivered nothing");
    let shown = text(&sup);
    assert!(shown.contains(s::cancelled(Lang::En)), "{shown}");
    assert!(!shown.contains(s::total(Lang::En)), "no zeros: {shown}");
    // A tick does not ask again; F5 does.
    sup.tick(&store).unwrap();
    assert!(!sup.live.pending());
    press(&mut sup, &mut store, KeyCode::F(5));
    assert!(sup.live.pending() && !sup.cancelled);
    go.send(()).unwrap();
    go.send(()).unwrap();
    settle(&mut sup, &store);
    let within = sup.page().within.clone();
    assert_eq!(sup.page().summary, full(&store, Level::Township, within.as_deref()));
    // Esc with nothing pending goes back as before.
    press(&mut sup, &mut store, KeyCode::Esc);
    assert_eq!(sup.pages.len(), 1);
    // Into another county: once its figures are shown, with the flagged
    // counts still coming, Esc goes back and keeps nothing cancelled.
    press(&mut sup, &mut store, KeyCode::Down);
    press(&mut sup, &mut store, KeyCode::Enter);
    go.send(()).unwrap();
    until_shown(&mut sup, &store);
    assert!(sup.live.pending(), "the flagged counts are coming");
    let hints = screen(&sup, 120, 40).backend().to_string();
    assert!(!hints.contains(s::k_stop(Lang::En)), "no 'Esc cancel' once figures are shown: {hints}");
    press(&mut sup, &mut store, KeyCode::Esc);
    assert_eq!(sup.pages.len(), 1, "Esc went back");
    assert!(!sup.cancelled && !sup.waiting());
}

#[test]
fn returning_to_a_view_is_served_from_the_kept_figures() {
    let (_d, mut store) = fixture();
    let mut sup = free(&store);
    settle(&mut sup, &store);
    assert_eq!(sup.live.computed, 2, "the figures, then the flagged counts");
    press(&mut sup, &mut store, KeyCode::Enter);
    settle(&mut sup, &store);
    assert_eq!(sup.live.computed, 4);
    let county = sup.page().summary.clone();
    // Back and in again: nothing computed, nothing pending.
    press(&mut sup, &mut store, KeyCode::Esc);
    assert!(!sup.live.pending());
    press(&mut sup, &mut store, KeyCode::Enter);
    assert!(!sup.live.pending() && !sup.waiting());
    assert_eq!(sup.page().summary, county);
    // A trend, away and back.
    press(&mut sup, &mut store, KeyCode::Char('t'));
    settle(&mut sup, &store);
    assert_eq!(sup.live.computed, 5, "a trend has no flagged counts");
    press(&mut sup, &mut store, KeyCode::Esc);
    press(&mut sup, &mut store, KeyCode::Char('t'));
    assert!(!sup.waiting());
    press(&mut sup, &mut store, KeyCode::Esc);
    // Another date and back to this one.
    sup.set_as_of("2024-06-30", &store).unwrap();
    settle(&mut sup, &store);
    assert_eq!(sup.live.computed, 7);
    sup.set_as_of(AS_OF, &store).unwrap();
    sup.tick(&store).unwrap();
    assert!(!sup.waiting() && !sup.live.pending());
    assert_eq!(sup.page().summary, county);
    assert_eq!(sup.live.computed, 7);
}

#[test]
fn a_write_by_another_connection_is_recomputed_on_the_next_tick() {
    let (d, store) = fixture();
    let mut sup = free(&store);
    settle(&mut sup, &store);
    let before = sup.page().summary.clone();
    // Nothing written: a tick computes nothing.
    sup.tick(&store).unwrap();
    assert!(!sup.live.pending());
    assert_eq!(sup.live.computed, 2);
    // Another process removes a village's visits.
    let other = rusqlite::Connection::open(d.path().join("t.db")).unwrap();
    let village: String = other.query_row("SELECT village_code FROM visit LIMIT 1", [], |r| r.get(0)).unwrap();
    // (as the store writes: the visit rows and their figures together)
    other.execute("DELETE FROM visit WHERE village_code = ?1", [&village]).unwrap();
    other.execute("DELETE FROM visit_figures WHERE village_code = ?1", [&village]).unwrap();
    sup.tick(&store).unwrap();
    assert!(sup.live.pending(), "noticed on the next tick");
    assert!(!sup.waiting(), "the old figures stay up while the new ones come");
    settle(&mut sup, &store);
    assert_eq!(sup.live.computed, 4);
    let after = full(&store, Level::County, None);
    assert_ne!(after.total, before.total);
    assert_eq!(sup.page().summary, after);
    // The app's own writes count too.
    store.set_meta("note", "x").unwrap();
    sup.tick(&store).unwrap();
    assert!(sup.live.pending());
    settle(&mut sup, &store);
    assert_eq!(sup.live.computed, 6);
}

#[test]
fn the_one_pass_trend_equals_a_summary_per_quarter() {
    let (_d, store) = fixture();
    let settings = Settings::default();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let dates: Vec<String> =
        quarter_points(day("2021-01-01"), day(AS_OF)).iter().map(|d| d.format("%Y-%m-%d").to_string()).collect();
    assert!(dates.len() >= 10);
    let counties = store.summary(AS_OF, Level::County, None, &settings).unwrap();
    let mut areas: Vec<(Level, String)> = vec![(Level::County, String::new())];
    areas.extend(counties.areas.iter().map(|a| (a.level, a.code.clone())));
    let village = store.village_status(AS_OF, None, &settings).unwrap();
    let visited = village.iter().find(|v| v.counting_date.is_some()).unwrap();
    areas.push((Level::Village, visited.row.code.clone()));
    for (level, code) in areas {
        let within = (!code.is_empty()).then_some(code.as_str());
        let one_pass = store.trend(&code, &dates, &settings).unwrap();
        for (d, f) in dates.iter().zip(&one_pass) {
            same(f, &store.summary(d, level, within, &settings).unwrap().total, &format!("{code} as of {d}"));
        }
    }
    // Settings reach the trend too.
    let mut strict = settings.clone();
    strict.village_threshold = 1.0;
    let a = store.trend("", &dates, &strict).unwrap();
    let b = store.summary(AS_OF, Level::County, None, &strict).unwrap().total;
    same(a.last().unwrap(), &b, "strict");
    assert_ne!(
        b.villages_treated,
        store.summary(AS_OF, Level::County, None, &settings).unwrap().total.villages_treated
    );
}

/// Equal figures: counts exactly; tonnes up to the order of summing (the
/// summary adds per area first, the trend per village).
fn same(a: &Figures, b: &Figures, what: &str) {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    assert!(close(a.produced_t, b.produced_t) && close(a.utilized_t, b.utilized_t), "{what}: {a:?} {b:?}");
    let ints = Figures { produced_t: 0.0, utilized_t: 0.0, ..*a };
    assert_eq!(ints, Figures { produced_t: 0.0, utilized_t: 0.0, ..*b }, "{what}");
}
