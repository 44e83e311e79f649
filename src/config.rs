//! Settings file: TOML in the platform config folder; flags override it.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::domain::settings::Settings;
use crate::strings::t;

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
pub fn load(path: Option<&Path>) -> Result<Settings> {
    let Some(path) = path.map(Path::to_path_buf).or_else(default_path) else { return Ok(Settings::default()) };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => bail!("{}: {e}", path.display()),
    };
    parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Parses and checks a settings file's text.
pub fn parse(text: &str) -> Result<Settings> {
    let s: Settings = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    check(&s)?;
    Ok(s)
}

/// Checks that every setting is in range.
pub fn check(s: &Settings) -> Result<()> {
    let fraction = |key: &str, v: f64| -> Result<()> {
        if !(0.0..=1.0).contains(&v) {
            bail!("{key} = {v}: {}", t("应在 0 到 1 之间", "must be between 0 and 1"));
        }
        Ok(())
    };
    fraction("village_threshold", s.village_threshold)?;
    for (k, v) in s.targets.named() {
        fraction(&format!("targets.{k}"), v)?;
    }
    for sp in crate::domain::Species::ALL {
        if let Some(c) = s.manure.of(*sp)
            && (c.kg_per_head_day.is_nan()
                || c.kg_per_head_day < 0.0
                || c.days.is_nan()
                || c.days < 0.0
                || c.scale_min < 0)
        {
            bail!("manure.{}: {}", sp.code(), t("系数不能为负数", "coefficients must not be negative"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_file_keeps_defaults() {
        let s = parse("village_threshold = 0.6\n[targets]\nsewage = 0.5\n").unwrap();
        assert_eq!(s.village_threshold, 0.6);
        assert_eq!(s.targets.sewage, 0.5);
        assert_eq!(s.targets.garbage, 0.9);
        assert_eq!(s.manure.pig.days, 180.0);
    }

    #[test]
    fn bad_file_names_line_and_key() {
        crate::strings::set_lang(crate::strings::Lang::En);
        let e = parse("village_threshold = 0.5\n[targets]\nsewag = 0.5\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("sewag"), "{e}");
        let e = parse("[targets]\ngarbage = 1.5\n").unwrap_err().to_string();
        assert!(e.contains("targets.garbage"), "{e}");
        let pig = "[manure.pig]\ncount = \"annual_out\"\nkg_per_head_day = 2.0\nscale_count = \"annual_out\"\nscale_min = 500\n";
        let e = parse(&format!("{pig}days = -1\n")).unwrap_err().to_string();
        assert!(e.contains("manure.pig"), "{e}");
        let e = parse(pig).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("days"), "{e}");
    }
}
