//! Screens as snapshots (Chinese and English, 80×24 and 120×40) and key
//! sequences checked against the database.

use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use rusqlite::params;

use super::app::App;
use super::crew::{Confirm, Overlay, Screen};
use crate::domain::validate::Reason;
use crate::domain::*;
use crate::store::Store;
use crate::store::browse;
use crate::strings::Lang;
use crate::strings::tui as s_tui;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

const HETANGPU: &str = "430202001201";
const MINGZHAO: &str = "430202001203";
const XIANYU: &str = "430202001202";

/// A database on a temporary file, with a connection of the test's own for
/// setting up and checking what the screens never ask the store for.
struct Db(tempfile::TempDir);

impl Db {
    fn new() -> Db {
        let d = Db(tempfile::tempdir().unwrap());
        d.store();
        d
    }
    fn path(&self) -> std::path::PathBuf {
        self.0.path().join("crew.db")
    }
    fn store(&self) -> Store {
        Store::open(&self.path()).unwrap()
    }
    fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path()).unwrap()
    }
}

/// The app on a test database, which lives as long as it.
struct Running {
    app: App,
    db: Db,
}

impl std::ops::Deref for Running {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

/// A small roster around Zhuzhou with one village visited twice.
fn fixture(db: &Db) {
    let sql = db.sql();
    for (code, name, v) in [
        ("430202001001", "文化路社区居委会", 0),
        (HETANGPU, "荷塘铺村委会", 1),
        (XIANYU, "仙庾村", 1),
        (MINGZHAO, "明照村", 1),
        ("430202002201", "宋家桥村", 1),
        ("430203100245", "石湾村", 1),
    ] {
        sql.execute("INSERT INTO roster (code, name, is_village) VALUES (?1, ?2, ?3)", params![code, name, v]).unwrap();
    }
    sql.execute_batch(
            "INSERT INTO area VALUES ('430202', '荷塘区'), ('430202001', '月塘街道'), ('430202002', '仙庾镇'), ('430203', '芦淞区');",
        )
        .unwrap();
    let visit = |date: &str, sewer: i64| VisitData {
        village_code: HETANGPU.into(),
        survey_date: date.into(),
        surveyor: "陈静".into(),
        households: 400,
        hh_sewer: sewer,
        hh_reuse: 20,
        hh_controlled: 30,
        natural_villages: 8,
        nv_garbage_covered: 6,
        notes: "村主任陪同".into(),
        facilities: vec![Facility {
            facility_id: "fac-1".into(),
            kind: FacilityKind::Central,
            households_served: 120,
            status: FacilityStatus::Normal,
            capacity_m3_d: Some(60.0),
        }],
        farms: vec![Farm {
            farm_id: "farm-1".into(),
            name: "周家养猪场".into(),
            species: Species::Pig,
            head_on_hand: 300,
            annual_out: 600,
            manure_t: None,
            utilized_pct: 80.0,
            facility_equipped: true,
        }],
        water_bodies: vec![WaterBody {
            water_id: "water-1".into(),
            name: "门前塘".into(),
            kind: WaterKind::Pond,
            area_m2: Some(800.0),
            length_m: None,
            depth_cm: Some(20.0),
            transparency_cm: Some(5.0),
            do_mg_l: Some(3.1),
            nh3n_mg_l: Some(2.0),
            listed: Listed::Provincial,
            status: WaterStatus::Remediated,
        }],
    };
    let mut store = db.store();
    store.save_visit("陈静", "visit-old", Some(&visit("2024-05-10", 10))).unwrap();
    store.save_visit("陈静", "visit-new", Some(&visit("2025-04-20", 100))).unwrap();
}

fn app_on(db: Db, lang: Lang) -> Running {
    Running { app: App::new(db.store(), lang, Settings::default(), today()).unwrap(), db }
}

fn app(lang: Lang) -> Running {
    let db = Db::new();
    fixture(&db);
    app_on(db, lang)
}

fn press(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ctrl(app: &mut App, c: char) {
    app.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn typ(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Clears the focused field and types `text`.
fn set(app: &mut App, text: &str) {
    press(app, KeyCode::End);
    for _ in 0..40 {
        press(app, KeyCode::Backspace);
    }
    typ(app, text);
}

/// County 荷塘区 → township 月塘街道 (after 仙庾镇: xian, yue) → the village `code`.
fn to_village(app: &mut App, code: &str) {
    press(app, KeyCode::Enter);
    press(app, KeyCode::Down);
    press(app, KeyCode::Enter);
    let at = app.crew.browser.items.iter().position(|i| matches!(i, super::crew::Item::Village(v) if v.code == code));
    for _ in 0..at.expect("the village is in the township") {
        press(app, KeyCode::Down);
    }
    press(app, KeyCode::Enter);
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t
}

/// Snapshots one screen in both sizes.
fn snap(app: &App, name: &str) {
    let lang = if app.lang == Lang::Zh { "zh" } else { "en" };
    for (w, h) in [(80, 24), (120, 40)] {
        let t = render(app, w, h);
        insta::assert_snapshot!(format!("{name}_{lang}_{w}x{h}"), t.backend());
    }
    // Any terminal size draws without panicking.
    for (w, h) in [(1, 1), (12, 4), (40, 10)] {
        let t = render(app, w, h);
        assert_eq!(t.backend().buffer().area.width, w);
    }
}

fn count(app: &Running, sql: &str) -> i64 {
    app.db.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn screens() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        snap(&a, "browser_counties");
        press(&mut a, KeyCode::Enter);
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Enter);
        snap(&a, "browser_villages");
        press(&mut a, KeyCode::Char('?'));
        snap(&a, "help");
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Esc);
        typ(&mut a, "村");
        snap(&a, "browser_search");
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.crew.screen, Screen::Visits);
        snap(&a, "visits");
        press(&mut a, KeyCode::Enter);
        snap(&a, "form_village");
        press(&mut a, KeyCode::PageDown);
        snap(&a, "form_facilities");
        press(&mut a, KeyCode::PageDown);
        snap(&a, "form_farms");
        press(&mut a, KeyCode::Enter);
        snap(&a, "form_farm_row");
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::PageDown);
        press(&mut a, KeyCode::Enter);
        snap(&a, "form_water_row");
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::PageDown);
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Down);
        set(&mut a, "9x");
        ctrl(&mut a, 's');
        snap(&a, "form_refused");
        press(&mut a, KeyCode::Esc);
        snap(&a, "confirm_discard");
        press(&mut a, KeyCode::Char('y'));
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.crew.visits.as_ref().unwrap().code, MINGZHAO);
        snap(&a, "visits_none");
        press(&mut a, KeyCode::Char('n'));
        snap(&a, "form_new_blank");
    }
}

