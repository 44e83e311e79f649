//! Settings file: TOML in the platform config folder; flags override it.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::domain::settings::{BackupRetention, Settings};
use crate::domain::validate::MAX_HEAD;

/// Largest manure coefficient, kg per head per day (a dairy cow: about 20).
pub const MAX_KG_PER_HEAD_DAY: f64 = 1_000.0;
/// Largest number of days a year of manure is counted over.
pub const MAX_DAYS: f64 = 366.0;
use crate::strings::{Lang, pick};

/// Where the config file lives unless `--config` says otherwise.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("cn", "ruralsan", "ruralsan").map(|d| d.config_dir().join("config.toml"))
}

/// Where the database lives unless `--db` or `RURALSAN_DB` say otherwise.
pub fn default_db() -> PathBuf {
    directories::ProjectDirs::from("cn", "ruralsan", "ruralsan")
        .map(|d| d.data_dir().join("ruralsan.db"))
        .unwrap_or_else(|| PathBuf::from("ruralsan.db"))
}

/// Reads settings from `path` (defaults when the file does not exist).
pub fn load(path: Option<&Path>, l: Lang) -> Result<Settings> {
    let Some(path) = path.map(Path::to_path_buf).or_else(default_path) else { return Ok(Settings::default()) };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => bail!("{}: {e}", path.display()),
    };
    parse(&text, l).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Parses and checks a settings file's text. A problem is reported as one
/// line naming the line of the file and the key at fault:
/// `line 3: targets.sewag: unknown field ...`.
pub fn parse(text: &str, l: Lang) -> Result<Settings> {
    let at = |line: usize, key: &str, what: &str| match l {
        Lang::Zh => anyhow::anyhow!("第 {line} 行：{key}{what}"),
        Lang::En => anyhow::anyhow!("line {line}: {key}{what}"),
    };
    let s: Settings = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|sp| text[..sp.start.min(text.len())].matches('\n').count() + 1);
        match line {
            Some(line) => {
                let key = key_lines(text).into_iter().find(|(_, l)| *l == line).map(|(k, _)| k).unwrap_or_default();
                at(line, &key, &format!(": {}", e.message().trim()))
            }
            None => anyhow::anyhow!("{}", e.message().trim()),
        }
    })?;
    if let Some((key, what)) = problem(&s, l) {
        // The key as written in the file, or the table it belongs to.
        let lines = key_lines(text);
        let line =
            lines.iter().find(|(k, _)| *k == key).or_else(|| lines.iter().find(|(k, _)| key.starts_with(k.as_str())));
        return Err(match line {
            Some((_, line)) => at(*line, &key, &what),
            None => anyhow::anyhow!("{key}{what}"),
        });
    }
    Ok(s)
}

/// The dotted key of every `key = value` line and every `[table]` header of a
/// settings file, with its line number (1-based).
fn key_lines(text: &str) -> Vec<(String, usize)> {
    let unquote = |k: &str| k.split('.').map(|p| p.trim().trim_matches('"').to_string()).collect::<Vec<_>>().join(".");
    let mut table = String::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if let Some(h) = l.strip_prefix('[') {
            table = unquote(h.trim_start_matches('[').trim_end_matches(']'));
            out.push((table.clone(), i + 1));
        } else if let Some((k, _)) = l.split_once('=') {
            let k = unquote(k);
            out.push((if table.is_empty() { k } else { format!("{table}.{k}") }, i + 1));
        }
    }
    out
}

