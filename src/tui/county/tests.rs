//! The county screens as snapshots (Chinese and English, 80×24 and 120×40)
//! and key sequences checked against the database: two crews' files merged
//! through the sync screen, a conflict settled by side and field by field,
//! exports written.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};

use super::sync::{Focus, Stage};
use super::{Action, County, Tab};
use crate::domain::VisitData;
use crate::domain::settings::Settings;
use crate::store::Store;
use crate::store::browse;
use crate::store::sync::MergeOptions;
use crate::strings::Lang;
use crate::tui::component::{Component, Ctx, key_bar};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

fn roster() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample/villages.csv")
}

/// A store signing as crew `crew` (this test process's key under that name:
/// the crews trust one another, and their sides show apart by crew), with
/// the sample roster (a merge never brings a roster: every office loads its own).
fn open_as(path: &Path, crew: &str) -> Store {
    let id = crate::identity::Identity::load_default().unwrap().with_name(crew);
    let mut s = Store::open_with(path, &id).unwrap();
    s.import_roster(&roster()).unwrap();
    s
}

/// A connection of the test's own on the store's file, for what the
/// screens never ask the store for.
fn sql(store: &Store) -> rusqlite::Connection {
    rusqlite::Connection::open(store.file_path().expect("a file database")).unwrap()
}

fn open_conflicts(store: &Store) -> i64 {
    store.conflicts().unwrap().len() as i64
}

fn villages(store: &Store) -> Vec<String> {
    let sql = sql(store);
    let mut st = sql.prepare("SELECT code FROM roster WHERE is_village = 1 ORDER BY code LIMIT 3").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn current(store: &Store, visit_id: &str) -> VisitData {
    store.load_visit(visit_id).unwrap().unwrap().1
}

fn edit(store: &mut Store, visit_id: &str, f: impl FnOnce(&mut VisitData)) {
    let mut v = current(store, visit_id);
    f(&mut v);
    store.save_visit("陈静", visit_id, Some(&v)).unwrap();
}

struct Fx {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    stick: PathBuf,
    a: PathBuf,
    b: PathBuf,
    county: Store,
}

/// Two crews' files on a "stick" in the home folder: both start from the
/// same two visits; both edit the notes and the natural villages of
/// `visit-1` differently (a conflict on two fields); crew A adds `visit-3`,
/// crew B edits only the notes of `visit-2`.
fn fixture() -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let stick = home.join("U盘");
    std::fs::create_dir_all(&stick).unwrap();
    let base_path = tmp.path().join("base.db");
    let mut base = open_as(&base_path, "county-base");
    base.import_roster(&roster()).unwrap();
    let codes = villages(&base);
    let mut rng = crate::generate::Rng::new(7);
    for (i, code) in codes.iter().take(2).enumerate() {
        let v = crate::generate::random_visit(&mut rng, code, "2025-05-01");
        base.save_visit("陈静", &format!("visit-{}", i + 1), Some(&v)).unwrap();
    }
    let base_snap = tmp.path().join("base-snap.db");
    base.snapshot(&base_snap).unwrap();
    let crew = |name: &str, device: &str, file: &str, f: &dyn Fn(&mut Store)| {
        let mut s = open_as(&tmp.path().join(name), device);
        s.merge_files(std::slice::from_ref(&base_snap), MergeOptions::default()).unwrap();
        f(&mut s);
        let out = stick.join(file);
        s.snapshot(&out).unwrap();
        out
    };
    let third = codes[2].clone();
    let a = crew("a.db", "crew-hetang", "crew-荷塘.db", &|s| {
        edit(s, "visit-1", |v| {
            v.notes = "新建污水站".into();
            v.natural_villages += 1;
            // Changed on this side only: merged without asking.
            v.surveyor = "李娜".into();
        });
        let mut rng = crate::generate::Rng::new(9);
        let v = crate::generate::random_visit(&mut rng, &third, "2025-05-20");
        s.save_visit("陈静", "visit-3", Some(&v)).unwrap();
    });
    let b = crew("b.db", "crew-xianyu", "crew-仙庾.db", &|s| {
        edit(s, "visit-1", |v| {
            v.notes = "管网未通".into();
            v.natural_villages += 2;
        });
        edit(s, "visit-2", |v| v.notes = "复查".into());
    });
    std::fs::create_dir_all(stick.join("旧数据")).unwrap();
    std::fs::write(stick.join("说明.txt"), "not a database").unwrap();
    let county = open_as(&home.join("county.db"), "county-office");
    county.set_meta(browse::LAST_SURVEYOR, "县农业农村局").unwrap();
    Fx { _tmp: tmp, home, stick, a, b, county }
}

