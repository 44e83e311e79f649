//! Prints how long listing and resolving conflicts take on one visit with a
//! long history and many sibling heads (issue 12, class 6: a chain of N
//! revisions with a head hanging off every link; a program that prints
//! figures, not a timed test):
//!
//!     cargo run --release --example conflicts_bench -- [N]   # default 3000
//!
//! The visit is written with plain SQL, as a merge now refuses more than
//! `MAX_HEADS_PER_VISIT` heads on one visit.

use std::time::Instant;

use ruralsan::domain::VisitData;
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::conflict::Resolution;
use ruralsan::store::revisions::{format_hlc, revision_id};
use rusqlite::params;

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(3000);
    let dir = tempfile_dir()?;
    let db = dir.join("bench.db");
    let mut store = Store::open(&db)?;
    store.import_roster(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample/villages.csv"))?;
    let code = store.village_codes(Some(1))?.remove(0);
    let v = random_visit(&mut Rng::new(1), &code, "2024-05-01");
    store.save_visit("bench", "visit-wide", Some(&v))?;
    let root = store.current_revision("visit-wide")?.expect("saved");

    let t = Instant::now();
    let conn = rusqlite::Connection::open(&db)?;
    let tx = conn.unchecked_transaction()?;
    let now = chrono::Utc::now().timestamp_millis() - 60_000;
    let mut seq = 0i64;
    let mut insert = |parent: &str, notes: String| -> anyhow::Result<String> {
        let mut w: VisitData = v.clone();
        w.notes = notes;
        let payload = w.canonical_json();
        let parents = vec![parent.to_string()];
        let id = revision_id("visit-wide", &parents, &payload, false);
        seq += 1;
        tx.execute(
            "INSERT INTO revision (rev_id, visit_id, parents, payload, deleted, hlc, device, author)
             VALUES (?1, 'visit-wide', ?2, ?3, 0, ?4, 'bench', 'bench')",
            params![id, serde_json::to_string(&parents)?, payload, format_hlc(now, seq)],
        )?;
        tx.execute("INSERT INTO revision_parent (parent_id, rev_id) VALUES (?1, ?2)", params![parent, id])?;
        Ok(id)
    };
    let mut links = vec![root];
    for i in 0..n {
        let p = links.last().expect("root").clone();
        links.push(insert(&p, format!("chain {i}"))?);
    }
    let mut heads = Vec::new();
    for i in 0..n {
        heads.push(insert(&links[i + 1], format!("head {i}"))?);
    }
    tx.execute("DELETE FROM head WHERE visit_id = 'visit-wide'", [])?;
    for h in &heads {
        tx.execute("INSERT INTO head (visit_id, rev_id) VALUES ('visit-wide', ?1)", [h])?;
    }
    tx.commit()?;
    println!("built {n} x {n} (chain x sibling heads) in {:.2} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let list = store.conflicts()?;
    let sides = list.first().and_then(|c| c.fields.first()).map_or(0, |f| f.sides.len());
    println!("conflicts: {} visit(s), {sides} sides, in {:.3} s", list.len(), t.elapsed().as_secs_f64());

    let t = Instant::now();
    store.resolve_conflict(
        Some("bench"),
        "visit-wide",
        &Resolution { take: Some(heads[0].clone()), fields: vec![], seen: vec![] },
    )?;
    println!("resolve --take: {:.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let left = store.conflicts()?.len();
    println!("conflicts after resolving: {left}, in {:.3} s", t.elapsed().as_secs_f64());
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A fresh folder under the system's temporary folder.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("ruralsan-conflicts-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
