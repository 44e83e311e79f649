//! Widgets every screen uses alike.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{HighlightSpacing, Row, Table, TableState};

use super::theme::{HEAD, sel_style};

/// Applies an editing request (as `tui-input` reads a key: Ctrl-U, Ctrl-W,
/// Home/End, Ctrl-←/→, Backspace …) to a one-line text and its cursor (in
/// chars). Returns whether the text changed. Every one-line field of the
/// crew's screens edits through this, so the keys work alike everywhere.
pub fn edit_line(value: &mut String, cursor: &mut usize, req: tui_input::InputRequest) -> bool {
    // The cursor is brought back inside the text when it is past its end.
    let mut input = tui_input::Input::new(std::mem::take(value)).with_cursor(*cursor);
    let changed = input.handle(req).is_some_and(|c| c.value);
    *cursor = input.cursor();
    *value = input.value_and_reset();
    changed
}

/// `text` (one line, made safe for the terminal) broken into lines of at
/// most `w` columns by display width: at a space when a line has one, else
/// between characters (Chinese has no spaces). Nothing is cut off.
pub fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in crate::text::one_line(text).chars() {
        let cw = crate::text::width(c.encode_utf8(&mut [0; 4]));
        if crate::text::width(&line) + cw > w {
            let at = line.rfind(' ').filter(|_| c != ' ').filter(|i| *i > 0);
            match at {
                Some(i) => {
                    let rest = line.split_off(i + 1);
                    lines.push(line.trim_end().to_string());
                    line = rest;
                }
                None => lines.push(std::mem::take(&mut line)),
            }
            if c == ' ' && line.is_empty() {
                continue;
            }
        }
        line.push(c);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use tui_input::InputRequest::*;

    #[test]
    fn wrapping_keeps_every_character_within_the_width() {
        let en = "sewered, reuse and controlled households plus households served by facilities make 958, more than the 100 households";
        let lines = wrap(en, 40);
        assert!(lines.iter().all(|x| crate::text::width(x) <= 40), "{lines:?}");
        assert_eq!(lines.join(" "), en);
        assert!(lines[0].ends_with("households"), "{lines:?}");
        let zh = "纳管、资源化利用、管控户数与设施服务户数之和 958 超过常住户数 100";
        let lines = wrap(zh, 20);
        assert!(lines.iter().all(|x| crate::text::width(x) <= 20), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), zh.replace(' ', ""));
        assert!(lines.concat().contains("958") && lines.concat().contains("100"));
    }

    #[test]
    fn the_usual_editing_keys_edit_a_line() {
        let mut v = "周家 farm one".to_string();
        let mut c = v.chars().count();
        assert!(edit_line(&mut v, &mut c, DeletePrevWord));
        assert_eq!((v.as_str(), c), ("周家 farm ", 8));
        assert!(!edit_line(&mut v, &mut c, GoToPrevWord));
        assert_eq!(c, 3);
        assert!(!edit_line(&mut v, &mut c, GoToStart));
        assert_eq!(c, 0);
        assert!(edit_line(&mut v, &mut c, InsertChar('老')));
        assert_eq!((v.as_str(), c), ("老周家 farm ", 1));
        edit_line(&mut v, &mut c, GoToEnd);
        assert!(edit_line(&mut v, &mut c, DeleteLine));
        assert_eq!((v.as_str(), c), ("", 0));
        // A cursor past the end (a value changed under it) is brought back.
        let mut v = "12".to_string();
        let mut c = 9;
        assert!(edit_line(&mut v, &mut c, DeletePrevChar));
        assert_eq!((v.as_str(), c), ("1", 1));
    }
}
