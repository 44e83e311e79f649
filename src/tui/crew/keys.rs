//! The crew's key map: what a key means in front of the screen shown, and
//! the hints of the key bar for the same state.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::InputRequest;

use super::{Crew, Overlay, Screen};
use crate::strings::Lang;
use crate::strings::tui as s;
use crate::tui::component::Hint;

/// What a key means where it was pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Up,
    Down,
    PageUp,
    PageDown,
    Next,
    Prev,
    Left,
    Right,
    Home,
    End,
    Enter,
    Back,
    Save,
    Help,
    Quit,
    Char(char),
    Backspace,
    Delete,
    Add,
    Remove,
    New,
    Yes,
    No,
    /// An editing key in a one-line field (the search box, a form field):
    /// cursor and word moves, deleting a word or the line, as `tui-input`
    /// reads the key (Ctrl-U, Ctrl-W, Home/End, Ctrl-←/→ …).
    Edit(InputRequest),
    /// A key for the notes text area (several lines), as typed.
    Area(KeyEvent),
    /// The crew's day: villages still to visit, visits saved today.
    Day,
    /// Set a date (the round's start, in the day view).
    Date,
}

impl Crew {
    /// Whether the key in front takes typed characters.
    pub(super) fn typing(&self) -> bool {
        match self.screen {
            Screen::Browser => true,
            Screen::Visits => false,
            Screen::Day => self.day.as_ref().is_some_and(|d| d.editing.is_some()),
            Screen::Form => self.form.as_ref().is_some_and(|f| {
                f.record().is_some_and(|(fields, _, _)| fields.get(f.focus).is_some_and(|x| x.kind.is_typed()))
            }),
        }
    }

    pub(super) fn field_focus(&self) -> bool {
        self.screen == Screen::Form && self.form.as_ref().is_some_and(|f| f.record().is_some())
    }

    /// Whether the notes text area has the focus (and the form no overlay).
    pub(super) fn notes_focus(&self) -> bool {
        self.screen == Screen::Form && self.form.as_ref().is_some_and(|f| f.notes.is_some())
    }

    /// The notes area's own keys: everything but leaving it, saving, help
    /// and quitting. Up on its first line and Down on its last move to the
    /// field above or below, as in the other fields.
    fn notes_key(&self, key: KeyEvent) -> Msg {
        let area = self.form.as_ref().and_then(|f| f.notes.as_ref());
        let (row, rows) = area.map_or((0, 1), |a| (a.cursor().0, a.lines().len()));
        match key.code {
            KeyCode::Tab => Msg::Next,
            KeyCode::BackTab => Msg::Prev,
            KeyCode::Esc => Msg::Back,
            KeyCode::PageUp => Msg::PageUp,
            KeyCode::PageDown => Msg::PageDown,
            KeyCode::Up if row == 0 => Msg::Prev,
            KeyCode::Down if row + 1 >= rows => Msg::Next,
            _ => Msg::Area(key),
        }
    }

    /// The key map: what a key means in front of the screen shown now.
    pub fn key_to_msg(&self, key: KeyEvent) -> Option<Msg> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('q' | 'c') if ctrl => return Some(Msg::Quit),
            KeyCode::Char('s') if ctrl => return Some(Msg::Save),
            KeyCode::F(1) => return Some(Msg::Help),
            KeyCode::Char('t') if ctrl && self.overlay.is_none() && self.screen != Screen::Form => {
                return Some(Msg::Day);
            }
            _ => {}
        }
        if self.overlay.is_none() && self.notes_focus() {
            return Some(self.notes_key(key));
        }
        // Editing keys of a one-line field; typed characters stay `Char`.
        if self.overlay.is_none()
            && self.typing()
            && let Some(req) = tui_input::backend::crossterm::to_input_request(&Event::Key(key))
            && !matches!(req, InputRequest::InsertChar(_))
        {
            return Some(Msg::Edit(req));
        }
        if ctrl {
            return None;
        }
        match &self.overlay {
            Some(Overlay::Help) => return Some(Msg::Back),
            Some(Overlay::Confirm(_)) => {
                return match key.code {
                    KeyCode::Char('y' | 'Y') => Some(Msg::Yes),
                    KeyCode::Char('n' | 'N') => Some(Msg::No),
                    KeyCode::Esc => Some(Msg::Back),
                    _ => None,
                };
            }
            None => {}
        }
        let common = match key.code {
            KeyCode::Up => Some(Msg::Up),
            KeyCode::Down => Some(Msg::Down),
            KeyCode::PageUp => Some(Msg::PageUp),
            KeyCode::PageDown => Some(Msg::PageDown),
            KeyCode::Tab => Some(Msg::Next),
            KeyCode::BackTab => Some(Msg::Prev),
            KeyCode::Enter => Some(Msg::Enter),
            KeyCode::Esc => Some(Msg::Back),
            KeyCode::Left => Some(Msg::Left),
            KeyCode::Right => Some(Msg::Right),
            KeyCode::Home => Some(Msg::Home),
            KeyCode::End => Some(Msg::End),
            KeyCode::Backspace => Some(Msg::Backspace),
            KeyCode::Delete => Some(Msg::Delete),
            KeyCode::Insert => Some(Msg::Add),
            _ => None,
        };
        if common.is_some() {
            if self.field_focus() {
                return common.map(|m| match m {
                    Msg::Up => Msg::Prev,
                    Msg::Down => Msg::Next,
                    m => m,
                });
            }
            return common;
        }
        let KeyCode::Char(c) = key.code else { return None };
        if self.screen == Screen::Browser && c == '?' {
            return Some(Msg::Help);
        }
        if self.typing() {
            return Some(Msg::Char(c));
        }
        match c {
            '?' => Some(Msg::Help),
            ' ' if self.field_focus() => Some(Msg::Right),
            'n' if self.screen == Screen::Visits => Some(Msg::New),
            'd' if self.screen == Screen::Day => Some(Msg::Date),
            'd' if !self.field_focus() => Some(Msg::Remove),
            'a' if self.screen == Screen::Form && !self.field_focus() => Some(Msg::Add),
            _ => None,
        }
    }
}

