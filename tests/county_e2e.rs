//! End to end, as a county clerk: the real binary in a tmux pane (80×24,
//! Chinese). Two crews' files on a "stick" edited the same visit two ways;
//! the clerk switches to the county role, merges both through the sync
//! screen, opens the conflict, takes a side, quits; the database is queried.

mod common;

use std::path::Path;
use std::process::Command;

use common::tmux::{Tmux, tmux_available};
use ruralsan::domain::VisitData;
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::conflict;
use ruralsan::store::sync::MergeOptions;

/// A crew's database: the roster, the shared first visit, then its own notes.
fn crew(dir: &Path, base: &Path, name: &str, notes: &str) {
    let mut s = Store::open(&dir.join(format!("{name}-work.db"))).unwrap();
    s.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    s.merge_files(&[base.to_path_buf()], MergeOptions::default()).unwrap();
    let (_, mut v): (String, VisitData) =
        ruralsan::store::browse::load_visit(&common::sql(&s), "visit-1").unwrap().unwrap();
    v.notes = notes.into();
    s.save_visit("陈静", "visit-1", Some(&v)).unwrap();
    s.snapshot(&dir.join("stick").join(format!("{name}.db"))).unwrap();
}

#[test]
fn a_clerk_merges_two_crews_and_settles_their_conflict() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("stick")).unwrap();
    let mut base = Store::open(&dir.join("base.db")).unwrap();
    base.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let code: String = common::sql(&base)
        .query_row("SELECT code FROM roster WHERE is_village = 1 ORDER BY code LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let v = random_visit(&mut Rng::new(3), &code, "2025-05-01");
    base.save_visit("陈静", "visit-1", Some(&v)).unwrap();
    base.snapshot(&dir.join("base-snap.db")).unwrap();
    crew(dir, &dir.join("base-snap.db"), "a", "甲队：新建污水站");
    crew(dir, &dir.join("base-snap.db"), "b", "乙队：管网未通");

    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let db = dir.join("county.db");
    let roster = common::sample("sample").join("villages.csv");
    let status = Command::new(bin).arg("--db").arg(&db).args(["roster", "import"]).arg(&roster).status().unwrap();
    assert!(status.success());
    // HOME is the scratch folder, so the path field starts at "~/" there.
    let cmd = format!("HOME='{}' {bin} --db '{}'; echo EXITED $?; sleep 60", dir.display(), db.display());
    let t = Tmux::start("county", 80, 24, &cmd);
    t.wait_for("F3 县级汇总/合并");
    t.keys(&["F3"]);
    t.wait_for("[F5 合并数据]");
    // Type the folder with Tab completion, open it, mark both files.
    t.text("st");
    t.keys(&["Tab"]);
    t.wait_for("文件路径: ~/stick/");
    t.keys(&["Enter"]);
    t.wait_for("[ ]a.db");
    t.keys(&["Space"]);
    t.keys(&["Space"]);
    t.wait_for("已选文件 (2)");
    // Dry run, then merge.
    t.keys(&["F8"]);
    t.wait_for("预检结果");
    assert_eq!(
        common::sql(&Store::open(&db).unwrap())
            .query_row("SELECT count(*) FROM visit", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        0
    );
    t.keys(&["Enter"]);
    let done = t.wait_for("合并完成");
    assert!(done.contains("未解决冲突: 1"), "{done}");
    // Side 1 of the conflict, as the screen will show it.
    let side1 = {
        let s = Store::open(&db).unwrap();
        let list = conflict::list_conflicts(&common::sql(&s)).unwrap();
        assert_eq!(list.len(), 1);
        list[0].fields[0].sides[0].value.clone().unwrap()
    };
    t.keys(&["F6"]);
    t.wait_for("未解决冲突 1 个");
    t.keys(&["Enter"]);
    t.wait_for("! 备注");
    t.keys(&["1"]);
    t.wait_for("采用整个版本 1");
    t.keys(&["Enter"]);
    t.wait_for("冲突已解决");
    t.wait_for("没有未解决的冲突");
    t.keys(&["C-q"]);
    t.wait_for("EXITED 0");

    let s = Store::open(&db).unwrap();
    assert_eq!(conflict::open_conflicts(&common::sql(&s)).unwrap(), 0);
    let notes: String =
        common::sql(&s).query_row("SELECT notes FROM visit WHERE visit_id = 'visit-1'", [], |r| r.get(0)).unwrap();
    assert_eq!(serde_json::Value::String(notes), side1);
    let heads = ruralsan::store::revisions::heads(&common::sql(&s), "visit-1").unwrap();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].parents.len(), 2, "the settling revision joins both sides");
}
