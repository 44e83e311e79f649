//! Argument parsing and wiring (SPEC §7).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::domain::{Level, settings::Settings};
use crate::report;
use crate::store::Store;
use crate::strings::{self, Lang, t};

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
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
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
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "county")]
        level: LevelArg,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Share of treated households for a village to count as treated
        #[arg(long)]
        village_threshold: Option<f64>,
        /// Override a target, e.g. --target sewage=0.5
        #[arg(long = "target", value_name = "NAME=VALUE")]
        targets: Vec<String>,
    },
    /// Write the summary workbook (county and township sheets, every village's status)
    Report {
        /// The .xlsx file to write (replaced whole, never left half-written)
        file: PathBuf,
        /// Date the indicators are computed as of (YYYY-MM-DD; default today)
        #[arg(long)]
        as_of: Option<String>,
        /// Share of treated households for a village to count as treated
        #[arg(long)]
        village_threshold: Option<f64>,
        /// Override a target, e.g. --target sewage=0.5
        #[arg(long = "target", value_name = "NAME=VALUE")]
        targets: Vec<String>,
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
    strings::set_lang(match cli.lang {
        LangArg::Zh => Lang::Zh,
        LangArg::En => Lang::En,
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let e = format!("{e:#}");
            eprintln!("ruralsan: {}", e.trim_end());
            ExitCode::FAILURE
        }
    }
}

fn today() -> String {
    chrono::Local::now().date_naive().format("%Y-%m-%d").to_string()
}

fn open(cli: &Cli) -> Result<Store> {
    let path = cli.db.clone().unwrap_or_else(crate::config::default_db);
    Store::open(&path)
}

/// Settings from the config file with the command line's overrides.
fn settings(cli: &Cli, threshold: Option<f64>, targets: &[String]) -> Result<Settings> {
    let mut s = crate::config::load(cli.config.as_deref())?;
    if let Some(v) = threshold {
        s.village_threshold = v;
    }
    for item in targets {
        let Some((name, value)) = item.split_once('=') else {
            bail!("--target {item}: {}", t("应写成 名称=数值，如 sewage=0.4", "must be NAME=VALUE, e.g. sewage=0.4"));
        };
        let v: f64 =
            value.trim().parse().with_context(|| format!("--target {item}: {}", t("数值无效", "not a number")))?;
        if !s.targets.set(name.trim(), v) {
            bail!(
                "--target {item}: {} sewage, garbage, manure, black_odor, equipping",
                t("未知目标，可用：", "no such target; known:")
            );
        }
    }
    crate::config::check(&s)?;
    Ok(s)
}

fn as_of(d: Option<String>) -> Result<String> {
    match d {
        None => Ok(today()),
        Some(d) => crate::domain::validate::parse_date(&d).ok().flatten().with_context(|| {
            format!("--as-of {d}: {}", t("日期格式应为 YYYY-MM-DD", "not a date of the form YYYY-MM-DD"))
        }),
    }
}

fn run(cli: Cli) -> Result<()> {
    let Some(command) = &cli.command else {
        bail!(
            "{}",
            t(
                "终端界面尚未实现；请使用子命令（ruralsan --help）",
                "the terminal UI is not built yet; use a subcommand (ruralsan --help)"
            )
        );
    };
    match command {
        Command::Demo => {
            bail!("{}", t("演示界面尚未实现", "the demo UI is not built yet"));
        }
        Command::Roster { command: RosterCommand::Import { file } } => {
            let mut store = open(&cli)?;
            let r = store.import_roster(file)?;
            println!(
                "{}: {} {}, {} {}, {} {}",
                file.display(),
                r.rows,
                t("行", "rows"),
                r.added,
                t("新增", "added"),
                r.updated,
                t("更新", "updated")
            );
        }
        Command::Import { dir, dry_run } => {
            let mut store = open(&cli)?;
            let r = store.import_bundle(dir, *dry_run)?;
            if let Some(roster) = &r.roster {
                println!(
                    "villages.csv: {} {}, {} {}, {} {}",
                    roster.rows,
                    t("行", "rows"),
                    roster.added,
                    t("新增", "added"),
                    roster.updated,
                    t("更新", "updated")
                );
            }
            println!(
                "{}{}: {} {}, {} {}, {} {}, {} {} ({} {}, {} {}, {} {})",
                if *dry_run { t("【试运行，未写入】", "[dry run, nothing written] ") } else { "" },
                dir.display(),
                r.visits,
                t("条调查", "visits"),
                r.new,
                t("新增", "new"),
                r.changed,
                t("修改", "changed"),
                r.unchanged,
                t("未变", "unchanged"),
                r.facilities,
                t("设施", "facilities"),
                r.farms,
                t("养殖场", "farms"),
                r.water_bodies,
                t("水体", "water bodies"),
            );
        }
        Command::Export { dir } => {
            let store = open(&cli)?;
            let r = store.export_bundle(dir)?;
            println!(
                "{}: {} {}, {} {}, {} {}, {} {}, {} {}",
                dir.display(),
                r.villages,
                t("个名录单位", "roster units"),
                r.visits,
                t("条调查", "visits"),
                r.facilities,
                t("设施", "facilities"),
                r.farms,
                t("养殖场", "farms"),
                r.water_bodies,
                t("水体", "water bodies"),
            );
        }
        Command::Summary { as_of: d, level, format, village_threshold, targets } => {
            let settings = settings(&cli, *village_threshold, targets)?;
            let store = open(&cli)?;
            let s = store.summary(&as_of(d.clone())?, (*level).into(), None, &settings)?;
            let lang = strings::lang();
            match format {
                Format::Json => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    report::summary::write_json(&s, &mut out)?;
                    writeln!(out)?;
                    out.flush()?;
                }
                Format::Csv => print!("{}", report::summary::to_csv(&s, lang)?),
                Format::Table => print!("{}", report::summary::to_table(&s, lang)),
            }
        }
        Command::Report { file, as_of: d, village_threshold, targets } => {
            let settings = settings(&cli, *village_threshold, targets)?;
            let store = open(&cli)?;
            let r = report::xlsx::write_report(&store, file, &as_of(d.clone())?, &settings, strings::lang())?;
            println!(
                "{}: {} {}, {} {}, {} {}",
                file.display(),
                r.counties,
                t("个县(区)", "counties"),
                r.townships,
                t("个乡镇(街道)", "townships"),
                r.villages,
                t("个行政村", "villages"),
            );
        }
        Command::Generate { roster, seed, fraction, out_dir } => {
            let n = crate::generate::generate(roster, *seed, *fraction, out_dir)?;
            println!("{}: {n} {}", out_dir.display(), t("条调查", "visits"));
        }
    }
    Ok(())
}
