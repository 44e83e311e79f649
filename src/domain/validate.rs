//! The field and cross-field rules of SPEC §2, once, for every way a visit
//! comes in: the CSV bundle, the visit form, a merged database.
//!
//! Parsing (`parse_*`) turns a typed cell into a value and only judges its
//! form; [`validate_visit`] judges the values.

use std::collections::HashSet;

use chrono::NaiveDate;

pub use super::input::Malformed;
use super::settings::ManureCoefficients;
use super::{Species, VisitData};

/// Longest id (visit, facility, farm, water body), in characters.
pub const ID_MAX_CHARS: usize = 100;
/// Longest one-line name (surveyor, farm and water body names, roster and
/// area names, the author of a revision), in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest free text (notes), in characters.
pub const NOTES_MAX_CHARS: usize = 10_000;
/// The surveyor is a one-line name.
pub const SURVEYOR_MAX_CHARS: usize = NAME_MAX_CHARS;

// Upper bounds of counts and measures (README, "What it records"). They keep
// every sum far from overflow: the largest count, 10^7 head, times the
// national number of villages (about 6 x 10^5), times 10 rows each is
// 6 x 10^13, far below 2^63 (about 9.2 x 10^18); the largest decimal sum
// (10^9 m^2 x 6 x 10^6 rows) is a finite f64.

/// Households of a village, and households connected, reused, controlled or served.
pub const MAX_HOUSEHOLDS: i64 = 100_000;
/// Natural villages (groups) of an administrative village.
pub const MAX_NATURAL_VILLAGES: i64 = 1_000;
/// Head on hand or annual output of one farm.
pub const MAX_HEAD: i64 = 10_000_000;
/// Measured manure of one farm, tonnes a year.
pub const MAX_MANURE_T: f64 = 10_000_000.0;
/// Treatment capacity of one facility, m^3 a day.
pub const MAX_CAPACITY_M3_D: f64 = 1_000_000.0;
/// Area of one water body, m^2 (1 000 km^2).
pub const MAX_AREA_M2: f64 = 1_000_000_000.0;
/// Length of one water body, m (1 000 km).
pub const MAX_LENGTH_M: f64 = 1_000_000.0;
/// Depth and transparency, cm (100 m).
pub const MAX_DEPTH_CM: f64 = 10_000.0;
/// Dissolved oxygen and ammonia nitrogen, mg/l.
pub const MAX_MG_L: f64 = 1_000.0;

/// Why a value is refused. Its message, in either language, is rendered by
/// the edge (`strings`), never here.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Required,
    NotInteger,
    NotNumber,
    Negative,
    BadDate,
    FutureDate,
    TooLong(usize),
    /// A number above its realistic bound (the bound).
    TooLarge(f64),
    /// A character a value may not hold: a control character (a line break
    /// in one-line text), a bidi override or a zero-width character.
    BadChar(char),
    BadEnum(String),
    BadBool,
    BadCode,
    UnknownVillage,
    NotAVillage,
    HouseholdsExceeded {
        sum: i64,
        households: i64,
    },
    CoveredExceedsNatural {
        covered: i64,
        natural: i64,
    },
    PercentRange,
    ManureRequired,
    DuplicateId,
    UnknownColumn,
    MissingColumn,
    DuplicateColumn,
    UnknownVisit,
    DuplicateVisit,
    Csv(String),
    /// The file as a whole, or its text from this line on (see [`Malformed`]).
    Malformed(Malformed),
    /// A code in scientific notation (`4.30202E+11`): a spreadsheet turned
    /// the code into a number and cut its digits.
    ScientificCode,
}

/// Where in a visit a problem lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Visit,
    Facility(usize),
    Farm(usize),
    Water(usize),
}

/// One refused value: where, which field, why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub place: Place,
    pub field: &'static str,
    pub reason: Reason,
}

/// One refused cell of an input file: file, line (1 = the header), column, why.
#[derive(Debug, Clone, PartialEq)]
pub struct LineProblem {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub reason: Reason,
}

fn non_empty(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// An integer cell; empty is `None`.
pub fn parse_int(s: &str) -> Result<Option<i64>, Reason> {
    non_empty(s).map(|t| t.parse::<i64>().map_err(|_| Reason::NotInteger)).transpose()
}

/// A decimal cell; empty is `None`. Infinity and NaN are not numbers here.
pub fn parse_decimal(s: &str) -> Result<Option<f64>, Reason> {
    match non_empty(s) {
        None => Ok(None),
        Some(t) => match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(Reason::NotNumber),
        },
    }
}