#[test]
fn filling_and_saving_a_new_visit_writes_it_and_drops_the_draft() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, MINGZHAO);
    assert_eq!(a.crew.visits.as_ref().unwrap().code, MINGZHAO);
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(a.crew.screen, Screen::Form);
    // A village without visits: a blank form, focus on households.
    typ(&mut a, "200");
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "50");
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "10");
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "6");
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "4");
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "新建 ?");
    // Surveyor is empty: saving is refused and nothing is written.
    ctrl(&mut a, 's');
    assert_eq!(a.crew.screen, Screen::Form);
    assert!(a.crew.message.as_ref().unwrap().1);
    assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE village_code = '430202001203'"), 0);
    // The refusal put the focus on the surveyor.
    typ(&mut a, "李娜");
    // A facility in normal operation serving 60 households.
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::Char('a'));
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "60");
    press(&mut a, KeyCode::Enter);
    // A farm of a species without coefficients: manure required.
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::Char('a'));
    typ(&mut a, "刘家牛场");
    press(&mut a, KeyCode::Tab);
    press(&mut a, KeyCode::Left);
    assert_eq!(a.crew.form.as_ref().unwrap().form.farms[0].values[1], "other");
    ctrl(&mut a, 's');
    assert_eq!(a.crew.screen, Screen::Form);
    let f = a.crew.form.as_ref().unwrap();
    assert_eq!((f.section, f.editing, f.focus), (2, Some(0), 4), "refusal shows the manure field");
    typ(&mut a, "12.5");
    press(&mut a, KeyCode::Tab);
    typ(&mut a, "80");
    a.flush_draft().unwrap();
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 1);
    ctrl(&mut a, 's');
    assert_eq!(a.crew.screen, Screen::Visits, "{:?}", a.crew.message);
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 0);
    let row: (String, String, i64, i64, i64, String) =
        a.db.sql()
            .query_row(
                "SELECT survey_date, surveyor, households, hh_sewer, nv_garbage_covered, notes FROM visit
             WHERE village_code = ?1",
                [MINGZHAO],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
    assert_eq!(row, ("2025-06-01".into(), "李娜".into(), 200, 50, 4, "新建 ?".into()));
    assert_eq!(
        count(
            &a,
            "SELECT households_served FROM facility JOIN visit USING (visit_id) WHERE village_code = '430202001203'"
        ),
        60
    );
    let farm: (String, f64, f64) = a
        .db
        .sql()
        .query_row("SELECT species, manure_t, utilized_pct FROM farm", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap_or_default();
    assert_eq!(farm, ("other".into(), 12.5, 80.0));
    // The revision records who typed it (this installation's editor) and its
    // crew, apart from the visit's surveyor.
    let (author, crew): (String, String) = a
        .db
        .sql()
        .query_row("SELECT author, crew FROM revision ORDER BY hlc DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(author, a.store.editor());
    assert_eq!(crew, a.store.identity().crew());
    assert_eq!(a.store.meta(browse::LAST_SURVEYOR).unwrap().as_deref(), Some("李娜"));
}

#[test]
fn a_new_visit_copies_the_last_one_forward_with_fresh_ids() {
    let mut a = app(Lang::En);
    a.store.set_meta(browse::LAST_SURVEYOR, "王芳").unwrap();
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Char('n'));
    let f = &a.crew.form.as_ref().unwrap().form;
    assert_eq!(f.visit[0], "2025-06-01");
    assert_eq!(f.visit[1], "王芳");
    assert_eq!(f.visit[3], "100", "hh_sewer of the newest visit");
    assert_eq!(f.facilities.len(), 1);
    assert_ne!(f.facilities[0].id, "fac-1");
    assert_ne!(f.farms[0].id, "farm-1");
    assert_ne!(f.water[0].id, "water-1");
    assert_ne!(f.visit_id, "visit-new");
    ctrl(&mut a, 's');
    assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE village_code = '430202001201'"), 3);
    assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE surveyor = '王芳' AND survey_date = '2025-06-01'"), 1);
}

#[test]
fn editing_changes_the_visit_and_deleting_asks_first() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    // Newest first.
    assert_eq!(a.crew.visits.as_ref().unwrap().rows[0].visit_id, "visit-new");
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    set(&mut a, "500");
    ctrl(&mut a, 's');
    assert_eq!(count(&a, "SELECT households FROM visit WHERE visit_id = 'visit-old'"), 500);
    // Delete: 'n' keeps it, 'y' removes it.
    press(&mut a, KeyCode::Char('d'));
    assert!(matches!(a.crew.overlay, Some(Overlay::Confirm(Confirm::DeleteVisit(..)))));
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(count(&a, "SELECT count(*) FROM visit"), 2);
    press(&mut a, KeyCode::Char('d'));
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(count(&a, "SELECT count(*) FROM visit"), 1);
    assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE visit_id = 'visit-old'"), 0);
    assert_eq!(a.crew.visits.as_ref().unwrap().rows.len(), 1);
}

#[test]
fn rows_are_added_and_deleted_in_the_lists() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::Char('d'));
    press(&mut a, KeyCode::Char('y'));
    assert!(a.crew.form.as_ref().unwrap().form.water.is_empty());
    ctrl(&mut a, 's');
    assert_eq!(
        count(&a, "SELECT count(*) FROM water_body JOIN visit USING (visit_id) WHERE visit_id = 'visit-new'"),
        0
    );
    assert_eq!(count(&a, "SELECT count(*) FROM water_body"), 1, "the older visit keeps its own");
}

#[test]
fn leaving_with_unsaved_changes_asks_and_discarding_drops_the_draft() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    typ(&mut a, "1");
    a.flush_draft().unwrap();
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 1);
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.crew.overlay, Some(Overlay::Confirm(Confirm::Discard { then_quit: false })));
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(a.crew.screen, Screen::Form);
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(a.crew.screen, Screen::Visits);
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 0);
    assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE survey_date = '2025-04-20'"), 1);
}