/// The keys of the crew screen shown, most used first.
pub fn hints(c: &Crew) -> Vec<Hint> {
    let l = c.lang;
    match &c.overlay {
        Some(Overlay::Help) => return help_hints(l),
        Some(Overlay::Confirm(_)) => return confirm_hints(l),
        None => {}
    }
    match c.screen {
        Screen::Browser => browser_hints(l),
        Screen::Visits => visits_hints(l),
        Screen::Day => day_hints(l),
        Screen::Form => match c.form.as_ref() {
            Some(f) if f.editing.is_some() => row_hints(l),
            Some(f) if f.section > 0 => list_hints(l),
            _ => field_hints(l),
        },
    }
}

fn help_hints(l: Lang) -> Vec<Hint> {
    vec![("Esc", s::k_close_help(l))]
}

fn confirm_hints(l: Lang) -> Vec<Hint> {
    vec![("y", s::k_yes(l)), ("n", s::k_no(l)), ("Esc", s::k_cancel(l))]
}

fn browser_hints(l: Lang) -> Vec<Hint> {
    vec![
        ("↑↓", s::k_select(l)),
        ("Enter", s::k_open(l)),
        ("Esc", s::k_back(l)),
        ("", s::k_type_to_search(l)),
        ("^T", s::k_day(l)),
        ("F1", s::k_help(l)),
        ("^Q", s::k_quit(l)),
    ]
}

fn day_hints(l: Lang) -> Vec<Hint> {
    vec![
        ("↑↓", s::k_select(l)),
        ("Enter", s::k_open(l)),
        ("d", s::k_round_start(l)),
        ("Esc", s::k_back(l)),
        ("F1", s::k_help(l)),
    ]
}

fn visits_hints(l: Lang) -> Vec<Hint> {
    vec![
        ("↑↓", s::k_select(l)),
        ("Enter", s::k_edit(l)),
        ("n", s::k_new(l)),
        ("d", s::k_delete(l)),
        ("Esc", s::k_back(l)),
        ("?", s::k_help(l)),
    ]
}

fn field_hints(l: Lang) -> Vec<Hint> {
    vec![
        ("Tab/↑↓", s::k_field(l)),
        ("←→", s::k_cursor(l)),
        ("PgUp/Dn", s::k_section(l)),
        ("^S", s::k_save(l)),
        ("Esc", s::k_back(l)),
        ("F1", s::k_help(l)),
    ]
}

fn list_hints(l: Lang) -> Vec<Hint> {
    vec![
        ("↑↓", s::k_select(l)),
        ("Enter", s::k_edit(l)),
        ("a", s::k_add(l)),
        ("d", s::k_delete(l)),
        ("Tab", s::k_section(l)),
        ("^S", s::k_save(l)),
        ("Esc", s::k_back(l)),
        ("?", s::k_help(l)),
    ]
}

fn row_hints(l: Lang) -> Vec<Hint> {
    vec![
        ("Tab/↑↓", s::k_field(l)),
        ("←→", s::k_cursor(l)),
        ("Enter/Esc", s::k_to_list(l)),
        ("^S", s::k_save(l)),
        ("F1", s::k_help(l)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::width;

    #[test]
    fn every_key_bar_fits_80_columns() {
        for l in [Lang::Zh, Lang::En] {
            let sets = [
                help_hints(l),
                confirm_hints(l),
                browser_hints(l),
                visits_hints(l),
                day_hints(l),
                field_hints(l),
                list_hints(l),
                row_hints(l),
            ];
            for hints in sets {
                // As the key bar draws them: " key what " each.
                let w: usize = hints.iter().map(|(k, d)| width(k) + width(d) + 3).sum();
                assert!(w <= 80, "{hints:?}: {w}");
            }
            for line in s::help(l) {
                assert!(width(line) <= 88, "{line}");
            }
        }
        // The Chinese help holds no character of ambiguous width: a CJK
        // terminal would draw it wider and push the box's border out.
        for line in s::help(Lang::Zh) {
            use unicode_width::UnicodeWidthStr;
            assert_eq!(line.width_cjk(), line.width(), "{line}");
        }
    }
}
