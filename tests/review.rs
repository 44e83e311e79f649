//! Reviews (issue 15): signed, merged by union in any order, disputes
//! shown; `--approved-only` figures equal those of a database holding only
//! the approved visits; a return travels county → crew → county.

mod common;

use std::path::{Path, PathBuf};

use ruralsan::domain::Level;
use ruralsan::domain::review::{ReviewState, Standing};
use ruralsan::domain::settings::Settings;
use ruralsan::identity::Identity;
use ruralsan::store::Store;
use ruralsan::store::error::ReviewReason;
use ruralsan::store::summary::Counting;
use ruralsan::store::sync::{FileOutcome, MergeOptions, MergeReport, Refusal};

fn enrol_new() -> MergeOptions {
    MergeOptions { enrol_new: true, ..Default::default() }
}

fn merge(s: &mut Store, files: &[PathBuf], opts: MergeOptions) -> MergeReport {
    s.merge_files(files, opts).unwrap()
}

fn refusals(r: &MergeReport) -> Vec<Refusal> {
    r.files
        .iter()
        .flat_map(|f| match f {
            FileOutcome::Refused(x) => x.reasons.clone(),
            _ => vec![],
        })
        .collect()
}

fn snap(s: &Store, dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    s.snapshot(&p).unwrap();
    p
}

fn visit_ids(s: &Store) -> Vec<String> {
    let c = common::sql(s);
    let mut st = c.prepare("SELECT visit_id FROM visit ORDER BY visit_id").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// The sample imported by a crew, snapshotted, merged by a county.
fn county_with_sample(dir: &Path) -> (Store, Identity) {
    let crew_id = Identity::generate("攸县 3 组");
    let mut crew = Store::open_with(&dir.join("crew.db"), &crew_id).unwrap();
    crew.import_bundle(&common::sample("sample"), false).unwrap();
    let file = snap(&crew, dir, "crew-snap.db");
    let county_id = Identity::generate("荷塘区农业农村局");
    let mut county = Store::open_with(&dir.join("county.db"), &county_id).unwrap();
    county.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let r = merge(&mut county, &[file], enrol_new());
    assert_eq!(r.refused(), 0, "{r:?}");
    (county, county_id)
}

#[test]
fn approved_only_figures_equal_a_database_of_the_approved_visits_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut county, _) = county_with_sample(dir);
    let ids = visit_ids(&county);
    // Every third visit approved, every fifth of the rest sent back; one
    // approved then judged otherwise by a second review (its standing is
    // that reviewer's latest: not approved).
    let mut approved = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        if i % 3 == 0 {
            county.review(id, ReviewState::Approved, "").unwrap();
            approved.push(id.clone());
        } else if i % 5 == 0 {
            county.review(id, ReviewState::Issues, "户数核对").unwrap();
        }
    }
    let changed = approved.pop().unwrap();
    county.review(&changed, ReviewState::Rejected, "未到现场").unwrap();
    assert!(approved.len() > 50, "{}", approved.len());
    let only = Store::open(&dir.join("only.db")).unwrap();
    let mut only = only;
    only.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    for id in &approved {
        let (_, v) = county.load_visit(id).unwrap().unwrap();
        only.save_visit("t", id, Some(&v)).unwrap();
    }
    let s = Settings::default();
    for as_of in ["2024-06-30", "2025-12-31"] {
        for level in [Level::County, Level::Township, Level::Village] {
            let a = county
                .summary_counting(as_of, level, None, &s, Counting { approved_only: true, ..Default::default() })
                .unwrap();
            let b = only.summary(as_of, level, None, &s).unwrap();
            assert!(a.approved_only);
            assert_eq!(a.total.approved, a.total.surveyed, "every counted visit is approved");
            let plain = |f: &ruralsan::domain::indicators::Figures| ruralsan::domain::indicators::Figures {
                approved: 0,
                flagged: 0,
                ..*f
            };
            assert_eq!(plain(&a.total), plain(&b.total), "{as_of} {level:?}");
            assert_eq!(a.areas.len(), b.areas.len());
            for (x, y) in a.areas.iter().zip(&b.areas) {
                assert_eq!((&x.code, plain(&x.figures)), (&y.code, plain(&y.figures)), "{as_of} {level:?}");
            }
        }
    }
    // The default summary counts every visit and says how many are approved.
    let with_checks = Counting { flagged: true, ..Default::default() };
    let all = county.summary_counting("2025-12-31", Level::County, None, &s, with_checks).unwrap();
    let approved_only = county.summary_counting(
        "2025-12-31",
        Level::County,
        None,
        &s,
        Counting { approved_only: true, ..Default::default() },
    );
    assert!(all.total.surveyed > approved_only.unwrap().total.surveyed);
    assert!(all.total.approved > 0 && all.total.approved < all.total.surveyed);
    assert!(all.total.flagged > 0);
}