#[test]
fn a_draft_left_by_a_crash_is_offered_back() {
    let db = Db::new();
    fixture(&db);
    let reopen = |db: Db| app_on(db, Lang::Zh);
    let db = {
        let mut a = reopen(db);
        to_village(&mut a, XIANYU);
        press(&mut a, KeyCode::Char('n'));
        typ(&mut a, "321");
        a.flush_draft().unwrap();
        // Dropped without saving: the crash.
        let stamp = "2025-06-01T16:30:00.000+08:00";
        assert_eq!(a.db.sql().execute("UPDATE draft SET updated_at = ?1", [stamp]).unwrap(), 1);
        a.db
    };
    let mut a = reopen(db);
    assert!(matches!(a.crew.overlay, Some(Overlay::Confirm(Confirm::RestoreDraft(..)))));
    snap(&a, "confirm_draft");
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(a.crew.screen, Screen::Form);
    let f = a.crew.form.as_ref().unwrap();
    assert_eq!(f.form.visit[2], "321");
    assert!(f.changed);
    // Saving needs the rest of the form; fill it and save.
    typ(&mut a, "");
    press(&mut a, KeyCode::Up);
    typ(&mut a, "赵军");
    for _ in 0..5 {
        press(&mut a, KeyCode::Down);
    }
    typ(&mut a, "3");
    ctrl(&mut a, 's');
    assert_eq!(a.crew.screen, Screen::Visits, "{:?}", a.crew.message);
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 0);
    assert_eq!(count(&a, "SELECT households FROM visit WHERE village_code = '430202001202'"), 321);
    // Refusing a draft deletes it.
    let mut a = reopen(a.db);
    assert_eq!(a.crew.overlay, None);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    typ(&mut a, "9");
    a.flush_draft().unwrap();
    let mut a = reopen(a.db);
    press(&mut a, KeyCode::Char('n'));
    assert_eq!(a.crew.overlay, None);
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 0);
}

#[test]
fn only_key_presses_count_and_communities_are_not_offered() {
    let mut a = app(Lang::Zh);
    let mut release = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    a.key(release);
    assert!(a.crew.browser.path.is_empty());
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Enter);
    // Villages first, the community after them.
    for _ in 0..3 {
        press(&mut a, KeyCode::Down);
    }
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.crew.screen, Screen::Browser);
    assert!(a.crew.message.as_ref().unwrap().1);
    // The search filters as you type, by name or by code.
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Esc);
    typ(&mut a, "仙庾");
    assert_eq!(a.crew.browser.items.len(), 1);
    set(&mut a, "430203");
    assert_eq!(a.crew.browser.items.len(), 1);
    // A burst of keys (an IME commit) is one query, run when the keys are handled.
    press(&mut a, KeyCode::Esc);
    for c in "明照".chars() {
        a.handle(&Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
    assert!(a.crew.browser.stale);
    assert_eq!(a.crew.browser.items.len(), 2, "still the counties");
    a.settle();
    assert!(matches!(&a.crew.browser.items[..], [super::crew::Item::Village(v)] if v.code == MINGZHAO));
    ctrl(&mut a, 'q');
    assert!(a.quit);
}

#[test]
fn the_live_figures_follow_the_domain_rules() {
    let mut a = app(Lang::En);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    // 100 + 20 + 120 normal-facility households of 400 = 60 %: treated.
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("240/400 = 60.0%") && screen.contains("counts as treated"), "{screen}");
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    set(&mut a, "0");
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("140/400 = 35.0%") && screen.contains("does not count"), "{screen}");
    // Pig: 600 out × 2 kg × 180 d = 216 t; 600 out ≥ 500: a scale farm.
    press(&mut a, KeyCode::PageDown);
    press(&mut a, KeyCode::PageDown);
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("216.0 t/yr") && screen.contains("· scale farm"), "{screen}");
    // Transparency 5 cm at 20 cm depth fails (< 8 cm): black-odorous, so relapsed.
    press(&mut a, KeyCode::PageDown);
    let screen = render(&a, 120, 40).backend().to_string();
    // The verdict names the measurement that failed and its limit.
    assert!(screen.contains("→ black-odorous (transparency 5 cm < 8 cm) · relapsed"), "{screen}");
}

#[test]
fn the_cursor_sits_after_wide_characters_by_display_width() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Down);
    // "陈静" is two characters, four columns wide; the labels column is
    // "资源化利用户数" (14 columns) + 3; the role bar and the title above.
    let mut t = render(&a, 80, 24);
    assert_eq!(t.get_cursor_position().unwrap(), ratatui::layout::Position::new(17 + 4, 5));
    press(&mut a, KeyCode::Left);
    let mut t2 = render(&a, 80, 24);
    assert_eq!(t2.get_cursor_position().unwrap(), ratatui::layout::Position::new(17 + 2, 5));
    // The search box too.
    let mut b = app(Lang::Zh);
    typ(&mut b, "仙庾");
    let mut t3 = render(&b, 80, 24);
    assert_eq!(t3.get_cursor_position().unwrap(), ratatui::layout::Position::new(6 + 4, 2));
}

#[test]
fn more_screens() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        to_village(&mut a, HETANGPU);
        press(&mut a, KeyCode::Char('d'));
        snap(&a, "confirm_delete_visit");
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Enter);
        press(&mut a, KeyCode::PageDown);
        press(&mut a, KeyCode::Enter);
        snap(&a, "form_facility_row");
        press(&mut a, KeyCode::Esc);
        press(&mut a, KeyCode::Char('d'));
        snap(&a, "confirm_delete_row");
        // A draft in the database when the program starts.
        let db = Db::new();
        fixture(&db);
        let store = db.store();
        let (_, data) = store.load_visit("visit-new").unwrap().unwrap();
        let mut form = super::form::Form::from_data("visit-new", Some("rev".into()), &data);
        form.visit[2] = "410".into();
        store
            .put_draft(&browse::Draft {
                draft_id: "d1".into(),
                visit_id: "visit-new".into(),
                base_rev: Some("rev".into()),
                form: serde_json::to_string(&form).unwrap(),
                updated_at: "2025-06-01T16:30:00.000+08:00".into(),
            })
            .unwrap();
        let mut a = app_on(db, lang);
        snap(&a, "draft_offered");
        press(&mut a, KeyCode::Char('y'));
        assert_eq!(a.crew.form.as_ref().unwrap().form.visit[2], "410");
        assert!(!a.crew.form.as_ref().unwrap().is_new);
        snap(&a, "draft_restored");
    }
}

