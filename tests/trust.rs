//! Identity, signatures, enrolment and the clock rule (README "Identity and
//! enrolment", "The clock rule"): each installation is its own, revisions
//! are signed, a merge accepts only enrolled (or certified) signers, never a
//! re-labelled revision, never a stamp more than a day ahead.

mod common;

use std::path::{Path, PathBuf};

use ruralsan::generate::{Rng, random_visit};
use ruralsan::identity::Identity;
use ruralsan::store::Store;
use ruralsan::store::error::Refusal;
use ruralsan::store::sync::{FileOutcome, MergeOptions, MergeReport};

fn enrol_new() -> MergeOptions {
    MergeOptions { enrol_new: true, ..Default::default() }
}

/// A crew's card file, as `ruralsan identity --export` writes it.
fn card(dir: &Path, id: &Identity) -> PathBuf {
    let p = dir.join(format!("{}.card", ruralsan::identity::fingerprint(&id.key_id())));
    std::fs::write(&p, id.card()).unwrap();
    p
}

struct Fx {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    county_id: Identity,
    crew_id: Identity,
    county: PathBuf,
    crew: PathBuf,
}

/// A county with the sample roster and one visit; a crew made from its
/// snapshot (a new installation of its own) that edited the visit.
fn fixture() -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let county_id = Identity::generate("株洲县");
    let crew_id = Identity::generate("攸县 3 组");
    let county = dir.join("county.db");
    let crew = dir.join("crew-laptop.db");
    let mut c = Store::open_with(&county, &county_id).unwrap();
    c.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let code: String = common::sql(&c)
        .query_row("SELECT code FROM roster WHERE is_village = 1 ORDER BY code LIMIT 1", [], |r| r.get(0))
        .unwrap();
    c.save_visit("陈静", "visit-1", Some(&random_visit(&mut Rng::new(3), &code, "2025-05-01"))).unwrap();
    let snap = dir.join("county-snap.db");
    c.snapshot(&snap).unwrap();
    drop(c);
    // The crew's laptop starts from the county's snapshot.
    std::fs::copy(&snap, &crew).unwrap();
    let mut k = Store::open_with(&crew, &crew_id).unwrap();
    let (_, mut v) = k.load_visit("visit-1").unwrap().unwrap();
    v.notes = "新建污水站".into();
    k.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    Fx { _tmp: tmp, dir, county_id, crew_id, county, crew }
}

impl Fx {
    fn stick(&self, name: &str) -> PathBuf {
        let out = self.dir.join(name);
        let _ = std::fs::remove_file(&out);
        Store::open_with(&self.crew, &self.crew_id).unwrap().snapshot(&out).unwrap();
        out
    }

    fn county(&self) -> Store {
        Store::open_with(&self.county, &self.county_id).unwrap()
    }

    /// Merges `file` into the county and checks it was refused with the
    /// county's file unchanged byte for byte; the reasons.
    fn refused(&self, file: &Path, opts: MergeOptions) -> Vec<Refusal> {
        // Closing a store folds its log into the file: compare files at rest.
        drop(self.county());
        let before = std::fs::read(&self.county).unwrap();
        let r = self.county().merge_files(&[file.to_path_buf()], opts).unwrap();
        assert_eq!(std::fs::read(&self.county).unwrap(), before, "a refused merge changed the county's file");
        match r.files.into_iter().next().unwrap() {
            FileOutcome::Refused(f) => f.reasons,
            other => panic!("not refused: {other:?}"),
        }
    }
}

fn merged(r: &MergeReport) -> &ruralsan::store::sync::FileReport {
    match &r.files[0] {
        FileOutcome::Merged(x) => x,
        other => panic!("not merged: {other:?}"),
    }
}

