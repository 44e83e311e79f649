//! The supervisor's figures, computed off the UI thread so that no key and
//! no frame waits on a summary.
//!
//! A [`Live`] owns a worker thread with its own read-only [`Store`] on the
//! same database file (WAL lets it read while the app writes); requests go
//! to it over a channel and results come back over another, which the event
//! loop polls between frames. At most one request is live: asking for
//! another view, or Esc, cancels the one running (SQLite's interrupt stops
//! its query; whatever it still sends back is dropped, never shown).
//!
//! The latest results are kept per [`Key`]: the data they were computed
//! from (a [`DataStamp`]: `PRAGMA data_version` for other connections'
//! commits, the app connection's own change counter for its writes), the
//! settings, the as-of date and the view. Coming back to a view is served
//! from there, and a view is recomputed only when its key changes.
//!
//! An in-memory store cannot be opened twice: there the figures are
//! computed at once on the UI thread (tests, the demo).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;

use super::trend::{Point, quarter_points};
use crate::domain::Level;
use crate::domain::settings::Settings;
use crate::store::Store;
use crate::store::live::{DataStamp, Interrupt, is_interrupted};
use crate::store::summary::{Counting, Summary};
use crate::store::views::{ConflictsByArea, VillageVisits};

/// Which figures a view shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The areas of `level` inside `within` (a code prefix; None:
    /// everything); with `flagged`, the checks run to count flagged visits
    /// (asked for once the figures without them are shown: the checks look
    /// across every visit and take far longer than the figures).
    Areas { level: Level, within: Option<String>, flagged: bool },
    /// The trend of one area.
    Trend { level: Level, code: String },
    /// One village's visits.
    Visits { code: String },
}

/// Everything a view's figures depend on.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub data: DataStamp,
    pub settings: Settings,
    pub as_of: String,
    pub view: View,
}

impl Key {
    /// The same figures asked for, perhaps of other data, with or without
    /// the flagged counts.
    pub fn same_view(&self, o: &Key) -> bool {
        let plain = |v: &View| match v {
            View::Areas { level, within, .. } => View::Areas { level: *level, within: within.clone(), flagged: false },
            other => other.clone(),
        };
        plain(&self.view) == plain(&o.view) && self.as_of == o.as_of && self.settings == o.settings
    }
}

/// The figures of a view.
#[derive(Debug, Clone)]
pub enum Output {
    Areas { summary: Box<Summary>, conflicts: ConflictsByArea },
    Trend(Vec<Point>),
    Visits(VillageVisits),
}

/// Computes a view's figures (on whichever thread holds `store`).
pub fn compute(store: &Store, key: &Key) -> Result<Output> {
    let settings = &key.settings;
    Ok(match &key.view {
        View::Areas { level, within, flagged } => {
            let counting = Counting { flagged: *flagged, ..Counting::default() };
            let summary = store.summary_counting(&key.as_of, *level, within.as_deref(), settings, counting)?;
            let conflicts = store.conflicts_by_area(level.prefix_len(), within.as_deref().unwrap_or(""))?;
            Output::Areas { summary: Box::new(summary), conflicts }
        }
        View::Trend { code, .. } => {
            let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
            let first = store.first_visit_date(code)?;
            let dates = match (first.as_deref().and_then(parse), parse(&key.as_of)) {
                (Some(f), Some(l)) => quarter_points(f, l),
                _ => Vec::new(),
            };
            let texts: Vec<String> = dates.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect();
            let figures = store.trend(code, &texts, settings)?;
            Output::Trend(dates.into_iter().zip(figures).map(|(date, f)| Point { date, rates: f.rates() }).collect())
        }
        View::Visits { code } => Output::Visits(store.village_visits(code, &key.as_of, settings)?),
    })
}

/// The worker thread is gone (it panicked): no figures can come.
#[derive(Debug, thiserror::Error)]
#[error("the figures worker stopped")]
pub struct WorkerStopped;

struct Request {
    id: u64,
    key: Key,
}

struct Reply {
    id: u64,
    key: Key,
    /// None: cancelled before it began.
    result: Option<Result<Output>>,
}

struct Worker {
    requests: Sender<Request>,
    replies: Receiver<Reply>,
    interrupt: Interrupt,
    /// Requests with a smaller id are cancelled.
    live_from: Arc<AtomicU64>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Stop a running query; the closed channel ends the thread.
        self.live_from.store(u64::MAX, Ordering::SeqCst);
        self.interrupt.interrupt();
    }
}

/// Results kept, most recently used last.
const CACHE: usize = 32;

pub struct Live {
    worker: Option<Worker>,
    cache: Vec<(Key, Arc<Output>)>,
    /// The request out and its key.
    pending: Option<(u64, Key)>,
    next_id: u64,
    /// How many computations have delivered figures (for tests: a view
    /// served from the cache does not count).
    pub computed: u64,
    /// Advances while a request is out (the spinner's frame).
    pub spinner: usize,
}