#[test]
fn long_lists_are_fetched_a_page_at_a_time() {
    let db = Db::new();
    for i in 0..250 {
        db.sql()
            .execute(
                "INSERT INTO roster (code, name, is_village) VALUES (?1, ?2, 1)",
                params![format!("430202001{:03}", 200 + i), format!("第{i}村")],
            )
            .unwrap();
    }
    let mut a = app_on(db, Lang::Zh);
    press(&mut a, KeyCode::Enter);
    press(&mut a, KeyCode::Enter);
    assert_eq!(a.crew.browser.items.len(), super::crew::PAGE);
    assert!(a.crew.browser.more);
    for _ in 0..super::crew::PAGE {
        press(&mut a, KeyCode::Down);
    }
    assert_eq!(a.crew.browser.items.len(), 2 * super::crew::PAGE);
    for _ in 0..5 {
        press(&mut a, KeyCode::PageDown);
    }
    for _ in 0..10 {
        press(&mut a, KeyCode::PageDown);
    }
    assert_eq!(a.crew.browser.items.len(), 250);
    assert!(!a.crew.browser.more);
    assert_eq!(a.crew.browser.selected, 249);
    let screen = render(&a, 80, 24).backend().to_string();
    // By pinyin, then character by character: 第9村 (di 9 cun) comes last.
    assert!(screen.contains("430202001209 第9村"), "{screen}");
}

#[test]
fn several_drafts_are_offered_one_after_another() {
    let db = Db::new();
    fixture(&db);
    let store = db.store();
    for (id, visit) in [("d1", "visit-new"), ("d2", "visit-old")] {
        let (rev, data) = store.load_visit(visit).unwrap().unwrap();
        let mut form = super::form::Form::from_data(visit, Some(rev.clone()), &data);
        form.visit[2] = "401".into();
        let draft = browse::Draft {
            draft_id: id.into(),
            visit_id: visit.into(),
            base_rev: Some(rev),
            form: serde_json::to_string(&form).unwrap(),
            updated_at: "2025-06-01T16:30:00.000+08:00".into(),
        };
        store.put_draft(&draft).unwrap();
    }
    let mut a = app_on(db, Lang::Zh);
    press(&mut a, KeyCode::Char('y'));
    ctrl(&mut a, 's');
    assert_eq!(a.crew.screen, Screen::Visits, "{:?}", a.crew.message);
    assert!(matches!(a.crew.overlay, Some(Overlay::Confirm(Confirm::RestoreDraft(..)))), "the second draft");
    press(&mut a, KeyCode::Char('y'));
    ctrl(&mut a, 's');
    assert_eq!(a.crew.overlay, None);
    assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE households = 401"), 2);
    assert_eq!(count(&a, "SELECT count(*) FROM draft"), 0);
}

#[test]
fn a_complete_search_typed_longer_is_narrowed_without_a_query() {
    let mut a = app(Lang::Zh);
    typ(&mut a, "照");
    assert_eq!(a.crew.browser.items.len(), 1);
    // Were the roster read again, the renamed village would drop out.
    a.db.sql().execute("UPDATE roster SET name = '改名村' WHERE code = ?1", [MINGZHAO]).unwrap();
    typ(&mut a, "村");
    assert!(matches!(&a.crew.browser.items[..], [super::crew::Item::Village(v)] if v.code == MINGZHAO));
    // Shorter again, or a different text: read from the roster.
    press(&mut a, KeyCode::Backspace);
    assert!(a.crew.browser.items.is_empty());
    set(&mut a, "村");
    assert_eq!(a.crew.browser.items.len(), 5);
    typ(&mut a, "委");
    assert_eq!(a.crew.browser.items.len(), 1);
}

#[test]
fn a_visit_in_conflict_is_marked() {
    let mut a = app(Lang::En);
    to_village(&mut a, HETANGPU);
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(!screen.contains("⚠"), "{screen}");
    // A second head, as a merge of two crews' edits leaves it.
    a.db.sql().execute("INSERT INTO head (visit_id, rev_id) VALUES ('visit-old', 'other-side')", []).unwrap();
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Enter);
    let rows = &a.crew.visits.as_ref().unwrap().rows;
    assert_eq!(rows.iter().map(|r| r.conflict).collect::<Vec<_>>(), [false, true]);
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("⚠ conflict"), "{screen}");
}

#[test]
fn the_three_roles_switch_with_f2_f3_f4() {
    use super::roles::Role;
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        // The role bar is on the first screen.
        let first = render(&a, 80, 24).backend().to_string();
        assert!(first.contains("F3") && first.contains("F4"), "{first}");
        to_village(&mut a, HETANGPU);
        press(&mut a, KeyCode::F(3));
        assert_eq!(a.role, Role::County);
        // The county screens of a fixed home folder, for a stable picture.
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("crew.db"), b"").unwrap();
        a.county = Some(
            super::county::County::with(&a.store, lang, Settings::default(), today(), home.path().to_path_buf())
                .unwrap(),
        );
        snap(&a, "role_county");
        // Keys go to the county screens: typing edits the path, not the crew's search.
        press(&mut a, KeyCode::Char('x'));
        assert_eq!(a.county.as_ref().unwrap().sync.input.text, "~/x");
        assert!(a.crew.browser.query.is_empty());
        press(&mut a, KeyCode::F(4));
        assert_eq!(a.role, Role::Supervisor);
        assert!(a.supervisor.is_some(), "made on first switch");
        snap(&a, "role_supervisor");
        // Back to the crew: where it was.
        press(&mut a, KeyCode::F(2));
        assert_eq!(a.role, Role::Crew);
        assert_eq!(a.crew.screen, Screen::Visits);
        // Ctrl-Q quits from any role.
        press(&mut a, KeyCode::F(3));
        ctrl(&mut a, 'q');
        assert!(a.quit);
    }
}

