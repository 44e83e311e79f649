//! How much the guarded, decoding CSV reader (`store::csvio::Table`) costs
//! over the plain `csv` crate reading the same file: prints both times and
//! throughputs. `cargo run --release --example csv_read -- FILE.csv [COLUMNS]`
//! (COLUMNS: the header's names, comma-separated; default: the file's own).

use std::time::Instant;

use ruralsan::store::csvio::{Problems, Table};

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).expect("usage: csv_read FILE.csv");
    let path = std::path::Path::new(&path);
    let bytes = std::fs::metadata(path)?.len() as f64;
    let header: Vec<String> = csv::Reader::from_path(path)?.headers()?.iter().map(str::to_string).collect();
    let known: Vec<&'static str> = header.into_iter().map(|h| &*Box::leak(h.into_boxed_str())).collect();

    for round in 0..3 {
        let t = Instant::now();
        let mut r = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
        let mut rec = csv::StringRecord::new();
        let mut rows = 0u64;
        while r.read_record(&mut rec)? {
            rows += 1;
        }
        let plain = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut problems = Problems::default();
        let mut table = Table::open(path, "f", &known, &[], true, &mut problems)?.expect("header");
        let mut guarded = 0u64;
        while table.next_row(&mut problems).is_some() {
            guarded += 1;
        }
        let ours = t.elapsed().as_secs_f64();
        assert!(problems.is_empty(), "{:?}", problems.list.first());
        println!(
            "round {round}: {rows} rows ({guarded} read), plain csv {plain:.3} s ({:.0} MB/s), Table {ours:.3} s ({:.0} MB/s, {:+.0}%)",
            bytes / plain / 1e6,
            bytes / ours / 1e6,
            (ours / plain - 1.0) * 100.0
        );
    }
    Ok(())
}
