//! The indicator arithmetic of SPEC §4. Each formula is one function here; the
//! store registers the per-row ones as SQL functions so that aggregation runs
//! in SQL with exactly this arithmetic.

use serde::Serialize;

use super::settings::ManureCoefficients;
use super::{FacilityStatus, Listed, Species, VisitData, WaterStatus};

/// A rate, or `None` when the denominator is 0: the one function every rate
/// is computed by. Nothing is clamped: with the domain's bounds
/// (`validate::MAX_*`) every numerator and denominator is finite and the
/// numerator is at most the denominator, so a rate is in [0, 1] (the
/// property tests assert it). A quotient that is not finite (NaN or ∞, only
/// reachable through data that bypassed validation) is no figure either:
/// `None`, shown as "—", never as a met target.
pub fn rate(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 {
        return None;
    }
    Some(numerator / denominator).filter(|r| r.is_finite())
}

/// The households a facility counts for in the treated households: those it
/// serves when it is in normal operation, else none. The one statement of
/// the rule; SQL reaches it as `rs_normal_served(status, households_served)`.
pub fn normal_served(status: Option<FacilityStatus>, households_served: i64) -> i64 {
    if status == Some(FacilityStatus::Normal) { households_served } else { 0 }
}

/// Treated households of a village: sewer + reuse + households served by
/// facilities in normal operation.
/// Saturating: validated terms are each at most `MAX_HOUSEHOLDS` (10^5), so
/// the sum never comes near `i64::MAX`; the form's preview also calls this on
/// typed, not yet validated numbers, where saturating beats overflowing.
pub fn treated_households(hh_sewer: i64, hh_reuse: i64, normal_facility_households: i64) -> i64 {
    hh_sewer.saturating_add(hh_reuse).saturating_add(normal_facility_households)
}

/// Whether a village with `part` of its `households` reaches the threshold
/// (used for "treated" and for "treated or controlled").
pub fn village_reaches(part: i64, households: i64, threshold: f64) -> bool {
    households > 0 && part as f64 / households as f64 >= threshold
}

/// Produced manure of a farm in tonnes per year: measured when given, else
/// from the species coefficient; 0 for a species without coefficient and no
/// measurement (validation refuses such a farm).
pub fn manure_produced_t(
    species: Species,
    head_on_hand: i64,
    annual_out: i64,
    manure_t: Option<f64>,
    coefficients: &ManureCoefficients,
) -> f64 {
    if let Some(t) = manure_t {
        return t;
    }
    match coefficients.of(species) {
        Some(c) => c.count.pick(head_on_hand, annual_out) as f64 * c.kg_per_head_day * c.days / 1000.0,
        None => 0.0,
    }
}

/// Utilized manure in tonnes. The share is made a fraction first: multiplying
/// by a factor ≤ 1 never rounds above `produced_t` (`p × 100 / 100` can, and
/// then the manure rate exceeds 1).
pub fn manure_utilized_t(produced_t: f64, utilized_pct: f64) -> f64 {
    produced_t * (utilized_pct / 100.0)
}

/// Whether a farm is a scale farm (MOA 2025 thresholds).
pub fn is_scale_farm(species: Species, head_on_hand: i64, annual_out: i64, coefficients: &ManureCoefficients) -> bool {
    coefficients.of(species).is_some_and(|c| c.scale_count.pick(head_on_hand, annual_out) >= c.scale_min)
}

/// The black-odour criteria of SPEC §4: constants of the domain (changing
/// one means bumping [`FIGURES_VERSION`]), echoed with every summary so that
/// a figure can be reproduced from its output alone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlackOdorCriteria {
    /// Transparency below this fails (cm)...
    pub transparency_cm_below: f64,
    /// ...unless the water is shallower than this (cm),
    pub shallow_depth_cm_below: f64,
    /// when transparency below this share of the depth fails.
    pub shallow_transparency_share: f64,
    /// Dissolved oxygen below this fails (mg/L).
    pub do_mg_l_below: f64,
    /// Ammonia nitrogen above this fails (mg/L).
    pub nh3n_mg_l_above: f64,
}

