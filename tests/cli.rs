//! The real binary: settings file and flags, summary formats, report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ruralsan::domain::{Level, Settings};
use ruralsan::report::summary::to_json;
use ruralsan::store::Store;
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

const AS_OF: &str = "2025-12-31";

/// A temporary folder holding a database with the sample bundle and an
/// empty settings path (so the user's own config file is never read).
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let f = Fixture { dir: tempfile::tempdir().unwrap() };
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample");
        let out = f.run(&["import", sample.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        f
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("t.db")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs ruralsan on the fixture's database with no settings file.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(&self.path("no-config.toml"), args)
    }

    fn run_with(&self, config: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ruralsan"))
            .arg("--db")
            .arg(self.db())
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("RURALSAN_DB")
            .output()
            .unwrap()
    }

    fn config(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// Equal JSON, numbers to 1e-12 relative (serde_json's float parsing is not
/// exact to the last bit).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_json(v, w)),
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn bad_config_file_is_refused_with_line_and_key() {
    let f = Fixture::new();
    let cases = [
        ("village_threshold = 0.5\n[targets]\nsewag = 0.5\n", "line 3", "targets.sewag"),
        ("# ours\n[targets]\ngarbage = 1.5\n", "line 3", "targets.garbage"),
        ("\nvillage_threshold = \"half\"\n", "line 2", "village_threshold"),
        (
            "[manure.pig]\ncount = \"annual_out\"\nkg_per_head_day = 2.0\ndays = -1\nscale_count = \"annual_out\"\nscale_min = 500\n",
            "line 4",
            "manure.pig.days",
        ),
        // Issue 12: every setting is bounded; refused by the check, not by SQL.
        (
            "[manure.pig]\ncount = \"annual_out\"\nkg_per_head_day = 2.0\ndays = 1e308\nscale_count = \"annual_out\"\nscale_min = 500\n",
            "line 4",
            "manure.pig.days",
        ),
        (
            "[manure.layer]\ncount = \"head_on_hand\"\nkg_per_head_day = inf\ndays = 365\nscale_count = \"head_on_hand\"\nscale_min = 2000\n",
            "line 3",
            "manure.layer.kg_per_head_day",
        ),
        ("village_threshold = nan\n", "line 1", "village_threshold"),
    ];
    for (k, (text, line, key)) in cases.iter().enumerate() {
        let config = f.config(&format!("bad{k}.toml"), text);
        for command in [&["summary", "--format", "json"][..], &["report", f.path("r.xlsx").to_str().unwrap()][..]] {
            let out = f.run_with(&config, &[&["--lang", "en"][..], command].concat());
            assert_eq!(out.status.code(), Some(1), "{text}");
            let e = stderr(&out);
            assert!(out.stdout.is_empty());
            assert!(e.contains(config.to_str().unwrap()) && e.contains(line) && e.contains(key), "{text}\n{e}");
            assert_eq!(e.trim_end().lines().count(), 1, "one line: {e}");
        }
        assert!(!f.path("r.xlsx").exists());
    }
    // A flag out of range is bad usage (2, SPEC §7), named with the key and
    // the range by the same check as the file's.
    for flags in [&["--village-threshold", "NaN"][..], &["--target", "sewage=1e308"][..]] {
        let out = f.run(&[&["--lang", "en", "summary", "--format", "json"][..], flags].concat());
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let e = stderr(&out);
        assert!(e.contains("must be between 0 and 1") && out.stdout.is_empty(), "{flags:?}: {e}");
    }
    // Chinese messages name the line too.
    let config = f.config("bad-zh.toml", cases[0].0);
    let e = stderr(&f.run_with(&config, &["summary"]));
    assert!(e.contains("第 3 行") && e.contains("targets.sewag"), "{e}");
}

#[test]
fn summary_json_echoes_settings_and_flags_override_the_file() {
    let f = Fixture::new();
    let config = f.config("c.toml", "village_threshold = 0.6\n[targets]\nsewage = 0.3\ngarbage = 0.7\n");
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["summary", "--as-of", AS_OF, "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&stdout(&f.run_with(&config, &all))).unwrap()
    };
    let store = Store::open(&f.db()).unwrap();

    let from_file = json(&[]);
    let file_settings = ruralsan::config::load(Some(&config), ruralsan::strings::Lang::Zh).unwrap();
    assert_eq!(file_settings.village_threshold, 0.6);
    assert!(same_json(&from_file, &to_json(&store.summary(AS_OF, Level::County, None, &file_settings).unwrap())));
    assert_eq!(from_file["settings"]["village_threshold"], 0.6);
    assert_eq!(from_file["settings"]["targets"]["sewage"], 0.3);
    assert_eq!(from_file["settings"]["targets"]["garbage"], 0.7);
    assert_eq!(from_file["settings"]["targets"]["manure"], 0.8);

    let flagged = json(&["--village-threshold", "0.7", "--target", "garbage=0.95", "--target", "manure=0.5"]);
    let mut s = file_settings.clone();
    s.village_threshold = 0.7;
    s.targets.garbage = 0.95;
    s.targets.manure = 0.5;
    assert!(same_json(&flagged, &to_json(&store.summary(AS_OF, Level::County, None, &s).unwrap())));
    assert!(!same_json(&flagged, &from_file));
    assert_eq!(flagged["settings"]["targets"]["sewage"], 0.3, "the file's value stays where no flag overrides it");
    // The threshold really changes the figures (the sample has villages between 0.5 and 0.7).
    let treated = |v: &Value| v["areas"][0]["sewage"]["villages_treated"].as_i64().unwrap();
    let default = json(&["--village-threshold", "0.5"]);
    assert!(treated(&default) > treated(&flagged), "{} vs {}", treated(&default), treated(&flagged));

    // A value out of its range, that does not parse, or an unknown flag:
    // bad usage (2, SPEC §7), checked by the config file's bounds.
    for bad in [&["--village-threshold", "1.2"][..], &["--target", "sewag=0.5"], &["--target", "sewage"]] {
        let out = f.run_with(&config, &[&["summary"][..], bad].concat());
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    assert_eq!(f.run(&["summary", "--levle", "county"]).status.code(), Some(2));
}

#[test]
fn manure_settings_on_the_command_line_change_the_figures_and_are_echoed() {
    let f = Fixture::new();
    let config = f.config("c.toml", "[manure.pig]\ncount = \"annual_out\"\nkg_per_head_day = 2.5\ndays = 180\nscale_count = \"annual_out\"\nscale_min = 500\n");
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["summary", "--as-of", AS_OF, "--format", "json"];
        all.extend_from_slice(args);
        let out = f.run_with(&config, &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let store = Store::open(&f.db()).unwrap();
    let file_settings = ruralsan::config::load(Some(&config), ruralsan::strings::Lang::Zh).unwrap();
    let echoed = |v: &Value| -> ruralsan::domain::settings::ManureCoefficients {
        serde_json::from_value(v["settings"]["manure"].clone()).unwrap()
    };

    // The file's coefficients are echoed as the file writes them.
    let from_file = json(&[]);
    assert_eq!(echoed(&from_file), file_settings.manure);
    assert_eq!(from_file["settings"]["black_odor_criteria"]["nh3n_mg_l_above"], 15.0);

    let flags = [
        "--coefficient",
        "pig=3",
        "--coefficient",
        "肉牛=12.5",
        "--manure-days",
        "broiler=60",
        "--scale-threshold",
        "pig=100",
        "--scale-threshold",
        "layer=500",
        "--set",
        "manure.beef_cattle.scale_count=head_on_hand",
    ];
    let flagged = json(&flags);
    let mut s = file_settings.clone();
    s.manure.pig.kg_per_head_day = 3.0;
    s.manure.beef_cattle.kg_per_head_day = 12.5;
    s.manure.broiler.days = 60.0;
    s.manure.pig.scale_min = 100;
    s.manure.layer.scale_min = 500;
    s.manure.beef_cattle.scale_count = ruralsan::domain::settings::CountBasis::HeadOnHand;
    assert_eq!(echoed(&flagged), s.manure, "every setting used is in the output");
    assert!(same_json(&flagged, &to_json(&store.summary(AS_OF, Level::County, None, &s).unwrap())));
    let total = |v: &Value, k: &str| v["areas"][0]["manure"][k].clone();
    assert_ne!(total(&flagged, "produced_t"), total(&from_file, "produced_t"));
    assert!(total(&flagged, "scale_farms").as_i64() > total(&from_file, "scale_farms").as_i64());
    // The output alone reproduces the figure: its settings as a settings file.
    let reproduced = Settings {
        village_threshold: flagged["settings"]["village_threshold"].as_f64().unwrap(),
        manure: echoed(&flagged),
        ..Settings::default()
    };
    let again = f.config("again.toml", &toml::to_string(&reproduced).unwrap());
    let out = f.run_with(&again, &["summary", "--as-of", AS_OF, "--format", "json"]);
    assert!(same_json(&serde_json::from_str(&stdout(&out)).unwrap(), &flagged));

    // Bad values: bad usage (2), by the same bounds as the settings file.
    for bad in [
        &["--coefficient", "pig=-1"][..],
        &["--coefficient", "pig=abc"],
        &["--coefficient", "pig=1e300"],
        &["--coefficient", "other=1"],
        &["--coefficient", "cow=1"],
        &["--coefficient", "pig"],
        &["--manure-days", "pig=400"],
        &["--scale-threshold", "pig=1.5"],
        &["--scale-threshold", "pig=99999999999"],
        &["--set", "manure.pig.count=tail"],
        &["--set", "manure.pig=1"],
        &["--set", "nosuch=1"],
        &["--set", "targets.sewage=2"],
    ] {
        let out = f.run_with(&config, &[&["summary"][..], bad].concat());
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
}

#[test]
fn csv_has_one_row_per_area_plus_total() {
    let f = Fixture::new();
    let store = Store::open(&f.db()).unwrap();
    for level in ["county", "township", "village"] {
        let out = stdout(&f.run(&["summary", "--as-of", AS_OF, "--level", level, "--format", "csv"]));
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let header = r.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        let s = store.summary(AS_OF, Level::parse(level).unwrap(), None, &Settings::default()).unwrap();
        assert_eq!(rows.len(), s.areas.len() + 1, "{level}");
        assert!(rows.iter().all(|row| row.len() == header.len()));
        assert_eq!(&rows[0][1], "", "the total row comes first");
        let codes: Vec<&str> = rows[1..].iter().map(|row| &row[1]).collect();
        let want: Vec<&str> = s.areas.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, want);
        let villages = header.iter().position(|h| h == "行政村数").unwrap();
        let sum: i64 = rows[1..].iter().map(|row| row[villages].parse::<i64>().unwrap()).sum();
        assert_eq!(rows[0][villages].parse::<i64>().unwrap(), sum);
    }
}

/// The table lines below the title: header, target row, rule, total, areas.
fn table_lines(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

fn is_cjk(c: char) -> bool {
    ('\u{3400}'..='\u{9FFF}').contains(&c) || ('\u{FF00}'..='\u{FFEF}').contains(&c)
}

#[test]
fn table_aligns_by_display_width() {
    let f = Fixture::new();
    for level in ["county", "township"] {
        for lang in ["zh", "en"] {
            let out = stdout(&f.run(&["--lang", lang, "summary", "--as-of", AS_OF, "--level", level]));
            let lines = table_lines(&out);
            assert!(lines.len() > 4);
            // Every line but the target row (whose last column is empty) ends
            // with the right-aligned duplicates column: all equally wide.
            let widths: Vec<usize> =
                lines.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l.width()).collect();
            assert!(widths.iter().all(|w| *w == widths[0]), "{lang} {level}: widths {widths:?}\n{out}");
            assert!(lines[1].width() <= widths[0]);
            // Columns line up: each "%" of the total row and every area row
            // stands at the same display column as in the first area row.
            let percent_columns = |l: &str| -> Vec<usize> {
                let mut col = 0;
                let mut at = Vec::new();
                for c in l.chars() {
                    if c == '%' || c == '—' {
                        at.push(col);
                    }
                    col += c.to_string().width();
                }
                at
            };
            let first = percent_columns(lines[3]);
            assert_eq!(first.len(), 5, "{}", lines[3]);
            for l in &lines[3..] {
                assert_eq!(percent_columns(l), first, "{lang} {level}:\n{l}\n{}", lines[3]);
            }
        }
    }
}

#[test]
fn table_is_english_with_lang_en() {
    let f = Fixture::new();
    let en = stdout(&f.run(&["--lang", "en", "summary", "--as-of", AS_OF]));
    let zh = stdout(&f.run(&["summary", "--as-of", AS_OF]));
    let lines = table_lines(&en);
    // Title, header, target row and total row: no Chinese (area names come from the roster).
    for l in [en.lines().next().unwrap(), lines[0], lines[1], lines[3]] {
        assert!(!l.chars().any(is_cjk), "{l}");
    }
    assert!(en.starts_with("As of 2025-12-31"));
    assert!(lines[0].contains("Sewage") && lines[1].contains("Target") && lines[3].contains("Total"));
    assert!(zh.starts_with("截至 2025-12-31"));
    assert!(table_lines(&zh)[0].contains("污水治理率"));
    // Same figures in both.
    let figures = |t: &str| -> Vec<String> {
        t.lines().skip(4).map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" ")).collect()
    };
    assert_eq!(figures(&en), figures(&zh));
}

#[test]
fn report_command_writes_the_workbook() {
    let f = Fixture::new();
    let file = f.path("out/report.xlsx");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let out = f.run(&["--lang", "en", "report", file.to_str().unwrap(), "--as-of", AS_OF, "--target", "sewage=0.2"]);
    let text = stdout(&out);
    assert!(text.contains("9 counties"), "{text}");
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(&file).unwrap();
    assert_eq!(wb.sheet_names(), ["county", "township", "village", "Checks"]);
    // The open checks, one a row under the header (the sample trips some).
    let checks = wb.worksheet_range("Checks").unwrap();
    assert_eq!(checks.get_value((1, 3)).map(|d| d.to_string()).as_deref(), Some("rule"));
    assert!(checks.height() > 10, "{}", checks.height());
    let county = wb.worksheet_range("county").unwrap();
    // The target row under the header carries the flag's target.
    let row: Vec<String> =
        (0..40).map(|c| county.get_value((2, c)).map(|d| d.to_string()).unwrap_or_default()).collect();
    assert!(row.contains(&"0.2".to_string()), "{row:?}");
    assert_eq!(f.run(&["report", file.to_str().unwrap(), "--as-of", "31/12/2025"]).status.code(), Some(2));
}

// ---------------------------------------------------------------------------
// Output cannot attack the reader; Excel's files are read (issue 12, classes 4 and 8).

/// Whether `s` holds anything a terminal would act on (ESC, BEL, C1, bidi).
fn acts_on_terminal(s: &str) -> bool {
    s.chars().any(|c| c != '\n' && ruralsan::text::is_unsafe(c))
}

const HOSTILE: &str = "x\x1b]0;pwned\x07\x1b[2J\u{9b}1m\u{202e}";

#[test]
fn names_from_files_never_reach_the_terminal_raw() {
    let f = Fixture { dir: tempfile::tempdir().unwrap() };
    // A roster file whose name carries escape sequences: the summary line names it.
    let roster = f.path(&format!("roster{HOSTILE}.csv"));
    std::fs::write(&roster, "code,name\n430202001201,仙庾村\n").unwrap();
    let out = f.run(&["--lang", "en", "roster", "import", roster.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.contains("pwned") && text.contains("UTF-8") && !acts_on_terminal(&text), "{text:?}");
    // A folder that is not one, named like that: the error names it safely.
    let out = f.run(&["--lang", "en", "import", f.path(&format!("no{HOSTILE}\nforged line")).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("pwned") && !acts_on_terminal(&e), "{e:?}");
    assert_eq!(e.trim_end().lines().count(), 1, "a name cannot forge a line: {e:?}");
    // A column header from a file: quoted in the refusal, safely.
    let bundle = f.path("b");
    std::fs::create_dir(&bundle).unwrap();
    std::fs::write(bundle.join("visits.csv"), format!("visit_id,{HOSTILE}\n")).unwrap();
    let out = f.run(&["--lang", "en", "import", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("visits.csv:1: x") && e.contains("is not a known column") && !acts_on_terminal(&e), "{e:?}");
}

#[test]
fn excel_files_import_with_their_encoding_named_and_clear_refusals() {
    let f = Fixture { dir: tempfile::tempdir().unwrap() };
    let bundle = f.path("gbk");
    std::fs::create_dir(&bundle).unwrap();
    let gbk = |t: &str| encoding_rs::GB18030.encode(t).0.into_owned();
    std::fs::write(bundle.join("villages.csv"), gbk("code,name\n430202001201,仙庾村\n")).unwrap();
    let visits = "visit_id,village_code,survey_date,surveyor,households,hh_sewer,hh_reuse,hh_controlled,natural_villages,nv_garbage_covered,notes\n";
    std::fs::write(bundle.join("visits.csv"), gbk(&format!("{visits}v1,430202001201,2025/3/1,陈静,10,1,1,1,2,1,\n")))
        .unwrap();
    let text = stdout(&f.run(&["--lang", "en", "import", bundle.to_str().unwrap()]));
    assert!(text.contains("villages.csv (GB18030)") && text.contains("visits.csv GB18030"), "{text}");
    // What Excel's General format makes of a code, and a quote never closed: each named, with what to do.
    std::fs::write(bundle.join("visits.csv"), format!("{visits}v2,4.30202E+11,2025/3/1,陈静,10,1,1,1,2,1,\n")).unwrap();
    let e = stderr(&f.run(&["--lang", "en", "import", bundle.to_str().unwrap()]));
    assert!(
        e.contains("visits.csv:2: village_code:") && e.contains("scientific notation") && e.contains("Text"),
        "{e}"
    );
    let e = stderr(&f.run(&["import", bundle.to_str().unwrap()]));
    assert!(e.contains("科学计数法") && e.contains("文本"), "{e}");
    std::fs::write(bundle.join("visits.csv"), format!("{visits}v2,430202001201,2025/3/1,\"陈静,10,1,1,1,2,1,\n"))
        .unwrap();
    let e = stderr(&f.run(&["--lang", "en", "import", bundle.to_str().unwrap()]));
    assert!(e.contains("visits.csv:2: -: a quote opened on this line is never closed"), "{e}");
    let db_before = std::fs::read(f.db()).unwrap();
    let e = stderr(&f.run(&["--lang", "en", "roster", "import", "/dev/zero"]));
    assert!(e.contains("/dev/zero: is not a regular file"), "{e}");
    assert_eq!(std::fs::read(f.db()).unwrap(), db_before, "refusals write nothing");
}

#[test]
fn checks_review_and_approved_only_from_the_command_line() {
    let f = Fixture::new();
    let out = f.run(&["checks", "--as-of", AS_OF, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    for c in list {
        for key in ["visit_id", "village_code", "rule", "message"] {
            assert!(c.get(key).is_some(), "{key}: {c}");
        }
    }
    let visit = list.iter().find_map(|c| c["visit_id"].as_str()).unwrap().to_string();
    let out = f.run(&["--lang", "en", "review", &visit, "approve", "--note", "seen on site"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("reviewed as approved"), "{}", stdout(&out));
    let out = f.run(&["--lang", "en", "review", "no-such-visit", "reject"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no visit no-such-visit"));
    assert_eq!(f.run(&["review", &visit, "maybe"]).status.code(), Some(2));
    let out = f.run(&["summary", "--as-of", AS_OF, "--format", "json", "--approved-only"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["approved_only"], true);
    let total = &s["areas"][0];
    assert_eq!((total["surveyed"].as_i64(), total["review"]["approved"].as_i64()), (Some(1), Some(1)));
    let out = f.run(&["summary", "--as-of", AS_OF, "--format", "json"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["areas"][0]["review"]["approved"], 1);
    assert!(s["areas"][0]["review"]["flagged"].is_null(), "the checks run only when asked");
    let out = f.run(&["summary", "--as-of", AS_OF, "--format", "json", "--flagged"]);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["areas"][0]["review"]["flagged"].as_i64().unwrap() > 0);
}
