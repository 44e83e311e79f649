//! Widgets every screen uses alike.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{HighlightSpacing, Row, Table, TableState};

use super::theme::{HEAD, sel_style};

/// The first row of a list that keeps `selected` in a window of `h` rows.
pub fn window_start(selected: usize, h: usize) -> usize {
    if h == 0 || selected < h { 0 } else { selected + 1 - h }
}

/// A list as a table: the header in bold, the selected row marked.
pub fn list_table<'a>(
    frame: &mut Frame,
    area: Rect,
    header: Row<'a>,
    rows: impl IntoIterator<Item = Row<'a>>,
    widths: Vec<Constraint>,
    selected: Option<usize>,
) {
    let table = Table::new(rows, widths)
        .header(header.style(HEAD))
        .column_spacing(1)
        .row_highlight_style(sel_style(true))
        .highlight_spacing(HighlightSpacing::Never);
    frame.render_stateful_widget(table, area, &mut TableState::default().with_selected(selected));
}