/// Edits a staged copy of a file with SQL (a hostile or broken stick).
fn tampered(src: &Path, out: &Path, sql: &str) -> PathBuf {
    std::fs::copy(src, out).unwrap();
    let c = rusqlite::Connection::open(out).unwrap();
    c.execute_batch(sql).unwrap();
    c.execute_batch("PRAGMA journal_mode = DELETE").unwrap();
    drop(c);
    out.to_path_buf()
}

#[test]
fn two_installations_from_one_snapshot_have_their_own_identities() {
    let fx = fixture();
    let c = fx.county();
    let k = Store::open_with(&fx.crew, &fx.crew_id).unwrap();
    assert_ne!(c.device(), k.device());
    assert_eq!(k.device(), fx.crew_id.key_id());
    // Each revision names its signer, crew and editor, apart from the surveyor.
    let heads = k.heads("visit-1").unwrap();
    assert_eq!(heads[0].device, fx.crew_id.key_id());
    assert_eq!(heads[0].crew, "攸县 3 组");
    assert_eq!(heads[0].author, "李娜");
    assert!(heads[0].signature_valid());
    // The identity lives in its folder: two folders, two keys; one folder, one key.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ia = Identity::load_or_create(a.path()).unwrap();
    assert_ne!(ia.key_id(), Identity::load_or_create(b.path()).unwrap().key_id());
    assert_eq!(ia.key_id(), Identity::load_or_create(a.path()).unwrap().key_id());
}

#[test]
fn an_unenrolled_crew_is_refused_then_enrolled_by_card_or_on_merge() {
    let fx = fixture();
    let stick = fx.stick("crew.db");
    let fp = ruralsan::identity::fingerprint(&fx.crew_id.key_id());
    let why = fx.refused(&stick, MergeOptions::default());
    assert_eq!(why, vec![Refusal::NotEnrolled { crew: "攸县 3 组".into(), fingerprint: fp.clone(), revisions: 1 }]);
    // A dry run with --enrol-new enrols nobody.
    let dry = fx.county().merge_files(
        std::slice::from_ref(&stick),
        MergeOptions { dry_run: true, enrol_new: true, ..Default::default() },
    );
    assert_eq!(merged(&dry.unwrap()).enrolled.len(), 1);
    assert!(fx.county().crews().unwrap().is_empty());
    // --enrol-new: enrolled, named, merged.
    let r = fx.county().merge_files(std::slice::from_ref(&stick), enrol_new()).unwrap();
    let x = merged(&r);
    assert_eq!(x.new_revisions, 1);
    assert_eq!(x.enrolled.len(), 1);
    assert_eq!((x.enrolled[0].name.as_str(), x.enrolled[0].key.as_str()), ("攸县 3 组", fx.crew_id.key_id().as_str()));
    let crews = fx.county().crews().unwrap();
    assert_eq!(crews.len(), 1);
    assert_eq!(crews[0].revisions, 1);
    assert_eq!(crews[0].enrolled_by, fx.county_id.key_id());

    // By card, in another county.
    let other_id = Identity::generate("醴陵县");
    let other = fx.dir.join("other.db");
    let mut o = Store::open_with(&other, &other_id).unwrap();
    o.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let crew_card = card(&fx.dir, &fx.crew_id);
    let e = o.enrol_card(&crew_card).unwrap();
    assert_eq!(e.name, "攸县 3 组");
    assert!(o.enrol_card(&crew_card).is_err(), "enrolled twice");
    let r = o.merge_files(&[stick], MergeOptions::default()).unwrap();
    // The crew's file carries the county's first revision too: refused
    // unless the county is trusted here as well.
    assert!(matches!(&r.files[0], FileOutcome::Refused(f) if f.reasons.iter().any(|w| matches!(w,
        Refusal::NotEnrolled { crew, .. } if crew == "株洲县"))));
    o.enrol_card(&card(&fx.dir, &fx.county_id)).unwrap();
    let r = o.merge_files(&[fx.stick("crew2.db")], MergeOptions::default()).unwrap();
    assert_eq!(merged(&r).new_revisions, 2);
}

