//! The supervisor views: figures equal `Store::summary`, key sequences for
//! drill-down, sort and as-of, and snapshots of every screen in Chinese and
//! English at 80×24 and 120×40 on the sample bundle.

mod common;

use chrono::NaiveDate;
use common::sample;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ruralsan::domain::Level;
use ruralsan::domain::indicators::{Indicator, misses_target};
use ruralsan::domain::settings::Settings;
use ruralsan::store::Store;
use ruralsan::strings::Lang;
use ruralsan::tui::app::draw_screen;
use ruralsan::tui::component::{Action, Component, Ctx};
use ruralsan::tui::roles::{Role, RoleBar};
use ruralsan::tui::supervisor::visits::Standing;
use ruralsan::tui::supervisor::{SortColumn, Supervisor};

const AS_OF: &str = "2025-12-31";

/// The figures a dashboard view shows once everything is in: the summary
/// with the flagged counting visits (the checks run after the figures).
fn shown(
    store: &Store,
    as_of: &str,
    level: Level,
    within: Option<&str>,
    settings: &Settings,
) -> anyhow::Result<ruralsan::store::summary::Summary> {
    let counting = ruralsan::store::summary::Counting { flagged: true, ..Default::default() };
    store.summary_counting(as_of, level, within, settings, counting)
}

fn fixture() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store.import_bundle(&sample("sample"), false).unwrap();
    (dir, store)
}

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap()
}

fn sup(store: &Store, lang: Lang) -> Supervisor {
    Supervisor::new(store, Settings::default(), lang, today()).unwrap()
}

fn press(s: &mut Supervisor, store: &mut Store, code: KeyCode) -> Action {
    s.handle(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), &mut Ctx { store }).unwrap()
}

/// Draws the supervisor as the app draws it: role bar, the views, key bar.
fn draw_standalone(s: &Supervisor, f: &mut ratatui::Frame) {
    draw_screen(s, Role::Supervisor, s.lang, f);
}

fn keys(s: &mut Supervisor, store: &mut Store, codes: &[KeyCode]) {
    for c in codes {
        press(s, store, *c);
    }
}

fn type_text(s: &mut Supervisor, store: &mut Store, text: &str) {
    for c in text.chars() {
        press(s, store, KeyCode::Char(c));
    }
}

