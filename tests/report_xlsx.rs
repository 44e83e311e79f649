//! The workbook read back with calamine: every figure of every county,
//! township and village equals what `Store::summary` / `village_status` say,
//! under the headers of `report::summary`.

use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use ruralsan::domain::indicators::{Figures, Indicator};
use ruralsan::domain::{Level, Settings};
use ruralsan::report::summary::{self as sm, COLUMNS, Figure, labels};
use ruralsan::report::xlsx::write_report;
use ruralsan::store::Store;
use ruralsan::store::summary::Summary;
use ruralsan::strings::Lang;

const AS_OF: &str = "2025-12-31";

fn sample_store(dir: &Path) -> Store {
    let mut store = Store::open(&dir.join("t.db")).unwrap();
    store.import_bundle(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sample")), false).unwrap();
    store
}

fn sheet(path: &Path, name: &str) -> Range<Data> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}"))
}

fn cell(r: &Range<Data>, row: usize, col: usize) -> Data {
    r.get_value((row as u32, col as u32)).cloned().unwrap_or(Data::Empty)
}

/// The header row (the one naming the code column) and each header's column.
fn headers(r: &Range<Data>, lang: Lang) -> (usize, Vec<String>) {
    let code = labels::CODE.get(lang);
    for row in 0..r.end().unwrap().0 as usize {
        let cells: Vec<String> = (0..=r.end().unwrap().1 as usize).map(|c| cell(r, row, c).to_string()).collect();
        if cells.iter().any(|c| c == code) {
            return (row, cells);
        }
    }
    panic!("no header row")
}

fn col(headers: &[String], name: &str) -> usize {
    headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name:?} in {headers:?}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks one figure cell against the figure.
fn check_figure(got: &Data, want: Figure, what: &str) {
    let ok = match (want, got) {
        (Figure::Count(n), Data::Float(x)) => *x == n as f64,
        (Figure::Count(n), Data::Int(x)) => *x == n,
        (Figure::Tonnes(t), Data::Float(x)) => close(*x, t),
        (Figure::Rate(Some(r)), Data::Float(x)) => close(*x, r),
        (Figure::Rate(None), Data::String(s)) => s == "—",
        _ => false,
    };
    assert!(ok, "{what}: sheet has {got:?}, summary says {want:?}");
}

/// The summary as the workbook computes it: with the flagged counting visits.
fn as_workbook(store: &Store, as_of: &str, level: Level, within: Option<&str>, settings: &Settings) -> Summary {
    let counting = ruralsan::store::summary::Counting { flagged: true, ..Default::default() };
    store.summary_counting(as_of, level, within, settings, counting).unwrap()
}

/// Every area row of an area sheet equals the summary, figure by figure,
/// including the total and the "met" marks; the target row shows the targets.
fn check_area_sheet(path: &Path, s: &Summary, lang: Lang) {
    let r = sheet(path, sm::level_name(s.level.code(), lang));
    let (h, head) = headers(&r, lang);
    let (code_col, name_col) = (col(&head, labels::CODE.get(lang)), col(&head, labels::NAME.get(lang)));
    let target_row = h + 1;
    assert_eq!(cell(&r, target_row, name_col).to_string(), labels::TARGET.get(lang));
    for c in COLUMNS.iter() {
        let got = cell(&r, target_row, col(&head, c.label.get(lang)));
        match c.indicator {
            Some(i) => assert_eq!(got, Data::Float(i.target(&s.settings.targets)), "target of {}", c.label.en),
            None => assert_eq!(got, Data::Empty),
        }
    }
    let mut expected: Vec<(String, String, &Figures)> = vec![(String::new(), labels::TOTAL.get(lang).into(), &s.total)];
    expected.extend(s.areas.iter().map(|a| (a.code.clone(), a.name.clone(), &a.figures)));
    let data_rows = r.end().unwrap().0 as usize - target_row;
    assert_eq!(data_rows, expected.len(), "rows of the {} sheet", s.level.code());
    for (k, (code, name, f)) in expected.iter().enumerate() {
        let row = target_row + 1 + k;
        assert_eq!(cell(&r, row, code_col).to_string(), *code);
        assert_eq!(cell(&r, row, name_col).to_string(), *name);
        for c in COLUMNS.iter() {
            check_figure(
                &cell(&r, row, col(&head, c.label.get(lang))),
                (c.value)(f),
                &format!("{code} {}", c.label.en),
            );
        }
        for i in Indicator::ALL {
            let got = cell(&r, row, col(&head, &sm::met_header(i, lang))).to_string();
            assert_eq!(got, sm::met_text(sm::met(f, i, &s.settings), lang), "{code} met {i:?}");
        }
    }
}