#[test]
fn the_crew_app_warns_at_start_when_the_clock_is_before_the_newest_revision() {
    let db = Db::new();
    fixture(&db);
    assert!(app_on(db, Lang::En).crew.message.is_none(), "a right clock: no warning");
    let db = Db::new();
    fixture(&db);
    // A revision stamped in 2100 (the clock was wrong then, or is now), and
    // the clock kept with it, as every save keeps it.
    db.sql().execute("UPDATE revision SET hlc = '4102444800000.00000' WHERE rowid = 1", []).unwrap();
    db.sql().execute("UPDATE meta SET value = '4102444800000.00000' WHERE key = 'hlc'", []).unwrap();
    let a = app_on(db, Lang::En);
    let (text, is_error) = a.crew.message.clone().expect("a warning");
    assert!(is_error && text.contains("2100-01-01"), "{text}");
}

#[test]
fn keys_work_while_the_supervisor_figures_are_computed() {
    use super::roles::Role;
    use super::supervisor::Supervisor;
    let mut a = app(Lang::En);
    // A worker that waits for leave before each computation.
    let (go, gate) = std::sync::mpsc::channel();
    a.app.supervisor =
        Some(Supervisor::background(&a.app.store, Settings::default(), Lang::En, today(), Some(gate)).unwrap());
    press(&mut a, KeyCode::F(4));
    assert_eq!(a.role, Role::Supervisor);
    assert!(a.computing());
    let shown = render(&a, 80, 24).backend().to_string();
    assert!(shown.contains(crate::strings::supervisor::computing(Lang::En)), "{shown}");
    // Role switches and back while it computes.
    press(&mut a, KeyCode::F(2));
    assert_eq!(a.role, Role::Crew);
    assert!(!a.computing(), "only the supervisor in front counts");
    press(&mut a, KeyCode::F(4));
    assert!(a.computing());
    // The figures come in on a tick, then the flagged counts.
    go.send(()).unwrap();
    go.send(()).unwrap();
    while a.computing() {
        a.app.supervisor.as_mut().unwrap().live.poll(std::time::Duration::from_secs(60)).unwrap();
        a.tick();
    }
    let sup = a.supervisor.as_ref().unwrap();
    let counting = crate::store::summary::Counting { flagged: true, ..Default::default() };
    assert_eq!(
        sup.page().summary,
        a.store.summary_counting("2025-06-01", sup.page().level, None, &Settings::default(), counting).unwrap()
    );
    // A crew save in the same app is seen on the next tick.
    let computed = sup.live.computed;
    a.tick();
    assert!(!a.computing(), "nothing changed, nothing computed");
    a.store.set_meta("x", "1").unwrap();
    a.tick();
    assert!(a.computing());
    // Ctrl-Q quits while figures are pending.
    ctrl(&mut a, 'q');
    assert!(a.quit);
    assert_eq!(a.supervisor.as_ref().unwrap().live.computed, computed);
}

#[test]
fn the_visit_list_follows_a_write_by_another_process_and_a_form_keeps_its_base() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    a.app.poll_changes();
    assert_eq!(a.crew.visits.as_ref().unwrap().rows.len(), 2);
    // Another program (a CLI merge, say) writes a third visit of this village.
    let mut other = a.db.store();
    let code = a.crew.visits.as_ref().unwrap().code.clone();
    let (_, mut v) = other.load_visit("visit-new").unwrap().unwrap();
    v.survey_date = "2025-05-01".into();
    v.village_code = code;
    other.save_visit("王芳", "visit-other", Some(&v)).unwrap();
    assert_eq!(a.crew.visits.as_ref().unwrap().rows.len(), 2, "not read yet");
    a.app.poll_changes();
    let rows = &a.crew.visits.as_ref().unwrap().rows;
    assert_eq!(rows.len(), 3, "the list shows the database as it is");
    assert_eq!(rows[0].visit_id, "visit-other");
    // Nothing changed since: nothing read again (the same rows stay).
    let mark = a.app.store.data_stamp().unwrap();
    a.app.poll_changes();
    assert_eq!(a.app.store.data_stamp().unwrap(), mark);
}

/// Keys typed through the app's own key handler, counted.
struct Typist<'a> {
    app: &'a mut App,
    keys: usize,
}

impl Typist<'_> {
    fn press(&mut self, code: KeyCode) {
        self.keys += 1;
        press(self.app, code);
    }
    fn ctrl(&mut self, c: char) {
        self.keys += 1;
        ctrl(self.app, c);
    }
    /// Each character one key (a Chinese name as an input method commits it).
    fn text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }
    fn tabs(&mut self, n: usize) {
        for _ in 0..n {
            self.press(KeyCode::Tab);
        }
    }
}

