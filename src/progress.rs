//! Progress bars for the command line: the store reports long work through
//! [`crate::store::Progress`]; on a terminal this draws it on stderr with
//! indicatif (rate and time left), and when stderr is not a terminal
//! nothing is drawn at all.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::{NoProgress, Progress, Work};
use crate::strings::{Lang, sync::progress_label, sync::time_left};

/// Work shorter than this shows no bar (a quick summary stays quiet).
const QUIET_FOR: Duration = Duration::from_millis(400);

/// The progress reporter for this process: a bar on stderr, in language
/// `l`, when stderr is a terminal, else none.
pub fn for_stderr(l: Lang) -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() { Box::new(TerminalProgress::new(l)) } else { Box::new(NoProgress) }
}

/// An indicatif bar, made visible once the work has lasted [`QUIET_FOR`].
pub struct TerminalProgress {
    lang: Lang,
    bar: Mutex<Option<(ProgressBar, Instant, bool)>>,
}

impl TerminalProgress {
    pub fn new(lang: Lang) -> TerminalProgress {
        TerminalProgress { lang, bar: Mutex::new(None) }
    }
}

fn style(l: Lang, total: u64) -> ProgressStyle {
    let template = if total > 0 {
        format!("{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {{per_sec}} {{eta}} {}", time_left(l))
    } else {
        "{spinner} {msg} {human_pos} {per_sec}".to_string()
    };
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

impl Progress for TerminalProgress {
    fn start(&self, what: Work<'_>, total: u64) {
        let bar = if total > 0 { ProgressBar::new(total) } else { ProgressBar::new_spinner() };
        bar.set_draw_target(ProgressDrawTarget::hidden());
        bar.set_style(style(self.lang, total));
        bar.set_message(progress_label(self.lang, what));
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((old, _, _)) = slot.take() {
            old.finish_and_clear();
        }
        *slot = Some((bar, Instant::now(), false));
    }

    fn advance(&self, n: u64) {
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, started, shown)) = slot.as_mut() {
            bar.inc(n);
            if !*shown && started.elapsed() >= QUIET_FOR {
                bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
                *shown = true;
            }
        }
    }

    fn finish(&self) {
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, _, _)) = slot.take() {
            bar.finish_and_clear();
        }
    }
}