fn check_village_sheet(path: &Path, store: &Store, settings: &Settings, lang: Lang) {
    let villages = store.village_status(AS_OF, None, settings).unwrap();
    let county = as_workbook(store, AS_OF, Level::County, None, settings);
    let r = sheet(path, sm::level_name("village", lang));
    let (h, head) = headers(&r, lang);
    assert_eq!(r.end().unwrap().0 as usize - h, villages.len());
    let county_col = col(&head, sm::level_name("county", lang));
    let status_col = col(&head, labels::STATUS.get(lang));
    let date_col = col(&head, labels::COUNTING_DATE.get(lang));
    let treated_col = col(&head, labels::TREATED.get(lang));
    let yes_no = |b: i64| if b > 0 { labels::YES.get(lang) } else { labels::NO.get(lang) };
    let mut surveyed = 0;
    for (k, v) in villages.iter().enumerate() {
        let row = h + 1 + k;
        let f = &v.row.figures;
        assert_eq!(cell(&r, row, col(&head, labels::CODE.get(lang))).to_string(), v.row.code);
        let county_name = &county.areas.iter().find(|a| v.row.code.starts_with(&a.code)).unwrap().name;
        assert_eq!(cell(&r, row, county_col).to_string(), *county_name);
        match &v.counting_date {
            None => {
                assert_eq!(f.surveyed, 0);
                assert_eq!(cell(&r, row, status_col).to_string(), labels::UNSURVEYED.get(lang));
                assert_eq!(cell(&r, row, date_col), Data::Empty);
            }
            Some(d) => {
                surveyed += 1;
                assert_eq!(f.surveyed, 1);
                assert!(d.as_str() <= AS_OF);
                assert_eq!(cell(&r, row, status_col).to_string(), labels::SURVEYED.get(lang));
                assert_eq!(cell(&r, row, date_col).to_string(), *d);
                assert_eq!(cell(&r, row, treated_col).to_string(), yes_no(f.villages_treated));
                for c in COLUMNS.iter().filter(|c| c.per_village) {
                    let what = format!("{} {}", v.row.code, c.label.en);
                    check_figure(&cell(&r, row, col(&head, c.label.get(lang))), (c.value)(f), &what);
                }
            }
        }
    }
    assert_eq!(surveyed, county.total.surveyed);
    // The sheet's "treated" marks add up to the county total.
    let treated =
        (0..villages.len()).filter(|k| cell(&r, h + 1 + k, treated_col) == Data::String(labels::YES.get(lang).into()));
    assert_eq!(treated.count() as i64, county.total.villages_treated);
}

#[test]
fn workbook_equals_summary() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let mut settings = Settings { village_threshold: 0.6, ..Default::default() };
    settings.targets.sewage = 0.25;
    for lang in [Lang::Zh, Lang::En] {
        let path = dir.path().join(format!("report-{lang:?}.xlsx"));
        let counts = write_report(&store, &path, AS_OF, &settings, lang).unwrap();
        for level in [Level::County, Level::Township] {
            let s = as_workbook(&store, AS_OF, level, None, &settings);
            assert!(!s.areas.is_empty());
            check_area_sheet(&path, &s, lang);
        }
        check_village_sheet(&path, &store, &settings, lang);
        assert_eq!(
            counts.villages as i64,
            store.summary(AS_OF, Level::County, None, &settings).unwrap().total.villages
        );
    }
}

