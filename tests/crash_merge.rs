//! Power cut during a merge: `ruralsan merge` is killed with SIGKILL at
//! random moments; afterwards the county database is intact and either
//! exactly as before or fully merged — never half.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;

/// The tables that carry merged content (merge_log and meta carry times).
fn content(db: &Path) -> String {
    let s = Store::open(db).unwrap();
    let check: String = common::sql(&s).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mut out = String::new();
    for sql in [
        "SELECT rev_id, visit_id, parents, payload, deleted, hlc, device, author FROM revision ORDER BY rev_id",
        "SELECT visit_id, rev_id FROM head ORDER BY 1, 2",
        "SELECT * FROM visit ORDER BY visit_id",
        "SELECT * FROM facility ORDER BY 1, 2",
        "SELECT * FROM farm ORDER BY 1, 2",
        "SELECT * FROM water_body ORDER BY 1, 2",
        "SELECT code, name FROM roster ORDER BY code",
        "SELECT file_hash, revisions FROM merge_log ORDER BY 1",
    ] {
        common::dump_rows(&common::sql(&s), sql, &mut out);
    }
    out
}

fn crew_file(dir: &Path, seed: u64, visits: usize) -> std::path::PathBuf {
    let live = dir.join(format!("crew{seed}.db"));
    let mut s = Store::open(&live).unwrap();
    s.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let codes: Vec<String> = {
        let db = common::sql(&s);
        let mut st = db.prepare("SELECT code FROM roster WHERE is_village = 1 ORDER BY code").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let mut rng = Rng::new(seed);
    let mut db = common::sql(&s);
    let tx = db.conn.transaction().unwrap();
    let maker = ruralsan::store::revisions::Maker { identity: s.identity(), editor: "陈静" };
    for _ in 0..visits {
        let code = rng.pick(&codes).clone();
        let v = random_visit(&mut rng, &code, "2024-05-01");
        ruralsan::store::revisions::save(&tx, maker, &rng.uuid(), Some(&v)).unwrap();
    }
    tx.commit().unwrap();
    let stick = dir.join(format!("stick{seed}.db"));
    s.snapshot(&stick).unwrap();
    stick
}

#[test]
fn a_killed_merge_leaves_the_database_as_before_or_fully_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stick = crew_file(dir, 1, 3000);
    let county = dir.join("county.db");
    {
        let mut s = Store::open(&county).unwrap();
        s.import_bundle(&common::sample("sample"), false).unwrap();
    }
    let pristine = dir.join("county-pristine.db");
    Store::open(&county).unwrap().snapshot(&pristine).unwrap();
    let before = content(&pristine);

    let merge = |db: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ruralsan"))
            .args(["--db", db.to_str().unwrap(), "merge", stick.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let full = dir.join("full.db");
    std::fs::copy(&pristine, &full).unwrap();
    let started = std::time::Instant::now();
    assert!(merge(&full).wait().unwrap().success());
    // Kill anywhere from the start to a little after a merge's whole run.
    let span = (started.elapsed().as_millis() as i64 * 13 / 10).max(10);
    let after = content(&full);
    assert_ne!(before, after);

    let rounds: u64 = std::env::var("RURALSAN_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let mut rng = Rng::new(7);
    let (mut as_before, mut merged) = (0, 0);
    for round in 0..rounds {
        let db = dir.join("victim.db");
        common::fresh_copy(&pristine, &db);
        common::kill_midway(&mut merge(&db), round, &mut rng, span);
        let now = content(&db);
        if now == before {
            as_before += 1;
        } else if now == after {
            merged += 1;
        } else {
            panic!("round {round}: the database is neither as before nor fully merged");
        }
    }
    eprintln!("{rounds} killed merges: {as_before} as before, {merged} fully merged");

    // What the killed merges left — staged copies of the crew file, backups
    // cut short — goes with the next merge; backups stay within the bound.
    let names = |sub: &str| -> Vec<String> {
        std::fs::read_dir(dir.join(sub))
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    };
    let left = names("staging").into_iter().filter(|n| n.starts_with("staged-")).count();
    eprintln!("staged copies left by the killed merges: {left}");
    let db = dir.join("victim.db");
    common::fresh_copy(&pristine, &db);
    assert!(merge(&db).wait().unwrap().success());
    assert_eq!(content(&db), after);
    let staged: Vec<String> = names("staging").into_iter().filter(|n| n != ".lock").collect();
    assert!(staged.is_empty(), "staged copies left: {staged:?}");
    let backups = names("backups");
    assert!(backups.iter().all(|n| !n.ends_with(".partial")), "a partial backup is left: {backups:?}");
    let victims = backups.iter().filter(|n| n.starts_with("victim-")).count();
    assert!((1..=10).contains(&victims), "{victims} backups of the victim kept: {backups:?}");
    assert!(as_before > 0, "no kill landed before the merge committed; the test tested nothing");
}