fn county(fx: &Fx, lang: Lang) -> County {
    County::with(&fx.county, lang, Settings::default(), today(), fx.home.clone()).unwrap()
}

fn press(c: &mut County, store: &mut Store, code: KeyCode) -> Action {
    c.handle(&Event::Key(KeyEvent::new(code, KeyModifiers::NONE)), &mut Ctx { store }).unwrap()
}

fn keys(c: &mut County, store: &mut Store, codes: &[KeyCode]) {
    for k in codes {
        press(c, store, *k);
    }
}

fn typed(c: &mut County, store: &mut Store, text: &str) {
    for ch in text.chars() {
        press(c, store, KeyCode::Char(ch));
    }
}

fn render(c: &County, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let [body, bar] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(f.area());
        c.draw(f, body);
        key_bar(&c.hints(), bar, f.buffer_mut());
    })
    .unwrap();
    t
}

/// The text on a 120×40 screen.
fn screen_text(c: &County) -> String {
    format!("{}", render(c, 120, 40).backend())
}

fn snap(c: &County, name: &str) {
    let lang = if c.lang == Lang::Zh { "zh" } else { "en" };
    for (w, h) in [(80, 24), (120, 40)] {
        let t = render(c, w, h);
        insta::assert_snapshot!(format!("{name}_{lang}_{w}x{h}"), t.backend());
    }
    for (w, h) in [(1, 1), (12, 4), (40, 10)] {
        let t = render(c, w, h);
        assert_eq!(t.backend().buffer().area.width, w);
    }
}

/// Opens the stick in the sync screen and marks both crews' files.
fn mark_both(c: &mut County, store: &mut Store) {
    // Type the folder with Tab completion: "~/U" completes to "~/U盘/".
    keys(c, store, &[KeyCode::End]);
    typed(c, store, "U");
    press(c, store, KeyCode::Tab);
    assert_eq!(c.sync.input.text, "~/U盘/");
    press(c, store, KeyCode::Enter);
    assert_eq!(c.sync.focus, Focus::List);
    assert_eq!(c.sync.dir, c.home.join("U盘"));
    let names: Vec<&str> = c.sync.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["..", "旧数据", "crew-仙庾.db", "crew-荷塘.db"], "folders first, .db files only");
    // The cursor starts on the first file; Space marks it and moves on.
    assert_eq!(c.sync.entries[c.sync.selected].name, "crew-仙庾.db");
    keys(c, store, &[KeyCode::Char(' '), KeyCode::Char(' ')]);
    assert_eq!(c.sync.marked.len(), 2);
}

fn hlc_fixed(store: &Store) {
    // Clock stamps are wall time: fixed here so that snapshots do not move.
    sql(store).execute("UPDATE revision SET hlc = '1748736000000.00000'", []).unwrap();
}

fn visit_count(store: &Store) -> i64 {
    sql(store).query_row("SELECT count(*) FROM visit", [], |r| r.get(0)).unwrap()
}

