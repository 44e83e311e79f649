//! Measuring and cutting text by terminal display width (wide characters
//! count two), never by bytes or chars.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The display width of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` columns, ending in "…" when cut.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// `s` padded with spaces on the left to `w` columns (cut when longer).
pub fn right(s: &str, w: usize) -> String {
    let s = fit(s, w);
    format!("{}{s}", " ".repeat(w - width(&s)))
}

/// A ratio made safe for gauges: NaN and None become 0, the rest is clamped to [0, 1].
pub fn gauge_ratio(r: Option<f64>) -> f64 {
    match r {
        Some(v) if v.is_finite() => v.clamp(0.0, 1.0),
        Some(v) if v == f64::INFINITY => 1.0,
        _ => 0.0,
    }
}

/// A bar of `cells` columns filled to `ratio`, with a tick at `target` where
/// the bar is not filled, so the target shows without colour.
pub fn bar(ratio: Option<f64>, target: f64, cells: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let filled = gauge_ratio(ratio) * cells as f64;
    let tick = ((gauge_ratio(Some(target)) * cells as f64) as usize).min(cells.saturating_sub(1));
    (0..cells)
        .map(|i| {
            let part = filled - i as f64;
            if part >= 1.0 {
                '█'
            } else if part > 0.0 && EIGHTHS[(part * 8.0) as usize] != ' ' {
                EIGHTHS[(part * 8.0) as usize]
            } else if i == tick {
                '┆'
            } else {
                '·'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_by_display_width() {
        assert_eq!(fit("株洲市荷塘区", 7), "株洲市…");
        assert_eq!(width(&fit("株洲市荷塘区", 7)), 7);
        assert_eq!(fit("株洲", 4), "株洲");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(right("株", 4), "  株");
    }

    #[test]
    fn gauge_ratios_are_clamped() {
        assert_eq!(gauge_ratio(Some(f64::NAN)), 0.0);
        assert_eq!(gauge_ratio(None), 0.0);
        assert_eq!(gauge_ratio(Some(1.7)), 1.0);
        assert_eq!(gauge_ratio(Some(-0.2)), 0.0);
        assert_eq!(gauge_ratio(Some(0.25)), 0.25);
    }

    #[test]
    fn bars_fill_and_mark_the_target() {
        assert_eq!(bar(Some(0.5), 0.9, 4), "██·┆");
        assert_eq!(bar(Some(1.0), 0.9, 4), "████");
        assert_eq!(bar(None, 0.0, 3), "┆··");
        assert_eq!(bar(Some(f64::NAN), 0.5, 2), "·┆");
    }
}