impl Live {
    /// Figures computed at once on the caller's thread.
    pub fn inline() -> Live {
        Live { worker: None, cache: Vec::new(), pending: None, next_id: 1, computed: 0, spinner: 0 }
    }

    /// Figures computed by a worker thread on its own read-only connection
    /// to the database at `path`. With a `gate` the worker waits for a `()`
    /// on it before each request (tests use it to see the pending state).
    pub fn background(path: &Path, gate: Option<Receiver<()>>) -> Result<Live> {
        let store = Store::open_read_only(path)?;
        let interrupt = store.interrupt_handle();
        let live_from = Arc::new(AtomicU64::new(0));
        let (requests, inbox) = channel::<Request>();
        let (outbox, replies) = channel::<Reply>();
        let from = live_from.clone();
        std::thread::Builder::new().name("figures".into()).spawn(move || {
            while let Ok(Request { id, key }) = inbox.recv() {
                if let Some(g) = &gate {
                    let _ = g.recv();
                }
                let result = (id >= from.load(Ordering::SeqCst)).then(|| compute(&store, &key));
                if outbox.send(Reply { id, key, result }).is_err() {
                    break;
                }
            }
        })?;
        Ok(Live { worker: Some(Worker { requests, replies, interrupt, live_from }), ..Live::inline() })
    }

    /// In the background when the store is a file, else at once.
    pub fn for_store(store: &Store, gate: Option<Receiver<()>>) -> Result<Live> {
        match store.file_path() {
            Some(p) => Live::background(&p, gate),
            None => Ok(Live::inline()),
        }
    }

    /// Whether a request is out.
    pub fn pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The figures for `key` if they are at hand; else they are asked for
    /// (computed now when inline) and a later [`Live::poll`] brings them.
    pub fn get(&mut self, key: &Key, store: &Store) -> Result<Option<Arc<Output>>> {
        if let Some(i) = self.cache.iter().position(|(k, _)| k == key) {
            let hit = self.cache.remove(i);
            let out = hit.1.clone();
            self.cache.push(hit);
            return Ok(Some(out));
        }
        if self.pending.as_ref().is_some_and(|(_, k)| k == key) {
            return Ok(None);
        }
        self.cancel();
        let Some(w) = &self.worker else {
            let out = Arc::new(compute(store, key)?);
            self.keep(key.clone(), out.clone());
            return Ok(Some(out));
        };
        let id = self.next_id;
        self.next_id += 1;
        w.requests.send(Request { id, key: key.clone() }).map_err(|_| WorkerStopped)?;
        self.pending = Some((id, key.clone()));
        Ok(None)
    }

    /// Cancels the request out, if any: its query is interrupted and its
    /// result dropped. Returns whether there was one.
    pub fn cancel(&mut self) -> bool {
        let Some((id, _)) = self.pending.take() else { return false };
        if let Some(w) = &self.worker {
            w.live_from.store(id + 1, Ordering::SeqCst);
            w.interrupt.interrupt();
        }
        true
    }

    /// Takes the results that have come back (waiting up to `wait` for the
    /// first); returns the key of the live request's figures if they came.
    /// A failed computation is an error; a cancelled one is dropped.
    pub fn poll(&mut self, wait: Duration) -> Result<Option<Key>> {
        let Some(w) = &self.worker else { return Ok(None) };
        if self.pending.is_some() {
            self.spinner = self.spinner.wrapping_add(1);
        }
        let mut replies = Vec::new();
        if !wait.is_zero() {
            match w.replies.recv_timeout(wait) {
                Ok(r) => replies.push(r),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(WorkerStopped.into()),
            }
        }
        loop {
            match w.replies.try_recv() {
                Ok(r) => replies.push(r),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Err(WorkerStopped.into()),
            }
        }
        let mut done = None;
        for reply in replies {
            if self.pending.as_ref().map(|(id, _)| *id) != Some(reply.id) {
                continue; // cancelled: dropped
            }
            self.pending = None;
            match reply.result {
                None => {}
                Some(Err(e)) if is_interrupted(&e) => {}
                Some(Err(e)) => return Err(e),
                Some(Ok(out)) => {
                    self.keep(reply.key.clone(), Arc::new(out));
                    done = Some(reply.key);
                }
            }
        }
        Ok(done)
    }

    fn keep(&mut self, key: Key, out: Arc<Output>) {
        self.computed += 1;
        self.cache.retain(|(k, _)| *k != key);
        // Figures of older data for the same view will not be asked for again.
        self.cache.retain(|(k, _)| !(k.same_view(&key) && k.data != key.data));
        self.cache.push((key, out));
        if self.cache.len() > CACHE {
            self.cache.remove(0);
        }
    }
}