#[test]
fn relabelled_unsigned_and_badly_signed_revisions_are_refused() {
    let fx = fixture();
    let stick = fx.stick("crew.db");
    fx.county().merge_files(std::slice::from_ref(&stick), enrol_new()).unwrap();
    let rev: String = common::sql(&fx.county())
        .query_row("SELECT rev_id FROM revision WHERE crew = '攸县 3 组'", [], |r| r.get(0))
        .unwrap();
    let short = rev.clone();

    // Re-labelled: a revision held here credited to someone else.
    let f =
        tampered(&stick, &fx.dir.join("relabel.db"), "UPDATE revision SET author = '王芳' WHERE crew = '攸县 3 组'");
    assert_eq!(
        fx.refused(&f, MergeOptions::default()),
        vec![Refusal::Relabelled { rev: short.clone(), fields: vec!["author"] }]
    );
    let f = tampered(&stick, &fx.dir.join("restamp.db"), "UPDATE revision SET hlc = '0000000000001.00000'");
    let why = fx.refused(&f, MergeOptions::default());
    assert!(why.iter().all(|w| matches!(w, Refusal::Relabelled { fields, .. } if fields == &vec!["hlc"])), "{why:?}");

    // A new revision of the crew, then tampered with on the stick.
    {
        let mut k = Store::open_with(&fx.crew, &fx.crew_id).unwrap();
        let (_, mut v) = k.load_visit("visit-1").unwrap().unwrap();
        v.notes = "复查".into();
        k.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    }
    let stick2 = fx.stick("crew2.db");
    let new_rev: String = rusqlite::Connection::open(&stick2)
        .unwrap()
        .query_row("SELECT rev_id FROM revision ORDER BY hlc DESC LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let f = tampered(
        &stick2,
        &fx.dir.join("unsigned.db"),
        &format!("UPDATE revision SET signature = '' WHERE rev_id = '{new_rev}'"),
    );
    assert_eq!(
        fx.refused(&f, MergeOptions::default()),
        vec![Refusal::Unsigned { rev: new_rev.clone(), crew: "攸县 3 组".into() }]
    );
    let f = tampered(
        &stick2,
        &fx.dir.join("badsig.db"),
        &format!("UPDATE revision SET author = '王芳' WHERE rev_id = '{new_rev}'"),
    );
    let fp = ruralsan::identity::fingerprint(&fx.crew_id.key_id());
    assert_eq!(
        fx.refused(&f, enrol_new()),
        vec![Refusal::BadSignature { rev: new_rev.clone(), crew: "攸县 3 组".into(), fingerprint: fp.clone() }]
    );
    // Signed by a key of its own, claiming the crew's name: unknown key.
    let forger = Identity::generate("攸县 3 组");
    let forged_sig = {
        let c = rusqlite::Connection::open(&stick2).unwrap();
        let mut r = c
            .query_row(
                &format!("SELECT {} FROM revision WHERE rev_id = ?1", ruralsan::store::revisions::REVISION_COLUMNS),
                [&new_rev],
                ruralsan::store::revisions::row_to_revision,
            )
            .unwrap();
        r.sign(&forger);
        (r.device, r.signature)
    };
    let f = tampered(
        &stick2,
        &fx.dir.join("forged.db"),
        &format!(
            "UPDATE revision SET device = '{}', signature = '{}' WHERE rev_id = '{new_rev}'",
            forged_sig.0, forged_sig.1
        ),
    );
    let why = fx.refused(&f, MergeOptions::default());
    assert_eq!(
        why,
        vec![Refusal::NotEnrolled {
            crew: "攸县 3 组".into(),
            fingerprint: ruralsan::identity::fingerprint(&forger.key_id()),
            revisions: 1
        }]
    );
    // The real file still merges.
    assert_eq!(merged(&fx.county().merge_files(&[stick2], MergeOptions::default()).unwrap()).new_revisions, 1);
}

