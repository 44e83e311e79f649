//! The repository's own copy of the conformance check
//! (`shared/tools/conformance.sh` + `compare_summary.py`): every bundle under
//! `tests/data/` is imported into a fresh database and the summary JSON is
//! compared field by field with each `expected_LEVEL_DATE[_tNN].json` beside
//! it (`_t06` = village threshold 0.6), floats to 1e-9 relative.

use std::path::{Path, PathBuf};

use ruralsan::domain::{Level, Settings};
use ruralsan::report::summary::to_json;
use ruralsan::store::Store;
use serde_json::Value;

/// What an expected file's name asks for.
#[derive(Debug, PartialEq)]
struct Case {
    level: Level,
    as_of: String,
    threshold: Option<f64>,
}

/// `expected_county_2025-12-31.json`, `expected_township_2024-06-30_t06.json`.
fn parse_name(name: &str) -> Option<Case> {
    let stem = name.strip_prefix("expected_")?.strip_suffix(".json")?;
    let mut parts = stem.split('_');
    let level = Level::parse(parts.next()?)?;
    let as_of = parts.next()?.to_string();
    let threshold = match parts.next() {
        None => None,
        Some(t) => {
            let digits = t.strip_prefix('t')?;
            if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(format!("{}.{}", &digits[..1], &digits[1..]).parse().ok()?)
        }
    };
    parts.next().is_none().then_some(Case { level, as_of, threshold })
}

/// compare_summary.py's walk: every expected key present and equal, lists of
/// equal length, numbers where either side is a float equal to 1e-9.
fn walk(e: &Value, a: &Value, path: &str, out: &mut Vec<String>) {
    match (e, a) {
        (Value::Object(eo), Value::Object(ao)) => {
            for (k, ev) in eo {
                match ao.get(k) {
                    None => out.push(format!("{path}.{k}: missing")),
                    Some(av) => walk(ev, av, &format!("{path}.{k}"), out),
                }
            }
        }
        (Value::Object(_), _) => out.push(format!("{path}: expected an object, got {a}")),
        (Value::Array(el), Value::Array(al)) if el.len() == al.len() => {
            for (i, (x, y)) in el.iter().zip(al).enumerate() {
                walk(x, y, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Array(el), _) => out.push(format!("{path}: expected a list of {}, got {a}", el.len())),
        _ if e.is_f64() || a.is_f64() => {
            let ok = match (e.as_f64(), a.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= f64::max(1e-9 * x.abs().max(y.abs()), 1e-9),
                _ => false,
            };
            if !ok {
                out.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        _ if e != a => out.push(format!("{path}: expected {e}, got {a}")),
        _ => {}
    }
}

fn bundles() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.join("visits.csv").exists())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_bundle_matches_its_expected_summaries() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for dir in bundles() {
        let mut expected: Vec<(String, Case)> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if !name.starts_with("expected_") {
                    return None;
                }
                let case = parse_name(&name).unwrap_or_else(|| panic!("{}: unreadable name {name}", dir.display()));
                Some((name, case))
            })
            .collect();
        if expected.is_empty() {
            continue;
        }
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        let mut store = Store::open_in_memory().unwrap();
        store.import_bundle(&dir, false).unwrap_or_else(|e| panic!("{}: import refused: {e:#}", dir.display()));
        for (name, case) in expected {
            let mut settings = Settings::default();
            if let Some(t) = case.threshold {
                settings.village_threshold = t;
            }
            let want: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(&name)).unwrap()).unwrap();
            let got = to_json(&store.summary(&case.as_of, case.level, None, &settings).unwrap());
            let mut out = Vec::new();
            walk(&want, &got, "$", &mut out);
            checked += 1;
            if !out.is_empty() {
                let shown: Vec<&String> = out.iter().take(20).collect();
                failures.push(format!("{}/{name}: {} differences\n  {shown:#?}", dir.display(), out.len()));
            }
        }
    }
    assert!(checked >= 5, "only {checked} expected files found under tests/data");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn expected_file_names() {
    let c = parse_name("expected_township_2024-06-30_t06.json").unwrap();
    assert_eq!(c, Case { level: Level::Township, as_of: "2024-06-30".into(), threshold: Some(0.6) });
    assert_eq!(parse_name("expected_county_2025-12-31.json").unwrap().threshold, None);
    assert_eq!(parse_name("expected_village_2025-01-01_t075.json").unwrap().threshold, Some(0.75));
    assert!(parse_name("expected_county.json").is_none());
    assert!(parse_name("expected_shire_2025-12-31.json").is_none());
}

#[test]
fn comparison_finds_differences() {
    let e: Value = serde_json::json!({"a": [{"rate": 0.25, "n": 3, "name": "合计", "r": null}]});
    let mut out = Vec::new();
    walk(&e, &e.clone(), "$", &mut out);
    assert!(out.is_empty(), "{out:?}");
    let near =
        serde_json::json!({"a": [{"rate": 0.25 * (1.0 + 1e-12), "n": 3, "name": "合计", "r": null, "extra": 1}]});
    walk(&e, &near, "$", &mut out);
    assert!(out.is_empty(), "{out:?}");
    let off = serde_json::json!({"a": [{"rate": 0.2501, "n": 4, "r": 0.1}]});
    walk(&e, &off, "$", &mut out);
    assert_eq!(out.len(), 4, "{out:?}");
    out.clear();
    walk(&e, &serde_json::json!({"a": []}), "$", &mut out);
    assert_eq!(out, ["$.a: expected a list of 1, got []"]);
}