#[test]
fn two_crew_files_merge_through_the_sync_screen() {
    let mut fx = fixture();
    let mut store = Store::open(&fx.home.join("county.db")).unwrap();
    let mut c = county(&fx, Lang::Zh);
    assert!(c.sync.entries.iter().all(|e| e.name != "county.db"), "the open database is not offered");
    mark_both(&mut c, &mut store);
    // A broken file typed by its path is marked too, and refused by name.
    let bad = fx.stick.join("旧数据").join("坏.db");
    std::fs::write(&bad, "not a database").unwrap();
    press(&mut c, &mut store, KeyCode::Tab);
    assert_eq!(c.sync.focus, Focus::Input);
    for _ in 0..c.sync.input.text.chars().count() {
        press(&mut c, &mut store, KeyCode::Backspace);
    }
    typed(&mut c, &mut store, "~/U盘/旧数据/坏.db");
    press(&mut c, &mut store, KeyCode::Enter);
    assert_eq!(c.sync.marked.len(), 3);
    press(&mut c, &mut store, KeyCode::F(8));
    let Stage::Preview(r) = &c.sync.stage else { panic!("no dry run: {:?}", c.sync.stage) };
    assert!(r.dry_run);
    assert_eq!(r.files.len(), 3);
    assert_eq!(r.refused(), 1);
    assert_eq!(visit_count(&store), 0, "a dry run writes nothing");
    // Enter starts the merge; the first frame shows it before any file is merged.
    press(&mut c, &mut store, KeyCode::Enter);
    assert!(c.busy());
    assert!(matches!(c.sync.stage, Stage::Merging { next: 0, .. }));
    assert_eq!(visit_count(&store), 0);
    c.step(&mut store);
    assert!(matches!(c.sync.stage, Stage::Merging { next: 1, .. }), "one file per step");
    assert!(visit_count(&store) > 0);
    c.step(&mut store);
    c.step(&mut store);
    let Stage::Done(r) = &c.sync.stage else { panic!("not done: {:?}", c.sync.stage) };
    assert!(!r.dry_run);
    assert_eq!(r.refused(), 1, "the refused file is named in the result");
    let shown = render(&c, 80, 24).backend().to_string();
    assert!(shown.contains("坏.db") && shown.contains("已拒绝"), "{shown}");
    assert_eq!(r.open_conflicts, 1);
    assert!(r.backup.is_some(), "a backup is taken before the merge");
    assert_eq!(visit_count(&store), 3);
    assert_eq!(open_conflicts(&store), 1);
    // Only one backup for the whole merge.
    let backups = std::fs::read_dir(fx.home.join("backups")).unwrap().count();
    assert_eq!(backups, 1);
    // The conflicts screen already knows.
    assert_eq!(c.conflicts.list.len(), 1);
    // Merging the same files again changes nothing and says so.
    press(&mut c, &mut store, KeyCode::Enter);
    assert!(c.sync.marked.is_empty());
    let files = [fx.a.clone(), fx.b.clone()];
    let again = fx.county.merge_files(&files, MergeOptions { dry_run: true, ..Default::default() }).unwrap();
    assert!(again.files.iter().all(|f| matches!(f, crate::store::sync::FileOutcome::AlreadyMerged { .. })));
}

#[test]
fn a_conflict_is_settled_by_taking_a_whole_side() {
    let fx = fixture();
    let mut store = Store::open(&fx.home.join("county.db")).unwrap();
    store.merge_files(&[fx.a.clone(), fx.b.clone()], MergeOptions::default()).unwrap();
    let mut c = county(&fx, Lang::En);
    press(&mut c, &mut store, KeyCode::F(6));
    assert_eq!(c.tab, Tab::Conflicts);
    assert_eq!(c.conflicts.list.len(), 1);
    press(&mut c, &mut store, KeyCode::Enter);
    let d = c.conflicts.detail.as_ref().expect("the detail opens");
    let fields: Vec<&str> = d.rows.iter().filter(|r| r.conflict).map(|r| r.field.as_str()).collect();
    assert_eq!(fields, ["natural_villages", "notes"]);
    // The surveyor differs but only one side changed it: marked, not asked.
    let surveyor = d.rows.iter().find(|r| r.field == "surveyor").unwrap();
    assert!(surveyor.differs && !surveyor.conflict);
    let screen = render(&c, 80, 24).backend().to_string();
    assert!(screen.contains("≠ Surveyor") && screen.contains("! Notes"), "{screen}");
    // Which side is crew B's.
    let b = d.heads.iter().position(|h| h.crew == "crew-xianyu").unwrap();
    // Enter without a choice is refused with a message.
    press(&mut c, &mut store, KeyCode::Enter);
    assert!(c.message.as_ref().is_some_and(|m| m.1));
    assert_eq!(open_conflicts(&store), 1);
    press(&mut c, &mut store, KeyCode::Char(char::from_digit(b as u32 + 1, 10).unwrap()));
    press(&mut c, &mut store, KeyCode::Enter);
    assert_eq!(open_conflicts(&store), 0);
    assert!(c.conflicts.list.is_empty(), "the list refreshes at once");
    assert!(c.conflicts.detail.is_none());
    let v = current(&store, "visit-1");
    assert_eq!(v.notes, "管网未通");
    assert_ne!(v.surveyor, "李娜", "a whole side is taken whole");
    let heads = store.heads("visit-1").unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].author, "县农业农村局", "the author is the last surveyor of this database");
}

