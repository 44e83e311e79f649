//! Prints how fast the terminal UI answers on a given database: the time
//! from opening it to the first frame, and from each keystroke of a village
//! search to the frame after it (the same update and drawing code as the
//! program, drawn into an 80×24 test terminal).
//!
//! cargo run --release --example tui_bench -- /tmp/nat.db

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ruralsan::domain::Settings;
use ruralsan::store::Store;
use ruralsan::strings::Lang;
use ruralsan::tui::app::App;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).expect("usage: tui_bench DB");
    let mut term = Terminal::new(TestBackend::new(80, 24))?;
    {
        // The example's own connection: the store keeps its connection private.
        Store::open(std::path::Path::new(&path))?;
        let conn = rusqlite::Connection::open(&path)?;
        let roster: i64 = conn.query_row("SELECT count(*) FROM roster", [], |r| r.get(0))?;
        let visits: i64 = conn.query_row("SELECT count(*) FROM visit", [], |r| r.get(0))?;
        println!("database: {path} ({roster} roster units, {visits} visits)");
    }
    let t = Instant::now();
    let store = Store::open(std::path::Path::new(&path))?;
    let mut app = App::new(store, Lang::Zh, Settings::default(), chrono::Local::now().date_naive())?;
    term.draw(|f| app.draw(f))?;
    println!("open to first frame: {:.1} ms", ms(t));
    println!("{:<12} {:>6} {:>10}", "search", "rows", "key→frame ms (each keystroke)");
    for query in ["荷", "荷塘铺", "石湾", "某某某", "4302", "430202001201", "村"] {
        app.key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        let mut times = Vec::new();
        for c in query.chars() {
            let t = Instant::now();
            app.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
            term.draw(|f| app.draw(f))?;
            times.push(format!("{:.1}", ms(t)));
        }
        println!("{:<12} {:>6} {}", query, app.crew.browser.items.len(), times.join(" "));
    }
    Ok(())
}
