//! Data-quality checks (疑点, issue 15): rules that look across visits and
//! surveyors, each a typed finding with the figures that tripped it. The
//! store finds them (`store::checks`, in SQL over the current tables and
//! `visit_figures`); the words are in `strings::checks`.

use serde::{Deserialize, Serialize};

/// The thresholds of the checks (`[checks]` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckSettings {
    /// Households changing by more than this percentage from the village's
    /// previous visit.
    pub households_change_pct: f64,
    /// The treated share rising by more than this many percentage points
    /// with no new or repaired facility.
    pub treated_rise_points: f64,
    /// Most villages one surveyor can walk in a day.
    pub villages_per_day: i64,
    /// Most townships one surveyor can work in on one day (the roster has
    /// no coordinates: more townships than a crew can cross stand for "far
    /// apart").
    pub townships_per_day: i64,
    /// Townships where fewer than this percentage of villages have a visit
    /// in the round.
    pub completeness_pct: f64,
    /// The round: the days up to the as-of date (inclusive) a visit counts in.
    pub round_days: i64,
}

impl CheckSettings {
    /// Bounds of each setting, as `(key, value, min, max)`.
    pub fn bounds(&self) -> [(&'static str, f64, f64, f64); 6] {
        [
            ("checks.households_change_pct", self.households_change_pct, 0.0, 1000.0),
            ("checks.treated_rise_points", self.treated_rise_points, 0.0, 100.0),
            ("checks.villages_per_day", self.villages_per_day as f64, 1.0, 1000.0),
            ("checks.townships_per_day", self.townships_per_day as f64, 1.0, 1000.0),
            ("checks.completeness_pct", self.completeness_pct, 0.0, 100.0),
            ("checks.round_days", self.round_days as f64, 1.0, 3660.0),
        ]
    }
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            households_change_pct: 30.0,
            treated_rise_points: 40.0,
            villages_per_day: 12,
            townships_per_day: 2,
            completeness_pct: 50.0,
            round_days: 365,
        }
    }
}

/// The rule a check broke: its stable code (JSON, CSV) is [`Rule::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    HouseholdsChanged,
    TreatedShareRose,
    Gone,
    RemediatedUnmeasured,
    RemediatedStillBlack,
    ScaleFarmUnequipped,
    TooManyVillages,
    FarApart,
    CopiedForm,
    Incomplete,
}

impl Rule {
    pub const ALL: [Rule; 10] = [
        Rule::HouseholdsChanged,
        Rule::TreatedShareRose,
        Rule::Gone,
        Rule::RemediatedUnmeasured,
        Rule::RemediatedStillBlack,
        Rule::ScaleFarmUnequipped,
        Rule::TooManyVillages,
        Rule::FarApart,
        Rule::CopiedForm,
        Rule::Incomplete,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::HouseholdsChanged => "households_changed",
            Rule::TreatedShareRose => "treated_share_rose",
            Rule::Gone => "gone_without_note",
            Rule::RemediatedUnmeasured => "remediated_unmeasured",
            Rule::RemediatedStillBlack => "remediated_still_black",
            Rule::ScaleFarmUnequipped => "scale_farm_unequipped",
            Rule::TooManyVillages => "too_many_villages_in_a_day",
            Rule::FarApart => "far_apart_same_day",
            Rule::CopiedForm => "copied_form",
            Rule::Incomplete => "township_incomplete",
        }
    }
}

/// What kind of item went missing between two visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    Facility,
    Farm,
    Water,
}

/// A check that fired, with the figures that tripped it.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Households changed by `pct` % (rounded down to a tenth) from the previous visit.
    HouseholdsChanged { before: i64, after: i64, previous_visit: String },
    /// The treated share rose from `before` to `after` (percent) with no new
    /// or repaired facility.
    TreatedShareRose { before: f64, after: f64, previous_visit: String },
    /// An item present on the previous visit is gone, and the visit has no note.
    Gone { item: Item, id: String, previous_visit: String },
    /// A water body marked remediated (or verified) without any measurement.
    RemediatedUnmeasured { water_id: String },
    /// A water body marked remediated whose measurements still meet the
    /// black-odour criteria.
    RemediatedStillBlack { water_id: String },
    /// A scale farm at 100 % utilisation without equipment.
    ScaleFarmUnequipped { farm_id: String },
    /// The surveyor recorded `villages` villages of the visit's county on
    /// its date (more than `max`).
    TooManyVillages { surveyor: String, date: String, villages: i64, max: i64 },
    /// The surveyor recorded visits in these townships of the visit's county
    /// on its date (more than `max`).
    FarApart { surveyor: String, date: String, townships: Vec<String>, max: i64 },
    /// Identical figures in every field to an earlier visit of another village.
    CopiedForm { other_visit: String, other_village: String },
    /// A township where `visited` of `villages` villages have a visit in the round.
    Incomplete { visited: i64, villages: i64, min_pct: f64 },
}

impl Finding {
    pub fn rule(&self) -> Rule {
        match self {
            Finding::HouseholdsChanged { .. } => Rule::HouseholdsChanged,
            Finding::TreatedShareRose { .. } => Rule::TreatedShareRose,
            Finding::Gone { .. } => Rule::Gone,
            Finding::RemediatedUnmeasured { .. } => Rule::RemediatedUnmeasured,
            Finding::RemediatedStillBlack { .. } => Rule::RemediatedStillBlack,
            Finding::ScaleFarmUnequipped { .. } => Rule::ScaleFarmUnequipped,
            Finding::TooManyVillages { .. } => Rule::TooManyVillages,
            Finding::FarApart { .. } => Rule::FarApart,
            Finding::CopiedForm { .. } => Rule::CopiedForm,
            Finding::Incomplete { .. } => Rule::Incomplete,
        }
    }
}

/// One check that fired: on a visit (and its village), or on a township
/// (completeness: `visit_id` and `village_code` are `None`, `area` the township).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub visit_id: Option<String>,
    pub village_code: Option<String>,
    /// The township (9-digit code) the visit or the check belongs to.
    pub area: String,
    pub finding: Finding,
}

impl Check {
    pub fn rule(&self) -> Rule {
        self.finding.rule()
    }
}

/// Whether households changed by more than `pct` percent from `before`
/// (a previous count of 0 compares nothing).
pub fn households_changed(before: i64, after: i64, pct: f64) -> bool {
    before > 0 && ((after - before).abs() as f64) * 100.0 > pct * before as f64
}

/// The treated share of a village in percent (`None` without households).
pub fn treated_pct(treated: i64, households: i64) -> Option<f64> {
    (households > 0).then(|| (treated.min(households) as f64) * 100.0 / households as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn households_change_is_strictly_more_than_the_threshold() {
        assert!(!households_changed(100, 130, 30.0));
        assert!(households_changed(100, 131, 30.0));
        assert!(households_changed(100, 69, 30.0));
        assert!(!households_changed(0, 50, 30.0));
    }

    #[test]
    fn every_rule_has_its_own_code() {
        let codes: std::collections::HashSet<_> = Rule::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Rule::ALL.len());
    }
}