/// The first setting out of range: its dotted key and what is wrong with it
/// (to be written right after the key).
fn problem(s: &Settings, l: Lang) -> Option<(String, String)> {
    let fraction = |key: &str, v: f64| {
        (!(0.0..=1.0).contains(&v))
            .then(|| (key.to_string(), format!(" = {v}: {}", pick(l, "应在 0 到 1 之间", "must be between 0 and 1"))))
    };
    if let Some(p) = fraction("village_threshold", s.village_threshold) {
        return Some(p);
    }
    for (k, v) in s.targets.named() {
        if let Some(p) = fraction(&format!("targets.{k}"), v) {
            return Some(p);
        }
    }
    for (key, v, range) in [
        ("backups.last", s.backups.last, BackupRetention::LAST),
        ("backups.months", s.backups.months, BackupRetention::MONTHS),
    ] {
        if !range.contains(&v) {
            let what = match l {
                Lang::Zh => format!("应在 {} 到 {} 之间", range.start(), range.end()),
                Lang::En => format!("must be between {} and {}", range.start(), range.end()),
            };
            return Some((key.to_string(), format!(" = {v}: {what}")));
        }
    }
    for (key, v, min, max) in s.checks.bounds() {
        if !(min..=max).contains(&v) {
            let what = match l {
                Lang::Zh => format!("应在 {min} 到 {max} 之间"),
                Lang::En => format!("must be between {min} and {max}"),
            };
            return Some((key.to_string(), format!(" = {v}: {what}")));
        }
    }
    // Every coefficient within a realistic range; NaN is in no range. The
    // bounds keep a farm's computed manure finite and below
    // MAX_HEAD × 1 000 kg × 366 d / 1 000 = 3.66 × 10^12 t.
    for sp in crate::domain::Species::ALL {
        let Some(c) = s.manure.of(*sp) else { continue };
        for (field, v, max) in [
            ("kg_per_head_day", c.kg_per_head_day, MAX_KG_PER_HEAD_DAY),
            ("days", c.days, MAX_DAYS),
            ("scale_min", c.scale_min as f64, MAX_HEAD as f64),
        ] {
            if !(0.0..=max).contains(&v) {
                let what = match l {
                    Lang::Zh => format!("应在 0 到 {max} 之间"),
                    Lang::En => format!("must be between 0 and {max}"),
                };
                return Some((format!("manure.{}.{field}", sp.code()), format!(" = {v}: {what}")));
            }
        }
    }
    None
}

/// Sets one setting by its key as written in the settings file
/// (`village_threshold`, `targets.sewage`, `manure.pig.kg_per_head_day`,
/// `manure.beef_cattle.scale_count`, …) from a value as typed on the command
/// line: a number, or a word for the keys that take one (`head_on_hand`).
/// The value goes through the same reading as the file's (types, names) and
/// the result through the same bounds ([`check`]): one validation whichever
/// way a setting comes in. An error names the key and what is wrong.
pub fn set(s: &mut Settings, key: &str, value: &str, l: Lang) -> Result<()> {
    let mut tree = toml::Value::try_from(&*s)?;
    let mut slot = &mut tree;
    for part in key.split('.') {
        slot = match slot.as_table_mut().and_then(|t| t.get_mut(part.trim())) {
            Some(next) => next,
            None => bail!("{key}: {}", pick(l, "没有这个设置", "no such setting")),
        };
    }
    if slot.is_table() {
        bail!("{key}: {}", pick(l, "没有这个设置", "no such setting"));
    }
    let value = value.trim();
    // A number (as Rust reads one: NaN and inf too, for the bounds to
    // refuse by name), or else the word itself.
    let typed = if let Ok(i) = value.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(x) = value.parse::<f64>() {
        toml::Value::Float(x)
    } else {
        toml::Value::String(value.to_string())
    };
    let typed = match (&*slot, typed) {
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (_, v) => v,
    };
    if std::mem::discriminant(&*slot) != std::mem::discriminant(&typed) {
        let what = match slot {
            toml::Value::Float(_) => pick(l, "应为数值", "must be a number"),
            toml::Value::Integer(_) => pick(l, "应为整数", "must be a whole number"),
            _ => pick(l, "取值无效", "not a valid value"),
        };
        bail!("{key} = {value}: {what}");
    }
    *slot = typed;
    let next: Settings =
        tree.try_into().map_err(|e: toml::de::Error| anyhow::anyhow!("{key} = {value}: {}", e.message().trim()))?;
    check(&next, l)?;
    *s = next;
    Ok(())
}