#[test]
fn a_revoked_crew_sends_no_more_and_keeps_what_it_sent() {
    let fx = fixture();
    fx.county().merge_files(&[fx.stick("crew.db")], enrol_new()).unwrap();
    let fp = ruralsan::identity::spoken(&fx.crew_id.key_id());
    let k = fx.county().revoke(&fp).unwrap();
    assert!(k.revoked_at.is_some());
    assert!(fx.county().revoke("0000 0000").is_err());
    {
        let mut s = Store::open_with(&fx.crew, &fx.crew_id).unwrap();
        let (_, mut v) = s.load_visit("visit-1").unwrap().unwrap();
        v.notes = "复查".into();
        s.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    }
    let why = fx.refused(&fx.stick("crew2.db"), enrol_new());
    assert_eq!(
        why,
        vec![Refusal::Revoked {
            crew: "攸县 3 组".into(),
            fingerprint: ruralsan::identity::fingerprint(&fx.crew_id.key_id()),
            revisions: 1
        }]
    );
    let crews = fx.county().crews().unwrap();
    assert_eq!((crews[0].revisions, crews[0].revoked_at.is_some()), (1, true), "merged revisions stay");
}

#[test]
fn a_province_accepts_the_crews_a_county_it_enrolled_certified() {
    let fx = fixture();
    let card_crew = card(&fx.dir, &fx.crew_id);
    let mut county = fx.county();
    county.enrol_card(&card_crew).unwrap();
    assert_eq!(merged(&county.merge_files(&[fx.stick("crew.db")], MergeOptions::default()).unwrap()).new_revisions, 1);
    let county_snap = fx.dir.join("county-out.db");
    county.snapshot(&county_snap).unwrap();
    drop(county);

    let province_id = Identity::generate("湖南省");
    let province = fx.dir.join("province.db");
    let mut p = Store::open_with(&province, &province_id).unwrap();
    p.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    // Not trusting the county: neither it nor its crews.
    let r = p.merge_files(std::slice::from_ref(&county_snap), MergeOptions::default()).unwrap();
    let FileOutcome::Refused(f) = &r.files[0] else { panic!("accepted an unenrolled county") };
    assert_eq!(f.reasons.len(), 2, "{:?}", f.reasons);
    p.enrol_card(&card(&fx.dir, &fx.county_id)).unwrap();
    // A certificate the county did not sign is worth nothing.
    let forged = tampered(&county_snap, &fx.dir.join("forged-cert.db"), "UPDATE crew_key SET name = '假冒组'");
    let r = p.merge_files(&[forged], MergeOptions::default()).unwrap();
    let FileOutcome::Refused(f) = &r.files[0] else { panic!("accepted a forged certificate") };
    assert!(matches!(&f.reasons[..], [Refusal::NotEnrolled { crew, .. }] if crew == "攸县 3 组"), "{:?}", f.reasons);
    let r = p.merge_files(&[county_snap], MergeOptions::default()).unwrap();
    let x = merged(&r);
    assert_eq!(x.new_revisions, 2);
    assert_eq!(x.enrolled.len(), 1, "the certified crew is recorded");
    let crews = p.crews().unwrap();
    let crew = crews.iter().find(|k| k.key == fx.crew_id.key_id()).unwrap();
    assert_eq!(crew.enrolled_by, fx.county_id.key_id());
}