#[test]
fn a_conflict_is_settled_field_by_field() {
    let fx = fixture();
    let mut store = Store::open(&fx.home.join("county.db")).unwrap();
    store.merge_files(&[fx.a.clone(), fx.b.clone()], MergeOptions::default()).unwrap();
    let mut c = county(&fx, Lang::Zh);
    press(&mut c, &mut store, KeyCode::F(6));
    press(&mut c, &mut store, KeyCode::Enter);
    let d = c.conflicts.detail.as_ref().unwrap();
    let a = d.heads.iter().position(|h| h.crew == "crew-hetang").unwrap();
    let b = 1 - a;
    let a_nv = d.heads[a].fields.as_ref().unwrap()["natural_villages"].as_i64().unwrap();
    // The cursor starts on the first conflicting field (natural villages):
    // → picks side 1, → again side 2. Choose A there, then B for the notes.
    assert_eq!(d.rows[d.selected].field, "natural_villages");
    for _ in 0..=a {
        press(&mut c, &mut store, KeyCode::Right);
    }
    press(&mut c, &mut store, KeyCode::Tab);
    assert_eq!(c.conflicts.detail.as_ref().unwrap().rows[c.conflicts.detail.as_ref().unwrap().selected].field, "notes");
    for _ in 0..=b {
        press(&mut c, &mut store, KeyCode::Right);
    }
    let how = c.conflicts.detail.as_ref().unwrap().resolution().expect("every field chosen");
    assert!(how.take.is_none());
    press(&mut c, &mut store, KeyCode::Enter);
    assert_eq!(open_conflicts(&store), 0);
    let v = current(&store, "visit-1");
    assert_eq!(v.natural_villages, a_nv, "natural villages from crew A");
    assert_eq!(v.notes, "管网未通", "notes from crew B");
    assert_eq!(v.surveyor, "李娜", "a field changed on one side only keeps its change");
    assert!(c.conflicts.list.is_empty());
}

#[test]
fn exports_write_files_and_say_what() {
    let fx = fixture();
    let mut store = Store::open(&fx.home.join("county.db")).unwrap();
    store.merge_files(&[fx.a.clone(), fx.b.clone()], MergeOptions::default()).unwrap();
    let mut c = county(&fx, Lang::En);
    press(&mut c, &mut store, KeyCode::F(7));
    assert_eq!(c.export.inputs[0].text, "~/ruralsan-export-20250601/");
    assert_eq!(c.export.inputs[1].text, "~/ruralsan-snapshot-20250601.db");
    // After browsing the stick, the snapshot is offered there.
    press(&mut c, &mut store, KeyCode::F(5));
    keys(&mut c, &mut store, &[KeyCode::Down, KeyCode::Enter]);
    assert_eq!(c.sync.dir, fx.stick);
    press(&mut c, &mut store, KeyCode::F(7));
    assert_eq!(c.export.inputs[1].text, "~/U盘/ruralsan-snapshot-20250601.db");
    // CSV bundle at the default path.
    press(&mut c, &mut store, KeyCode::Enter);
    let (text, err) = c.message.clone().unwrap();
    assert!(!err, "{text}");
    assert!(text.contains("3 visits") && text.contains("~/ruralsan-export-20250601"), "{text}");
    let visits_csv = std::fs::read_to_string(fx.home.join("ruralsan-export-20250601/visits.csv")).unwrap();
    assert_eq!(visits_csv.lines().count(), 4, "a header and three visits");
    // A snapshot at a typed path.
    press(&mut c, &mut store, KeyCode::Down);
    for _ in 0..c.export.inputs[1].text.chars().count() {
        press(&mut c, &mut store, KeyCode::Backspace);
    }
    typed(&mut c, &mut store, "~/U盘/county.db");
    press(&mut c, &mut store, KeyCode::Enter);
    let (text, err) = c.message.clone().unwrap();
    assert!(!err, "{text}");
    let copy = Store::open(&fx.stick.join("county.db")).unwrap();
    assert_eq!(visit_count(&copy), 3);
    // The same path again: refused, said as an error.
    press(&mut c, &mut store, KeyCode::Enter);
    assert!(c.message.as_ref().unwrap().1);
    // The spreadsheet.
    press(&mut c, &mut store, KeyCode::Down);
    press(&mut c, &mut store, KeyCode::Enter);
    let (text, err) = c.message.clone().unwrap();
    assert!(!err, "{text}");
    let xlsx = fx.home.join("ruralsan-report-20250601.xlsx");
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 0);
}

