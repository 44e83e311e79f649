//! Power cut during a first import: `ruralsan import` runs with a rollback
//! journal then (the pages go into the file once), and is killed with
//! SIGKILL at random moments; afterwards the database is intact, back in
//! WAL mode, and holds either none of the bundle or all of it.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use ruralsan::generate::Rng;
use ruralsan::store::Store;

/// What the import writes, without what differs from run to run (stamps,
/// signatures): revision ids are hashes of the content.
fn content(db: &Path) -> String {
    let s = Store::open(db).unwrap();
    let c = common::sql(&s);
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let mut out = String::new();
    for sql in [
        "SELECT rev_id, visit_id, parents, payload, deleted FROM revision ORDER BY rev_id",
        "SELECT visit_id, rev_id FROM head ORDER BY 1, 2",
        "SELECT * FROM visit ORDER BY visit_id",
        "SELECT * FROM facility ORDER BY 1, 2",
        "SELECT * FROM farm ORDER BY 1, 2",
        "SELECT * FROM water_body ORDER BY 1, 2",
        "SELECT * FROM visit_figures ORDER BY 1, 2, 3",
        "SELECT code, name, is_village FROM roster ORDER BY code",
    ] {
        common::dump_rows(&c, sql, &mut out);
    }
    out
}

#[test]
fn a_killed_first_import_leaves_the_database_as_before_or_fully_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let home = dir.join("home");
    let bundle = common::sample("sample");
    let pristine = dir.join("pristine.db");
    Store::open(&pristine).unwrap().import_roster(&bundle.join("villages.csv")).unwrap();
    let before = content(&pristine);

    let import = |db: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ruralsan"))
            .env("RURALSAN_HOME", &home)
            .args(["--db", db.to_str().unwrap(), "import", bundle.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let fresh = |name: &str| {
        let db = dir.join(name);
        common::fresh_copy(&pristine, &db);
        db
    };
    let full = fresh("full.db");
    let started = std::time::Instant::now();
    assert!(import(&full).wait().unwrap().success());
    let span = (started.elapsed().as_millis() as i64 * 13 / 10).max(10);
    let after = content(&full);
    assert_ne!(before, after);

    let rounds: u64 = std::env::var("RURALSAN_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let mut rng = Rng::new(11);
    let (mut as_before, mut imported) = (0, 0);
    for round in 0..rounds {
        let db = fresh("victim.db");
        common::kill_midway(&mut import(&db), round, &mut rng, span);
        let now = content(&db);
        if now == before {
            as_before += 1;
            // And the import can be run again, whole.
            if round % 4 == 1 {
                assert!(import(&db).wait().unwrap().success());
                assert_eq!(content(&db), after, "round {round}: imported after the kill");
            }
        } else if now == after {
            imported += 1;
        } else {
            panic!("round {round}: the database is neither as before nor fully imported");
        }
    }
    eprintln!("{rounds} killed imports: {as_before} as before, {imported} fully imported");
    assert!(as_before > 0, "round 0 kills before the commit");
}