#[test]
fn a_future_stamped_file_is_refused_and_restamp_gets_it_accepted() {
    let fx = fixture();
    fx.county().merge_files(&[fx.stick("crew.db")], enrol_new()).unwrap();
    // The crew's CMOS battery died: its clock says 2100.
    {
        let c = rusqlite::Connection::open(&fx.crew).unwrap();
        c.execute("UPDATE meta SET value = '4102444800000.00000' WHERE key = 'hlc'", []).unwrap();
        drop(c);
        let mut k = Store::open_with(&fx.crew, &fx.crew_id).unwrap();
        let (_, mut v) = k.load_visit("visit-1").unwrap().unwrap();
        v.notes = "2100 年的修改".into();
        k.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    }
    let clock_before = fx.county().meta("hlc").unwrap();
    let why = fx.refused(&fx.stick("future.db"), MergeOptions::default());
    assert_eq!(why.len(), 1);
    let Refusal::FutureStamp { crew, ahead_ms, .. } = &why[0] else { panic!("{why:?}") };
    assert_eq!(crew, "攸县 3 组");
    assert!(*ahead_ms > 70 * 365 * 24 * 3600 * 1000, "{ahead_ms}");
    assert_eq!(fx.county().meta("hlc").unwrap(), clock_before, "the county's clock did not move");
    // The crew app sees its clock is before its newest revision.
    let mut k = Store::open_with(&fx.crew, &fx.crew_id).unwrap();
    assert!(matches!(k.clock_warning().unwrap(), Some(ruralsan::store::trust::ClockWarning::Behind { .. })));
    // Clock fixed: restamp, new snapshot, accepted.
    let r = k.restamp().unwrap();
    assert_eq!(r.restamped, 1);
    assert_eq!(k.clock_warning().unwrap(), None);
    assert!(k.meta("hlc").unwrap().unwrap().as_str() < "4000000000000");
    drop(k);
    let r = fx.county().merge_files(&[fx.stick("fixed.db")], MergeOptions::default()).unwrap();
    assert_eq!(merged(&r).new_revisions, 1);
    assert_eq!(fx.county().load_visit("visit-1").unwrap().unwrap().1.notes, "2100 年的修改");
}

#[test]
fn conflicts_show_crew_editor_and_file() {
    let fx = fixture();
    let mut county = fx.county();
    let (_, mut v) = county.load_visit("visit-1").unwrap().unwrap();
    v.notes = "县里改的".into();
    county.save_visit("王芳", "visit-1", Some(&v)).unwrap();
    county.merge_files(&[fx.stick("crew-攸县.db")], enrol_new()).unwrap();
    let list = county.conflicts().unwrap();
    assert_eq!(list.len(), 1);
    let sides = &list[0].fields.iter().find(|f| f.field == "notes").unwrap().sides;
    let crew = sides.iter().find(|s| s.crew == "攸县 3 组").unwrap();
    assert_eq!(crew.author, "李娜");
    assert!(crew.file.as_deref().unwrap().ends_with("crew-攸县.db"));
    let here = sides.iter().find(|s| s.crew == "株洲县").unwrap();
    assert_eq!((here.author.as_str(), here.file.as_deref()), ("王芳", None));
    let json = ruralsan::store::conflict::conflicts_json(&list).to_string();
    assert!(json.contains("\"crew\":\"攸县 3 组\"") && json.contains("\"editor\":\"李娜\""), "{json}");
}

#[test]
fn legacy_revisions_new_here_need_adopt_legacy() {
    let fx = fixture();
    fx.county().merge_files(&[fx.stick("crew.db")], enrol_new()).unwrap();
    {
        let mut k = Store::open_with(&fx.crew, &fx.crew_id).unwrap();
        let (_, mut v) = k.load_visit("visit-1").unwrap().unwrap();
        v.notes = "升级前".into();
        k.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    }
    let stick = fx.stick("crew2.db");
    // As a revision made before version 4 reads after the upgrade.
    let legacy = tampered(
        &stick,
        &fx.dir.join("legacy.db"),
        "UPDATE revision SET crew = '', signature = '', device = 'old-uuid' WHERE hlc = (SELECT max(hlc) FROM revision)",
    );
    let why = fx.refused(&legacy, MergeOptions::default());
    assert!(matches!(&why[..], [Refusal::Unsigned { crew, .. }] if crew.is_empty()), "{why:?}");
    let adopt = MergeOptions { adopt_legacy: true, ..Default::default() };
    let r = fx.county().merge_files(&[legacy], adopt).unwrap();
    assert_eq!((merged(&r).new_revisions, merged(&r).adopted_legacy), (1, 1));
}