#[test]
fn headers_are_english_with_lang_en() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let path = dir.path().join("en.xlsx");
    write_report(&store, &path, AS_OF, &Settings::default(), Lang::En).unwrap();
    let wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["county", "township", "village", "Checks"]);
    let r = sheet(&path, "county");
    let (_, head) = headers(&r, Lang::En);
    assert!(head.iter().all(|h| h.is_ascii()), "{head:?}");
    assert!(head.contains(&"sewage rate".to_string()));
    assert!(head.contains(&"approved share".to_string()) && head.contains(&"flagged".to_string()), "{head:?}");
    // A row per open check under the title and the header.
    let checks = store.checks(AS_OF, &Settings::default()).unwrap();
    assert!(!checks.is_empty());
    assert_eq!(sheet(&path, "Checks").height(), checks.len() + 2);
    // A flagged visit approved by a reviewer: its checks are settled, not open.
    let mut store = store;
    let visit = checks.iter().find_map(|c| c.visit_id.clone()).unwrap();
    let settled = checks.iter().filter(|c| c.visit_id.as_deref() == Some(visit.as_str())).count();
    store.review(&visit, ruralsan::domain::review::ReviewState::Approved, "").unwrap();
    write_report(&store, &path, AS_OF, &Settings::default(), Lang::En).unwrap();
    let r = sheet(&path, "Checks");
    assert_eq!(r.height(), checks.len() - settled + 2);
    assert!(!r.rows().any(|row| row.iter().any(|d| d.to_string() == visit)), "{visit} is not listed");
}

#[test]
fn replaces_the_file_whole_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let path = dir.path().join("r.xlsx");
    std::fs::write(&path, b"an older report").unwrap();
    write_report(&store, &path, "2024-06-30", &Settings::default(), Lang::Zh).unwrap();
    let before = as_workbook(&store, "2024-06-30", Level::County, None, &Settings::default());
    check_area_sheet(&path, &before, Lang::Zh);
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    // A folder that does not exist: refused, nothing left behind.
    assert!(write_report(&store, &dir.path().join("no/such/r.xlsx"), AS_OF, &Settings::default(), Lang::Zh).is_err());
}

/// Issue 12, class 4: a name that looks like a formula is text in the
/// workbook (never a formula), and marked as text in the summary CSV.
#[test]
fn names_like_formulas_are_text_in_the_workbook_and_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let roster = dir.path().join("r.csv");
    std::fs::write(
        &roster,
        "code,name,county_name,township_name\n430202001201,=HYPERLINK(\"http://x\")村,=1+1,@SUM(A1)\n",
    )
    .unwrap();
    store.import_roster(&roster).unwrap();
    let path = dir.path().join("r.xlsx");
    write_report(&store, &path, AS_OF, &Settings::default(), Lang::En).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let mut texts = Vec::new();
    for name in wb.sheet_names() {
        let formulas = wb.worksheet_formula(&name).unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "{name}: a formula");
        texts.extend(wb.worksheet_range(&name).unwrap().used_cells().map(|(_, _, d)| d.to_string()));
    }
    for name in ["=HYPERLINK(\"http://x\")村", "=1+1", "@SUM(A1)"] {
        assert!(texts.iter().any(|t| t == name), "{name} not a text cell in {texts:?}");
    }
    let s = as_workbook(&store, AS_OF, Level::County, None, &Settings::default());
    let csv_text = sm::to_csv(&s, Lang::En).unwrap();
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let names: Vec<String> = r.records().map(|rec| rec.unwrap()[2].to_string()).collect();
    assert!(names.contains(&"'=1+1".to_string()), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with(['=', '+', '-', '@'])), "{names:?}");
}