#[test]
fn nothing_chosen_or_a_wrong_path_is_said_not_done() {
    let fx = fixture();
    let mut store = Store::open(&fx.home.join("county.db")).unwrap();
    let mut c = county(&fx, Lang::En);
    press(&mut c, &mut store, KeyCode::F(8));
    assert!(matches!(c.sync.stage, Stage::Pick));
    assert!(c.message.as_ref().is_some_and(|m| m.1));
    typed(&mut c, &mut store, "nowhere");
    press(&mut c, &mut store, KeyCode::Enter);
    assert!(c.message.as_ref().is_some_and(|m| m.1 && m.0.contains("no such")));
    // A file typed whole is marked.
    for _ in 0..c.sync.input.text.chars().count() {
        press(&mut c, &mut store, KeyCode::Backspace);
    }
    typed(&mut c, &mut store, &fx.a.display().to_string());
    press(&mut c, &mut store, KeyCode::Enter);
    assert_eq!(c.sync.marked, std::slice::from_ref(&fx.a));
    // Key releases are not presses.
    let release = KeyEvent { kind: KeyEventKind::Release, ..KeyEvent::new(KeyCode::F(8), KeyModifiers::NONE) };
    assert_eq!(c.handle(&Event::Key(release), &mut Ctx { store: &mut store }).unwrap(), Action::Ignored);
    assert!(matches!(c.sync.stage, Stage::Pick));
}

#[test]
fn screens_as_snapshots() {
    for lang in [Lang::Zh, Lang::En] {
        let mut fx = fixture();
        let mut store = Store::open(&fx.home.join("county.db")).unwrap();
        let mut c = county(&fx, lang);
        snap(&c, "county_sync_start");
        mark_both(&mut c, &mut store);
        snap(&c, "county_sync_marked");
        // Completion with several matches lists them.
        press(&mut c, &mut store, KeyCode::Tab);
        typed(&mut c, &mut store, "c");
        press(&mut c, &mut store, KeyCode::Tab);
        assert_eq!(c.sync.input.choices.len(), 2);
        snap(&c, "county_sync_completion");
        press(&mut c, &mut store, KeyCode::F(8));
        snap(&c, "county_sync_dry_run");
        press(&mut c, &mut store, KeyCode::Enter);
        c.step(&mut store);
        if let Stage::Merging { report, .. } = &mut c.sync.stage {
            report.backup = Some(fx.home.join("backups/county-20250601T080000Z.db"));
        }
        snap(&c, "county_sync_merging");
        c.step(&mut store);
        if let Stage::Done(r) = &mut c.sync.stage {
            r.backup = Some(fx.home.join("backups/county-20250601T080000Z.db"));
        }
        snap(&c, "county_sync_done");
        hlc_fixed(&store);
        press(&mut c, &mut store, KeyCode::F(6));
        snap(&c, "county_conflicts");
        press(&mut c, &mut store, KeyCode::Enter);
        press(&mut c, &mut store, KeyCode::Right);
        snap(&c, "county_conflict_sides");
        press(&mut c, &mut store, KeyCode::Char('2'));
        press(&mut c, &mut store, KeyCode::Enter);
        snap(&c, "county_conflicts_settled");
        press(&mut c, &mut store, KeyCode::F(7));
        press(&mut c, &mut store, KeyCode::Enter);
        snap(&c, "county_export_done");
        press(&mut c, &mut store, KeyCode::F(1));
        snap(&c, "county_help");
        fx.county = store;
    }
}

