//! Proptest strategies for the domain types: valid visits with their
//! facilities, farms and water bodies. Failures shrink to a small, readable
//! visit (fewer child rows, smaller numbers) instead of a seed.

use proptest::prelude::*;
use ruralsan::domain::*;

/// A decimal with one digit after the point in `[lo, hi]` (exact in CSV).
fn dec1(lo: u32, hi: u32) -> impl Strategy<Value = f64> {
    (lo * 10..=hi * 10).prop_map(|t| f64::from(t) / 10.0)
}

fn one_of<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(all)
}

/// A facility serving at most `max_served` households (its id is set by the visit).
pub fn facility(max_served: i64) -> impl Strategy<Value = Facility> {
    (one_of(FacilityKind::ALL), 0..=max_served, one_of(FacilityStatus::ALL), prop::option::of(dec1(5, 300))).prop_map(
        |(kind, households_served, status, capacity_m3_d)| Facility {
            facility_id: String::new(),
            kind,
            households_served,
            status,
            capacity_m3_d,
        },
    )
}

/// A farm; a species without coefficients always carries its manure figure.
pub fn farm() -> impl Strategy<Value = Farm> {
    (one_of(Species::ALL), 5i64..3000)
        .prop_flat_map(|(species, head)| {
            (
                Just(species),
                Just(head),
                0..=head * 2,
                prop::option::of(dec1(1, 500)),
                dec1(1, 500),
                prop::sample::select(&[0.0, 50.0, 70.0, 80.0, 90.0, 100.0][..]),
                any::<bool>(),
                "[养殖场户农合作社]{1,4}",
            )
        })
        .prop_map(|(species, head_on_hand, annual_out, manure, other_manure, utilized_pct, facility_equipped, name)| {
            Farm {
                farm_id: String::new(),
                name,
                species,
                head_on_hand,
                annual_out,
                manure_t: if species == Species::Other { Some(other_manure) } else { manure },
                utilized_pct,
                facility_equipped,
            }
        })
}

/// A water body with any mix of measured and missing figures.
pub fn water_body() -> impl Strategy<Value = WaterBody> {
    (
        "[门前塘排水沟小河段山]{1,4}",
        one_of(WaterKind::ALL),
        prop::option::of(dec1(50, 20000)),
        prop::option::of(dec1(20, 3000)),
        prop::option::of(dec1(10, 300)),
        prop::option::of(dec1(5, 80)),
        prop::option::of(dec1(1, 9)),
        prop::option::of(dec1(1, 25)),
        one_of(Listed::ALL),
        one_of(WaterStatus::ALL),
    )
        .prop_map(
            |(name, kind, area_m2, length_m, depth_cm, transparency_cm, do_mg_l, nh3n_mg_l, listed, status)| {
                WaterBody {
                    water_id: String::new(),
                    name,
                    kind,
                    area_m2,
                    length_m,
                    depth_cm,
                    transparency_cm,
                    do_mg_l,
                    nh3n_mg_l,
                    listed,
                    status,
                }
            },
        )
}

/// A valid visit of `village_code` on `date`: the household figures never
/// add up to more than the households, covered natural villages never
/// exceed the natural villages, child ids are unique.
pub fn visit_data(village_code: &'static str, date: &'static str) -> impl Strategy<Value = VisitData> {
    (30i64..800, 1i64..15)
        .prop_flat_map(|(households, natural)| {
            (
                Just(households),
                0..=households / 4,
                0..=households / 4,
                0..=households / 4,
                Just(natural),
                0..=natural,
                prop::sample::select(&["", "村主任陪同, 已拍照", "部分农户外出务工\n下次回访", "设施\"待维修\""][..]),
                prop::sample::select(&["陈静", "张伟", "王芳"][..]),
                prop::collection::vec(facility(households / 8), 0..=2),
                prop::collection::vec(farm(), 0..=3),
                prop::collection::vec(water_body(), 0..=2),
            )
        })
        .prop_map(
            move |(
                households,
                hh_sewer,
                hh_reuse,
                hh_controlled,
                natural_villages,
                nv_garbage_covered,
                notes,
                surveyor,
                facilities,
                farms,
                water_bodies,
            )| {
                let mut v = VisitData {
                    village_code: village_code.to_string(),
                    survey_date: date.to_string(),
                    surveyor: surveyor.to_string(),
                    households,
                    hh_sewer,
                    hh_reuse,
                    hh_controlled,
                    natural_villages,
                    nv_garbage_covered,
                    notes: notes.to_string(),
                    facilities,
                    farms,
                    water_bodies,
                };
                for (i, f) in v.facilities.iter_mut().enumerate() {
                    f.facility_id = format!("F{i}");
                }
                for (i, f) in v.farms.iter_mut().enumerate() {
                    f.farm_id = format!("A{i}");
                }
                for (i, w) in v.water_bodies.iter_mut().enumerate() {
                    w.water_id = format!("W{i}");
                }
                v.canonicalize();
                v
            },
        )
}

/// One-line text that is hostile but valid: CJK, emoji, quotes, commas,
/// brackets, a leading `=`/`+`/`@`/`-` (spreadsheet formula characters),
/// inner spaces; never blank, never with surrounding blanks (every door
/// trims those), at most 20 characters.
pub fn hostile_line() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9村镇张陈王😀🐷🏡,;\"'“”（）=+@ -]{1,20}".prop_map(|s| {
        let t = s.trim();
        if t.is_empty() { "陈".to_string() } else { t.to_string() }
    })
}

/// Notes that are hostile but valid: the one-line mix plus line breaks
/// (LF, CRLF) and tabs, as typed in a spreadsheet cell.
pub fn hostile_notes() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![hostile_line(), Just("\n".to_string()), Just("\r\n".to_string()), Just("\t".to_string())],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

/// A valid visit (see [`visit_data`]) whose surveyor, notes and farm and
/// water body names are hostile-but-valid text.
pub fn hostile_visit(village_code: &'static str, date: &'static str) -> impl Strategy<Value = VisitData> {
    (visit_data(village_code, date), hostile_line(), hostile_notes(), prop::collection::vec(hostile_line(), 6))
        .prop_map(|(mut v, surveyor, notes, names)| {
            v.surveyor = surveyor;
            v.notes = notes;
            for (i, f) in v.farms.iter_mut().enumerate() {
                f.name = names[i % names.len()].clone();
            }
            for (i, w) in v.water_bodies.iter_mut().enumerate() {
                w.name = names[(i + 3) % names.len()].clone();
            }
            v
        })
}