/// The latest approved visit on or before D counts, even when a later
/// visit of the village is not approved.
#[test]
fn an_unapproved_later_visit_leaves_the_earlier_approved_one_counting() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Store::open(&tmp.path().join("a.db")).unwrap();
    common::sql(&s)
        .execute("INSERT INTO roster (code, name, is_village) VALUES ('430202001201', '一村', 1)", [])
        .unwrap();
    let mut rng = ruralsan::generate::Rng::new(3);
    let mut v1 = ruralsan::generate::random_visit(&mut rng, "430202001201", "2024-05-01");
    v1.households = 100;
    let mut v2 = v1.clone();
    v2.survey_date = "2025-05-01".into();
    v2.households = 120;
    s.save_visit("t", "v1", Some(&v1)).unwrap();
    s.save_visit("t", "v2", Some(&v2)).unwrap();
    s.review("v1", ReviewState::Approved, "").unwrap();
    let d = Settings::default();
    let only = Counting { approved_only: true, ..Default::default() };
    let f = s.summary_counting("2025-12-31", Level::County, None, &d, only).unwrap().total;
    assert_eq!((f.households, f.surveyed, f.approved), (100, 1, 1));
    let f = s.summary("2025-12-31", Level::County, None, &d).unwrap().total;
    assert_eq!((f.households, f.approved), (120, 0));
    // An edit of the approved visit needs a new review.
    let (rev, mut v) = s.load_visit("v1").unwrap().unwrap();
    v.notes = "补充".into();
    s.save_from_form("t", "v1", Some(&v), Some(&rev), None).unwrap();
    assert_eq!(s.visit_review("v1").unwrap().standing, Standing::Unreviewed);
    assert!(s.visit_review("v1").unwrap().corrected_waiting());
    let f = s.summary_counting("2025-12-31", Level::County, None, &d, only).unwrap().total;
    assert_eq!(f.surveyed, 0);
}

