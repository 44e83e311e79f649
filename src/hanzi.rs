//! Chinese names read as pinyin, from the `pinyin` crate's dictionary (no
//! table of our own): the village search matches typed pinyin (`xhc`,
//! `xinhua`, `xinhuac`) on any reading of a polyphonic character, and lists
//! sorted by name sort by pinyin, not by code point. Each rule lives here
//! once: the store's SQL reaches it as functions, the screens call it.

use std::borrow::Cow;
use std::cmp::Ordering;

use pinyin::{ToPinyin, ToPinyinMulti};

/// The toneless readings of a character (the first is the most common),
/// `ü` written `v` as keyboards type it. Empty for a character that is not
/// a Chinese character.
fn readings(c: char) -> Vec<Cow<'static, str>> {
    let Some(multi) = c.to_pinyin_multi() else { return Vec::new() };
    let mut out: Vec<Cow<'static, str>> = Vec::new();
    for p in multi {
        let r = plain(p.plain());
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// A toneless reading as typed on a keyboard: `ü` as `v`.
fn plain(r: &'static str) -> Cow<'static, str> {
    if r.contains('ü') { Cow::Owned(r.replace('ü', "v")) } else { Cow::Borrowed(r) }
}

/// Whether a query reads as pinyin: ASCII letters (and spaces or `'`
/// between syllables), at least one letter.
pub fn is_pinyin_query(q: &str) -> bool {
    q.chars().any(|c| c.is_ascii_alphabetic())
        && q.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\'' || c.is_ascii_digit())
}

/// Whether `name` matches the search `query`: it contains the query as
/// typed, or a run of its characters reads as the query in pinyin, each
/// character given by its whole syllable or the start of it (`x`, `xin`;
/// so `xhc`, `xinhua`, `xinhuac` find 新华村), on any of its readings
/// (长 is `chang` and `zhang`). Letters and digits in the name match
/// themselves, case aside. An empty query matches everything.
pub fn matches(name: &str, query: &str) -> bool {
    let q = query.trim();
    if q.is_empty() || name.contains(q) {
        return true;
    }
    if !is_pinyin_query(q) {
        return false;
    }
    let q: Vec<u8> = q.bytes().filter(|b| *b != b' ' && *b != b'\'').map(|b| b.to_ascii_lowercase()).collect();
    let chars: Vec<Vec<Cow<'static, str>>> = name
        .chars()
        .map(|c| {
            let r = readings(c);
            if r.is_empty() { vec![Cow::Owned(c.to_lowercase().collect())] } else { r }
        })
        .collect();
    // failed[i * (q.len() + 1) + j]: the query from j cannot be read from character i on.
    let mut failed = vec![false; (chars.len() + 1) * (q.len() + 1)];
    (0..chars.len()).any(|i| reads_from(&chars, &q, i, 0, &mut failed))
}

fn reads_from(chars: &[Vec<Cow<'static, str>>], q: &[u8], i: usize, j: usize, failed: &mut [bool]) -> bool {
    if j == q.len() {
        return true;
    }
    if i == chars.len() {
        return false;
    }
    let key = i * (q.len() + 1) + j;
    if failed[key] {
        return false;
    }
    for r in &chars[i] {
        let r = r.as_bytes();
        // The longest common start of the reading and the rest of the query.
        let n = r.iter().zip(&q[j..]).take_while(|(a, b)| a == b).count();
        // A whole syllable or the start of one, longest first.
        for k in (1..=n).rev() {
            if reads_from(chars, q, i + 1, j + k, failed) {
                return true;
            }
        }
    }
    failed[key] = true;
    false
}

/// The key a name sorts by: its characters' most common readings, a
/// syllable each (`xin hua cun`); characters without a reading as they are.
/// Syllables are set apart so that 西安 (`xi an`) comes before 先 (`xian`).
pub fn sort_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len() * 3);
    for c in name.chars() {
        match c.to_pinyin() {
            Some(p) => key.push_str(&plain(p.plain())),
            None => key.extend(c.to_lowercase()),
        }
        key.push('\u{1}');
    }
    key
}

/// Compares two names as a Chinese reader expects them listed: by pinyin,
/// then (same readings, different characters) by the characters.
pub fn cmp(a: &str, b: &str) -> Ordering {
    sort_key(a).cmp(&sort_key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_full_syllables_and_mixes_find_a_name() {
        for q in ["xhc", "xinhua", "xinhuacun", "xinhuac", "xinhc", "XHC", "xin hua", "hua", "新华", "华村"] {
            assert!(matches("新华村", q), "{q}");
        }
        for q in ["xhv", "inh", "hx", "xinhuacunx", "新村", "c1"] {
            assert!(!matches("新华村", q), "{q}");
        }
        assert!(matches("王家坪村", "wjp"));
        assert!(!matches("王家坪村", "wjq"));
    }

    #[test]
    fn a_polyphonic_character_matches_on_any_reading() {
        // 长 reads chang and zhang; 乐 le and yue.
        assert!(matches("长乐村", "cl"));
        assert!(matches("长乐村", "zhangyue"));
        assert!(matches("长乐村", "changlecun"));
        assert!(!matches("长乐村", "kl"));
    }

    #[test]
    fn letters_and_digits_in_names_match_themselves() {
        assert!(matches("第3村", "d3c"));
        assert!(matches("ABC村", "abcc"));
        assert!(is_pinyin_query("xhc") && !is_pinyin_query("430202") && !is_pinyin_query("新华"));
    }

    #[test]
    fn names_sort_by_pinyin_not_code_point() {
        let mut v = vec!["仙庾村", "明照村", "荷塘铺村", "白关村", "西安村", "先锋村"];
        v.sort_by(|a, b| cmp(a, b));
        assert_eq!(v, ["白关村", "荷塘铺村", "明照村", "西安村", "先锋村", "仙庾村"]);
        // By code point 仙 (U+4ED9) would come before 明 (U+660E) and 白 (U+767D).
        assert!('仙' < '明');
    }
}