#[test]
fn a_copied_forward_visit_with_three_changed_figures_takes_under_20_keys() {
    let mut a = app(Lang::Zh);
    // The surveyor of the crew's last save is offered.
    a.store.set_meta(browse::LAST_SURVEYOR, "王芳").unwrap();
    let mut t = Typist { app: &mut a, keys: 0 };
    // Found by pinyin initials, no input method needed: 荷塘铺 he tang pu.
    t.text("htp");
    t.press(KeyCode::Enter);
    t.press(KeyCode::Char('n'));
    // Figures typed into pre-filled numbers replace them.
    t.text("410");
    t.press(KeyCode::Tab);
    t.text("120");
    t.tabs(2);
    t.text("25");
    t.ctrl('s');
    let keys = t.keys;
    assert!(keys < 20, "{keys} keys");
    assert_eq!(a.crew.screen, Screen::Visits, "{:?}", a.crew.message);
    let row: (i64, i64, i64, i64, i64) =
        a.db.sql()
            .query_row(
                "SELECT households, hh_sewer, hh_reuse, hh_controlled, natural_villages FROM visit
                 WHERE village_code = ?1 AND survey_date = '2025-06-01'",
                [HETANGPU],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
    assert_eq!(row, (410, 120, 20, 25, 8), "three figures changed, the rest copied");
    assert_eq!(count(&a, "SELECT count(*) FROM farm JOIN visit USING (visit_id) WHERE survey_date = '2025-06-01'"), 1);
}

#[test]
fn a_full_new_visit_with_a_facility_a_pig_farm_and_a_measured_pond_takes_under_70_keys() {
    let mut a = app(Lang::Zh);
    // The surveyor of the crew's last save is offered.
    a.store.set_meta(browse::LAST_SURVEYOR, "李娜").unwrap();
    let mut t = Typist { app: &mut a, keys: 0 };
    t.text("mzc");
    t.press(KeyCode::Enter);
    t.press(KeyCode::Char('n'));
    // Village figures (hh_controlled stays 0).
    t.text("120");
    t.press(KeyCode::Tab);
    t.text("30");
    t.press(KeyCode::Tab);
    t.text("10");
    t.tabs(2);
    t.text("6");
    t.press(KeyCode::Tab);
    t.text("5");
    // A central facility in normal operation serving 40 households.
    t.press(KeyCode::PageDown);
    t.press(KeyCode::Char('a'));
    t.press(KeyCode::Tab);
    t.text("40");
    // A pig farm: 300 on hand, 600 a year, 80 % used, equipped.
    t.press(KeyCode::PageDown);
    t.press(KeyCode::Char('a'));
    t.text("周家猪场");
    t.tabs(2);
    t.text("300");
    t.press(KeyCode::Tab);
    t.text("600");
    t.tabs(2);
    t.text("80");
    t.press(KeyCode::Tab);
    t.press(KeyCode::Char(' '));
    // A pond, measured: depth 80 cm, transparency 18 cm, DO 3, NH3-N 2.
    t.press(KeyCode::PageDown);
    t.press(KeyCode::Char('a'));
    t.text("门前塘");
    t.tabs(4);
    t.text("80");
    t.press(KeyCode::Tab);
    t.text("18");
    t.press(KeyCode::Tab);
    t.text("3");
    t.press(KeyCode::Tab);
    t.text("2");
    let keys = t.keys + 1;
    // The verdict says which measurement failed before it is saved.
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("黑臭 (透明度 18 cm < 25 cm)"), "{screen}");
    ctrl(&mut a, 's');
    assert!(keys < 70, "{keys} keys");
    assert_eq!(a.crew.screen, Screen::Visits, "{:?}", a.crew.message);
    let v: (String, i64, i64, i64, i64, i64, i64) =
        a.db.sql()
            .query_row(
                "SELECT surveyor, households, hh_sewer, hh_reuse, hh_controlled, natural_villages, nv_garbage_covered
                 FROM visit WHERE village_code = ?1",
                [MINGZHAO],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .unwrap();
    assert_eq!(v, ("李娜".into(), 120, 30, 10, 0, 6, 5));
    let sql = a.db.sql();
    let fac: (String, i64, String) = sql
        .query_row(
            "SELECT kind, households_served, status FROM facility JOIN visit USING (visit_id) WHERE village_code = ?1",
            [MINGZHAO],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(fac, ("central".into(), 40, "normal".into()));
    let farm: (String, String, i64, i64, f64, bool) = sql
        .query_row(
            "SELECT name, species, head_on_hand, annual_out, utilized_pct, facility_equipped
             FROM farm JOIN visit USING (visit_id) WHERE village_code = ?1",
            [MINGZHAO],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(farm, ("周家猪场".into(), "pig".into(), 300, 600, 80.0, true));
    let water: (String, String, f64, f64, f64, f64, String) = sql
        .query_row(
            "SELECT name, kind, depth_cm, transparency_cm, do_mg_l, nh3n_mg_l, listed
             FROM water_body JOIN visit USING (visit_id) WHERE village_code = ?1",
            [MINGZHAO],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap();
    assert_eq!(
        water,
        ("门前塘".into(), "pond".into(), 80.0, 18.0, 3.0, 2.0, "none".into()),
        "a new pond is on no list"
    );
}

#[test]
fn typing_into_a_value_just_reached_replaces_it_and_editing_keys_work_in_every_field() {
    let mut a = app(Lang::En);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    let value = |a: &Running, k: usize| a.crew.form.as_ref().unwrap().form.visit[k].clone();
    press(&mut a, KeyCode::Down);
    press(&mut a, KeyCode::Down);
    assert_eq!(value(&a, 2), "400");
    typ(&mut a, "2");
    assert_eq!(value(&a, 2), "2", "400 then 2 gives 2, not 4002");
    typ(&mut a, "5");
    assert_eq!(value(&a, 2), "25");
    press(&mut a, KeyCode::Home);
    typ(&mut a, "1");
    assert_eq!(value(&a, 2), "125");
    // Ctrl-U clears the field, Ctrl-W deletes a word, Ctrl-← moves by words.
    press(&mut a, KeyCode::Up);
    a.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    assert_eq!(value(&a, 1), "");
    typ(&mut a, "Li Na Wang");
    a.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    assert_eq!(value(&a, 1), "Li Na ");
    a.key(KeyEvent::new(KeyCode::Left, KeyModifiers::CONTROL));
    typ(&mut a, "X");
    assert_eq!(value(&a, 1), "Li XNa ");
    press(&mut a, KeyCode::End);
    press(&mut a, KeyCode::Backspace);
    assert_eq!(value(&a, 1), "Li XNa");
    // The search box edits the same way.
    let mut b = app(Lang::Zh);
    typ(&mut b, "仙庾 村");
    b.key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    assert_eq!(b.crew.browser.query, "仙庾 ");
    b.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    assert_eq!(b.crew.browser.query, "");
}

#[test]
fn notes_take_several_lines_and_tab_leaves_them() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    for _ in 0..8 {
        press(&mut a, KeyCode::Tab);
    }
    assert!(a.crew.form.as_ref().unwrap().notes.is_some(), "the notes area has the focus");
    typ(&mut a, "，水塘已清淤");
    press(&mut a, KeyCode::Enter);
    typ(&mut a, "下次复查");
    let f = a.crew.form.as_ref().unwrap();
    assert_eq!(f.form.visit[8], "村主任陪同，水塘已清淤\n下次复查");
    snap(&a, "form_notes");
    press(&mut a, KeyCode::Tab);
    let f = a.crew.form.as_ref().unwrap();
    assert_eq!((f.section, f.notes.is_none()), (1, true));
    ctrl(&mut a, 's');
    let notes: String =
        a.db.sql().query_row("SELECT notes FROM visit WHERE visit_id = 'visit-new'", [], |r| r.get(0)).unwrap();
    assert_eq!(notes, "村主任陪同，水塘已清淤\n下次复查");
}

#[test]
fn figures_with_a_problem_show_a_dash_and_the_problem_is_shown_whole_on_the_facility_too() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        to_village(&mut a, HETANGPU);
        press(&mut a, KeyCode::Enter);
        // 100 sewered + 20 reuse + 30 controlled + 900 served > 400 households.
        press(&mut a, KeyCode::PageDown);
        press(&mut a, KeyCode::Enter);
        press(&mut a, KeyCode::Tab);
        typ(&mut a, "900");
        let f = a.crew.form.as_ref().unwrap();
        let on_facility = f.problem(crate::domain::validate::Place::Facility(0), "households_served").unwrap();
        assert_eq!(on_facility.reason, Reason::HouseholdsExceeded { sum: 1050, households: 400 });
        assert!(f.problems_in(1) > 0 && f.problems_in(0) > 0);
        snap(&a, "form_facility_problem");
        let screen = render(&a, 80, 24).backend().to_string();
        let whole: String = screen.lines().map(|x| x.trim_matches('"').trim()).collect::<Vec<_>>().join(" ");
        // Whole, over two lines: the sum and the households both shown.
        let needle = if lang == Lang::En { "more than the 400 households" } else { "超过常住户数" };
        assert!(whole.contains(needle) && whole.contains("1050") && whole.contains(" 400"), "{screen}");
        press(&mut a, KeyCode::PageUp);
        let screen = render(&a, 80, 24).backend().to_string();
        assert!(screen.contains(&format!("{}: —", s_tui::treated_share(lang))), "{screen}");
        assert!(!screen.contains("262.5%"), "{screen}");
    }
}

#[test]
fn a_second_visit_on_the_same_day_asks_first_and_delete_questions_name_what_goes() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        a.store.set_meta(browse::LAST_SURVEYOR, "王芳").unwrap();
        to_village(&mut a, HETANGPU);
        press(&mut a, KeyCode::Char('n'));
        snap(&a, "form_copied");
        ctrl(&mut a, 's');
        assert_eq!(a.crew.screen, Screen::Visits);
        press(&mut a, KeyCode::Char('n'));
        assert!(matches!(a.crew.overlay, Some(Overlay::Confirm(Confirm::SameDay { save: false, .. }))));
        snap(&a, "confirm_same_day");
        press(&mut a, KeyCode::Char('n'));
        assert_eq!((a.crew.screen, a.crew.overlay.is_none()), (Screen::Visits, true));
        press(&mut a, KeyCode::Char('n'));
        press(&mut a, KeyCode::Char('y'));
        assert_eq!(a.crew.screen, Screen::Form);
        // Agreed once: saving does not ask again.
        ctrl(&mut a, 's');
        assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE survey_date = '2025-06-01'"), 2);
        // The question names the visit deleted.
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Char('d'));
        let screen = render(&a, 80, 24).backend().to_string();
        assert!(screen.contains("2025-04-20 · 陈静"), "{screen}");
        press(&mut a, KeyCode::Esc);
        // A new visit dated onto a day that has one asks on saving.
        press(&mut a, KeyCode::Char('n'));
        press(&mut a, KeyCode::Char('y'));
        press(&mut a, KeyCode::Up);
        press(&mut a, KeyCode::Up);
        typ(&mut a, "2025-04-20");
        ctrl(&mut a, 's');
        assert!(matches!(a.crew.overlay, Some(Overlay::Confirm(Confirm::SameDay { save: true, .. }))));
        press(&mut a, KeyCode::Char('y'));
        assert_eq!(count(&a, "SELECT count(*) FROM visit WHERE survey_date = '2025-04-20'"), 2);
    }
}

