//! The real binary in a pseudo-terminal: a tmux pane on its own server,
//! typed into as a person would, its screen read back.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    pub session: String,
}

impl Tmux {
    /// Starts `cmd` in a new pane of `w`×`h` on a server of its own.
    pub fn start(name: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        // A server per pane: tests of one binary run side by side.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let socket = format!("ruralsan-{name}-{}-{n}", std::process::id());
        let t = Tmux { socket, session: name.to_string() };
        t.run(&["new-session", "-d", "-s", name, "-x", &w.to_string(), "-y", &h.to_string(), cmd]);
        t
    }
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Sends keys by tmux name (`Enter`, `F3`, `C-q`, …).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.run(&args);
    }
    /// Types text literally (UTF-8, e.g. Chinese).
    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.session, "-l", text]);
    }
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.session])
    }
    /// Waits until the screen shows `text`; panics with the screen if it never does.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |s| s.contains(text))
    }
    /// Waits until the screen passes `test` (`what` names it for the panic).
    #[allow(dead_code)]
    pub fn wait_until(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if test(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(30) {
                panic!("never saw {what:?}; the screen:\n{s}");
            }
            sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}

/// Whether tmux is here; under CI (which installs it) its absence is a failure.
pub fn tmux_available() -> bool {
    let here = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    assert!(here || std::env::var_os("CI").is_none(), "CI must install tmux for the end-to-end tests");
    here
}
