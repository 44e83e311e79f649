//! Prints SQLite's query plan of the summary aggregate on a database, and
//! times one run per level: `cargo run --release --example summary_plan DB [AS_OF]`.
//! `RS_PRAGMAS="PRAGMA cache_size=-16384"` runs pragmas first, to try settings.

use ruralsan::domain::{Level, Settings};
use ruralsan::store::Store;
use ruralsan::store::summary::SUMMARY_SQL;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: summary_plan DB [AS_OF]");
    let as_of = args.next().unwrap_or_else(|| "2025-12-31".into());
    let store = Store::open(std::path::Path::new(&db))?;
    let settings = Settings::default();
    if let Ok(p) = std::env::var("RS_PRAGMAS") {
        store.try_pragmas(&p)?;
    }
    // Registers the SQL functions.
    store.summary(&as_of, Level::County, Some("none"), &settings)?;
    println!("sqlite {}", rusqlite::version());
    for (id, parent, detail) in store.query_plan(SUMMARY_SQL, rusqlite::params![as_of, 6, "", "~"])? {
        println!("{id:>4} {parent:>4} {detail}");
    }
    for level in [Level::County, Level::Township] {
        let t = std::time::Instant::now();
        let s = store.summary(&as_of, level, None, &settings)?;
        println!("{}: {} areas in {:.3} s", level.code(), s.areas.len(), t.elapsed().as_secs_f64());
    }
    Ok(())
}
