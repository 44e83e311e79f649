//! The UI's styles, in one place: every screen draws with these.

use ratatui::style::{Color, Modifier, Style};

/// Secondary text: hints, empty lists, rows that do not count.
pub const DIM: Style = Style::new().fg(Color::DarkGray);
/// Headings and column heads.
pub const HEAD: Style = Style::new().add_modifier(Modifier::BOLD);
/// Errors and what fails a rule.
pub const ERR: Style = Style::new().fg(Color::Red);
/// Success and what meets a target.
pub const OK: Style = Style::new().fg(Color::Green);
/// A warning that is not an error (a village not treated yet).
pub const WARN: Style = Style::new().fg(Color::Yellow);
/// The crew's title bar.
pub const TITLE: Style = Style::new().bg(Color::Blue).fg(Color::White);
/// The crew's key bar.
pub const KEY_BAR: Style = Style::new().bg(Color::DarkGray).fg(Color::White);
/// The role bar, and its active role (marked with brackets too, not only colour).
pub const ROLE_BAR: Style = Style::new().bg(Color::Blue).fg(Color::White);
pub const ROLE_ACTIVE: Style = Style::new().bg(Color::White).fg(Color::Black).add_modifier(Modifier::BOLD);
/// A key in the county and supervisor key bars.
pub const KEY: Style = Style::new().add_modifier(Modifier::REVERSED);

/// The selected row of a list.
pub fn sel_style(selected: bool) -> Style {
    if selected { Style::new().add_modifier(Modifier::REVERSED) } else { Style::new() }
}