pub const BLACK_ODOR_CRITERIA: BlackOdorCriteria = BlackOdorCriteria {
    transparency_cm_below: 25.0,
    shallow_depth_cm_below: 25.0,
    shallow_transparency_share: 0.4,
    do_mg_l_below: 2.0,
    nh3n_mg_l_above: 15.0,
};

/// A black-odour criterion a measured value fails: the value measured and
/// the limit it is held to (SPEC §4), so a verdict can say which and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OdorFailure {
    /// Transparency (cm) below the limit: 25 cm, or 0.4 × depth in water
    /// shallower than 25 cm.
    Transparency { value: f64, limit: f64 },
    /// Dissolved oxygen (mg/L) below 2.0.
    DissolvedOxygen { value: f64, limit: f64 },
    /// Ammonia nitrogen (mg/L) above 15.0.
    Ammonia { value: f64, limit: f64 },
}

/// The black-odour criteria a water body's measured values fail, in the
/// order of SPEC §4; an unmeasured value fails nothing.
pub fn black_odor_failures(
    depth_cm: Option<f64>,
    transparency_cm: Option<f64>,
    do_mg_l: Option<f64>,
    nh3n_mg_l: Option<f64>,
) -> Vec<OdorFailure> {
    let c = BLACK_ODOR_CRITERIA;
    let mut out = Vec::new();
    if let Some(t) = transparency_cm {
        let limit = match depth_cm {
            Some(d) if d < c.shallow_depth_cm_below => c.shallow_transparency_share * d,
            _ => c.transparency_cm_below,
        };
        if t < limit {
            out.push(OdorFailure::Transparency { value: t, limit });
        }
    }
    if let Some(v) = do_mg_l.filter(|v| *v < c.do_mg_l_below) {
        out.push(OdorFailure::DissolvedOxygen { value: v, limit: c.do_mg_l_below });
    }
    if let Some(v) = nh3n_mg_l.filter(|v| *v > c.nh3n_mg_l_above) {
        out.push(OdorFailure::Ammonia { value: v, limit: c.nh3n_mg_l_above });
    }
    out
}

/// Whether a water body meets the black-odour criteria: any measured value
/// fails; an unmeasured value fails nothing.
pub fn meets_black_odor(
    depth_cm: Option<f64>,
    transparency_cm: Option<f64>,
    do_mg_l: Option<f64>,
    nh3n_mg_l: Option<f64>,
) -> bool {
    !black_odor_failures(depth_cm, transparency_cm, do_mg_l, nh3n_mg_l).is_empty()
}

/// How a water body counts for the black-odour indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaterOutcome {
    NotListed,
    Open,
    Remediated,
    Relapsed,
}

pub fn water_outcome(listed: Listed, status: WaterStatus, meets_criteria: bool) -> WaterOutcome {
    if listed == Listed::None {
        WaterOutcome::NotListed
    } else if matches!(status, WaterStatus::Remediated | WaterStatus::Verified) {
        if meets_criteria { WaterOutcome::Relapsed } else { WaterOutcome::Remediated }
    } else {
        WaterOutcome::Open
    }
}

/// The version of the per-visit formulas below. Stored with the figures
/// kept per visit (see `store::figures`), so that figures made by another
/// version of these formulas are recomputed rather than summed.
pub const FIGURES_VERSION: u32 = 1;

/// What one visit contributes to the indicators, whichever village threshold
/// is in force: the store keeps one row of these per current visit, and a
/// summary only picks each village's counting visit and sums.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VisitFigures {
    pub households: i64,
    /// Treated households (`treated_households`).
    pub households_treated: i64,
    pub hh_controlled: i64,
    pub natural_villages: i64,
    pub nv_covered: i64,
    pub facilities_normal: i64,
    pub facilities_total: i64,
    pub produced_t: f64,
    pub utilized_t: f64,
    pub scale_farms: i64,
    pub scale_farms_equipped: i64,
    pub water_listed: i64,
    pub water_remediated: i64,
    pub water_relapsed: i64,
}