/// A boolean cell in any accepted spelling; empty is `None`.
pub fn parse_bool(s: &str) -> Result<Option<bool>, Reason> {
    match non_empty(s) {
        None => Ok(None),
        Some(t) => match t.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "是" => Ok(Some(true)),
            "0" | "false" | "no" | "否" => Ok(Some(false)),
            _ => Err(Reason::BadBool),
        },
    }
}

/// A date cell, returned as `YYYY-MM-DD`. Accepted: the year first, then
/// month and day of one or two digits, separated by `-` or `/` (what Excel
/// writes back: `2025/3/1`), or `2025年3月1日`.
pub fn parse_date(s: &str) -> Result<Option<String>, Reason> {
    let Some(t) = non_empty(s) else { return Ok(None) };
    let parts: Vec<&str> = match t.strip_suffix('日') {
        Some(rest) => rest.split(['年', '月']).collect(),
        None => {
            let sep = if t.contains('/') { '/' } else { '-' };
            t.split(sep).collect()
        }
    };
    let digits = |p: &str, lens: std::ops::RangeInclusive<usize>| {
        (lens.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<u32>().ok()).flatten()
    };
    let date = match parts[..] {
        [y, m, d] => match (digits(y, 4..=4), digits(m, 1..=2), digits(d, 1..=2)) {
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d),
            _ => None,
        },
        _ => None,
    };
    date.map(|d| Some(d.format("%Y-%m-%d").to_string())).ok_or(Reason::BadDate)
}

