//! Prints SQLite's query plans of the summary's two reads on a database, and
//! times one run per level: `cargo run --release --example summary_plan DB [AS_OF]`.
//! `RS_PRAGMAS="PRAGMA cache_size=-16384"` runs pragmas first, to try settings.

use ruralsan::domain::{Level, Settings};
use ruralsan::store::Store;
use ruralsan::store::summary::{FIGURES_SQL, ROSTER_SQL};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("usage: summary_plan DB [AS_OF]");
    let as_of = args.next().unwrap_or_else(|| "2025-12-31".into());
    let store = Store::open(std::path::Path::new(&db))?;
    let settings = Settings::default();
    if let Ok(p) = std::env::var("RS_PRAGMAS") {
        store.try_pragmas(&p)?;
    }
    println!("sqlite {}", rusqlite::version());
    let all: [&dyn rusqlite::ToSql; 3] = [&"", &"~", &as_of];
    // The roster read takes the code range, the figures read the range and the date.
    for (sql, n) in [(ROSTER_SQL, 2), (FIGURES_SQL, 3)] {
        for (id, parent, detail) in store.query_plan(sql, &all[..n])? {
            println!("{id:>4} {parent:>4} {detail}");
        }
    }
    for level in [Level::County, Level::Township] {
        let t = std::time::Instant::now();
        let s = store.summary(&as_of, level, None, &settings)?;
        println!("{}: {} areas in {:.3} s", level.code(), s.areas.len(), t.elapsed().as_secs_f64());
    }
    Ok(())
}
