//! Every number SPEC.md marks as a setting, with its default.

use serde::{Deserialize, Serialize};

use super::Species;

/// Which count a coefficient or a scale threshold applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBasis {
    HeadOnHand,
    AnnualOut,
}

impl CountBasis {
    pub fn pick(self, head_on_hand: i64, annual_out: i64) -> i64 {
        match self {
            CountBasis::HeadOnHand => head_on_hand,
            CountBasis::AnnualOut => annual_out,
        }
    }
}

/// Manure coefficient and scale-farm threshold of one species (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeciesCoefficient {
    pub count: CountBasis,
    pub kg_per_head_day: f64,
    pub days: f64,
    pub scale_count: CountBasis,
    pub scale_min: i64,
}

const fn coeff(count: CountBasis, kg: f64, days: f64, scale_count: CountBasis, scale_min: i64) -> SpeciesCoefficient {
    SpeciesCoefficient { count, kg_per_head_day: kg, days, scale_count, scale_min }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManureCoefficients {
    pub pig: SpeciesCoefficient,
    pub dairy_cattle: SpeciesCoefficient,
    pub beef_cattle: SpeciesCoefficient,
    pub sheep_goat: SpeciesCoefficient,
    pub layer: SpeciesCoefficient,
    pub broiler: SpeciesCoefficient,
}

impl Default for ManureCoefficients {
    fn default() -> Self {
        use CountBasis::*;
        ManureCoefficients {
            pig: coeff(AnnualOut, 2.0, 180.0, AnnualOut, 500),
            dairy_cattle: coeff(HeadOnHand, 20.0, 365.0, HeadOnHand, 100),
            beef_cattle: coeff(HeadOnHand, 10.0, 365.0, AnnualOut, 50),
            sheep_goat: coeff(HeadOnHand, 2.6, 365.0, AnnualOut, 200),
            layer: coeff(HeadOnHand, 0.1, 365.0, HeadOnHand, 2000),
            broiler: coeff(AnnualOut, 0.1, 45.0, AnnualOut, 10000),
        }
    }
}

impl ManureCoefficients {
    /// The coefficient of a species; `other` has none.
    pub fn of(&self, species: Species) -> Option<&SpeciesCoefficient> {
        match species {
            Species::Pig => Some(&self.pig),
            Species::DairyCattle => Some(&self.dairy_cattle),
            Species::BeefCattle => Some(&self.beef_cattle),
            Species::SheepGoat => Some(&self.sheep_goat),
            Species::Layer => Some(&self.layer),
            Species::Broiler => Some(&self.broiler),
            Species::Other => None,
        }
    }
}

/// The five 2025 targets, as fractions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    pub sewage: f64,
    pub garbage: f64,
    pub manure: f64,
    pub black_odor: f64,
    pub equipping: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets { sewage: 0.4, garbage: 0.9, manure: 0.8, black_odor: 0.4, equipping: 0.95 }
    }
}

impl Targets {
    /// Each target with its name.
    pub fn named(&self) -> [(&'static str, f64); 5] {
        let t = self;
        [
            ("sewage", t.sewage),
            ("garbage", t.garbage),
            ("manure", t.manure),
            ("black_odor", t.black_odor),
            ("equipping", t.equipping),
        ]
    }

    /// Sets a target by its name; false when there is no such target.
    pub fn set(&mut self, name: &str, value: f64) -> bool {
        let slot = match name {
            "sewage" => &mut self.sewage,
            "garbage" => &mut self.garbage,
            "manure" => &mut self.manure,
            "black_odor" => &mut self.black_odor,
            "equipping" => &mut self.equipping,
            _ => return false,
        };
        *slot = value;
        true
    }
}

/// All settings in force for an indicator computation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub village_threshold: f64,
    pub targets: Targets,
    pub manure: ManureCoefficients,
    pub backups: BackupRetention,
    /// Thresholds of the data-quality checks (`[checks]`).
    pub checks: super::checks::CheckSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            village_threshold: 0.5,
            targets: Targets::default(),
            manure: ManureCoefficients::default(),
            backups: BackupRetention::default(),
            checks: Default::default(),
        }
    }
}

/// Which backups of the database a merge keeps (`[backups]` in the config
/// file): the newest `last`, and the newest of each of the last `months`
/// calendar months. Older ones are removed after each new backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupRetention {
    pub last: u32,
    pub months: u32,
}

impl BackupRetention {
    /// Bounds of the settings: at least the backup just taken is kept.
    pub const LAST: std::ops::RangeInclusive<u32> = 1..=1000;
    pub const MONTHS: std::ops::RangeInclusive<u32> = 0..=120;
}

impl Default for BackupRetention {
    fn default() -> Self {
        BackupRetention { last: 10, months: 12 }
    }
}