#[test]
fn esc_at_the_top_does_nothing_and_a_restored_draft_goes_back_through_its_township() {
    let mut a = app(Lang::Zh);
    press(&mut a, KeyCode::Esc);
    assert!(!a.quit && !a.crew.quit);
    assert_eq!(a.crew.screen, Screen::Browser);
    to_village(&mut a, XIANYU);
    press(&mut a, KeyCode::Char('n'));
    typ(&mut a, "321");
    a.flush_draft().unwrap();
    let mut a = app_on(a.db, Lang::Zh);
    press(&mut a, KeyCode::Char('y'));
    let crumb = render(&a, 120, 40).backend().to_string();
    assert!(crumb.contains("全部区县 › 荷塘区 › 月塘街道 › 仙庾村 › 新调查"), "{crumb}");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char('y'));
    assert_eq!(a.crew.screen, Screen::Visits);
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.crew.screen, Screen::Browser);
    let path: Vec<_> = a.crew.browser.path.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(path, ["430202", "430202001"]);
    assert!(
        matches!(&a.crew.browser.items[a.crew.browser.selected], super::crew::Item::Village(v) if v.code == XIANYU)
    );
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.crew.browser.path.len(), 1);
}

#[test]
fn a_short_terminal_scrolls_the_form_to_the_focused_field() {
    let mut a = app(Lang::Zh);
    to_village(&mut a, HETANGPU);
    press(&mut a, KeyCode::Enter);
    for _ in 0..7 {
        press(&mut a, KeyCode::Tab);
    }
    let mut t = render(&a, 80, 12);
    let screen = t.backend().to_string();
    assert!(screen.contains("▸ 垃圾覆盖自然村"), "{screen}");
    let p = t.get_cursor_position().unwrap();
    assert!(p.y < 11, "{p:?}");
}

#[test]
fn search_finds_by_pinyin_and_communities_and_says_where_each_lies() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        typ(&mut a, "mingzhao");
        assert!(matches!(&a.crew.browser.items[..], [super::crew::Item::Village(v)] if v.code == MINGZHAO));
        snap(&a, "browser_pinyin");
        set(&mut a, "社区");
        let items = &a.crew.browser.items;
        assert!(matches!(&items[..], [super::crew::Item::Village(v)] if !v.is_village), "{items:?}");
        let screen = render(&a, 80, 24).backend().to_string();
        assert!(
            screen.contains("月塘街道 · 荷塘区") && screen.contains(s_tui::community_not_surveyed(lang)),
            "{screen}"
        );
    }
}