/// The commands, end to end: a crew names itself and exports its card, the
/// county sees its file refused naming the crew and fingerprint, then
/// enrols it on the merge, and lists it.
#[test]
fn the_cli_names_enrols_and_lists_crews() {
    let fx = fixture();
    let bin = env!("CARGO_BIN_EXE_ruralsan");
    let crew_home = fx.dir.join("crew-home");
    let county_home = fx.dir.join("county-home");
    let run = |home: &Path, args: &[&str]| {
        let out = std::process::Command::new(bin).env("RURALSAN_HOME", home).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let card = fx.dir.join("crew.card");
    let (code, out) =
        run(&crew_home, &["--lang", "en", "identity", "--name", "攸县 3 组", "--export", card.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let crew = Identity::load_or_create(&crew_home).unwrap();
    assert_eq!(crew.name(), "攸县 3 组");
    assert!(out.contains(&ruralsan::identity::spoken(&crew.key_id())), "{out}");
    // The crew's laptop, its own installation, edits and makes a snapshot.
    let laptop = fx.dir.join("laptop.db");
    let mut s = Store::open_with(&laptop, &crew).unwrap();
    s.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    s.merge_files(&[fx.dir.join("county-snap.db")], enrol_new()).unwrap();
    let (_, mut v) = s.load_visit("visit-1").unwrap().unwrap();
    v.notes = "命令行".into();
    s.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    let stick = fx.dir.join("cli-stick.db");
    s.snapshot(&stick).unwrap();
    drop(s);
    let county = fx.dir.join("cli-county.db");
    std::fs::copy(&fx.county, &county).unwrap();
    let db = county.to_str().unwrap();
    let (code, out) = run(&county_home, &["--lang", "en", "--db", db, "merge", stick.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(out.contains("crew 攸县 3 组 (fingerprint") && out.contains("is not enrolled"), "{out}");
    let (code, out) = run(&county_home, &["--lang", "en", "--db", db, "crews", "enrol", card.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&county_home, &["--lang", "en", "--db", db, "merge", stick.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let (_, out) = run(&county_home, &["--lang", "en", "--db", db, "crews"]);
    assert!(out.contains(&format!("攸县 3 组\t{}", ruralsan::identity::spoken(&crew.key_id()))), "{out}");
    // Another county enrols on the merge, printing name and fingerprint.
    let other = fx.dir.join("cli-other.db");
    std::fs::copy(&fx.county, &other).unwrap();
    let other = other.to_str().unwrap();
    let (code, out) =
        run(&county_home, &["--lang", "en", "--db", other, "merge", "--enrol-new", stick.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let line = format!("enrolled crew 攸县 3 组, fingerprint {}", ruralsan::identity::spoken(&crew.key_id()));
    assert!(out.contains(&line), "{out}");
}

#[test]
fn the_same_edit_signed_by_two_crews_merges_in_either_order_to_the_same_state() {
    let fx = fixture();
    // A second crew from the same county snapshot makes the very edit the first made.
    let other_id = Identity::generate("攸县 5 组");
    let other = fx.dir.join("other-laptop.db");
    std::fs::copy(fx.dir.join("county-snap.db"), &other).unwrap();
    {
        let mut k = Store::open_with(&other, &other_id).unwrap();
        let (_, mut v) = k.load_visit("visit-1").unwrap().unwrap();
        v.notes = "新建污水站".into();
        k.save_visit("李娜", "visit-1", Some(&v)).unwrap();
    }
    let a = fx.stick("a.db");
    let b = fx.dir.join("b.db");
    Store::open_with(&other, &other_id).unwrap().snapshot(&b).unwrap();
    let rev_of = |p: &Path| -> (String, String) {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("SELECT rev_id, crew FROM revision WHERE parents <> '[]'", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    };
    let (ra, ca) = rev_of(&a);
    let (rb, cb) = rev_of(&b);
    assert_eq!(ra, rb, "the same edit from the same base is the same revision");
    assert_ne!(ca, cb, "made by two crews");

    let state = |order: [&PathBuf; 2], name: &str| {
        let db = fx.dir.join(name);
        std::fs::copy(&fx.county, &db).unwrap();
        let mut c = Store::open_with(&db, &fx.county_id).unwrap();
        for f in order {
            let r = c.merge_files(std::slice::from_ref(f), enrol_new()).unwrap();
            assert!(matches!(r.files[0], FileOutcome::Merged(_)), "{:?}", r.files[0]);
        }
        common::sql(&c)
            .prepare("SELECT rev_id, hlc, device, crew, author, signature FROM revision ORDER BY rev_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            .unwrap()
            .collect::<rusqlite::Result<Vec<(String, String, String, String, String, String)>>>()
            .unwrap()
    };
    let ab = state([&a, &b], "ab.db");
    let ba = state([&b, &a], "ba.db");
    assert_eq!(ab, ba, "merge order changes nothing");
    assert_eq!(ab.len(), 2, "one root and the one edit");
    // Whichever signer is kept, its signature holds.
    let kept = ab.iter().find(|r| r.0 == ra).unwrap();
    let c = rusqlite::Connection::open(fx.dir.join("ab.db")).unwrap();
    let r = c
        .query_row(
            &format!("SELECT {} FROM revision WHERE rev_id = ?1", ruralsan::store::revisions::REVISION_COLUMNS),
            [&kept.0],
            ruralsan::store::revisions::row_to_revision,
        )
        .unwrap();
    assert!(r.signature_valid());
}

#[test]
fn an_automatic_merge_that_is_not_the_merge_of_its_parents_is_refused() {
    use ruralsan::store::revisions::{REVISION_COLUMNS, Revision, insert_revision, revision_id, row_to_revision};
    let fx = fixture();
    let stick = fx.stick("crew.db");
    let forged = fx.dir.join("forged-merge.db");
    std::fs::copy(&stick, &forged).unwrap();
    let c = rusqlite::Connection::open(&forged).unwrap();
    let revs: Vec<Revision> = c
        .prepare(&format!("SELECT {REVISION_COLUMNS} FROM revision ORDER BY rev_id"))
        .unwrap()
        .query_map([], row_to_revision)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(revs.len(), 2, "the county's root and the crew's edit");
    let edit = revs.iter().find(|r| !r.parents.is_empty()).unwrap();
    // "Merges" the root and the edit, with figures nobody signed.
    let mut v: ruralsan::domain::VisitData = serde_json::from_str(&edit.payload).unwrap();
    v.notes = "无人签名的改动".into();
    let payload = v.canonical_json();
    let parents: Vec<String> = revs.iter().map(|r| r.rev_id.clone()).collect();
    let m = Revision {
        rev_id: revision_id("visit-1", &parents, &payload, false),
        visit_id: "visit-1".into(),
        parents,
        payload,
        deleted: false,
        hlc: revs.iter().map(|r| r.hlc.clone()).max().unwrap(),
        device: "merge".into(),
        author: "merge".into(),
        crew: String::new(),
        signature: String::new(),
    };
    insert_revision(&c, &m).unwrap();
    c.execute("DELETE FROM head", []).unwrap();
    c.execute("INSERT INTO head (visit_id, rev_id) VALUES ('visit-1', ?1)", [&m.rev_id]).unwrap();
    c.execute_batch("PRAGMA journal_mode = DELETE").unwrap();
    drop(c);
    assert_eq!(fx.refused(&forged, enrol_new()), vec![Refusal::ForgedMerge { rev: m.rev_id.clone() }]);
    // The stick as the crew made it merges.
    assert_eq!(merged(&fx.county().merge_files(&[stick], enrol_new()).unwrap()).new_revisions, 1);
}
