//! End to end: the supervisor role (F4) of the terminal UI in a tmux pane
//! (80×24, Chinese), driven by keys as a supervisor would; the figures on screen are the summary's.

mod common;

use std::process::Command;

use common::tmux::{Tmux, tmux_available};

#[test]
fn a_supervisor_drills_down_changes_the_date_and_quits() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("county.db");
    let import = Command::new(bin).arg("--db").arg(&db).arg("import").arg(common::sample("sample")).output().unwrap();
    assert!(import.status.success(), "{import:?}");
    let summary = Command::new(bin)
        .arg("--db")
        .arg(&db)
        .args(["summary", "--as-of", "2024-06-30", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&summary.stdout).unwrap();
    let total = &json["areas"][0];
    let surveyed = format!("{}/{}", total["surveyed"], total["villages"]);

    let cmd = format!("{bin} --db '{}'; echo EXITED $?; sleep 60", db.display());
    let t = Tmux::start("d", 80, 24, &cmd);
    t.wait_for("F4");
    t.keys(&["F4"]);
    let s = t.wait_for("督导看板");
    assert!(s.contains("F2 村组调查") && s.contains("F3 县级汇总/合并"), "the roles show on the first screen:\n{s}");
    t.wait_for("县(区) 9 个");
    // Down to 攸县, its townships, a village, its visits; back up with Esc.
    t.keys(&["Down", "Down", "Down", "Down", "Down", "Enter"]);
    t.wait_for("全部 › 攸县 · 乡镇(街道) 17 个");
    // Figures come from a worker thread: each step waits for them (the
    // breadcrumb's count, the list's header), not only for the title, as
    // Esc on a view still computing cancels instead of going back.
    t.keys(&["Enter"]);
    t.wait_until("the villages' count", |s| s.lines().any(|l| l.contains("· 行政村") && l.trim_end().ends_with('个')));
    t.keys(&["Enter"]);
    t.wait_for("调查记录（新→旧，只读）");
    t.wait_for("调查日期");
    for expect in ["全部 › 攸县 › 联星街道 · 行政村", "全部 › 攸县 · 乡镇", "全部 · 县(区) 9 个"]
    {
        t.keys(&["Escape"]);
        t.wait_for(expect);
    }
    // The as-of date: the total row shows the summary's figures for it.
    t.keys(&["d"]);
    t.wait_for("YYYY-MM-DD");
    for _ in 0..10 {
        t.keys(&["BSpace"]);
    }
    t.keys(&["-l", "2024-06-30"]);
    t.keys(&["Enter"]);
    t.wait_for("截至 2024-06-30");
    // The date shows at once; the figures follow from the worker thread.
    let s = t.wait_for("合计");
    let total_line = s.lines().find(|l| l.contains("合计")).unwrap_or_default().to_string();
    assert!(total_line.contains(&surveyed), "total {total_line:?} should show {surveyed}");
    // The trend of 攸县 (still selected after coming back), then quit: the terminal is given back.
    t.keys(&["t"]);
    t.wait_for("趋势 · 攸县");
    t.keys(&["Escape"]);
    t.wait_for("对照目标");
    t.keys(&["q"]);
    let s = t.wait_for("EXITED 0");
    assert!(!s.contains("督导看板"), "the alternate screen is left on quit:\n{s}");
}

#[test]
fn the_dashboard_shows_a_merge_made_by_another_process_without_a_key() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let dir = tempfile::tempdir().unwrap();
    let run = |db: &std::path::Path, args: &[&str]| {
        let out = Command::new(bin).arg("--db").arg(db).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        out.stdout
    };
    // A crew's file with the sample's visits; a county with the roster alone.
    let crew = dir.path().join("crew.db");
    run(&crew, &["import", common::sample("sample").to_str().unwrap()]);
    let stick = dir.path().join("stick.db");
    run(&crew, &["snapshot", stick.to_str().unwrap()]);
    let county = dir.path().join("county.db");
    run(&county, &["roster", "import", common::sample("sample").join("villages.csv").to_str().unwrap()]);
    let total = |db: &std::path::Path| {
        let json: serde_json::Value = serde_json::from_slice(&run(db, &["summary", "--format", "json"])).unwrap();
        let t = &json["areas"][0];
        format!("{}/{}", t["surveyed"], t["villages"])
    };
    let before = total(&county);

    let cmd = format!("{bin} --db '{}'; echo EXITED $?; sleep 60", county.display());
    let t = Tmux::start("m", 80, 24, &cmd);
    t.wait_for("F4");
    t.keys(&["F4"]);
    t.wait_for("督导看板");
    let total_line = |s: &str| s.lines().find(|l| l.contains("合计")).unwrap_or_default().to_string();
    let s = t.wait_until("the total before", |s| total_line(s).contains(&before));
    assert!(total_line(&s).contains(&before));
    // Another process merges the crew's file while the dashboard is open.
    run(&county, &["merge", "--enrol-new", stick.to_str().unwrap()]);
    let after = total(&county);
    assert_ne!(before, after, "the merge brought surveyed villages");
    // No key pressed: the screen follows the database.
    let s = t.wait_until("the total after the merge", |s| total_line(s).contains(&after));
    assert!(total_line(&s).contains(&after), "{s}");
    t.keys(&["q"]);
    t.wait_for("EXITED 0");
}