/// The figures of one visit with these manure coefficients (the only
/// settings they depend on; the village threshold applies in
/// [`VisitFigures::village`]).
pub fn visit_figures(v: &VisitData, coefficients: &ManureCoefficients) -> VisitFigures {
    let mut f = VisitFigures {
        households: v.households,
        hh_controlled: v.hh_controlled,
        natural_villages: v.natural_villages,
        nv_covered: v.nv_garbage_covered,
        facilities_total: v.facilities.len() as i64,
        ..VisitFigures::default()
    };
    let mut served: i64 = 0;
    for x in &v.facilities {
        f.facilities_normal += (x.status == FacilityStatus::Normal) as i64;
        served = served.saturating_add(normal_served(Some(x.status), x.households_served));
    }
    f.households_treated = treated_households(v.hh_sewer, v.hh_reuse, served);
    // Tonnes are summed in farm_id order, the order of the current tables,
    // so the figures are the same to the bit whichever order the farms came in.
    let mut farms: Vec<&super::Farm> = v.farms.iter().collect();
    if !farms.is_sorted_by(|a, b| a.farm_id <= b.farm_id) {
        farms.sort_by(|a, b| a.farm_id.cmp(&b.farm_id));
    }
    for m in farms {
        let produced = manure_produced_t(m.species, m.head_on_hand, m.annual_out, m.manure_t, coefficients);
        f.produced_t += produced;
        f.utilized_t += manure_utilized_t(produced, m.utilized_pct);
        if is_scale_farm(m.species, m.head_on_hand, m.annual_out, coefficients) {
            f.scale_farms += 1;
            f.scale_farms_equipped += m.facility_equipped as i64;
        }
    }
    for w in &v.water_bodies {
        let meets = meets_black_odor(w.depth_cm, w.transparency_cm, w.do_mg_l, w.nh3n_mg_l);
        match water_outcome(w.listed, w.status, meets) {
            WaterOutcome::NotListed => {}
            WaterOutcome::Open => f.water_listed += 1,
            WaterOutcome::Remediated => {
                f.water_listed += 1;
                f.water_remediated += 1;
            }
            WaterOutcome::Relapsed => {
                f.water_listed += 1;
                f.water_relapsed += 1;
            }
        }
    }
    f
}

impl VisitFigures {
    /// The figures of a village whose counting visit this is, with the
    /// village threshold in force; `duplicate` when another visit of the
    /// village has the same date.
    pub fn village(&self, threshold: f64, duplicate: bool) -> Figures {
        Figures {
            villages: 1,
            surveyed: 1,
            duplicate_visits: duplicate as i64,
            villages_treated: village_reaches(self.households_treated, self.households, threshold) as i64,
            villages_controlled: village_reaches(
                self.households_treated.saturating_add(self.hh_controlled),
                self.households,
                threshold,
            ) as i64,
            households_treated: self.households_treated,
            households: self.households,
            facilities_normal: self.facilities_normal,
            facilities_total: self.facilities_total,
            nv_covered: self.nv_covered,
            natural_villages: self.natural_villages,
            produced_t: self.produced_t,
            utilized_t: self.utilized_t,
            scale_farms: self.scale_farms,
            scale_farms_equipped: self.scale_farms_equipped,
            water_listed: self.water_listed,
            water_remediated: self.water_remediated,
            water_relapsed: self.water_relapsed,
            approved: 0,
            flagged: 0,
        }
    }
}

/// The additive figures of an area. Every rate derives from these, so a
/// parent's figures are the sum of its children's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub villages: i64,
    pub surveyed: i64,
    pub duplicate_visits: i64,
    pub villages_treated: i64,
    pub villages_controlled: i64,
    pub households_treated: i64,
    pub households: i64,
    pub facilities_normal: i64,
    pub facilities_total: i64,
    pub nv_covered: i64,
    pub natural_villages: i64,
    pub produced_t: f64,
    pub utilized_t: f64,
    pub scale_farms: i64,
    pub scale_farms_equipped: i64,
    pub water_listed: i64,
    pub water_remediated: i64,
    pub water_relapsed: i64,
    /// Villages whose counting visit's current revision every reviewer approved.
    pub approved: i64,
    /// Villages whose counting visit has an open data-quality check.
    pub flagged: i64,
}