/// Two reviewers (two county installations) judge the same revisions; a
/// third database merges their snapshots in every order, twice: the same
/// reviews, the same standings, the disagreement shown.
#[test]
fn reviews_survive_merge_in_any_order_and_disagreement_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut a, _) = county_with_sample(dir);
    let base = snap(&a, dir, "a0.db");
    let ids = visit_ids(&a);
    let mut b = Store::open_with(&dir.join("b.db"), &Identity::generate("芦淞区")).unwrap();
    b.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    assert_eq!(merge(&mut b, &[base], enrol_new()).refused(), 0);
    a.review(&ids[0], ReviewState::Approved, "").unwrap();
    a.review(&ids[1], ReviewState::Approved, "").unwrap();
    b.review(&ids[0], ReviewState::Rejected, "照片与数据不符").unwrap();
    b.review(&ids[2], ReviewState::Issues, "").unwrap();
    let files = [snap(&a, dir, "a.db"), snap(&b, dir, "b1.db")];
    let orders: [&[usize]; 3] = [&[0, 1], &[1, 0], &[1, 0, 1, 0]];
    let mut dumps = Vec::new();
    for (n, order) in orders.iter().enumerate() {
        let mut c = Store::open(&dir.join(format!("c{n}.db"))).unwrap();
        c.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
        for i in *order {
            let r = merge(&mut c, &[files[*i].clone()], enrol_new());
            assert_eq!(r.refused(), 0, "{r:?}");
        }
        let w = c.visit_review(&ids[0]).unwrap();
        assert_eq!(w.standing, Standing::Disputed(vec![ReviewState::Approved, ReviewState::Rejected]));
        assert_eq!(w.returned_note(), Some("照片与数据不符"));
        assert_eq!(c.visit_review(&ids[1]).unwrap().standing, Standing::Agreed(ReviewState::Approved));
        assert_eq!(c.visit_review(&ids[2]).unwrap().standing, Standing::Agreed(ReviewState::Issues));
        let c_sql = common::sql(&c);
        let reviews: String = c_sql
            .query_row(
                "SELECT group_concat(review_id || signature, ',') FROM (SELECT * FROM review ORDER BY review_id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        dumps.push(reviews);
    }
    assert!(dumps.iter().all(|d| *d == dumps[0]));
    assert_eq!(dumps[0].split(',').count(), 4);
}

#[test]
fn a_hostile_review_refuses_the_file_and_leaves_the_database_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut county, _) = county_with_sample(dir);
    let ids = visit_ids(&county);
    county.review(&ids[0], ReviewState::Approved, "好").unwrap();
    let good = snap(&county, dir, "good.db");
    let mut target = Store::open(&dir.join("t.db")).unwrap();
    target.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    // Without enrolling the county, its review (and revisions) are refused.
    let r = merge(&mut target, std::slice::from_ref(&good), MergeOptions::default());
    assert!(refusals(&r).iter().any(|x| matches!(x, Refusal::NotEnrolled { .. })), "{r:?}");
    let tamper = |name: &str, sql: &str| -> PathBuf {
        let p = dir.join(name);
        std::fs::copy(&good, &p).unwrap();
        rusqlite::Connection::open(&p).unwrap().execute_batch(sql).unwrap();
        p
    };
    type Expect = fn(&ReviewReason) -> bool;
    let cases: Vec<(PathBuf, Expect)> = vec![
        (tamper("note.db", "UPDATE review SET note = '改过'"), |w| *w == ReviewReason::IdMismatch),
        (tamper("unknown.db", "UPDATE review SET rev_id = 'ffffffffffffffffffffffffffffffff'"), |w| {
            matches!(w, ReviewReason::UnknownRevision(_))
        }),
        (tamper("unsigned.db", "UPDATE review SET signature = ''"), |w| *w == ReviewReason::Unsigned),
        (tamper("badsig.db", "UPDATE review SET signature = substr(signature, 2) || '0'"), |w| {
            matches!(w, ReviewReason::BadSignature { .. })
        }),
    ];
    for (file, expect) in cases {
        let before = common::dump(&target);
        let r = merge(&mut target, std::slice::from_ref(&file), enrol_new());
        let why = refusals(&r);
        assert!(
            why.iter().any(|x| matches!(x, Refusal::Review { why, .. } if expect(why))),
            "{}: {why:?}",
            file.display()
        );
        assert_eq!(common::dump(&target), before, "a refused file changes nothing");
    }
    // The honest file merges, and its review with it.
    let r = merge(&mut target, &[good], enrol_new());
    assert_eq!(r.refused(), 0, "{r:?}");
    assert_eq!(target.visit_review(&ids[0]).unwrap().standing, Standing::Agreed(ReviewState::Approved));
}