#[test]
fn the_first_screen_shows_the_same_figures_as_summary() {
    let (_d, store) = fixture();
    let s = sup(&store, Lang::Zh);
    let settings = Settings::default();
    // The sample is one city: the top level is county.
    assert_eq!(s.page().level, Level::County);
    let expected = shown(&store, AS_OF, Level::County, None, &settings).unwrap();
    assert_eq!(s.page().summary, expected);
    // And the same as the shared conformance file for this date.
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sample("sample").join("expected_county_2025-12-31.json")).unwrap(),
    )
    .unwrap();
    let ours = ruralsan::report::summary::to_json(&s.page().summary);
    let names = |v: &serde_json::Value| -> Vec<(String, i64, i64)> {
        v["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["code"].as_str().unwrap().to_string(),
                    a["villages"].as_i64().unwrap(),
                    a["surveyed"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(names(&ours), names(&file));
    for (a, b) in ours["areas"].as_array().unwrap().iter().zip(file["areas"].as_array().unwrap()) {
        for (group, key) in [
            ("sewage", "rate"),
            ("garbage", "rate"),
            ("manure", "rate"),
            ("black_odor", "rate"),
            ("manure", "equipping_rate"),
        ] {
            let (x, y) = (a[group][key].as_f64(), b[group][key].as_f64());
            assert!(
                match (x, y) {
                    (Some(x), Some(y)) => (x - y).abs() < 1e-9,
                    (None, None) => true,
                    _ => false,
                },
                "{} {group}.{key}: {x:?} vs {y:?}",
                a["code"]
            );
        }
    }
}

#[test]
fn drill_down_to_a_villages_visits_and_back() {
    let (_d, mut store) = fixture();
    let settings = Settings::default();
    let mut s = sup(&store, Lang::Zh);
    // 攸县 is the 6th area by code (云龙示范区 has no administrative village).
    keys(&mut s, &mut store, &[KeyCode::Down; 5]);
    let county = s.page().selected_row().unwrap().clone();
    assert_eq!(county.name, "攸县");
    press(&mut s, &mut store, KeyCode::Enter);
    assert_eq!(s.page().level, Level::Township);
    assert_eq!(s.page().within.as_deref(), Some(county.code.as_str()));
    assert_eq!(s.page().summary, shown(&store, AS_OF, Level::Township, Some(&county.code), &settings).unwrap());
    // The townships add up to the county row (tonnes summed in another order differ in the last bit).
    let (mut sum, mut row) = (s.page().summary.total, county.figures);
    assert!((sum.produced_t - row.produced_t).abs() < 1e-6 && (sum.utilized_t - row.utilized_t).abs() < 1e-6);
    (sum.produced_t, sum.utilized_t, row.produced_t, row.utilized_t) = (0.0, 0.0, 0.0, 0.0);
    assert_eq!(sum, row);

    let township = s.page().selected_row().unwrap().clone();
    press(&mut s, &mut store, KeyCode::Enter);
    assert_eq!(s.page().level, Level::Village);
    assert_eq!(s.page().summary, shown(&store, AS_OF, Level::Village, Some(&township.code), &settings).unwrap());
    assert!(s.page().rows().all(|r| r.code.starts_with(&township.code)));

    // The first surveyed village.
    let with_visits = s.page().rows().position(|r| r.figures.surveyed == 1).unwrap();
    keys(&mut s, &mut store, &[KeyCode::Home]);
    keys(&mut s, &mut store, &vec![KeyCode::Down; with_visits]);
    let village = s.page().selected_row().unwrap().clone();
    press(&mut s, &mut store, KeyCode::Enter);
    let v = s.visits.as_ref().expect("the visit list is open");
    assert_eq!(v.code, village.code);
    let n: i64 = common::sql(&store)
        .query_row("SELECT count(*) FROM visit WHERE village_code = ?1", [&village.code], |r| r.get(0))
        .unwrap();
    assert_eq!(v.rows.len() as i64, n);
    assert!(v.rows.windows(2).all(|w| w[0].survey_date >= w[1].survey_date), "newest first");
    assert_eq!(v.rows.iter().filter(|r| r.standing == Standing::Counting).count(), 1);
    for (table, got) in [
        ("facility", v.rows.iter().map(|r| r.facilities).sum::<i64>()),
        ("farm", v.rows.iter().map(|r| r.farms).sum()),
        ("water_body", v.rows.iter().map(|r| r.water_bodies).sum()),
    ] {
        let want: i64 = common::sql(&store)
            .query_row(
                &format!("SELECT count(*) FROM {table} JOIN visit USING (visit_id) WHERE village_code = ?1"),
                [&village.code],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(got, want, "{table}");
    }
    // Read-only: sort and drill keys do nothing here.
    assert_eq!(press(&mut s, &mut store, KeyCode::Char('s')), Action::Ignored);

    assert_eq!(press(&mut s, &mut store, KeyCode::Esc), Action::Handled);
    assert!(s.visits.is_none());
    assert_eq!(s.page().selected_row().unwrap().code, village.code, "back where we were");
    keys(&mut s, &mut store, &[KeyCode::Esc, KeyCode::Esc]);
    assert_eq!(s.page().level, Level::County);
    assert_eq!(s.page().selected_row().unwrap().code, county.code);
    assert_eq!(press(&mut s, &mut store, KeyCode::Esc), Action::Ignored, "Esc at the top is the app's");
    assert_eq!(press(&mut s, &mut store, KeyCode::Char('q')), Action::Quit);
}

#[test]
fn sort_cycles_reverses_and_puts_missed_targets_first() {
    let (_d, mut store) = fixture();
    let mut s = sup(&store, Lang::En);
    let codes = |s: &Supervisor| s.page().rows().map(|r| r.code.clone()).collect::<Vec<_>>();
    let mut by_code = codes(&s);
    by_code.sort();
    assert_eq!(codes(&s), by_code);

    keys(&mut s, &mut store, &[KeyCode::Char('s'); 3]);
    assert_eq!(s.sort.column, SortColumn::Indicator(Indicator::Sewage));
    let rates = |s: &Supervisor| s.page().rows().map(|r| r.figures.rates().sewage.unwrap()).collect::<Vec<_>>();
    let r = rates(&s);
    assert!(r.windows(2).all(|w| w[0] <= w[1]), "ascending: {r:?}");
    assert!(r.first() < r.last(), "the sample's counties differ");

    press(&mut s, &mut store, KeyCode::Char('r'));
    let r = rates(&s);
    assert!(r.windows(2).all(|w| w[0] >= w[1]), "descending: {r:?}");

    // Black-odour: some counties meet 40 %, some miss it.
    keys(&mut s, &mut store, &[KeyCode::Char('s'), KeyCode::Char('s'), KeyCode::Char('s')]);
    assert_eq!(s.sort.column, SortColumn::Indicator(Indicator::BlackOdor));
    press(&mut s, &mut store, KeyCode::Char('r')); // descending: met ones would come first
    press(&mut s, &mut store, KeyCode::Char('b'));
    let target = Settings::default().targets.black_odor;
    let missed: Vec<bool> = s.page().rows().map(|r| misses_target(r.figures.rates().black_odor, target)).collect();
    assert!(missed.contains(&true) && missed.contains(&false));
    let first_met = missed.iter().position(|m| !m).unwrap();
    assert!(missed[..first_met].iter().all(|m| *m) && missed[first_met..].iter().all(|m| !m), "{missed:?}");

    // S goes back one column; the cycle wraps.
    press(&mut s, &mut store, KeyCode::Char('S'));
    assert_eq!(s.sort.column, SortColumn::Indicator(Indicator::Manure));
    keys(&mut s, &mut store, &[KeyCode::Char('s'); 10]);
    assert_eq!(s.sort.column, SortColumn::Indicator(Indicator::Manure));
}

#[test]
fn changing_the_as_of_date_recomputes_every_open_level() {
    let (_d, mut store) = fixture();
    let settings = Settings::default();
    let mut s = sup(&store, Lang::Zh);
    keys(&mut s, &mut store, &[KeyCode::Down, KeyCode::Enter]);
    let county = s.page().within.clone().unwrap();
    let township = s.page().selected_row().unwrap().code.clone();

    press(&mut s, &mut store, KeyCode::Char('d'));
    assert_eq!(s.date_input.as_ref().unwrap().text, AS_OF);
    keys(&mut s, &mut store, &[KeyCode::Backspace; 10]);
    type_text(&mut s, &mut store, "2024-13-01");
    press(&mut s, &mut store, KeyCode::Enter);
    assert!(s.date_input.as_ref().unwrap().error.is_some(), "month 13 is refused");
    assert_eq!(s.as_of, AS_OF);

    keys(&mut s, &mut store, &[KeyCode::Backspace; 5]);
    type_text(&mut s, &mut store, "06-30x"); // x is not a date character and is dropped
    // A key release is not a press: ignored.
    let release = KeyEvent { kind: KeyEventKind::Release, ..KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE) };
    s.handle(&Event::Key(release), &mut Ctx { store: &mut store }).unwrap();
    assert!(s.date_input.is_some());
    press(&mut s, &mut store, KeyCode::Enter);
    assert!(s.date_input.is_none());
    assert_eq!(s.as_of, "2024-06-30");
    assert_eq!(s.page().summary, shown(&store, "2024-06-30", Level::Township, Some(&county), &settings).unwrap());
    assert_eq!(s.page().selected_row().unwrap().code, township, "selection kept");
    // Back up, the county level shows the new date's figures too.
    press(&mut s, &mut store, KeyCode::Esc);
    assert_eq!(s.page().summary, shown(&store, "2024-06-30", Level::County, None, &settings).unwrap());
    assert_ne!(s.page().summary.total, store.summary(AS_OF, Level::County, None, &settings).unwrap().total);
    assert_eq!(s.page().selected_row().unwrap().code, county, "selection kept");
    // A visit list and a trend opened over a level follow the date as well.
    keys(&mut s, &mut store, &[KeyCode::Enter, KeyCode::Enter, KeyCode::Enter, KeyCode::Char('t')]);
    let village = s.visits.as_ref().unwrap().code.clone();
    press(&mut s, &mut store, KeyCode::Char('d'));
    keys(&mut s, &mut store, &[KeyCode::Backspace; 10]);
    type_text(&mut s, &mut store, "2023-06-30");
    press(&mut s, &mut store, KeyCode::Enter);
    let t = s.trend.as_ref().unwrap();
    assert_eq!(t.as_of, "2023-06-30");
    assert!(t.points.iter().all(|p| p.date.to_string().as_str() <= "2023-06-30"));
    press(&mut s, &mut store, KeyCode::Esc);
    let v = s.visits.as_ref().unwrap();
    assert_eq!(v.code, village);
    assert!(v.rows.iter().all(|r| (r.standing == Standing::After) == (r.survey_date.as_str() > "2023-06-30")));
    keys(&mut s, &mut store, &[KeyCode::Esc, KeyCode::Esc]);
    assert_eq!(s.page().summary, shown(&store, "2023-06-30", Level::Township, Some(&county), &settings).unwrap());
    press(&mut s, &mut store, KeyCode::Esc);
    assert_eq!(s.page().summary, shown(&store, "2023-06-30", Level::County, None, &settings).unwrap());

    // Esc cancels without change.
    press(&mut s, &mut store, KeyCode::Char('d'));
    type_text(&mut s, &mut store, "1");
    press(&mut s, &mut store, KeyCode::Esc);
    assert_eq!(s.as_of, "2023-06-30");
    assert!(s.date_input.is_none());
}

#[test]
fn the_trend_has_a_point_per_quarter_end_matching_summary() {
    let (_d, mut store) = fixture();
    let settings = Settings::default();
    let mut s = sup(&store, Lang::Zh);
    keys(&mut s, &mut store, &[KeyCode::Down; 5]);
    let county = s.page().selected_row().unwrap().clone();
    press(&mut s, &mut store, KeyCode::Char('t'));
    let t = s.trend.as_ref().expect("trend open");
    let first: String = common::sql(&store)
        .query_row("SELECT min(survey_date) FROM visit WHERE village_code LIKE ?1 || '%'", [&county.code], |r| r.get(0))
        .unwrap();
    assert!(t.points[0].date.format("%Y-%m-%d").to_string() >= first);
    assert!(t.points.iter().all(|p| *p.date.format("%Y-%m-%d").to_string() <= *AS_OF));
    assert_eq!(t.points.last().unwrap().rates, county.figures.rates(), "the last point is the dashboard's row");
    for p in &t.points {
        let d = p.date.format("%Y-%m-%d").to_string();
        assert!(
            d.ends_with("-03-31") || d.ends_with("-06-30") || d.ends_with("-09-30") || d.ends_with("-12-31"),
            "{d}"
        );
        let sum = store.summary(&d, Level::County, Some(&county.code), &settings).unwrap();
        assert_eq!(p.rates, sum.total.rates());
    }
    assert!(t.points.len() >= 8, "the sample spans years: {}", t.points.len());
    press(&mut s, &mut store, KeyCode::Right);
    assert_eq!(s.trend.as_ref().unwrap().indicator(), Indicator::Garbage);
    press(&mut s, &mut store, KeyCode::Esc);
    assert!(s.trend.is_none());
    assert_eq!(s.page().level, Level::County);
}

#[test]
fn the_role_bar_names_every_role_and_its_key() {
    let backend = TestBackend::new(80, 1);
    let mut term = Terminal::new(backend).unwrap();
    for (lang, names) in [
        (Lang::Zh, ["村组调查", "县级汇总/合并", "督导看板"]),
        (Lang::En, ["Crew survey", "County merge", "Supervisor"]),
    ] {
        term.draw(|f| f.render_widget(&RoleBar { lang, active: Role::Crew }, f.area())).unwrap();
        let line = term.backend().to_string();
        for (k, n) in ["F2", "F3", "F4"].iter().zip(names) {
            assert!(line.contains(&format!("{k} {n}")), "{line}");
        }
        assert!(line.contains("▶[F2"), "the active role is marked without colour: {line}");
        assert!(!line.contains("F1"), "F1 is help, as in the crew screens: {line}");
    }
}

/// Every screen, drawn as the standalone dashboard draws it.
fn screens(store: &mut Store, lang: Lang) -> Vec<(&'static str, Supervisor)> {
    let mut out = Vec::new();
    let mut s = sup(store, lang);
    out.push(("counties", sup(store, lang)));
    keys(&mut s, store, &[KeyCode::Down; 5]);
    keys(&mut s, store, &[KeyCode::Enter]);
    let mut t = sup(store, lang);
    keys(&mut t, store, &[KeyCode::Down; 5]);
    keys(
        &mut t,
        store,
        &[KeyCode::Enter, KeyCode::Char('s'), KeyCode::Char('s'), KeyCode::Char('s'), KeyCode::Char('b')],
    );
    out.push(("townships_sorted", t));
    let mut v = sup(store, lang);
    keys(&mut v, store, &[KeyCode::Down; 5]);
    keys(&mut v, store, &[KeyCode::Enter, KeyCode::Enter]);
    out.push(("villages", v));
    // A long list scrolled to its end: header and total stay on top.
    let mut long = sup(store, lang);
    keys(&mut long, store, &[KeyCode::Down; 5]);
    keys(&mut long, store, &[KeyCode::Enter]);
    let most = long
        .page()
        .rows()
        .enumerate()
        .max_by_key(|(_, r)| (r.figures.villages, std::cmp::Reverse(r.code.clone())))
        .unwrap()
        .0;
    long.page_select(most);
    keys(&mut long, store, &[KeyCode::Enter, KeyCode::End]);
    out.push(("villages_scrolled", long));
    let mut vis = sup(store, lang);
    keys(&mut vis, store, &[KeyCode::Down; 5]);
    keys(&mut vis, store, &[KeyCode::Enter, KeyCode::Enter, KeyCode::Enter]);
    out.push(("visits", vis));
    let mut tr = sup(store, lang);
    keys(&mut tr, store, &[KeyCode::Down; 5]);
    keys(&mut tr, store, &[KeyCode::Char('t')]);
    out.push(("trend", tr));
    let mut d = sup(store, lang);
    keys(&mut d, store, &[KeyCode::Char('d'), KeyCode::Backspace, KeyCode::Backspace, KeyCode::Backspace]);
    type_text(&mut d, store, "-32x");
    keys(&mut d, store, &[KeyCode::Enter]);
    out.push(("as_of_input_error", d));
    let mut h = sup(store, lang);
    keys(&mut h, store, &[KeyCode::Char('?')]);
    out.push(("help", h));
    out
}

#[test]
fn snapshots_of_every_screen() {
    let (_d, mut store) = fixture();
    for lang in [Lang::Zh, Lang::En] {
        for (name, s) in screens(&mut store, lang) {
            for (w, h) in [(80, 24), (120, 40)] {
                let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
                term.draw(|f| draw_standalone(&s, f)).unwrap();
                let l = if lang == Lang::Zh { "zh" } else { "en" };
                insta::assert_snapshot!(format!("{name}_{l}_{w}x{h}"), term.backend());
            }
        }
    }
}

#[test]
fn open_conflicts_are_counted_per_area() {
    let (_d, mut store) = fixture();
    let s = sup(&store, Lang::Zh);
    for r in Role::ALL {
        assert_eq!(Role::from_key(r.key_code()), Some(r));
    }
    assert_eq!(Role::from_key(KeyCode::F(1)), None);
    assert!(s.page().rows().all(|r| s.page().conflicts_of(&r.code) == Some(0)));
    // A second head for one visit in 攸县 (430223) is an open conflict there.
    let visit: String = common::sql(&store)
        .query_row("SELECT visit_id FROM visit WHERE village_code LIKE '430223%' ORDER BY visit_id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    common::sql(&store).execute("INSERT INTO head (visit_id, rev_id) VALUES (?1, 'other-head')", [&visit]).unwrap();
    let mut s = sup(&store, Lang::Zh);
    assert_eq!(s.page().conflicts_of("430223"), Some(1));
    assert_eq!(s.page().conflicts_of("430224"), Some(0));
    // Sorting by the conflict column (descending by default) puts it first.
    while s.sort.column != SortColumn::Conflicts {
        press(&mut s, &mut store, KeyCode::Char('s'));
    }
    assert_eq!(s.page().rows().next().unwrap().code, "430223");
    // Inside the county, the township of that village carries it.
    press(&mut s, &mut store, KeyCode::Home);
    press(&mut s, &mut store, KeyCode::Enter);
    let village: String = common::sql(&store)
        .query_row("SELECT village_code FROM visit WHERE visit_id = ?1", [&visit], |r| r.get(0))
        .unwrap();
    assert_eq!(s.page().conflicts_of(&village[..9]), Some(1));
    // The per-area counts add up to the store's own count of open conflicts.
    let per_area: i64 = s.pages[0].conflicts.as_ref().unwrap().values().sum();
    assert_eq!(per_area, ruralsan::store::conflict::open_conflicts(&common::sql(&store)).unwrap());
    assert_eq!(per_area, s.pages[0].summary.open_conflicts);
    // An edit against a deletion that the deletion wins has no current row:
    // the conflict is still placed, by its heads' payload. (The head's
    // payload is kept in the current rows until they go: written back
    // first, as the store does when a deletion wins.)
    let c = common::sql(&store);
    let rev: String = c.query_row("SELECT rev_id FROM visit WHERE visit_id = ?1", [&visit], |r| r.get(0)).unwrap();
    let payload = ruralsan::store::revisions::load_revision(&c, &rev).unwrap().unwrap().payload;
    c.execute("UPDATE revision SET payload = ?2 WHERE rev_id = ?1", [&rev, &payload]).unwrap();
    c.execute("DELETE FROM visit WHERE visit_id = ?1", [&visit]).unwrap();
    drop(c);
    let s = sup(&store, Lang::Zh);
    assert_eq!(s.page().conflicts_of("430223"), Some(1));
}

#[test]
fn the_top_level_is_the_coarsest_with_more_than_one_area() {
    let (_d, mut store) = fixture();
    let add = |code: &str| {
        common::sql(&store)
            .execute("INSERT INTO roster (code, name, is_village) VALUES (?1, '某村', 1)", [code])
            .unwrap();
    };
    // Another city of Hunan: the dashboard opens on cities.
    add("430381001201");
    assert_eq!(sup(&store, Lang::Zh).page().level, Level::City);
    // A village of Shandong: on provinces, named (the roster names none).
    add("370781001201");
    let mut s = sup(&store, Lang::Zh);
    assert_eq!(s.page().level, Level::Province);
    let names: Vec<String> =
        s.page().rows().map(|r| ruralsan::tui::supervisor::dashboard::area_name(r, Lang::Zh)).collect();
    assert_eq!(names, ["山东省", "湖南省"]);
    assert_eq!(s.page().summary, shown(&store, AS_OF, Level::Province, None, &Settings::default()).unwrap());
    // Province → city → county → township.
    keys(&mut s, &mut store, &[KeyCode::Down, KeyCode::Enter]);
    assert_eq!((s.page().level, s.page().within.as_deref()), (Level::City, Some("43")));
    keys(&mut s, &mut store, &[KeyCode::Enter]);
    assert_eq!((s.page().level, s.page().within.as_deref()), (Level::County, Some("4302")));
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| draw_standalone(&s, f)).unwrap();
    assert!(term.backend().to_string().contains("全部 › 湖南省 › 4302"), "{}", term.backend());
}

#[test]
fn every_screen_draws_at_any_size_without_panicking() {
    let (_d, mut store) = fixture();
    for (name, s) in screens(&mut store, Lang::Zh) {
        for (w, h) in [(1, 1), (7, 3), (20, 5), (40, 10), (79, 15), (200, 60)] {
            let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
            term.draw(|f| draw_standalone(&s, f)).unwrap_or_else(|e| panic!("{name} at {w}x{h}: {e}"));
            if w >= 20 {
                let top: String = (0..w).map(|x| term.backend().buffer()[(x, 0)].symbol().to_string()).collect();
                assert!(top.contains("F2"), "{name} at {w}x{h}: role bar is {top:?}");
            }
        }
    }
}

#[test]
fn an_empty_database_shows_an_empty_dashboard() {
    let mut store = Store::open_in_memory().unwrap();
    let mut s = sup(&store, Lang::En);
    assert_eq!(s.page().level, Level::County);
    assert!(s.page().summary.areas.is_empty());
    for k in [KeyCode::Enter, KeyCode::Char('t'), KeyCode::Down, KeyCode::Char('s'), KeyCode::End] {
        press(&mut s, &mut store, k);
    }
    assert!(s.visits.is_none() && s.trend.is_none() && s.pages.len() == 1);
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| draw_standalone(&s, f)).unwrap();
    assert!(term.backend().to_string().contains("No administrative villages here"), "{}", term.backend());
}

#[test]
fn names_sort_by_pinyin_and_the_rows_follow_the_sort_shown_after_esc() {
    let (_d, mut store) = fixture();
    let mut s = sup(&store, Lang::Zh);
    let names = |s: &Supervisor| s.page().rows().map(|r| r.name.clone()).collect::<Vec<_>>();
    let in_pinyin = |v: &[String]| v.windows(2).all(|w| ruralsan::hanzi::cmp(&w[0], &w[1]).is_le());
    // Into a county: its townships.
    press(&mut s, &mut store, KeyCode::Enter);
    assert!(s.pages.len() > 1);
    press(&mut s, &mut store, KeyCode::Char('s'));
    assert_eq!(s.sort.column, SortColumn::Name);
    let towns = names(&s);
    assert!(towns.len() > 2 && in_pinyin(&towns), "{towns:?}");
    // Back up: the counties are shown in the order the indicator says.
    press(&mut s, &mut store, KeyCode::Esc);
    assert_eq!(s.sort.column, SortColumn::Name);
    let counties = names(&s);
    assert!(counties.len() > 2 && in_pinyin(&counties), "{counties:?}");
    let mut by_code = counties.clone();
    by_code.sort();
    assert_ne!(counties, by_code, "pinyin order is not code point order here");
}
