//! Argument parsing and wiring (SPEC §7).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::domain::{Level, settings::Settings};
use crate::report;
use crate::store::Store;
use crate::strings::{self, Lang, pick};
use crate::text::{safe, safe_path};

/// `println!` for people: through the one sanitizer, so that text from data
/// (names, file names) never reaches the terminal raw.
macro_rules! say {
    ($($t:tt)*) => { println!("{}", safe(&format!($($t)*))) };
}

/// CSV for the terminal or a pipe: safe, but its leading BOM (which tells
/// spreadsheet programs the file is UTF-8) kept.
fn safe_csv(csv: &str) -> String {
    match csv.strip_prefix('\u{feff}') {
        Some(body) => format!("\u{feff}{}", safe(body)),
        None => safe(csv).into_owned(),
    }
}

#[derive(Parser, Debug)]
#[command(name = "ruralsan", version, about = "农村人居环境整治调查 / rural sanitation field surveys")]
pub struct Cli {
    /// Database file (else $RURALSAN_DB, else ruralsan.db in the platform data folder)
    #[arg(long, global = true, env = "RURALSAN_DB")]
    pub db: Option<PathBuf>,
    /// Language of the interface and messages
    #[arg(long, global = true, value_enum, default_value = "zh")]
    pub lang: LangArg,
    /// Settings file (else config.toml in the platform config folder)
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Who is typing, recorded as the editor of each revision made (else
    /// $RURALSAN_EDITOR, else the computer's user name, else the crew name)
    #[arg(long, global = true)]
    pub editor: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
}

impl LangArg {
    fn lang(self) -> Lang {
        match self {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DecisionArg {
    Approve,
    Issues,
    Reject,
}

impl From<DecisionArg> for crate::domain::review::ReviewState {
    fn from(d: DecisionArg) -> Self {
        use crate::domain::review::ReviewState;
        match d {
            DecisionArg::Approve => ReviewState::Approved,
            DecisionArg::Issues => ReviewState::Issues,
            DecisionArg::Reject => ReviewState::Rejected,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LevelArg {
    Province,
    City,
    County,
    Township,
    Village,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Province => Level::Province,
            LevelArg::City => Level::City,
            LevelArg::County => Level::County,
            LevelArg::Township => Level::Township,
            LevelArg::Village => Level::Village,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the terminal UI on a demo database (Zhuzhou roster, generated visits)
    Demo,
    /// Roster commands
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// Import a CSV bundle (all or nothing)
    Import {
        dir: PathBuf,
        /// Only check and report; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Export the current state as a CSV bundle
    Export { dir: PathBuf },
    /// Print the indicators
    Summary {
        /// Date the indicators are computed as of (YYYY-MM-DD; default today)
        #[arg(long, value_parser = date_arg)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "county")]
        level: LevelArg,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        #[command(flatten)]
        figures: FigureArgs,
        /// Count only approved visits (the counting visit is the latest approved one on or before the date)
        #[arg(long)]
        approved_only: bool,
        /// Also run the checks and count the flagged counting visits per area
        /// (slower on a large database: the checks look across every visit)
        #[arg(long)]
        flagged: bool,
    },
    /// Write the summary workbook (county and township sheets, every village's status)
    Report {
        /// The .xlsx file to write (replaced whole, never left half-written)
        file: PathBuf,
        /// Date the indicators are computed as of (YYYY-MM-DD; default today)
        #[arg(long, value_parser = date_arg)]
        as_of: Option<String>,
        #[command(flatten)]
        figures: FigureArgs,
        /// Count only approved visits (the counting visit is the latest approved one on or before the date)
        #[arg(long)]
        approved_only: bool,
    },
    /// Generate a deterministic survey bundle over a roster (for demos and benchmarks)
    Generate {
        #[arg(long)]
        roster: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of the roster's villages that get visits
        #[arg(long, default_value_t = 1.0)]
        fraction: f64,
        out_dir: PathBuf,
    },
    /// Write a consistent, self-contained copy of the database (for the USB stick)
    Snapshot { file: PathBuf },
    /// Merge other ruralsan databases into this one (each file all or nothing)
    Merge {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only check and report; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Enrol every unknown signer of the files (their names and
        /// fingerprints are printed; check them with the crews first)
        #[arg(long)]
        enrol_new: bool,
        /// Accept unsigned revisions made before this version (the
        /// changeover only: they are taken on your word)
        #[arg(long)]
        adopt_legacy: bool,
        /// Backups kept: the newest N (else `[backups] last` in the config file, else 10)
        #[arg(long, value_name = "N")]
        keep_backups: Option<u32>,
        /// … and the newest of each of the last M months (else `[backups] months`, else 12)
        #[arg(long, value_name = "M")]
        keep_months: Option<u32>,
    },
    /// This installation's identity: crew name, device id (key), fingerprint
    Identity {
        /// Set the crew name (once, e.g. "攸县 3 组")
        #[arg(long)]
        name: Option<String>,
        /// Write this installation's crew card (name and public key) for the county to enrol
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
    },
    /// The crews (keys) this database trusts; enrol or revoke one
    Crews {
        #[command(subcommand)]
        command: Option<CrewsCommand>,
    },
    /// After fixing a wrong clock: give this installation's revisions stamped
    /// more than a day ahead a stamp from the corrected clock, signed again
    Restamp,
    /// List open conflicts between crews' edits
    Conflicts {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Data-quality checks across visits and surveyors (疑点)
    Checks {
        /// Only visits dated on or before this date (YYYY-MM-DD; default today)
        #[arg(long, value_parser = date_arg)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Record a review of a visit's current revision
    Review {
        visit_id: String,
        #[arg(value_enum)]
        decision: DecisionArg,
        /// What the crew should look at (shown to them as "returned: …")
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Settle the conflict of one visit: a whole side (--take) and/or field by field (--field)
    #[command(group = clap::ArgGroup::new("choice").required(true).multiple(true).args(["take", "fields"]))]
    Resolve {
        visit_id: String,
        /// Take this revision whole (a revision id or a unique prefix, as listed by `conflicts`)
        #[arg(long, value_name = "REV")]
        take: Option<String>,
        /// Take one field from one revision, e.g. --field households=3f2a or --field 'farms[F1].name=3f2a'
        #[arg(long = "field", value_name = "FIELD=REV")]
        fields: Vec<String>,
        /// Who resolves (default: the user of this installation, $USER or $USERNAME)
        #[arg(long)]
        author: Option<String>,
    },
    /// For the crash test: saves random visits one transaction each and
    /// prints `saved VISIT_ID REV_ID` after each commit.
    #[command(hide = true)]
    SaveLoop {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 1000)]
        count: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum CrewsCommand {
    /// Enrol a crew from the card file it exported (`ruralsan identity --export`)
    Enrol { file: PathBuf },
    /// Revoke a crew: its future revisions are refused, those merged stay
    Revoke { fingerprint: String },
}

#[derive(Subcommand, Debug)]
pub enum RosterCommand {
    /// Load or update roster units (same code = update)
    Import { file: PathBuf },
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let l = cli.lang.lang();
    match run(cli, l) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let e = strings::errors::render(&e, l);
            eprintln!("ruralsan: {}", safe(e.trim_end()));
            ExitCode::FAILURE
        }
    }
}

fn today() -> String {
    chrono::Local::now().date_naive().format("%Y-%m-%d").to_string()
}

fn open(cli: &Cli) -> Result<Store> {
    let path = cli.db.clone().unwrap_or_else(crate::config::default_db);
    let mut store = Store::open(&path)?;
    if let Some(e) = &cli.editor {
        store.set_editor(e);
    }
    if cli.command.is_some() {
        // Commands show long work on a terminal; the terminal UI shows its own.
        store.set_progress(crate::progress::for_stderr(cli.lang.lang()));
    }
    Ok(store)
}

/// `--as-of`: a date of the form YYYY-MM-DD, else bad usage (exit 2, SPEC §7).
fn date_arg(d: &str) -> std::result::Result<String, String> {
    match crate::domain::validate::parse_date(d) {
        Ok(Some(d)) => Ok(d),
        _ => Err("not a date of the form YYYY-MM-DD (日期格式应为 YYYY-MM-DD)".to_string()),
    }
}

/// Every setting that changes a figure (SPEC §4), on the command line as
/// well as in the settings file; the flags override the file. Each value is
/// checked when the command line is read, by the same reading and bounds as
/// the file's (`config::set`): a bad one is bad usage (exit 2).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FigureArgs {
    /// Share of treated households for a village to count as treated (0 to 1)
    #[arg(long, value_parser = threshold_arg)]
    village_threshold: Option<f64>,
    /// Override a target, e.g. --target sewage=0.5
    #[arg(long = "target", value_name = "NAME=VALUE", value_parser = target_arg)]
    targets: Vec<(String, String)>,
    /// Manure of a species in kg per head per day, e.g. --coefficient pig=2.2
    #[arg(long = "coefficient", value_name = "SPECIES=KG", value_parser = coefficient_arg)]
    coefficients: Vec<(String, String)>,
    /// Days a year of a species' manure is counted over, e.g. --manure-days broiler=60
    #[arg(long = "manure-days", value_name = "SPECIES=DAYS", value_parser = days_arg)]
    manure_days: Vec<(String, String)>,
    /// Head from which a farm of a species is a scale farm, e.g. --scale-threshold pig=1000
    #[arg(long = "scale-threshold", value_name = "SPECIES=HEADS", value_parser = scale_arg)]
    scale_thresholds: Vec<(String, String)>,
    /// Any setting of the settings file by its key, applied last, e.g.
    /// --set manure.beef_cattle.scale_count=head_on_hand
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = set_arg)]
    sets: Vec<(String, String)>,
}

impl FigureArgs {
    /// The overrides as (settings-file key, value), in the order they apply.
    fn overrides(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(v) = self.village_threshold {
            out.push(("village_threshold".to_string(), v.to_string()));
        }
        out.extend(self.targets.iter().cloned());
        out.extend(self.coefficients.iter().cloned());
        out.extend(self.manure_days.iter().cloned());
        out.extend(self.scale_thresholds.iter().cloned());
        out.extend(self.sets.iter().cloned());
        out
    }
}

/// Checks one override against the defaults, in both languages (the
/// language flag may not have been read yet); the (key, value) to apply.
fn checked_setting(key: String, value: &str) -> std::result::Result<(String, String), String> {
    let mut s = Settings::default();
    match crate::config::set(&mut s, &key, value, Lang::En) {
        Ok(()) => Ok((key, value.trim().to_string())),
        Err(en) => {
            let zh = crate::config::set(&mut s, &key, value, Lang::Zh).err().map(|e| e.to_string()).unwrap_or_default();
            Err(format!("{en} ({zh})"))
        }
    }
}

/// NAME=VALUE split, else bad usage.
fn name_value<'a>(item: &'a str, example: &str) -> std::result::Result<(&'a str, &'a str), String> {
    item.split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .ok_or_else(|| format!("must be NAME=VALUE, e.g. {example} (应写成 名称=数值)"))
}

/// A species by its code or Chinese name, as the settings file's key.
fn species_key(name: &str) -> std::result::Result<&'static str, String> {
    match crate::domain::Species::parse(name) {
        Some(sp) if sp != crate::domain::Species::Other => Ok(sp.code()),
        _ => Err(format!(
            "{name}: no such species; known: pig, dairy_cattle, beef_cattle, sheep_goat, layer, broiler (未知畜种)"
        )),
    }
}

/// `--village-threshold`: a share between 0 and 1.
fn threshold_arg(v: &str) -> std::result::Result<f64, String> {
    let (_, value) = checked_setting("village_threshold".into(), v)?;
    value.parse().map_err(|_| format!("{v}: not a number (数值无效)"))
}

/// `--target`: NAME=VALUE with a known name and a share between 0 and 1.
fn target_arg(item: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = name_value(item, "sewage=0.4")?;
    if !crate::domain::settings::Targets::default().set(name, 0.0) {
        return Err(format!(
            "{name}: no such target; known: sewage, garbage, manure, black_odor, equipping (未知目标)"
        ));
    }
    checked_setting(format!("targets.{name}"), value)
}

/// `--coefficient`: SPECIES=KG per head per day.
fn coefficient_arg(item: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = name_value(item, "pig=2.0")?;
    checked_setting(format!("manure.{}.kg_per_head_day", species_key(name)?), value)
}

/// `--manure-days`: SPECIES=DAYS.
fn days_arg(item: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = name_value(item, "pig=180")?;
    checked_setting(format!("manure.{}.days", species_key(name)?), value)
}

/// `--scale-threshold`: SPECIES=HEADS.
fn scale_arg(item: &str) -> std::result::Result<(String, String), String> {
    let (name, value) = name_value(item, "pig=500")?;
    checked_setting(format!("manure.{}.scale_min", species_key(name)?), value)
}

/// `--set`: KEY=VALUE with a key of the settings file.
fn set_arg(item: &str) -> std::result::Result<(String, String), String> {
    let (key, value) = name_value(item, "manure.pig.days=180")?;
    checked_setting(key.to_string(), value)
}

/// Settings from the config file with the command line's overrides.
fn settings(cli: &Cli, l: Lang, figures: &FigureArgs) -> Result<Settings> {
    let mut s = crate::config::load(cli.config.as_deref(), l)?;
    for (key, value) in figures.overrides() {
        crate::config::set(&mut s, &key, &value, l)?;
    }
    crate::config::check(&s, l)?;
    Ok(s)
}

fn as_of(d: Option<String>, l: Lang) -> Result<String> {
    match d {
        None => Ok(today()),
        Some(d) => crate::domain::validate::parse_date(&d).ok().flatten().with_context(|| {
            format!("--as-of {d}: {}", pick(l, "日期格式应为 YYYY-MM-DD", "not a date of the form YYYY-MM-DD"))
        }),
    }
}

fn run(cli: Cli, l: Lang) -> Result<()> {
    let started = std::time::Instant::now();
    let Some(command) = &cli.command else {
        let settings = crate::config::load(cli.config.as_deref(), l)?;
        let mut store = open(&cli)?;
        store.set_backup_retention(settings.backups);
        return crate::tui::run(store, l, settings, started);
    };
    match command {
        Command::Demo => {
            let settings = crate::config::load(cli.config.as_deref(), l)?;
            // Only an explicit --db moves the demo: $RURALSAN_DB names the
            // real database, which must never get generated visits.
            let explicit = std::env::args_os().any(|a| a == "--db" || a.to_string_lossy().starts_with("--db="));
            let path = cli.db.clone().filter(|_| explicit).unwrap_or_else(crate::tui::demo::default_path);
            let mut store = Store::open(&path)?;
            store.set_backup_retention(settings.backups);
            crate::tui::demo::ensure(&mut store, chrono::Local::now().date_naive())?;
            return crate::tui::run(store, l, settings, started);
        }
        Command::Roster { command: RosterCommand::Import { file } } => {
            let mut store = open(&cli)?;
            let r = store.import_roster(file)?;
            say!(
                "{} ({}): {} {}, {} {}, {} {}",
                safe_path(file),
                r.encoding.name(),
                r.rows,
                pick(l, "行", "rows"),
                r.added,
                pick(l, "新增", "added"),
                r.updated,
                pick(l, "更新", "updated")
            );
        }
        Command::Import { dir, dry_run } => {
            let mut store = open(&cli)?;
            let r = store.import_bundle(dir, *dry_run)?;
            if let Some(roster) = &r.roster {
                say!(
                    "villages.csv ({}): {} {}, {} {}, {} {}",
                    roster.encoding.name(),
                    roster.rows,
                    pick(l, "行", "rows"),
                    roster.added,
                    pick(l, "新增", "added"),
                    roster.updated,
                    pick(l, "更新", "updated")
                );
            }
            if !r.encodings.is_empty() {
                say!("{}", strings::input::encodings(&r.encodings, l));
            }
            say!(
                "{}{}: {} {}, {} {}, {} {}, {} {} ({} {}, {} {}, {} {})",
                if *dry_run { pick(l, "【试运行，未写入】", "[dry run, nothing written] ") } else { "" },
                safe_path(dir),
                r.visits,
                pick(l, "条调查", "visits"),
                r.new,
                pick(l, "新增", "new"),
                r.changed,
                pick(l, "修改", "changed"),
                r.unchanged,
                pick(l, "未变", "unchanged"),
                r.facilities,
                pick(l, "设施", "facilities"),
                r.farms,
                pick(l, "养殖场", "farms"),
                r.water_bodies,
                pick(l, "水体", "water bodies"),
            );
        }
        Command::Export { dir } => {
            let store = open(&cli)?;
            let r = store.export_bundle(dir)?;
            say!(
                "{}: {} {}, {} {}, {} {}, {} {}, {} {}",
                safe_path(dir),
                r.villages,
                pick(l, "个名录单位", "roster units"),
                r.visits,
                pick(l, "条调查", "visits"),
                r.facilities,
                pick(l, "设施", "facilities"),
                r.farms,
                pick(l, "养殖场", "farms"),
                r.water_bodies,
                pick(l, "水体", "water bodies"),
            );
        }
        Command::Summary { as_of: d, level, format, figures, approved_only, flagged } => {
            let settings = settings(&cli, l, figures)?;
            let store = open(&cli)?;
            let counting = crate::store::summary::Counting { approved_only: *approved_only, flagged: *flagged };
            let s = store.summary_counting(&as_of(d.clone(), l)?, (*level).into(), None, &settings, counting)?;
            let lang = l;
            match format {
                Format::Json => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    report::summary::write_json(&s, &mut out)?;
                    writeln!(out)?;
                    out.flush()?;
                }
                Format::Csv => print!("{}", safe_csv(&report::summary::to_csv(&s, lang)?)),
                Format::Table => print!("{}", safe(&report::summary::to_table(&s, lang))),
            }
        }
        Command::SaveLoop { seed, count } => {
            let mut store = open(&cli)?;
            crate::generate::save_loop(&mut store, *seed, *count, &mut std::io::stdout())?;
        }
        Command::Report { file, as_of: d, figures, approved_only } => {
            let settings = settings(&cli, l, figures)?;
            let store = open(&cli)?;
            let counting = crate::store::summary::Counting { approved_only: *approved_only, flagged: true };
            let r = report::xlsx::write_report_counting(&store, file, &as_of(d.clone(), l)?, &settings, counting, l)?;
            say!(
                "{}: {} {}, {} {}, {} {}",
                safe_path(file),
                r.counties,
                pick(l, "个县(区)", "counties"),
                r.townships,
                pick(l, "个乡镇(街道)", "townships"),
                r.villages,
                pick(l, "个行政村", "villages"),
            );
        }
        Command::Generate { roster, seed, fraction, out_dir } => {
            let n = crate::generate::generate(roster, *seed, *fraction, out_dir)?;
            say!("{}: {n} {}", safe_path(out_dir), pick(l, "条调查", "visits"));
        }
        Command::Snapshot { file } => {
            let r = open(&cli)?.snapshot(file)?;
            say!("{}", strings::sync::snapshot_line(l, &safe_path(file).to_string(), r.bytes, r.revisions, r.visits));
        }
        Command::Merge { files, dry_run, enrol_new, adopt_legacy, keep_backups, keep_months } => {
            use std::io::IsTerminal;
            let mut settings = crate::config::load(cli.config.as_deref(), l)?;
            settings.backups.last = keep_backups.unwrap_or(settings.backups.last);
            settings.backups.months = keep_months.unwrap_or(settings.backups.months);
            crate::config::check(&settings, l)?;
            let opts = crate::store::sync::MergeOptions {
                dry_run: *dry_run,
                progress: std::io::stderr().is_terminal(),
                enrol_new: *enrol_new,
                adopt_legacy: *adopt_legacy,
            };
            let mut store = open(&cli)?;
            store.set_backup_retention(settings.backups);
            let r = store.merge_files(files, opts)?;
            let (out, err) = strings::sync::render_merge(&r, l);
            print!("{}", safe(&format!("{out}{}", strings::trust::render_enrolled(&r, l))));
            if r.refused() > 0 {
                bail!("{}{} {}", err, r.refused(), strings::sync::some_refused(l));
            }
        }
        Command::Conflicts { format } => {
            let store = open(&cli)?;
            let list = store.conflicts()?;
            let text = match format {
                Format::Json => {
                    let mut json = Vec::new();
                    crate::text::write_json_pretty(&mut json, &crate::store::conflict::conflicts_json(&list))?;
                    String::from_utf8(json)? + "\n"
                }
                Format::Csv => safe_csv(&report::conflicts::to_csv(&list, l)?),
                Format::Table => safe(&strings::sync::render_conflicts(&list, l)).into_owned(),
            };
            // A long list is often piped into `head` or `less`: a closed pipe is not an error.
            use std::io::Write;
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
        }
        Command::Identity { name, export } => {
            let home = crate::identity::home()?;
            let id = match name {
                Some(n) => crate::identity::Identity::set_name(&home, n)?,
                None => crate::identity::Identity::load_or_create(&home)?,
            };
            if let Some(f) = export {
                crate::store::fsutil::write_atomic(f, |w| Ok(w.write_all(id.card().as_bytes())?))?;
            }
            print!("{}", strings::trust::render_identity(&id, &home, export.as_deref(), l));
        }
        Command::Crews { command } => {
            let mut store = open(&cli)?;
            match command {
                None => print!("{}", strings::trust::render_crews(&store.crews()?, store.device(), l)),
                Some(CrewsCommand::Enrol { file }) => {
                    let e = store.enrol_card(file)?;
                    println!("{}", strings::trust::enrolled_line(l, &e.name, &e.key));
                }
                Some(CrewsCommand::Revoke { fingerprint }) => {
                    let k = store.revoke(fingerprint)?;
                    println!("{}", strings::trust::revoked_line(l, &k.name, &k.key, k.revisions));
                }
            }
        }
        Command::Restamp => {
            let r = open(&cli)?.restamp()?;
            println!("{}", strings::trust::restamp_line(l, &r));
        }
        Command::Checks { as_of: d, format } => {
            let settings = crate::config::load(cli.config.as_deref(), l)?;
            let store = open(&cli)?;
            let as_of = as_of(d.clone(), l)?;
            let list = store.checks(&as_of, &settings)?;
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = match format {
                // Written as it is made: a national database has hundreds of thousands of checks.
                Format::Json => crate::text::write_json_pretty(&mut out, &report::checks::Json(&list, l))
                    .map_err(std::io::Error::from)
                    .and_then(|()| writeln!(out)),
                Format::Csv => out.write_all(safe_csv(&report::checks::to_csv(&list, l)?).as_bytes()),
                Format::Table => out.write_all(safe(&report::checks::to_table(&list, &as_of, l)).as_bytes()),
            };
            match written.and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
        }
        Command::Review { visit_id, decision, note } => {
            let mut store = open(&cli)?;
            let r = store.review(visit_id, (*decision).into(), note)?;
            say!("{}", strings::checks::reviewed_line(&r, l));
        }
        Command::Resolve { visit_id, take, fields, author } => {
            let mut store = open(&cli)?;
            let how = crate::store::conflict::Resolution::parse(take.clone(), fields)?;
            let rev = store.resolve_conflict(author.as_deref(), visit_id, &how)?;
            say!("{visit_id}: {} {rev}", strings::sync::resolved(l));
        }
    }
    Ok(())
}
