//! The pure merge of the domain (flatten, three-way merge, resolution) on
//! visits drawn from proptest strategies, without a database.

mod common;

use std::collections::BTreeSet;

use common::strategies::visit_data;
use proptest::prelude::*;
use ruralsan::domain::merge::{DELETED_FIELD, Outcome, flatten, merge_settled, open_fields, three_way, unflatten};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A visit flattened into fields and built back is the same visit.
    #[test]
    fn flatten_then_unflatten_is_the_identity(v in visit_data("430202001201", "2024-05-01")) {
        let flat = flatten(&v);
        for k in flat.keys().filter(|k| k.contains('[')) {
            prop_assert!(
                k.starts_with("facilities[") || k.starts_with("farms[") || k.starts_with("water_bodies["),
                "{}", k
            );
        }
        prop_assert_eq!(unflatten(&flat).unwrap(), v);
    }

    /// Merging a side with the base, or with itself, gives that side.
    #[test]
    fn merging_with_no_change_keeps_the_change(
        base in visit_data("430202001201", "2024-05-01"),
        side in visit_data("430202001201", "2024-05-01"),
    ) {
        let (b, s) = (flatten(&base), flatten(&side));
        prop_assert_eq!(three_way(Some(&b), &[Some(s.clone()), Some(b.clone())]), Outcome::Clean(Some(s.clone())));
        prop_assert_eq!(three_way(Some(&b), &[Some(s.clone()), Some(s.clone())]), Outcome::Clean(Some(s)));
    }

    /// The open fields are exactly those changed two ways; settling every
    /// other field takes each one-sided change.
    #[test]
    fn open_fields_are_the_two_way_changes(
        base in visit_data("430202001201", "2024-05-01"),
        x in visit_data("430202001201", "2024-05-01"),
        y in visit_data("430202001201", "2024-05-01"),
    ) {
        let (b, x, y) = (flatten(&base), flatten(&x), flatten(&y));
        let sides = [Some(x.clone()), Some(y.clone())];
        let open = open_fields(Some(&b), &sides);
        prop_assert!(!open.iter().any(|f| f == DELETED_FIELD));
        for f in &open {
            prop_assert!(x.get(f) != b.get(f) || y.get(f) != b.get(f), "{} is open but unchanged", f);
        }
        let open_set: BTreeSet<&str> = open.iter().map(String::as_str).collect();
        let merged = merge_settled(Some(&b), &sides, &open_set);
        for (k, v) in &merged {
            if !open_set.contains(k.as_str()) {
                prop_assert!(x.get(k) == Some(v) || y.get(k) == Some(v), "{} came from neither side", k);
            }
        }
    }
}