#[test]
fn a_deletion_against_an_edit_is_settled_by_choosing_the_deleting_side() {
    let fx = fixture();
    // Crew A deletes visit-2, which crew B edited.
    let mut a = Store::open(&fx._tmp.path().join("a.db")).unwrap();
    a.save_visit("陈静", "visit-2", None).unwrap();
    let a2 = fx.stick.join("crew-荷塘-2.db");
    a.snapshot(&a2).unwrap();
    let mut store = Store::open(&fx.home.join("county.db")).unwrap();
    store.merge_files(&[fx.a.clone(), fx.b.clone(), a2], MergeOptions::default()).unwrap();
    assert_eq!(open_conflicts(&store), 2);
    let mut c = county(&fx, Lang::Zh);
    press(&mut c, &mut store, KeyCode::F(6));
    let i = c.conflicts.list.iter().position(|x| x.visit_id == "visit-2").unwrap();
    for _ in 0..i {
        press(&mut c, &mut store, KeyCode::Down);
    }
    press(&mut c, &mut store, KeyCode::Enter);
    let d = c.conflicts.detail.as_ref().unwrap();
    assert_eq!(d.rows[0].field, crate::store::conflict::DELETED_FIELD, "the deletion comes first");
    assert!(d.rows[0].conflict);
    // Only what the live side changed is open, each with its base value;
    // the deleted side's empty column marks nothing else as differing.
    let edited: Vec<&str> = d.rows[1..].iter().filter(|r| r.conflict).map(|r| r.field.as_str()).collect();
    assert_eq!(edited, vec!["notes"], "crew B edited the notes alone");
    assert!(d.rows.iter().filter(|r| r.conflict).all(|r| r.base.is_some()));
    assert!(d.rows.iter().filter(|r| !r.conflict).all(|r| !r.differs), "only edited fields differ");
    let deleting = d.heads.iter().position(|h| h.fields.is_none()).unwrap();
    let screen = render(&c, 80, 24).backend().to_string();
    assert!(screen.contains("! 删除调查") && screen.contains("已删除"), "{screen}");
    for _ in 0..=deleting {
        press(&mut c, &mut store, KeyCode::Right);
    }
    press(&mut c, &mut store, KeyCode::Enter);
    assert_eq!(open_conflicts(&store), 1);
    assert_eq!(c.conflicts.list.len(), 1);
    let gone: i64 =
        sql(&store).query_row("SELECT count(*) FROM visit WHERE visit_id = 'visit-2'", [], |r| r.get(0)).unwrap();
    assert_eq!(gone, 0, "the deleting side was chosen");
}

#[test]
fn the_app_hosts_a_merge_with_its_gauge_and_the_supervisor_sees_the_result() {
    use crate::tui::app::App;
    use crate::tui::roles::Role;
    let fx = fixture();
    let store = Store::open(&fx.home.join("county.db")).unwrap();
    let mut app = App::new(store, Lang::Zh, Settings::default(), today()).unwrap();
    let key = |app: &mut App, code: KeyCode| app.key(KeyEvent::new(code, KeyModifiers::NONE));
    // The supervisor before any merge: nothing surveyed.
    key(&mut app, KeyCode::F(4));
    assert_eq!(app.supervisor.as_ref().unwrap().page().summary.total.surveyed, 0);
    key(&mut app, KeyCode::F(3));
    app.county = Some(county(&fx, Lang::Zh));
    for ch in "U".chars() {
        key(&mut app, KeyCode::Char(ch));
    }
    for k in [KeyCode::Tab, KeyCode::Enter, KeyCode::Char(' '), KeyCode::Char(' '), KeyCode::F(8), KeyCode::Enter] {
        key(&mut app, k);
    }
    assert!(app.busy());
    let draw = |app: &App| {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        t.backend().to_string()
    };
    let first = draw(&app);
    assert!(first.contains("正在合并") && first.contains("0/2"), "{first}");
    // The event loop steps one file per frame.
    app.step();
    assert!(draw(&app).contains("1/2"));
    app.step();
    assert!(!app.busy());
    assert!(draw(&app).contains("合并完成"));
    // The supervisor views are made again: the merged visits count.
    key(&mut app, KeyCode::F(4));
    assert_eq!(app.role, Role::Supervisor);
    let sup = app.supervisor.as_ref().unwrap();
    assert!(sup.page().summary.total.surveyed > 0);
    assert_eq!(sup.page().summary.open_conflicts, 1);
}