impl Figures {
    /// Adds another area's figures. Saturating, and provably never
    /// saturated: every validated count is at most 10^7 (`validate::MAX_*`),
    /// China has about 6 × 10^5 villages, so a national total is below
    /// 10^7 × 6 × 10^5 × 10 (rows per visit) = 6 × 10^13, far from 2^63 ≈ 9.2 × 10^18.
    pub fn add(&mut self, o: &Figures) {
        self.villages = self.villages.saturating_add(o.villages);
        self.surveyed = self.surveyed.saturating_add(o.surveyed);
        self.duplicate_visits = self.duplicate_visits.saturating_add(o.duplicate_visits);
        self.villages_treated = self.villages_treated.saturating_add(o.villages_treated);
        self.villages_controlled = self.villages_controlled.saturating_add(o.villages_controlled);
        self.households_treated = self.households_treated.saturating_add(o.households_treated);
        self.households = self.households.saturating_add(o.households);
        self.facilities_normal = self.facilities_normal.saturating_add(o.facilities_normal);
        self.facilities_total = self.facilities_total.saturating_add(o.facilities_total);
        self.nv_covered = self.nv_covered.saturating_add(o.nv_covered);
        self.natural_villages = self.natural_villages.saturating_add(o.natural_villages);
        self.produced_t += o.produced_t;
        self.utilized_t += o.utilized_t;
        self.scale_farms = self.scale_farms.saturating_add(o.scale_farms);
        self.scale_farms_equipped = self.scale_farms_equipped.saturating_add(o.scale_farms_equipped);
        self.water_listed = self.water_listed.saturating_add(o.water_listed);
        self.water_remediated = self.water_remediated.saturating_add(o.water_remediated);
        self.water_relapsed = self.water_relapsed.saturating_add(o.water_relapsed);
        self.approved = self.approved.saturating_add(o.approved);
        self.flagged = self.flagged.saturating_add(o.flagged);
    }

    pub fn rates(&self) -> Rates {
        let r = |n: i64, d: i64| rate(n as f64, d as f64);
        Rates {
            sewage: r(self.villages_treated, self.villages),
            sewage_controlled: r(self.villages_controlled, self.villages),
            household: r(self.households_treated, self.households),
            facilities: r(self.facilities_normal, self.facilities_total),
            garbage: r(self.nv_covered, self.natural_villages),
            manure: rate(self.utilized_t, self.produced_t),
            equipping: r(self.scale_farms_equipped, self.scale_farms),
            black_odor: r(self.water_remediated, self.water_listed),
        }
    }
}

/// The rates of an area; `None` where the denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub sewage: Option<f64>,
    pub sewage_controlled: Option<f64>,
    pub household: Option<f64>,
    pub facilities: Option<f64>,
    pub garbage: Option<f64>,
    pub manure: Option<f64>,
    pub equipping: Option<f64>,
    pub black_odor: Option<f64>,
}

/// The five indicators that have a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    Sewage,
    Garbage,
    Manure,
    BlackOdor,
    Equipping,
}

impl Indicator {
    pub const ALL: [Indicator; 5] =
        [Indicator::Sewage, Indicator::Garbage, Indicator::Manure, Indicator::BlackOdor, Indicator::Equipping];

    pub fn rate(self, r: &Rates) -> Option<f64> {
        match self {
            Indicator::Sewage => r.sewage,
            Indicator::Garbage => r.garbage,
            Indicator::Manure => r.manure,
            Indicator::BlackOdor => r.black_odor,
            Indicator::Equipping => r.equipping,
        }
    }

    pub fn target(self, t: &super::settings::Targets) -> f64 {
        match self {
            Indicator::Sewage => t.sewage,
            Indicator::Garbage => t.garbage,
            Indicator::Manure => t.manure,
            Indicator::BlackOdor => t.black_odor,
            Indicator::Equipping => t.equipping,
        }
    }
}

