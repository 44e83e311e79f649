//! Power cut while saving: a process saving visits is killed with SIGKILL at
//! random moments; afterwards the database is intact and every save it
//! acknowledged is there, whole.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ruralsan::generate::Rng;
use ruralsan::store::Store;
use ruralsan::store::revisions::revision_id;

#[test]
fn killed_saves_lose_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crew.db");
    let mut store = Store::open(&db).unwrap();
    store.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    drop(store);

    let kills: u64 = std::env::var("RURALSAN_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let mut rng = Rng::new(20261129);
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ruralsan"))
            .args(["--db", db.to_str().unwrap(), "save-loop", "--seed", &round.to_string(), "--count", "100000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Read acknowledgements on another thread until the pipe closes.
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let mut p = l.split(' ');
                    (p.next() == Some("saved")).then(|| (p.next().unwrap().to_string(), p.next().unwrap().to_string()))
                })
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(rng.range(5, 120) as u64));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        acknowledged.extend(reader.join().unwrap());

        let store = Store::open(&db).unwrap();
        let check: String = common::sql(&store).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(store);
    }

    let store = Store::open(&db).unwrap();
    for (visit_id, rev_id) in &acknowledged {
        let sql = common::sql(&store);
        let current: String = sql
            .query_row("SELECT rev_id FROM visit WHERE visit_id = ?1", [visit_id], |r| r.get(0))
            .unwrap_or_else(|e| panic!("acknowledged visit {visit_id} is missing: {e}"));
        assert_eq!(&current, rev_id);
        // Intact: the payload (kept in the current rows, schema version 5) still hashes to its id.
        let r = ruralsan::store::revisions::load_revision(&sql, rev_id).unwrap().unwrap();
        assert_eq!(&revision_id(visit_id, &r.parents, &r.payload, false), rev_id);
    }
    assert!(
        acknowledged.len() as u64 >= kills / 2,
        "too few saves acknowledged to test anything: {}",
        acknowledged.len()
    );
    eprintln!("{kills} kills, {} acknowledged saves checked", acknowledged.len());
}