#[test]
fn the_merge_screen_enrols_unknown_crews_after_showing_them() {
    let fx = fixture();
    // A county of its own: the crews' key is unknown here.
    let id = crate::identity::Identity::generate("醴陵县");
    let mut store = Store::open_with(&fx.home.join("county.db"), &id).unwrap();
    let mut c = county(&fx, Lang::En);
    mark_both(&mut c, &mut store);
    press(&mut c, &mut store, KeyCode::F(8));
    let Stage::Preview(r) = &c.sync.stage else { panic!("no dry run") };
    assert_eq!(r.refused(), 2);
    let shown = render(&c, 120, 40).backend().to_string();
    let fp = crate::identity::fingerprint(&crate::identity::Identity::load_default().unwrap().key_id());
    assert!(shown.contains(&fp) && shown.contains("press E to enrol"), "{shown}");
    press(&mut c, &mut store, KeyCode::Char('e'));
    let Stage::Preview(r) = &c.sync.stage else { panic!("no dry run") };
    assert_eq!(r.refused(), 0, "{:?}", r.files);
    assert!(store.crews().unwrap().is_empty(), "a dry run enrols nobody");
    press(&mut c, &mut store, KeyCode::Enter);
    while c.busy() {
        c.step(&mut store);
    }
    let Stage::Done(r) = &c.sync.stage else { panic!("not done") };
    assert_eq!(r.refused(), 0);
    assert_eq!(store.crews().unwrap().len(), 1, "one key signed both crews' files");
}

/// The review queue: a county with the sample's visits (the sample trips
/// checks), flagged visits first; one key and a note record a review of the
/// current revision; filters by township and crew.
#[test]
fn review_queue_snapshots_and_a_decision_by_key() {
    use crate::domain::review::{ReviewState, Standing};
    let tmp = tempfile::tempdir().unwrap();
    let mut store = open_as(&tmp.path().join("county.db"), "荷塘区");
    store.import_bundle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample"), false).unwrap();
    let today = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    for lang in [Lang::Zh, Lang::En] {
        let mut c = County::with(&store, lang, Settings::default(), today, tmp.path().to_path_buf()).unwrap();
        press(&mut c, &mut store, KeyCode::F(9));
        assert_eq!(c.tab, Tab::Review);
        // Read on another thread: the screen says so until the rows come.
        assert!(c.queue.loading() && c.queue.all.is_empty());
        assert!(screen_text(&c).contains(crate::strings::supervisor::computing(lang)));
        c.queue.wait(&store);
        assert!(!c.queue.loading());
        let shown = c.queue.shown();
        assert!(!shown.is_empty() && !shown[0].checks.is_empty(), "flagged first");
        let first_clean = shown.iter().position(|q| q.checks.is_empty()).unwrap();
        assert!(shown[first_clean..].iter().all(|q| q.checks.is_empty()));
        snap(&c, "county_review_queue");
        if lang == Lang::En {
            continue;
        }
        // A decision: `i`, a note, Enter.
        let id = c.queue.shown()[0].visit_id.clone();
        press(&mut c, &mut store, KeyCode::Char('i'));
        typed(&mut c, &mut store, "户数请核实");
        snap(&c, "county_review_deciding");
        press(&mut c, &mut store, KeyCode::Enter);
        c.queue.wait(&store);
        let w = store.visit_review(&id).unwrap();
        assert_eq!(w.standing, Standing::Agreed(ReviewState::Issues));
        assert_eq!(w.returned_note(), Some("户数请核实"));
        // Still waiting (not approved); approving takes it out of the queue.
        let pos = c.queue.shown().iter().position(|q| q.visit_id == id).unwrap();
        c.queue.selected = pos;
        press(&mut c, &mut store, KeyCode::Char('a'));
        press(&mut c, &mut store, KeyCode::Enter);
        assert!(store.visit_review(&id).unwrap().standing.approved());
        assert!(c.queue.all.iter().all(|q| q.visit_id != id), "out at once");
        c.queue.wait(&store);
        assert!(c.queue.all.iter().all(|q| q.visit_id != id), "and in the queue read again");
        // Filters: a township, then a crew within it.
        press(&mut c, &mut store, KeyCode::Char('t'));
        let t = c.queue.township.clone().expect("a township");
        assert!(c.queue.shown().iter().all(|q| q.township() == t));
        press(&mut c, &mut store, KeyCode::Char('c'));
        let crew = c.queue.crew.clone().expect("a crew");
        assert!(c.queue.shown().iter().all(|q| q.crew == crew && q.township() == t));
    }
}
