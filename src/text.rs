//! Text for people, shared by the CLI's tables and the terminal UI:
//! measuring and cutting by display width (wide characters count two, never
//! bytes or chars), percentages, and clock stamps.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The display width of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` on one line: a line break shows as ⏎.
pub fn one_line(s: &str) -> String {
    s.replace('\n', "⏎").replace('\r', "")
}

/// `s` on one line, cut to at most `w` columns, ending in "…" when cut.
pub fn fit(s: &str, w: usize) -> String {
    let s = one_line(s);
    if width(&s) <= w {
        return s;
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// [`fit`], then padded with spaces on the right to exactly `w` columns.
pub fn pad(s: &str, w: usize) -> String {
    let t = fit(s, w);
    let n = w.saturating_sub(width(&t));
    t + &" ".repeat(n)
}

/// [`fit`], then padded with spaces on the left to exactly `w` columns.
pub fn right(s: &str, w: usize) -> String {
    let t = fit(s, w);
    format!("{}{t}", " ".repeat(w.saturating_sub(width(&t))))
}

/// The part of `text` shown in a field `w` columns wide so that the cursor
/// (in chars) stays visible, and the cursor's column within it.
pub fn scroll(text: &str, cursor: usize, w: usize) -> (String, u16) {
    let chars: Vec<char> = one_line(text).chars().collect();
    let cursor = cursor.min(chars.len());
    let width_of = |a: usize, b: usize| chars[a..b].iter().map(|c| c.width().unwrap_or(0)).sum::<usize>();
    let mut start = 0;
    while start < cursor && width_of(start, cursor) >= w.max(1) {
        start += 1;
    }
    let mut shown = String::new();
    let mut used = 0;
    for &c in &chars[start..] {
        let cw = c.width().unwrap_or(0);
        if used + cw > w {
            break;
        }
        shown.push(c);
        used += cw;
    }
    (shown, width_of(start, cursor) as u16)
}

/// Percent with one decimal, or "—" for a rate that cannot be computed.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".to_string(),
    }
}

/// The wall-clock milliseconds of a clock stamp ("millis.counter").
fn stamp_millis(hlc: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let ms: i64 = hlc.split('.').next()?.parse().ok()?;
    chrono::DateTime::from_timestamp_millis(ms)
}

/// A clock stamp in full, as UTC ("2025-06-01 00:00:00 UTC"); the stamp
/// itself when it cannot be read.
pub fn stamp(hlc: &str) -> String {
    stamp_millis(hlc).map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| hlc.to_string())
}

/// A clock stamp short, month to minute in UTC ("06-01 00:00"); empty when
/// it cannot be read.
pub fn stamp_short(hlc: &str) -> String {
    stamp_millis(hlc).map(|t| t.format("%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A local time with its offset (RFC 3339) as its own clock read it, to the
/// minute; the text itself when it cannot be read.
pub fn local_minute(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.naive_local().format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
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
        assert_eq!(fit("a\nb", 9), "a⏎b");
        assert_eq!(right("株", 4), "  株");
        assert_eq!(pad("株", 4), "株  ");
        assert_eq!(pad("株洲市", 5), "株洲…");
        let (shown, x) = scroll("一二三四五", 5, 6);
        assert_eq!((shown.as_str(), x), ("四五", 4));
        let (shown, x) = scroll("一二三", 1, 10);
        assert_eq!((shown.as_str(), x), ("一二三", 2));
    }

    #[test]
    fn percents_have_one_decimal_or_a_dash() {
        assert_eq!(percent(Some(0.8567)), "85.7%");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn clock_stamps_read_as_utc_times() {
        assert_eq!(stamp("1748736000000.00000"), "2025-06-01 00:00:00 UTC");
        assert_eq!(stamp_short("1748736000000.00003"), "06-01 00:00");
        assert_eq!(stamp("garbage"), "garbage");
        assert_eq!(stamp_short("garbage"), "");
        assert_eq!(local_minute("2025-06-01T16:30:00.000+08:00"), "2025-06-01 16:30");
        assert_eq!(local_minute("yesterday"), "yesterday");
    }
}
