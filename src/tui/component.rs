//! The one shape every screen of the three roles has: an event becomes an
//! [`Action`] for the app, drawing only reads state, and the keys the screen
//! answers to are listed by the screen itself ([`Component::hints`]), from
//! which the app draws the key bar.

use anyhow::Result;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::Event;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::theme::KEY;
use crate::store::Store;
use crate::text::width;

/// A key and what it does, as the key bar shows it: ("Enter", "open").
/// An empty key is a note without a key ("type to search").
pub type Hint = (&'static str, &'static str);

/// What became of an event, for the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The screen used it.
    Handled,
    /// Not a key of this screen (e.g. Esc at the top): the app may use it.
    Ignored,
    /// The person asked to quit.
    Quit,
}

/// What a screen may use while it handles an event.
pub struct Ctx<'a> {
    pub store: &'a mut Store,
}

/// A screen of the app: crew, county or supervisor.
pub trait Component {
    /// Handles one event (only key presses count). An error is for the app
    /// to show; the screen's state stays as it was before the failing step.
    fn handle(&mut self, ev: &Event, ctx: &mut Ctx) -> Result<Action>;
    /// Draws the screen into `area` (and places the cursor when typing).
    fn draw(&self, frame: &mut Frame, area: Rect);
    /// The keys of the screen as it is now, most used first.
    fn hints(&self) -> Vec<Hint>;
}

/// The key bar: "key description" pairs, cut at the last whole pair that fits.
pub fn key_bar(hints: &[Hint], area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for (k, d) in hints {
        let w = width(k) + width(d) + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        if !k.is_empty() {
            spans.push(Span::styled(format!(" {k}"), KEY));
        }
        spans.push(Span::raw(format!(" {d} ")));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}