/// Checks that every setting is in range (after the command line's overrides).
pub fn check(s: &Settings, l: Lang) -> Result<()> {
    match problem(s, l) {
        Some((key, what)) => bail!("{key}{what}"),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_keeps_defaults() {
        let s = parse("village_threshold = 0.6\n[targets]\nsewage = 0.5\n", Lang::En).unwrap();
        assert_eq!(s.village_threshold, 0.6);
        assert_eq!(s.targets.sewage, 0.5);
        assert_eq!(s.targets.garbage, 0.9);
        assert_eq!(s.manure.pig.days, 180.0);
    }

    #[test]
    fn set_reads_a_value_as_the_file_would_and_keeps_its_bounds() {
        let mut s = Settings::default();
        set(&mut s, "manure.pig.kg_per_head_day", "3", Lang::En).unwrap();
        set(&mut s, "manure.sheep_goat.scale_min", "150", Lang::En).unwrap();
        set(&mut s, "manure.layer.count", "annual_out", Lang::En).unwrap();
        set(&mut s, "targets.garbage", "0.8", Lang::En).unwrap();
        let mut expected = Settings::default();
        expected.manure.pig.kg_per_head_day = 3.0;
        expected.manure.sheep_goat.scale_min = 150;
        expected.manure.layer.count = crate::domain::settings::CountBasis::AnnualOut;
        expected.targets.garbage = 0.8;
        assert_eq!(s, expected);
        for (key, value) in [
            ("manure.pig.kg_per_head_day", "-1"),
            ("manure.pig.kg_per_head_day", "nan"),
            ("manure.pig.kg_per_head_day", "inf"),
            ("manure.pig.days", "367"),
            ("manure.pig.scale_min", "2.5"),
            ("manure.pig.scale_min", "-3"),
            ("manure.pig.count", "tail"),
            ("manure.pig", "1"),
            ("manure.other.days", "1"),
            ("targets.sewage", "1.5"),
            ("village_threshold", "x"),
            ("", "1"),
        ] {
            assert!(set(&mut s, key, value, Lang::En).is_err(), "{key} = {value}");
            assert_eq!(s, expected, "a refused value changes nothing ({key} = {value})");
        }
    }

    #[test]
    fn bad_file_names_line_and_key() {
        let e = parse("village_threshold = 0.5\n[targets]\nsewag = 0.5\n", Lang::En).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("sewag"), "{e}");
        let e = parse("[targets]\ngarbage = 1.5\n", Lang::En).unwrap_err().to_string();
        assert!(e.contains("targets.garbage"), "{e}");
        let pig = "[manure.pig]\ncount = \"annual_out\"\nkg_per_head_day = 2.0\nscale_count = \"annual_out\"\nscale_min = 500\n";
        let e = parse(&format!("{pig}days = -1\n"), Lang::En).unwrap_err().to_string();
        assert!(e.contains("manure.pig"), "{e}");
        for bad in ["days = 1e308", "days = nan", "days = 367", "kg_per_head_day = 1e300", "scale_min = -1"] {
            let text = format!(
                "[manure.pig]\ncount = \"annual_out\"\nkg_per_head_day = 2.0\ndays = 180\nscale_count = \"annual_out\"\nscale_min = 500\n{bad}\n"
            );
            let text = text.replacen(&format!("{} = ", bad.split(' ').next().unwrap()), "# ", 1);
            let e = parse(&text, Lang::En).unwrap_err().to_string();
            assert!(
                e.contains("line 7") && e.contains("manure.pig") && e.contains("must be between 0 and"),
                "{bad}: {e}"
            );
        }
        let e = parse(pig, Lang::En).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("days"), "{e}");
    }

    #[test]
    fn check_thresholds_are_settings_with_bounds() {
        let s = parse(
            "[checks]
villages_per_day = 8
",
            Lang::En,
        )
        .unwrap();
        assert_eq!(s.checks.villages_per_day, 8);
        assert_eq!(s.checks.households_change_pct, 30.0);
        for bad in [
            "villages_per_day = 0",
            "townships_per_day = 0",
            "completeness_pct = 101",
            "households_change_pct = nan",
            "round_days = 0",
        ] {
            let e = parse(&format!("[checks]\n{bad}\n"), Lang::En).unwrap_err().to_string();
            let key = bad.split(' ').next().unwrap();
            assert!(e.contains("line 2") && e.contains(&format!("checks.{key}")), "{bad}: {e}");
        }
    }
}
