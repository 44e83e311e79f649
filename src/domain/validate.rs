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

/// Longest surveyor name, in characters.
pub const SURVEYOR_MAX_CHARS: usize = 100;
/// Longest free text (notes, names, ids), in characters: a bound for files from elsewhere.
pub const TEXT_MAX_CHARS: usize = 10_000;

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

/// Every rule a visit breaks, in form order. `today` bounds the survey date.
pub fn validate_visit(v: &VisitData, today: NaiveDate, coefficients: &ManureCoefficients) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut at = |place: Place, field: &'static str, reason: Reason| out.push(Problem { place, field, reason });
    let text = |at: &mut dyn FnMut(Place, &'static str, Reason), place, field, s: &str, required: bool| {
        let n = s.chars().count();
        if required && s.trim().is_empty() {
            at(place, field, Reason::Required);
        } else if n > TEXT_MAX_CHARS {
            at(place, field, Reason::TooLong(TEXT_MAX_CHARS));
        }
    };
    let count = |at: &mut dyn FnMut(Place, &'static str, Reason), place, field, n: i64| {
        if n < 0 {
            at(place, field, Reason::Negative);
        }
    };
    let decimal = |at: &mut dyn FnMut(Place, &'static str, Reason), place, field, x: Option<f64>| match x {
        Some(x) if !x.is_finite() => at(place, field, Reason::NotNumber),
        Some(x) if x < 0.0 => at(place, field, Reason::Negative),
        _ => {}
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
    if v.surveyor.trim().is_empty() {
        at(p, "surveyor", Reason::Required);
    } else if v.surveyor.chars().count() > SURVEYOR_MAX_CHARS {
        at(p, "surveyor", Reason::TooLong(SURVEYOR_MAX_CHARS));
    }
    for (field, n) in [
        ("households", v.households),
        ("hh_sewer", v.hh_sewer),
        ("hh_reuse", v.hh_reuse),
        ("hh_controlled", v.hh_controlled),
        ("natural_villages", v.natural_villages),
        ("nv_garbage_covered", v.nv_garbage_covered),
    ] {
        count(&mut at, p, field, n);
    }
    text(&mut at, p, "notes", &v.notes, false);

    let served: i64 = v.facilities.iter().map(|f| f.households_served.max(0)).sum();
    let sum = v.hh_sewer.max(0) + v.hh_reuse.max(0) + v.hh_controlled.max(0) + served;
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
        text(&mut at, p, "facility_id", &f.facility_id, true);
        if !ids.insert(f.facility_id.as_str()) {
            at(p, "facility_id", Reason::DuplicateId);
        }
        count(&mut at, p, "households_served", f.households_served);
        decimal(&mut at, p, "capacity_m3_d", f.capacity_m3_d);
    }
    let mut ids = HashSet::new();
    for (i, f) in v.farms.iter().enumerate() {
        let p = Place::Farm(i);
        text(&mut at, p, "farm_id", &f.farm_id, true);
        if !ids.insert(f.farm_id.as_str()) {
            at(p, "farm_id", Reason::DuplicateId);
        }
        text(&mut at, p, "name", &f.name, false);
        count(&mut at, p, "head_on_hand", f.head_on_hand);
        count(&mut at, p, "annual_out", f.annual_out);
        decimal(&mut at, p, "manure_t", f.manure_t);
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
        text(&mut at, p, "water_id", &w.water_id, true);
        if !ids.insert(w.water_id.as_str()) {
            at(p, "water_id", Reason::DuplicateId);
        }
        text(&mut at, p, "name", &w.name, false);
        for (field, x) in [
            ("area_m2", w.area_m2),
            ("length_m", w.length_m),
            ("depth_cm", w.depth_cm),
            ("transparency_cm", w.transparency_cm),
            ("do_mg_l", w.do_mg_l),
            ("nh3n_mg_l", w.nh3n_mg_l),
        ] {
            decimal(&mut at, p, field, x);
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
