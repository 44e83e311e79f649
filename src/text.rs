//! Text for people, shared by the CLI's tables and the terminal UI:
//! measuring and cutting by display width (wide characters count two, never
//! bytes or chars), percentages, and clock stamps; and the one sanitizer
//! every output goes through, so that text from data (a village name, a
//! file name from a USB stick) can never act on the terminal: no escape
//! sequences that retitle it or clear the screen, no bidi overrides that
//! reorder what is shown.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What an unsafe character shows as.
pub const REPLACEMENT: char = '\u{fffd}';

/// Whether `c` must not reach a terminal as it is: control characters (C0
/// with ESC and BEL, DEL, C1 with the 8-bit CSI) and the invisible format
/// characters that reorder or hide text (bidi embeddings, overrides,
/// isolates and marks, zero-width characters, the BOM).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// `s` with every unsafe character but line breaks and tabs shown as `�`:
/// for whole messages and listings, which keep their lines.
pub fn safe(s: &str) -> Cow<'_, str> {
    let keep = |c: char| c == '\n' || c == '\t' || !is_unsafe(c);
    if s.chars().all(keep) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| if keep(c) { c } else { REPLACEMENT }).collect())
}

/// A file name or path for a message: [`one_line`], so that a name from a
/// USB stick can neither act on the terminal nor forge a line of a report.
pub fn safe_path(p: &std::path::Path) -> String {
    one_line(&p.display().to_string())
}

/// The display width of `s`.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` on one line and safe: a line break shows as ⏎, a CR is dropped, a
/// tab is a space, any other unsafe character shows as `�`.
pub fn one_line(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '\r')
        .map(|c| match c {
            '\n' => '⏎',
            '\t' => ' ',
            c if is_unsafe(c) => REPLACEMENT,
            c => c,
        })
        .collect()
}

/// A `serde_json` formatter that also writes as `\uXXXX` the characters
/// that `serde_json` leaves raw but a terminal would act on (DEL, C1
/// controls, bidi and zero-width characters): the JSON means exactly the
/// same, and printing it is safe.
pub struct SafeJson<F>(pub F);

impl SafeJson<serde_json::ser::PrettyFormatter<'static>> {
    pub fn pretty() -> Self {
        SafeJson(serde_json::ser::PrettyFormatter::new())
    }
}

/// Writes `value` as pretty JSON through [`SafeJson`].
pub fn write_json_pretty<T: serde::Serialize + ?Sized>(out: impl std::io::Write, value: &T) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeJson::pretty());
    value.serialize(&mut ser)
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $t:ty),*);)*) => {$(
        fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W $(, $arg: $t)*) -> std::io::Result<()> {
            self.0.$name(w $(, $arg)*)
        }
    )*};
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                for unit in c.encode_utf16(&mut [0; 2]) {
                    write!(w, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
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
    fn text_from_data_cannot_act_on_the_terminal() {
        let hostile = "村\x1b]0;pwned\x07\x1b[2J\u{9b}31m\u{202e}cba\u{200b}\x7f";
        for shown in [safe(hostile).into_owned(), one_line(hostile), fit(hostile, 80), safe_path(hostile.as_ref())] {
            assert!(!shown.chars().any(is_unsafe), "{shown:?}");
            assert!(shown.starts_with('村') && shown.contains("pwned"), "{shown:?}");
        }
        assert_eq!(safe("a\nb\tc\r"), "a\nb\tc\u{fffd}");
        assert!(matches!(safe("仙庾村\n"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\r\nb\tc\x1b"), "a⏎b c\u{fffd}");
    }

    #[test]
    fn safe_json_means_the_same_and_prints_safely() {
        let value = serde_json::json!({"name": "村\x1b[2J\u{9b}\u{202e}\x7f\u{1F600}", "n": [1, 2]});
        let mut out = Vec::new();
        write_json_pretty(&mut out, &value).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| c != '\n' && is_unsafe(c)), "{text}");
        assert!(text.contains("\\u009b") && text.contains("\\u202e") && text.contains("\\u007f"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        // Safe text is written exactly as serde_json's own pretty printer writes it.
        let plain = serde_json::json!({"name": "仙庾村", "n": [1, {"a": [], "b": {}}]});
        let mut out = Vec::new();
        write_json_pretty(&mut out, &plain).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string_pretty(&plain).unwrap());
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
