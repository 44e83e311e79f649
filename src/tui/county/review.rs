//! The review queue (issue 15): visits whose current revision is not yet
//! approved, flagged ones first; filter by township and crew; one key per
//! decision (`a` approve, `i` has issues, `r` reject), then a note and
//! Enter; the visit's figures and checks beside the list.

use anyhow::Result;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row as TableRow, Wrap};

use super::{Action, County, DIM, ERR, HEAD};
use crate::domain::VisitData;
use crate::domain::review::ReviewState;
use crate::store::Store;
use crate::store::review::QueueRow;
use crate::strings::checks as w;
use crate::text::{fit, one_line};
use crate::tui::component::Hint;
use crate::tui::widgets::{list_table, window_start};

#[derive(Debug, Default)]
pub struct Queue {
    /// Every visit waiting (before the filters).
    pub all: Vec<QueueRow>,
    pub selected: usize,
    /// Only this township (9-digit code) / this crew.
    pub township: Option<String>,
    pub crew: Option<String>,
    /// A decision being written: the state and the note typed so far.
    pub deciding: Option<(ReviewState, String)>,
    /// The figures of the selected visit.
    pub figures: Option<VisitData>,
    /// The queue being read on another thread (a database file: the checks
    /// look across every visit, seconds on a large database); the rows read
    /// before stay shown until it comes.
    pending: Option<std::sync::mpsc::Receiver<Result<Vec<QueueRow>>>>,
}

impl Queue {
    /// The rows the filters let through.
    pub fn shown(&self) -> Vec<&QueueRow> {
        self.all
            .iter()
            .filter(|q| self.township.as_deref().is_none_or(|t| q.township() == t))
            .filter(|q| self.crew.as_deref().is_none_or(|c| q.crew == c))
            .collect()
    }

