//! The terminal UI: the three roles (crew, county, supervisor) in one app,
//! every screen a [`component::Component`], and the one event loop.

pub mod app;
pub mod component;
pub mod county;
pub mod crew;
pub mod demo;
pub mod form;
pub mod roles;
pub mod supervisor;
pub mod theme;
pub mod widgets;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use anyhow::Result;
use ratatui::crossterm::event::{self, Event};

use crate::domain::settings::Settings;
use crate::store::Store;
use crate::strings::Lang;
use app::App;
use roles::Role;

/// Restores the terminal when dropped: on every way out of [`run`],
/// including an error. A panic is covered by ratatui's panic hook.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        // After a panic ratatui's hook has restored already; leaving the
        // alternate screen twice would put the cursor back over the message.
        if !std::thread::panicking() {
            ratatui::restore();
        }
    }
}

/// Longest time a changed form waits before its draft is written.
const DRAFT_DEBOUNCE: Duration = Duration::from_millis(800);

/// Runs the UI on `store` until the person quits.
pub fn run(store: Store, lang: Lang, settings: Settings, started: Instant) -> Result<()> {
    run_as(store, lang, settings, started, Role::Crew)
}

/// Runs the UI with `role` in front first.
pub fn run_as(store: Store, lang: Lang, settings: Settings, started: Instant, role: Role) -> Result<()> {
    let today = chrono::Local::now().date_naive();
    let mut app = App::new(store, lang, settings, today)?;
    app.background = true;
    if role != Role::Crew {
        app.switch_role(role);
    }
    let mut terminal = ratatui::try_init().map_err(|e| {
        let _ = ratatui::crossterm::terminal::disable_raw_mode();
        anyhow::anyhow!("{}: {e}", crate::strings::tui::no_terminal(lang))
    })?;
    let _restore = Restore;
    // A screen left behind by a killed run must not show through.
    terminal.clear()?;
    let mut timing = Timing::from_env(started);
    let mut dirty_since: Option<Instant> = None;
    let mut key_at: Option<Instant> = None;
    loop {
        terminal.draw(|f| app.draw(f))?;
        timing.frame(key_at.take());
        // For the test that a panic inside the UI gives the terminal back.
        if std::env::var_os("RURALSAN_TEST_PANIC").is_some() {
            panic!("RURALSAN_TEST_PANIC");
        }
        if app.quit {
            break;
        }
        if app.busy() {
            // A county merge: one file per frame, so its gauge moves.
            app.step();
            continue;
        }
        // Figures on the way: look for them often; else a slower tick still
        // notices other processes' merges within a second.
        let wait = if app.computing() { Duration::from_millis(50) } else { Duration::from_millis(250) };
        if event::poll(wait)? {
            // Handle every key already waiting, then run the queries they
            // made due once, then draw.
            loop {
                let ev = event::read()?;
                if matches!(ev, Event::Key(_)) {
                    key_at.get_or_insert_with(Instant::now);
                }
                app.handle(&ev);
                if app.quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
            app.settle();
        }
        app.tick();
        // Every screen shows the database as it is: a merge by another
        // process shows within one poll (250 ms), this app's writes at once.
        app.poll_changes();
        // Debounced drafts: written once typing pauses, and at least every
        // DRAFT_DEBOUNCE while it goes on.
        if app.draft_pending() {
            let since = *dirty_since.get_or_insert_with(Instant::now);
            if !event::poll(Duration::ZERO)? || since.elapsed() >= DRAFT_DEBOUNCE {
                if let Err(e) = app.flush_draft() {
                    // Keep typing: the form is still in memory, and saving may yet work.
                    app.crew.message = Some((crate::strings::errors::error_line(&e, app.lang), true));
                    if let Some(f) = &mut app.crew.form {
                        f.draft_dirty = false;
                    }
                }
                dirty_since = None;
            }
        }
    }
    app.flush_draft()?;
    Ok(())
}

/// With `RURALSAN_TIMING=FILE`, appends to FILE the time from program start
/// to the first frame and from each key to the frame after it (milliseconds),
/// for measuring; costs nothing otherwise.
struct Timing {
    out: Option<std::fs::File>,
    started: Option<Instant>,
}

impl Timing {
    fn from_env(started: Instant) -> Timing {
        let out = std::env::var_os("RURALSAN_TIMING")
            .and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok());
        Timing { out, started: Some(started) }
    }

    fn frame(&mut self, key_at: Option<Instant>) {
        use std::io::Write;
        let Some(out) = &mut self.out else { return };
        let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
        if let Some(t) = self.started.take() {
            let _ = writeln!(out, "first_frame_ms {:.1}", ms(t));
        }
        if let Some(t) = key_at {
            let _ = writeln!(out, "key_to_frame_ms {:.1}", ms(t));
        }
    }
}