/// A county sends a visit back; its snapshot, merged on the crew laptop,
/// shows the crew "returned: <note>"; the crew corrects it; the next merge
/// shows the county the corrected revision waiting for review.
#[test]
fn a_return_travels_county_to_crew_and_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let crew_id = Identity::generate("攸县 3 组");
    let mut crew = Store::open_with(&dir.join("crew.db"), &crew_id).unwrap();
    crew.import_bundle(&common::sample("sample"), false).unwrap();
    let county_id = Identity::generate("荷塘区农业农村局");
    let mut county = Store::open_with(&dir.join("county.db"), &county_id).unwrap();
    county.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    assert_eq!(merge(&mut county, &[snap(&crew, dir, "crew1.db")], enrol_new()).refused(), 0);
    let id = visit_ids(&county)[0].clone();
    county.review(&id, ReviewState::Issues, "户数与上次差太多，请核实").unwrap();
    assert!(county.visit_review(&id).unwrap().returned_note().is_some());

    // County → crew: the crew trusts its county (enrolled from the county's card).
    let card = dir.join("county.card");
    std::fs::write(&card, county_id.card()).unwrap();
    crew.enrol_card(&card).unwrap();
    let r = merge(&mut crew, &[snap(&county, dir, "county1.db")], MergeOptions::default());
    assert_eq!(r.refused(), 0, "{r:?}");
    match &r.files[0] {
        FileOutcome::Merged(m) => assert_eq!(m.new_reviews, 1),
        other => panic!("{other:?}"),
    }
    let seen = crew.visit_review(&id).unwrap();
    assert_eq!(seen.returned_note(), Some("户数与上次差太多，请核实"));
    assert_eq!(
        ruralsan::strings::checks::returned(seen.returned_note().unwrap(), ruralsan::strings::Lang::Zh),
        "退回：户数与上次差太多，请核实"
    );
    // The crew's visit list carries it.
    let code = crew.load_visit(&id).unwrap().unwrap().1.village_code;
    let listed = crew.visits_of(&code).unwrap();
    let item = listed.iter().find(|v| v.visit_id == id).unwrap();
    assert_eq!(item.returned.as_deref(), Some("户数与上次差太多，请核实"));

    // The crew corrects the visit from the revision it was shown.
    let (rev, mut v) = crew.load_visit(&id).unwrap().unwrap();
    v.notes = "已核实：新增一个组".into();
    crew.save_from_form("王芳", &id, Some(&v), Some(&rev), None).unwrap();
    assert_eq!(crew.visit_review(&id).unwrap().returned_note(), None, "the correction is not returned");
    assert!(crew.visits_of(&code).unwrap().iter().all(|v| v.returned.is_none()));

    // Crew → county: the corrected revision waits for review.
    let r = merge(&mut county, &[snap(&crew, dir, "crew2.db")], MergeOptions::default());
    assert_eq!(r.refused(), 0, "{r:?}");
    let w = county.visit_review(&id).unwrap();
    assert_eq!(w.standing, Standing::Unreviewed);
    assert!(w.corrected_waiting());
    assert_eq!(w.last_return.as_ref().map(|x| x.note.as_str()), Some("户数与上次差太多，请核实"));
    assert_ne!(w.current_rev.as_deref(), Some(rev.as_str()));
    county.review(&id, ReviewState::Approved, "").unwrap();
    assert!(county.visit_review(&id).unwrap().standing.approved());
}

/// A file from before reviews (schema version 4: no review table) is
/// upgraded in its staging copy and merges.
#[test]
fn a_version_4_file_without_reviews_still_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let crew_id = Identity::generate("攸县 3 组");
    let mut crew = Store::open_with(&dir.join("crew.db"), &crew_id).unwrap();
    crew.import_bundle(&common::sample("sample"), false).unwrap();
    let file = snap(&crew, dir, "crew.db.snap");
    rusqlite::Connection::open(&file).unwrap().execute_batch("DROP TABLE review; PRAGMA user_version = 4;").unwrap();
    let mut county = Store::open(&dir.join("county.db")).unwrap();
    county.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let r = merge(&mut county, &[file], enrol_new());
    assert_eq!(r.refused(), 0, "{r:?}");
    assert_eq!(visit_ids(&county), visit_ids(&crew));
}