    /// Reads the queue again as of `as_of`, keeping the place: on a
    /// database file on another thread, with a read-only connection of its
    /// own ([`Queue::poll`] takes the rows), else here.
    pub fn reload(&mut self, store: &Store, as_of: &str, settings: &crate::domain::Settings) -> Result<()> {
        let Some(path) = store.path() else {
            return self.take(store.review_queue(as_of, settings)?, store);
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let (path, as_of, settings) = (path.to_path_buf(), as_of.to_string(), settings.clone());
        std::thread::spawn(move || {
            let rows = Store::open_read_only(&path).and_then(|s| s.review_queue(&as_of, &settings));
            // A newer reload may have replaced this one: nobody waits then.
            let _ = tx.send(rows);
        });
        // A reload under way is replaced (its rows are no longer wanted).
        self.pending = Some(rx);
        Ok(())
    }

    /// Takes the queue read on another thread if it has come; whether it did.
    pub fn poll(&mut self, store: &Store) -> Result<bool> {
        let Some(rx) = &self.pending else { return Ok(false) };
        let rows = match rx.try_recv() {
            Ok(rows) => rows,
            Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(false),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(anyhow::anyhow!("the review queue was not read")),
        };
        self.pending = None;
        self.take(rows?, store)?;
        Ok(true)
    }

    /// Waits for the queue being read (tests: no clock involved).
    #[cfg(test)]
    pub fn wait(&mut self, store: &Store) {
        if let Some(rx) = self.pending.take() {
            let rows = rx.recv().expect("the reading thread sends its rows");
            self.take(rows.unwrap(), store).unwrap();
        }
    }

    /// Whether the queue is being read.
    pub fn loading(&self) -> bool {
        self.pending.is_some()
    }

    fn take(&mut self, rows: Vec<QueueRow>, store: &Store) -> Result<()> {
        self.all = rows;
        self.clamp();
        self.load_figures(store)
    }

    fn clamp(&mut self) {
        let n = self.shown().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    fn load_figures(&mut self, store: &Store) -> Result<()> {
        let id = self.shown().get(self.selected).map(|q| q.visit_id.clone());
        self.figures = match id {
            Some(id) => store.load_visit(&id)?.map(|(_, v)| v),
            None => None,
        };
        Ok(())
    }

    /// The next value of a filter: none, then each value in order, then none.
    fn cycle(values: Vec<String>, now: &Option<String>) -> Option<String> {
        let mut values = values;
        values.sort();
        values.dedup();
        match now {
            None => values.into_iter().next(),
            Some(v) => values.into_iter().skip_while(|x| x != v).nth(1),
        }
    }
}

fn as_of(c: &County) -> String {
    c.today.format("%Y-%m-%d").to_string()
}

pub fn handle_key(c: &mut County, key: KeyEvent, store: &mut Store) -> Result<Action> {
    let l = c.lang;
    if let Some((state, note)) = &mut c.queue.deciding {
        match key.code {
            KeyCode::Esc => c.queue.deciding = None,
            KeyCode::Backspace => {
                note.pop();
            }
            KeyCode::Char(ch) => note.push(ch),
            KeyCode::Enter => {
                let (state, note) = (*state, note.clone());
                let Some(id) = c.queue.shown().get(c.queue.selected).map(|q| q.visit_id.clone()) else {
                    c.queue.deciding = None;
                    return Ok(Action::Handled);
                };
                c.queue.deciding = None;
                let r = store.review(&id, state, &note)?;
                c.changes += 1;
                c.message = Some((w::reviewed_line(&r, l), false));
                // An approved visit leaves the queue at once (the queue read
                // again says the same, and how the others stand now).
                if store.visit_review(&id)?.standing.approved() {
                    c.queue.all.retain(|q| q.visit_id != id);
                    c.queue.clamp();
                    c.queue.load_figures(store)?;
                }
                c.queue.reload(store, &as_of(c), &c.settings)?;
            }
            _ => {}
        }
        return Ok(Action::Handled);
    }
    let q = &mut c.queue;
    let n = q.shown().len();
    match key.code {
        KeyCode::Up => q.selected = q.selected.saturating_sub(1),
        KeyCode::Down => q.selected = (q.selected + 1).min(n.saturating_sub(1)),
        KeyCode::PageUp => q.selected = q.selected.saturating_sub(10),
        KeyCode::PageDown => q.selected = (q.selected + 10).min(n.saturating_sub(1)),
        KeyCode::Char('t') => {
            let values = q.all.iter().map(|x| x.township().to_string()).collect();
            q.township = Queue::cycle(values, &q.township);
            q.selected = 0;
        }
        KeyCode::Char('c') => {
            let values = q
                .all
                .iter()
                .filter(|x| q.township.as_deref().is_none_or(|t| x.township() == t))
                .map(|x| x.crew.clone())
                .collect();
            q.crew = Queue::cycle(values, &q.crew);
            q.selected = 0;
        }
        KeyCode::Char(k @ ('a' | 'i' | 'r')) if n > 0 => {
            let state = match k {
                'a' => ReviewState::Approved,
                'i' => ReviewState::Issues,
                _ => ReviewState::Rejected,
            };
            q.deciding = Some((state, String::new()));
            return Ok(Action::Handled);
        }
        _ => return Ok(Action::Ignored),
    }
    q.clamp();
    q.load_figures(store)?;
    Ok(Action::Handled)
}

pub fn key_hints(c: &County) -> Vec<Hint> {
    let l = c.lang;
    if c.queue.deciding.is_some() {
        return vec![("Enter", w::k_record(l)), ("Esc", w::k_cancel(l))];
    }
    vec![
        ("↑↓", w::k_move(l)),
        ("a", w::state_name(ReviewState::Approved, l)),
        ("i", w::state_name(ReviewState::Issues, l)),
        ("r", w::state_name(ReviewState::Rejected, l)),
        ("t", w::k_township(l)),
        ("c", w::k_crew(l)),
    ]
}

pub fn draw(c: &County, frame: &mut Frame, area: Rect) {
    let l = c.lang;
    let q = &c.queue;
    let shown = q.shown();
    let mut filter = w::queue_heading(l, shown.len(), q.all.len(), q.township.as_deref(), q.crew.as_deref());
    if q.loading() {
        filter = format!("{filter}  {}", crate::strings::supervisor::computing(l));
    }
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::styled(fit(&filter, head.width as usize), HEAD)), head);
    if shown.is_empty() {
        // Nothing yet while the first reading is under way (the heading says so).
        if !q.loading() {
            frame.render_widget(Paragraph::new(Line::styled(w::queue_empty(l), DIM)), body);
        }
        return;
    }
    // Side by side when there is room, else the list above the detail.
    let (list, detail) = if body.width >= 100 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        (a, b)
    } else {
        let [a, b] = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        (a, b)
    };
    let wd = list.width as usize;
    let (mw, dw) = (2, 10);
    let sw = (wd / 5).clamp(6, 16);
    let vw = wd.saturating_sub(mw + dw + sw + 4);
    let header =
        TableRow::new([String::new(), fit(w::h_village(l), vw), fit(w::h_date(l), dw), fit(w::h_state(l), sw)]);
    let widths = vec![
        Constraint::Length(mw as u16),
        Constraint::Length(vw as u16),
        Constraint::Length(dw as u16),
        Constraint::Length(sw as u16),
    ];
    let h = (list.height as usize).saturating_sub(1);
    let start = window_start(q.selected, h);
    let rows = shown.iter().skip(start).take(h).map(|x| {
        let mark = if !x.checks.is_empty() { "⚑" } else { " " };
        let state = if x.review.corrected_waiting() {
            w::corrected_waiting(l).to_string()
        } else {
            w::standing(&x.review.standing, l)
        };
        TableRow::new([
            mark.to_string(),
            fit(&format!("{} {}", x.village_name, x.village_code), vw),
            fit(&x.survey_date, dw),
            fit(&state, sw),
        ])
    });
    list_table(frame, list, header, rows, widths, q.selected.checked_sub(start));
    if let Some(x) = shown.get(q.selected) {
        draw_detail(c, x, frame, detail);
    }
}

fn draw_detail(c: &County, x: &QueueRow, frame: &mut Frame, area: Rect) {
    let l = c.lang;
    let q = &c.queue;
    let mut lines = vec![Line::styled(
        one_line(&format!("{} · {} · {} · {}", x.village_name, x.survey_date, x.surveyor, x.crew)),
        HEAD,
    )];
    if let Some(v) = &q.figures {
        lines.push(Line::raw(w::figures_line(v, l)));
    }
    for ch in &x.checks {
        lines.push(Line::styled(
            one_line(&format!("⚑ {}: {}", w::rule_name(ch.rule(), l), w::message(&ch.finding, l))),
            ERR,
        ));
    }
    for r in &x.review.current {
        lines.push(Line::raw(one_line(&format!("{} {}: {}", r.author, w::state_name(r.state, l), r.note))));
    }
    if x.review.corrected_waiting()
        && let Some(r) = &x.review.last_return
    {
        lines.push(Line::styled(one_line(&format!("{} {}", w::earlier_return(l), r.note)), DIM));
    }
    if let Some((state, note)) = &q.deciding {
        lines.push(Line::styled(
            one_line(&format!("{} {}: {note}▏", w::state_name(*state, l), w::note_prompt(l))),
            HEAD,
        ));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::new().borders(Borders::TOP)),
        area,
    );
}