/// Whether a rate misses its target; a rate that cannot be computed misses nothing.
pub fn misses_target(rate: Option<f64>, target: f64) -> bool {
    rate.is_some_and(|r| r < target)
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_facilities_in_normal_operation_count_their_households() {
        assert_eq!(normal_served(Some(FacilityStatus::Normal), 20), 20);
        assert_eq!(normal_served(Some(FacilityStatus::Idle), 20), 0);
        assert_eq!(normal_served(None, 20), 0);
    }

    use super::*;
    use crate::domain::settings::ManureCoefficients;

    #[test]
    fn manure_from_coefficients() {
        let c = ManureCoefficients::default();
        // pig: annual_out 1000 × 2.0 kg × 180 d / 1000 = 360 t
        assert_eq!(manure_produced_t(Species::Pig, 50, 1000, None, &c), 360.0);
        assert_eq!(manure_produced_t(Species::Pig, 50, 1000, Some(12.5), &c), 12.5);
        assert!(is_scale_farm(Species::Pig, 0, 500, &c));
        assert!(!is_scale_farm(Species::Pig, 10_000, 499, &c));
        assert!(is_scale_farm(Species::BeefCattle, 1, 50, &c));
        assert!(!is_scale_farm(Species::Other, 1_000_000, 1_000_000, &c));
    }

    #[test]
    fn utilized_never_exceeds_produced() {
        // 1.4895 × 100 / 100 rounds to 1.4895000000000003.
        assert_eq!(manure_utilized_t(1.4895, 100.0), 1.4895);
        for k in 0..2000 {
            let produced = 0.1 + k as f64 * 0.3711;
            for pct in [0.0, 12.5, 50.0, 70.0, 80.0, 90.0, 99.9, 100.0] {
                assert!(manure_utilized_t(produced, pct) <= produced, "{produced} {pct}");
            }
        }
    }

    #[test]
    fn black_odor_criteria() {
        assert!(!meets_black_odor(None, None, None, None));
        assert!(meets_black_odor(None, Some(24.0), None, None));
        assert!(!meets_black_odor(Some(20.0), Some(9.0), None, None));
        assert!(meets_black_odor(Some(20.0), Some(7.9), None, None));
        assert!(meets_black_odor(None, None, Some(1.9), None));
        assert!(meets_black_odor(None, None, None, Some(15.1)));
        assert!(!meets_black_odor(None, Some(25.0), Some(2.0), Some(15.0)));
    }

    #[test]
    fn black_odor_failures_name_the_measurement_and_its_limit() {
        use OdorFailure::*;
        assert_eq!(
            black_odor_failures(Some(80.0), Some(18.0), None, None),
            [Transparency { value: 18.0, limit: 25.0 }]
        );
        assert_eq!(
            black_odor_failures(Some(20.0), Some(5.0), Some(1.5), Some(16.0)),
            [
                Transparency { value: 5.0, limit: 8.0 },
                DissolvedOxygen { value: 1.5, limit: 2.0 },
                Ammonia { value: 16.0, limit: 15.0 }
            ]
        );
        assert!(black_odor_failures(Some(20.0), Some(9.0), Some(2.0), Some(15.0)).is_empty());
    }

    #[test]
    fn water_outcomes() {
        use WaterStatus::*;
        assert_eq!(water_outcome(Listed::None, Verified, false), WaterOutcome::NotListed);
        assert_eq!(water_outcome(Listed::National, Remediating, false), WaterOutcome::Open);
        assert_eq!(water_outcome(Listed::Provincial, Verified, false), WaterOutcome::Remediated);
        assert_eq!(water_outcome(Listed::Provincial, Remediated, true), WaterOutcome::Relapsed);
    }

    #[test]
    fn no_rate_is_nan_or_infinite() {
        assert_eq!(rate(0.0, 0.0), None);
        assert_eq!(rate(f64::NAN, 1.0), None);
        assert_eq!(rate(f64::INFINITY, f64::INFINITY), None);
        assert_eq!(rate(1.0, 4.0), Some(0.25));
        // Manure that bypassed validation: "—", not a met target.
        let f = Figures { produced_t: f64::MAX * 2.0, utilized_t: f64::MAX * 2.0, ..Figures::default() };
        assert_eq!(f.rates().manure, None);
        assert!(!misses_target(f.rates().manure, 0.8));
        let mut big = Figures { households: i64::MAX, ..Figures::default() };
        big.add(&Figures { households: 1, ..Figures::default() });
        assert_eq!(big.households, i64::MAX, "saturates, never wraps negative");
        assert_eq!(treated_households(i64::MAX, i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn thresholds_and_rates() {
        assert!(village_reaches(50, 100, 0.5));
        assert!(!village_reaches(49, 100, 0.5));
        assert!(!village_reaches(0, 0, 0.0));
        assert_eq!(rate(1.0, 0.0), None);
        assert_eq!(rate(1.0, 4.0), Some(0.25));
    }
}