/// A 12-digit division code.
pub fn is_division_code(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The verdict on a division code cell: a code, a number a spreadsheet
/// made of a code (`4.30202E+11`), or neither.
pub fn check_code(s: &str) -> Result<(), Reason> {
    if is_division_code(s) {
        return Ok(());
    }
    let (mantissa, exponent) = s.split_once(['e', 'E']).unwrap_or((s, ""));
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if all_digits(int) && all_digits(frac) && all_digits(exponent) {
        Err(Reason::ScientificCode)
    } else {
        Err(Reason::BadCode)
    }
}

/// Makes an optional parsed cell required.
pub fn required<T>(v: Result<Option<T>, Reason>) -> Result<T, Reason> {
    v.and_then(|o| o.ok_or(Reason::Required))
}

/// Whether `c` may not appear in text: control characters (line breaks and
/// tabs are allowed in `multiline` text), the line and paragraph separators,
/// bidi overrides and marks, and zero-width characters.
pub fn is_forbidden_char(c: char, multiline: bool) -> bool {
    if multiline && matches!(c, '\n' | '\r' | '\t') {
        return false;
    }
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'
            | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

fn check_text(s: &str, max: usize, multiline: bool) -> Result<(), Reason> {
    if let Some(c) = s.chars().find(|c| is_forbidden_char(*c, multiline)) {
        return Err(Reason::BadChar(c));
    }
    if s.chars().count() > max {
        return Err(Reason::TooLong(max));
    }
    Ok(())
}

/// One-line text (a name, an id): no control, bidi or zero-width
/// characters, at most `max` characters. Empty is allowed here.
pub fn check_line(s: &str, max: usize) -> Result<(), Reason> {
    check_text(s, max, false)
}

/// Notes: line breaks and tabs allowed, nothing else invisible.
pub fn check_notes(s: &str) -> Result<(), Reason> {
    check_text(s, NOTES_MAX_CHARS, true)
}

/// A required one-line text: not blank, then [`check_line`].
pub fn check_required_line(s: &str, max: usize) -> Result<(), Reason> {
    if s.trim().is_empty() {
        return Err(Reason::Required);
    }
    check_line(s, max)
}

/// An id of a visit or of a row in it.
pub fn check_id(s: &str) -> Result<(), Reason> {
    check_required_line(s, ID_MAX_CHARS)
}

/// A name of the roster (a village, township or county) or of an area.
pub fn check_roster_name(s: &str) -> Result<(), Reason> {
    check_required_line(s, NAME_MAX_CHARS)
}

/// A count: 0 to `max`.
pub fn check_count(n: i64, max: i64) -> Result<(), Reason> {
    if n < 0 {
        Err(Reason::Negative)
    } else if n > max {
        Err(Reason::TooLarge(max as f64))
    } else {
        Ok(())
    }
}

/// An optional measure: finite, 0 to `max`.
pub fn check_measure(x: Option<f64>, max: f64) -> Result<(), Reason> {
    match x {
        Some(x) if !x.is_finite() => Err(Reason::NotNumber),
        Some(x) if x < 0.0 => Err(Reason::Negative),
        Some(x) if x > max => Err(Reason::TooLarge(max)),
        _ => Ok(()),
    }
}

/// Every rule a visit breaks, in form order. `today` bounds the survey date.
pub fn validate_visit(v: &VisitData, today: NaiveDate, coefficients: &ManureCoefficients) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut at = |place: Place, field: &'static str, reason: Reason| out.push(Problem { place, field, reason });
    let judge = |at: &mut dyn FnMut(Place, &'static str, Reason), place, field, r: Result<(), Reason>| {
        if let Err(r) = r {
            at(place, field, r)
        }
    };

    let p = Place::Visit;
    if let Err(r) = check_code(&v.village_code) {
        at(p, "village_code", r);
    }
    match NaiveDate::parse_from_str(&v.survey_date, "%Y-%m-%d") {
        Err(_) => at(p, "survey_date", Reason::BadDate),
        Ok(d) if d.format("%Y-%m-%d").to_string() != v.survey_date => at(p, "survey_date", Reason::BadDate),
        Ok(d) if d > today => at(p, "survey_date", Reason::FutureDate),
        Ok(_) => {}
    }
    judge(&mut at, p, "surveyor", check_required_line(&v.surveyor, SURVEYOR_MAX_CHARS));
    for (field, n, max) in [
        ("households", v.households, MAX_HOUSEHOLDS),
        ("hh_sewer", v.hh_sewer, MAX_HOUSEHOLDS),
        ("hh_reuse", v.hh_reuse, MAX_HOUSEHOLDS),
        ("hh_controlled", v.hh_controlled, MAX_HOUSEHOLDS),
        ("natural_villages", v.natural_villages, MAX_NATURAL_VILLAGES),
        ("nv_garbage_covered", v.nv_garbage_covered, MAX_NATURAL_VILLAGES),
    ] {
        judge(&mut at, p, field, check_count(n, max));
    }
    judge(&mut at, p, "notes", check_notes(&v.notes));

    // Checked: the terms are not yet known to be bounded here (a refused
    // count is still summed), so a sum that overflows is "too many".
    let sum = v
        .facilities
        .iter()
        .map(|f| f.households_served)
        .chain([v.hh_sewer, v.hh_reuse, v.hh_controlled])
        .try_fold(0i64, |acc, n| acc.checked_add(n.max(0)))
        .unwrap_or(i64::MAX);
    if sum > v.households {
        at(p, "households", Reason::HouseholdsExceeded { sum, households: v.households });
    }
    if v.nv_garbage_covered > v.natural_villages {
        at(
            p,
            "nv_garbage_covered",
            Reason::CoveredExceedsNatural { covered: v.nv_garbage_covered, natural: v.natural_villages },
        );
    }

    let mut ids = HashSet::new();
    for (i, f) in v.facilities.iter().enumerate() {
        let p = Place::Facility(i);
        judge(&mut at, p, "facility_id", check_id(&f.facility_id));
        if !ids.insert(f.facility_id.as_str()) {
            at(p, "facility_id", Reason::DuplicateId);
        }
        judge(&mut at, p, "households_served", check_count(f.households_served, MAX_HOUSEHOLDS));
        judge(&mut at, p, "capacity_m3_d", check_measure(f.capacity_m3_d, MAX_CAPACITY_M3_D));
    }
    let mut ids = HashSet::new();
    for (i, f) in v.farms.iter().enumerate() {
        let p = Place::Farm(i);
        judge(&mut at, p, "farm_id", check_id(&f.farm_id));
        if !ids.insert(f.farm_id.as_str()) {
            at(p, "farm_id", Reason::DuplicateId);
        }
        judge(&mut at, p, "name", check_line(&f.name, NAME_MAX_CHARS));
        judge(&mut at, p, "head_on_hand", check_count(f.head_on_hand, MAX_HEAD));
        judge(&mut at, p, "annual_out", check_count(f.annual_out, MAX_HEAD));
        judge(&mut at, p, "manure_t", check_measure(f.manure_t, MAX_MANURE_T));
        if !(0.0..=100.0).contains(&f.utilized_pct) {
            at(p, "utilized_pct", Reason::PercentRange);
        }
        if f.manure_t.is_none() && (f.species == Species::Other || coefficients.of(f.species).is_none()) {
            at(p, "manure_t", Reason::ManureRequired);
        }
    }
    let mut ids = HashSet::new();
    for (i, w) in v.water_bodies.iter().enumerate() {
        let p = Place::Water(i);
        judge(&mut at, p, "water_id", check_id(&w.water_id));
        if !ids.insert(w.water_id.as_str()) {
            at(p, "water_id", Reason::DuplicateId);
        }
        judge(&mut at, p, "name", check_line(&w.name, NAME_MAX_CHARS));
        for (field, x, max) in [
            ("area_m2", w.area_m2, MAX_AREA_M2),
            ("length_m", w.length_m, MAX_LENGTH_M),
            ("depth_cm", w.depth_cm, MAX_DEPTH_CM),
            ("transparency_cm", w.transparency_cm, MAX_DEPTH_CM),
            ("do_mg_l", w.do_mg_l, MAX_MG_L),
            ("nh3n_mg_l", w.nh3n_mg_l, MAX_MG_L),
        ] {
            judge(&mut at, p, field, check_measure(x, max));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    fn visit() -> VisitData {
        VisitData {
            village_code: "430202001201".into(),
            survey_date: "2025-05-01".into(),
            surveyor: "陈静".into(),
            households: 100,
            hh_sewer: 10,
            hh_reuse: 10,
            hh_controlled: 10,
            natural_villages: 5,
            nv_garbage_covered: 5,
            notes: String::new(),
            facilities: vec![Facility {
                facility_id: "f1".into(),
                kind: FacilityKind::Central,
                households_served: 70,
                status: FacilityStatus::Normal,
                capacity_m3_d: None,
            }],
            farms: vec![],
            water_bodies: vec![],
        }
    }

    fn fields(v: &VisitData) -> Vec<&'static str> {
        validate_visit(v, today(), &ManureCoefficients::default()).into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_valid_visit_passes() {
        assert!(fields(&visit()).is_empty());
    }

    #[test]
    fn each_rule_names_its_field() {
        let mut v = visit();
        v.facilities[0].households_served = 71;
        assert_eq!(fields(&v), ["households"]);
        let mut v = visit();
        v.nv_garbage_covered = 6;
        assert_eq!(fields(&v), ["nv_garbage_covered"]);
        let mut v = visit();
        v.survey_date = "2025-06-02".into();
        assert_eq!(fields(&v), ["survey_date"]);
        let mut v = visit();
        v.surveyor = " ".into();
        assert_eq!(fields(&v), ["surveyor"]);
        let mut v = visit();
        v.surveyor = "x".repeat(101);
        assert_eq!(fields(&v), ["surveyor"]);
        let mut v = visit();
        v.village_code = "43020200120".into();
        assert_eq!(fields(&v), ["village_code"]);
        let mut v = visit();
        v.facilities.push(v.facilities[0].clone());
        v.facilities[1].households_served = 0;
        assert_eq!(fields(&v), ["facility_id"]);
        let mut v = visit();
        v.farms.push(Farm {
            farm_id: "a".into(),
            name: "场".into(),
            species: Species::Other,
            head_on_hand: 1,
            annual_out: 1,
            manure_t: None,
            utilized_pct: 101.0,
            facility_equipped: false,
        });
        assert_eq!(fields(&v), ["utilized_pct", "manure_t"]);
    }

    #[test]
    fn text_rules_are_one_for_every_door() {
        for c in ['\n', '\r', '\t', '\u{1b}', '\u{0}', '\u{7f}', '\u{85}', '\u{2028}', '\u{202E}', '\u{2066}'] {
            assert_eq!(check_line(&format!("陈{c}静"), NAME_MAX_CHARS), Err(Reason::BadChar(c)), "{c:?}");
        }
        for c in ['\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{200E}', '\u{061C}'] {
            assert_eq!(check_notes(&format!("a{c}b")), Err(Reason::BadChar(c)), "{c:?}");
        }
        assert_eq!(check_notes("第一行\r\n第二行\t\"引号\", 逗号 😀"), Ok(()));
        assert_eq!(check_notes("\u{1b}[2J"), Err(Reason::BadChar('\u{1b}')));
        assert_eq!(check_line("=SUM(A1) \"张\" 🐷", NAME_MAX_CHARS), Ok(()));
        assert_eq!(check_id(&"v".repeat(ID_MAX_CHARS)), Ok(()));
        assert_eq!(check_id(&"v".repeat(ID_MAX_CHARS + 1)), Err(Reason::TooLong(ID_MAX_CHARS)));
        assert_eq!(check_id(" "), Err(Reason::Required));
        assert_eq!(check_notes(&"字".repeat(NOTES_MAX_CHARS + 1)), Err(Reason::TooLong(NOTES_MAX_CHARS)));
        let mut v = visit();
        v.notes = "ok\u{202E}".into();
        v.farms.push(Farm {
            farm_id: "a\tb".into(),
            name: "场\n".into(),
            species: Species::Pig,
            head_on_hand: 1,
            annual_out: 1,
            manure_t: None,
            utilized_pct: 1.0,
            facility_equipped: false,
        });
        assert_eq!(fields(&v), ["notes", "farm_id", "name"]);
    }

    #[test]
    fn numbers_are_bounded_and_the_household_sum_cannot_wrap() {
        let mut v = visit();
        (v.households, v.hh_sewer, v.hh_reuse, v.hh_controlled) = (1, i64::MAX, i64::MAX, 0);
        let problems = validate_visit(&v, today(), &ManureCoefficients::default());
        let got: Vec<(&str, Reason)> = problems.into_iter().map(|p| (p.field, p.reason)).collect();
        assert_eq!(
            got,
            [
                ("hh_sewer", Reason::TooLarge(MAX_HOUSEHOLDS as f64)),
                ("hh_reuse", Reason::TooLarge(MAX_HOUSEHOLDS as f64)),
                ("households", Reason::HouseholdsExceeded { sum: i64::MAX, households: 1 }),
            ]
        );
        assert_eq!(check_count(MAX_HOUSEHOLDS, MAX_HOUSEHOLDS), Ok(()));
        assert_eq!(check_count(MAX_HOUSEHOLDS + 1, MAX_HOUSEHOLDS), Err(Reason::TooLarge(1e5)));
        assert_eq!(check_count(-1, MAX_HOUSEHOLDS), Err(Reason::Negative));
        assert_eq!(check_measure(Some(1.7e308), MAX_MANURE_T), Err(Reason::TooLarge(1e7)));
        assert_eq!(check_measure(Some(f64::NAN), MAX_MANURE_T), Err(Reason::NotNumber));
        assert_eq!(check_measure(Some(MAX_MANURE_T), MAX_MANURE_T), Ok(()));
        let mut v = visit();
        v.natural_villages = 1_001;
        v.facilities[0].capacity_m3_d = Some(2e6);
        assert_eq!(fields(&v), ["natural_villages", "capacity_m3_d"]);
    }

    #[test]
    fn cell_parsers() {
        assert_eq!(parse_bool("是"), Ok(Some(true)));
        assert_eq!(parse_bool("FALSE"), Ok(Some(false)));
        assert_eq!(parse_bool(""), Ok(None));
        assert_eq!(parse_bool("y"), Err(Reason::BadBool));
        assert_eq!(parse_int(" 12 "), Ok(Some(12)));
        assert_eq!(parse_int("1.5"), Err(Reason::NotInteger));
        assert_eq!(parse_decimal("NaN"), Err(Reason::NotNumber));
        assert_eq!(parse_date("2024-02-30"), Err(Reason::BadDate));
        assert_eq!(parse_date("2024-2-9"), Ok(Some("2024-02-09".into())));
        for excel in ["2025/3/1", "2025-3-1", "2025/03/01", "2025-03-01", " 2025年3月1日 "] {
            assert_eq!(parse_date(excel), Ok(Some("2025-03-01".into())), "{excel}");
        }
        for bad in ["1/3/2025", "3/1/2025", "2025/3-1", "25/3/1", "2025/13/1", "2025/2/30", "2025/3/1/", "2025年3月"]
        {
            assert_eq!(parse_date(bad), Err(Reason::BadDate), "{bad}");
        }
        assert_eq!(check_code("430202001201"), Ok(()));
        for sci in ["4.30202E+11", "4.30202e11", "4.30202001201E+11", "4E11"] {
            assert_eq!(check_code(sci), Err(Reason::ScientificCode), "{sci}");
        }
        for bad in ["4302020012", "43020200120a", "e11", "4.3E", ""] {
            assert_eq!(check_code(bad), Err(Reason::BadCode), "{bad}");
        }
        assert_eq!(Species::parse("蛋鸡"), Some(Species::Layer));
        assert_eq!(WaterStatus::parse("verified"), Some(WaterStatus::Verified));
    }
}