#[test]
fn the_day_view_lists_villages_left_this_round_and_what_was_saved_today() {
    for lang in [Lang::Zh, Lang::En] {
        let db = Db::new();
        fixture(&db);
        // The fixture's visits were saved long ago.
        db.sql().execute("UPDATE revision SET hlc = '0000000000001.00000'", []).unwrap();
        let today = chrono::Local::now().date_naive();
        let mut a = Running { app: App::new(db.store(), lang, Settings::default(), today).unwrap(), db };
        // Not in a township yet: it says what to do.
        ctrl(&mut a, 't');
        assert_eq!(a.crew.screen, Screen::Browser);
        assert!(a.crew.message.as_ref().unwrap().1);
        to_village(&mut a, MINGZHAO);
        press(&mut a, KeyCode::Char('n'));
        typ(&mut a, "50");
        press(&mut a, KeyCode::Up);
        typ(&mut a, "李娜");
        for _ in 0..5 {
            press(&mut a, KeyCode::Down);
        }
        typ(&mut a, "2");
        ctrl(&mut a, 's');
        assert_eq!(a.crew.screen, Screen::Visits, "{:?}", a.crew.message);
        ctrl(&mut a, 't');
        assert_eq!(a.crew.screen, Screen::Day);
        assert_eq!(a.store.meta(browse::CREW_TOWNSHIP).unwrap().as_deref(), Some("430202001"));
        let d = a.crew.day.as_ref().unwrap();
        assert_eq!((d.data.saved, d.data.saved_villages.len()), (1, 1));
        assert_eq!(d.data.saved_villages[0].1, "明照村");
        // The round starts on 1 January: 荷塘铺 (2025-04-20) counts only if this is 2025.
        let left: Vec<_> = d.data.to_visit.iter().map(|v| v.code.as_str()).collect();
        assert!(left.contains(&XIANYU) && !left.contains(&MINGZHAO), "{left:?}");
        assert_eq!(d.data.villages, 3);
        // The crew sets the round's start.
        press(&mut a, KeyCode::Char('d'));
        a.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        typ(&mut a, "2024/5/1");
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.store.meta(browse::ROUND_START).unwrap().as_deref(), Some("2024-05-01"));
        let left: Vec<_> = a.crew.day.as_ref().unwrap().data.to_visit.iter().map(|v| v.code.clone()).collect();
        assert_eq!(left, [XIANYU], "荷塘铺 was visited on 2024-05-10");
        // A date after today is refused with the shared reason.
        press(&mut a, KeyCode::Char('d'));
        a.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        typ(&mut a, "2999-01-01");
        press(&mut a, KeyCode::Enter);
        assert!(a.crew.message.as_ref().unwrap().1);
        assert_eq!(a.store.meta(browse::ROUND_START).unwrap().as_deref(), Some("2024-05-01"));
        press(&mut a, KeyCode::Esc);
        // Enter opens the village; Esc comes back to the day.
        press(&mut a, KeyCode::Enter);
        assert_eq!(a.crew.visits.as_ref().unwrap().code, XIANYU);
        press(&mut a, KeyCode::Esc);
        assert_eq!(a.crew.screen, Screen::Day);
        let screen = render(&a, 80, 24).backend().to_string();
        assert!(screen.contains("明照村") && screen.contains("仙庾村"), "{screen}");
    }
}

#[test]
fn day_view_screens() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang);
        to_village(&mut a, HETANGPU);
        // Saved "today" (the fixture's day): its revisions are stamped at noon of 2025-06-01 here.
        let noon = NaiveDate::from_ymd_opt(2025, 6, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_local_timezone(chrono::Local)
            .earliest()
            .unwrap()
            .timestamp_millis();
        let device = a.store.device().to_string();
        a.db.sql()
            .execute(
                "UPDATE revision SET hlc = ?1, device = ?2 WHERE visit_id = 'visit-new'",
                params![crate::store::revisions::format_hlc(noon, 0), device],
            )
            .unwrap();
        ctrl(&mut a, 't');
        assert_eq!(a.crew.day.as_ref().unwrap().data.saved, 1);
        snap(&a, "day");
    }
}

/// A visit the county sent back shows "returned: <note>" in the crew's
/// visit list (issue 15); its correction clears it.
#[test]
fn a_returned_visit_shows_the_reviewers_note_in_the_visit_list() {
    use crate::domain::review::ReviewState;
    let mut a = app(Lang::En);
    a.db.store().review("visit-old", ReviewState::Issues, "check the households").unwrap();
    a.db.store().review("visit-new", ReviewState::Approved, "").unwrap();
    to_village(&mut a, HETANGPU);
    let rows = &a.crew.visits.as_ref().unwrap().rows;
    let returned: Vec<Option<&str>> = rows.iter().map(|r| r.returned.as_deref()).collect();
    assert_eq!(returned, [None, Some("check the households")]);
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("returned: check the households"), "{screen}");
    // The day view lists it too, with the village and the note.
    ctrl(&mut a, 't');
    let day = &a.crew.day.as_ref().unwrap().data;
    assert_eq!(
        day.returned.iter().map(|r| (r.0.as_str(), r.3.as_str())).collect::<Vec<_>>(),
        [("visit-old", "check the households")]
    );
    let screen = render(&a, 120, 40).backend().to_string();
    assert!(screen.contains("Returned for correction 1: ") && screen.contains("(check the households)"), "{screen}");
    press(&mut a, KeyCode::Esc);
    // The crew corrects it: a new revision, not returned.
    let mut store = a.db.store();
    let (rev, mut v) = store.load_visit("visit-old").unwrap().unwrap();
    v.notes = "households checked".into();
    store.save_from_form("陈静", "visit-old", Some(&v), Some(&rev), None).unwrap();
    // (Esc left the day view for the village list, the village still selected.)
    press(&mut a, KeyCode::Enter);
    let rows = &a.crew.visits.as_ref().unwrap().rows;
    assert_eq!(rows.len(), 2, "the same village's visits");
    assert!(rows.iter().all(|r| r.returned.is_none()));
    ctrl(&mut a, 't');
    assert!(a.crew.day.as_ref().unwrap().data.returned.is_empty());
}
