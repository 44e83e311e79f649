//! End to end, the crew's day in a real terminal (a tmux pane, 80×24): the
//! village search by characters, by code and by pinyin, and the keystrokes
//! of a full new visit and of a copied-forward one, counted as sent.

mod common;

use std::path::Path;
use std::process::Command;

use common::tmux::{Tmux, tmux_available};

fn crew_db(bin: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crew.db");
    let roster = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/zhuzhou_villages_2021.csv");
    assert!(Command::new(bin).arg("--db").arg(&db).args(["roster", "import"]).arg(&roster).status().unwrap().success());
    (dir, db)
}

/// Keys sent to the pane, counted: a named key is one, text one per character.
struct Counted<'a> {
    t: &'a Tmux,
    keys: usize,
}

impl Counted<'_> {
    fn keys(&mut self, keys: &[&str]) {
        self.keys += keys.len();
        self.t.keys(keys);
    }
    fn text(&mut self, text: &str) {
        self.keys += text.chars().count();
        self.t.text(text);
    }
}

#[test]
fn three_xinhua_villages_are_told_apart_and_found_by_code_and_pinyin() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let (_dir, db) = crew_db(bin);
    let t = Tmux::start("crew-search", 80, 24, &format!("{bin} --db '{}'; sleep 60", db.display()));
    t.wait_for("农村人居环境调查");
    // By characters: three 新华村, each with its township and county.
    t.text("新华");
    let s = t.wait_for("火田镇 · 茶陵县");
    assert!(s.contains("龙潭镇 · 渌口区") && s.contains("莲塘坳镇 · 攸县"), "{s}");
    // By pinyin initials, without an input method.
    t.keys(&["C-u"]);
    t.text("xhc");
    let s = t.wait_for("430223125201 新华村");
    assert!(s.contains("430212109207 新华村"), "{s}");
    // By whole syllables.
    t.keys(&["C-u"]);
    t.text("xinhua");
    t.wait_for("430224112203 新华村");
    // By code; opened, the path says which 新华村 it is.
    t.keys(&["C-u"]);
    t.text("430224112203");
    t.wait_until("only the one village", |s| s.contains("430224112203") && !s.contains("430212109207"));
    t.keys(&["Enter"]);
    t.wait_for("全部区县 › 茶陵县 › 火田镇 › 新华村");
    // Esc at the top does nothing; Ctrl-Q quits.
    t.keys(&["Escape"]);
    t.wait_for("搜索");
    t.keys(&["Escape"]);
    t.keys(&["C-q"]);
}

#[test]
fn a_full_new_visit_and_a_copied_forward_one_are_typed_in_few_keys() {
    if !tmux_available() {
        eprintln!("tmux is not installed: the end-to-end test cannot drive a terminal here");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let (_dir, db) = crew_db(bin);
    // The crew's surveyor, remembered from its last save.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO meta (key, value) VALUES ('last_surveyor', '李娜')", [])
        .unwrap();
    let t = Tmux::start("crew-keys", 80, 24, &format!("{bin} --db '{}'; echo EXITED $?; sleep 60", db.display()));
    t.wait_for("农村人居环境调查");
    let mut k = Counted { t: &t, keys: 0 };
    k.text("hetangpu");
    t.wait_for("430202001201 荷塘铺村委会");
    k.keys(&["Enter"]);
    t.wait_for("尚无调查记录");
    k.keys(&["n"]);
    t.wait_for("新调查 · 荷塘区 › 月塘街道 › 荷塘铺村委会");
    k.text("120");
    k.keys(&["Tab"]);
    k.text("30");
    k.keys(&["Tab"]);
    k.text("10");
    k.keys(&["Tab", "Tab"]);
    k.text("6");
    k.keys(&["Tab"]);
    k.text("5");
    t.wait_for("40/120 = 33.3%");
    k.keys(&["NPage"]);
    k.keys(&["a", "Tab"]);
    k.text("40");
    k.keys(&["NPage"]);
    k.keys(&["a"]);
    k.text("周家猪场");
    k.keys(&["Tab", "Tab"]);
    k.text("300");
    k.keys(&["Tab"]);
    k.text("600");
    k.keys(&["Tab", "Tab"]);
    k.text("80");
    k.keys(&["Tab", "Space"]);
    k.keys(&["NPage"]);
    k.keys(&["a"]);
    k.text("门前塘");
    k.keys(&["Tab", "Tab", "Tab", "Tab"]);
    k.text("80");
    k.keys(&["Tab"]);
    k.text("18");
    k.keys(&["Tab"]);
    k.text("3");
    k.keys(&["Tab"]);
    k.text("2");
    t.wait_for("透明度 18 cm < 25 cm");
    k.keys(&["C-s"]);
    t.wait_for("已保存");
    let full = k.keys;
    assert!(full < 70, "a full new visit took {full} keys");
    // Copied forward (a second visit today: asked first), three figures changed.
    let mut k = Counted { t: &t, keys: 0 };
    k.keys(&["n"]);
    t.wait_for("重复调查");
    k.keys(&["y"]);
    t.wait_for("复制自");
    k.text("130");
    k.keys(&["Tab"]);
    k.text("40");
    k.keys(&["Tab", "Tab"]);
    k.text("20");
    k.keys(&["C-s"]);
    t.wait_for("已保存");
    let copied = k.keys;
    assert!(copied < 20, "a copied-forward visit took {copied} keys");
    t.keys(&["C-q"]);
    t.wait_for("EXITED 0");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(i64, i64, i64, i64, i64)> = conn
        .prepare(
            "SELECT households, hh_sewer, hh_controlled, (SELECT count(*) FROM farm f WHERE f.visit_id = v.visit_id),
                    (SELECT count(*) FROM water_body w WHERE w.visit_id = v.visit_id AND w.listed = 'none')
             FROM visit v WHERE village_code = '430202001201' ORDER BY households",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows, [(120, 30, 0, 1, 1), (130, 40, 20, 1, 1)]);
}
