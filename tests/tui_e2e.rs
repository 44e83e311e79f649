//! End to end: the real binary in a pseudo-terminal (a tmux pane, 80×24),
//! typed into as a person would; then the database is queried.

mod common;

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::tmux::{Tmux, tmux_available};

/// A crew database with the Zhuzhou roster, in a folder that lives as long as the returned guard.
fn crew_db(bin: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crew.db");
    let roster = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/zhuzhou_villages_2021.csv");
    assert!(Command::new(bin).arg("--db").arg(&db).args(["roster", "import"]).arg(&roster).status().unwrap().success());
    (dir, db)
}

#[test]
fn a_crew_types_a_new_visit_and_saves_it() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let (_dir, db) = crew_db(bin);

    let cmd = format!("{bin} --db '{}'; echo EXITED $?; sleep 60", db.display());
    let t = Tmux::start("e2e", 80, 24, &cmd);
    t.wait_for("农村人居环境调查");
    t.text("荷塘铺");
    t.wait_for("430202001201 荷塘铺村委会");
    t.keys(&["Enter"]);
    t.wait_for("尚无调查记录");
    t.keys(&["n"]);
    t.wait_for("新调查 · 荷塘区 › 月塘街道 › 荷塘铺村委会");
    // Focus starts on households; the surveyor is one field up.
    t.text("120");
    t.keys(&["BTab"]);
    t.text("李娜");
    for value in ["", "30", "10", "0", "6", "5"] {
        t.keys(&["Tab"]);
        t.text(value);
    }
    t.wait_for("40/120 = 33.3%");
    t.keys(&["C-s"]);
    let s = t.wait_for("已保存");
    assert!(s.contains("李娜"), "{s}");
    t.keys(&["C-q"]);
    t.wait_for("EXITED 0");

    let conn = rusqlite::Connection::open(&db).unwrap();
    let row: (String, i64, i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT surveyor, households, hh_sewer, hh_reuse, hh_controlled, natural_villages, nv_garbage_covered
             FROM visit WHERE village_code = '430202001201'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap();
    assert_eq!(row, ("李娜".into(), 120, 30, 10, 0, 6, 5));
    let drafts: i64 = conn.query_row("SELECT count(*) FROM draft", [], |r| r.get(0)).unwrap();
    assert_eq!(drafts, 0);
}

#[test]
fn a_draft_survives_kill_9_and_is_offered_back() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let (_dir, db) = crew_db(bin);

    let cmd = format!("{bin} --db '{}' --lang en; {bin} --db '{}' --lang en; sleep 60", db.display(), db.display());
    let t = Tmux::start("e2e", 80, 24, &cmd);
    t.wait_for("Rural sanitation survey");
    t.text("仙庾岭");
    t.wait_for("430202100220");
    t.keys(&["Enter"]);
    t.wait_for("No visits yet");
    t.keys(&["n"]);
    t.wait_for("New visit");
    t.text("77");
    // The draft reaches the database while the crew pauses.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let start = Instant::now();
    let form = loop {
        let f: Option<String> = conn.query_row("SELECT form FROM draft", [], |r| r.get(0)).ok();
        if let Some(f) = f.filter(|f| f.contains("\"77\"")) {
            break f;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no draft written");
        sleep(Duration::from_millis(50));
    };
    assert!(form.contains("430202100220"));
    // Power cut: SIGKILL the program (found as the shell's child, by id).
    let shell = t.run(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"]);
    let pid = Command::new("pgrep").args(["-P", shell.trim()]).output().unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).lines().next().expect("the program runs").to_string();
    assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
    // The shell starts the program again: the next start.
    let s = t.wait_for("An unsaved draft from last time was found");
    assert!(s.contains("430202100220"), "{s}");
    t.keys(&["y"]);
    // The form, not the question (which names the visit too).
    let s = t.wait_for("Treated share");
    assert!(s.contains("Households         77"), "{s}");
}

/// A panic inside the UI gives the terminal back: raw mode off (the line
/// discipline echoes and reads lines again) and the main screen restored.
#[test]
fn a_panic_inside_the_ui_restores_the_terminal() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crew.db");
    let state = dir.path().join("stty.txt");
    let cmd = format!(
        "echo BEFORE; RUST_BACKTRACE=0 RURALSAN_TEST_PANIC=1 {bin} --db '{}'; stty -a > '{}'; echo EXITED $?; sleep 60",
        db.display(),
        state.display()
    );
    let t = Tmux::start("e2e", 80, 24, &cmd);
    let screen = t.wait_for("EXITED");
    // The main screen is back: what the shell printed before the UI shows,
    // then the panic message, then what the shell printed after, in order.
    let at = |s: &str| screen.find(s).unwrap_or_else(|| panic!("{s} not on the screen:\n{screen}"));
    assert!(at("BEFORE") < at("RURALSAN_TEST_PANIC") && at("RURALSAN_TEST_PANIC") < at("EXITED"), "{screen}");
    assert_eq!(t.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]).trim(), "0");
    let stty = std::fs::read_to_string(&state).unwrap();
    let flags: Vec<&str> = stty.split([' ', ';', '\n']).collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(flags.contains(&flag), "{flag} still off after the panic:\n{stty}");
    }
}
