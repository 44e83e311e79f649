//! Hostile and broken files offered to `merge`: each is refused whole with
//! its own reason naming the file, and the local database stays exactly as
//! it was (full dump compared before and after).

mod common;

use std::path::{Path, PathBuf};

use ruralsan::domain::VisitData;
use ruralsan::domain::validate::Reason;
use ruralsan::generate::{Rng, random_visit};
use ruralsan::store::Store;
use ruralsan::store::error::{Refusal, RowReason};
use ruralsan::store::revisions::revision_id;
use ruralsan::store::sync::{FileOutcome, MergeOptions};
use rusqlite::{Connection, params};

/// The first `n` administrative villages of the sample roster.
fn villages(store: &Store, n: usize) -> Vec<String> {
    let db = common::sql(store);
    let mut st = db.prepare("SELECT code FROM roster WHERE is_village = 1 ORDER BY code LIMIT ?1").unwrap();
    st.query_map([n as i64], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A crew database with the sample roster and a few visits, and its snapshot.
fn good_snapshot(dir: &Path) -> PathBuf {
    let mut crew = Store::open(&dir.join("crew.db")).unwrap();
    crew.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let mut rng = Rng::new(7);
    for code in villages(&crew, 12) {
        let v = random_visit(&mut rng, &code, "2024-05-01");
        let id = rng.uuid();
        crew.save_visit("陈静", &id, Some(&v)).unwrap();
    }
    let snap = dir.join("good.db");
    crew.snapshot(&snap).unwrap();
    snap
}

/// The county database: the same roster and visits of its own.
fn county(dir: &Path) -> Store {
    let mut c = Store::open(&dir.join("county.db")).unwrap();
    c.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let mut rng = Rng::new(99);
    for code in villages(&c, 30).into_iter().skip(20) {
        let v = random_visit(&mut rng, &code, "2024-06-01");
        let id = rng.uuid();
        c.save_visit("张伟", &id, Some(&v)).unwrap();
    }
    c
}

/// A copy of the good snapshot changed by `f` through a plain connection.
fn variant(dir: &Path, good: &Path, name: &str, f: impl FnOnce(&Connection)) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(good, &p).unwrap();
    let c = Connection::open(&p).unwrap();
    f(&c);
    drop(c);
    p
}

/// Rewrites one revision's payload and gives it the matching id, so only
/// the content rule can refuse it.
fn rewrite_first_visit(c: &Connection, change: impl FnOnce(&mut VisitData)) {
    let (rev_id, visit_id, payload): (String, String, String) = c
        .query_row("SELECT rev_id, visit_id, payload FROM revision ORDER BY rev_id LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let mut v: VisitData = serde_json::from_str(&payload).unwrap();
    change(&mut v);
    let payload = v.canonical_json();
    let new_id = revision_id(&visit_id, &[], &payload, false);
    c.execute("UPDATE revision SET rev_id = ?2, payload = ?3 WHERE rev_id = ?1", params![rev_id, new_id, payload])
        .unwrap();
}

/// Gives the first revision a new visit id and author, and the matching
/// revision id, so only the text rules can refuse it.
fn retag_first(c: &Connection, visit: Option<&str>, author: Option<&str>) {
    let (rev_id, visit_id, payload): (String, String, String) = c
        .query_row("SELECT rev_id, visit_id, payload FROM revision ORDER BY rev_id LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let visit_id = visit.map_or(visit_id, str::to_string);
    let new_id = revision_id(&visit_id, &[], &payload, false);
    c.execute(
        "UPDATE revision SET rev_id = ?2, visit_id = ?3, author = coalesce(?4, author) WHERE rev_id = ?1",
        params![rev_id, new_id, visit_id, author],
    )
    .unwrap();
}

/// Adds a revision without parents (a root) of `visit_id` to a file, stamped
/// like the file's own revisions, with its true id.
fn insert_root(c: &Connection, visit_id: &str, payload: &str, deleted: bool) {
    let (hlc, author): (String, String) =
        c.query_row("SELECT hlc, author FROM revision LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    // Signed by this test's installation: only the history rules can refuse it.
    let mut r = ruralsan::store::revisions::Revision {
        rev_id: revision_id(visit_id, &[], payload, deleted),
        visit_id: visit_id.to_string(),
        parents: Vec::new(),
        payload: payload.to_string(),
        deleted,
        hlc,
        device: String::new(),
        author,
        crew: String::new(),
        signature: String::new(),
    };
    r.sign(&ruralsan::identity::Identity::load_default().unwrap());
    ruralsan::store::revisions::insert_revision(c, &r).unwrap();
}

/// The first revision of a database: its visit id and payload.
fn first_revision(c: &Connection) -> (String, String) {
    let rev_id: String = c.query_row("SELECT rev_id FROM revision ORDER BY rev_id LIMIT 1", [], |r| r.get(0)).unwrap();
    // Through the store: the current revision's payload is kept in the current rows (schema version 5).
    let r = ruralsan::store::revisions::load_revision(c, &rev_id).unwrap().unwrap();
    (r.visit_id, r.payload)
}

/// A refusal of a revision's `field` by the visit rule `reason`.
fn rule(r: &Refusal, field: &str, reason: Reason) -> bool {
    matches!(r, Refusal::Revision { field: f, why: RowReason::Rule(why), .. } if *f == field && *why == reason)
}

/// A refusal of a revision's parents for `why`.
fn history(r: &Refusal, why: RowReason) -> bool {
    matches!(r, Refusal::Revision { field: "parents", why: w, .. } if *w == why)
}

/// A change made to a copy of the good file.
type Change = dyn Fn(&Connection);
/// The refusal expected.
type IsIt = dyn Fn(&Refusal) -> bool;

/// Issue 12, classes 1, 2 and 7: what no door accepts, merge refuses too;
/// numbers beyond their bounds; revisions that pretend a visit began twice
/// or ended without beginning.
#[test]
fn values_and_histories_no_door_accepts_are_refused_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = good_snapshot(dir);
    let mut local = county(dir);

    let cases: Vec<(&str, Box<Change>, Box<IsIt>)> = vec![
        (
            "visit-id-tab.db",
            Box::new(|c| retag_first(c, Some("v\t1"), None)),
            Box::new(|r| rule(r, "visit_id", Reason::BadChar('\t'))),
        ),
        (
            "visit-id-long.db",
            Box::new(|c| retag_first(c, Some(&"v".repeat(101)), None)),
            Box::new(|r| rule(r, "visit_id", Reason::TooLong(100))),
        ),
        (
            "author-zero-width.db",
            Box::new(|c| retag_first(c, None, Some("陈\u{200B}静"))),
            Box::new(|r| rule(r, "author", Reason::BadChar('\u{200B}'))),
        ),
        (
            "surveyor-bidi.db",
            Box::new(|c| rewrite_first_visit(c, |v| v.surveyor = "陈\u{202E}静".into())),
            Box::new(|r| rule(r, "surveyor", Reason::BadChar('\u{202E}'))),
        ),
        (
            "surveyor-line-break.db",
            Box::new(|c| rewrite_first_visit(c, |v| v.surveyor = "陈\n静".into())),
            Box::new(|r| rule(r, "surveyor", Reason::BadChar('\n'))),
        ),
        (
            "notes-escape.db",
            Box::new(|c| rewrite_first_visit(c, |v| v.notes = "ok\u{1b}]0;pwned\u{7}".into())),
            Box::new(|r| rule(r, "notes", Reason::BadChar('\u{1b}'))),
        ),
        (
            "wrapping-households.db",
            Box::new(|c| {
                rewrite_first_visit(c, |v| {
                    (v.households, v.hh_sewer, v.hh_reuse, v.hh_controlled) = (1, i64::MAX, i64::MAX, 0);
                    v.facilities.clear();
                })
            }),
            Box::new(|r| rule(r, "hh_sewer", Reason::TooLarge(100_000.0))),
        ),
        (
            "huge-households.db",
            Box::new(|c| rewrite_first_visit(c, |v| v.households = i64::MAX)),
            Box::new(|r| rule(r, "households", Reason::TooLarge(100_000.0))),
        ),
        (
            "huge-manure.db",
            Box::new(|c| {
                rewrite_first_visit(c, |v| {
                    v.farms.push(ruralsan::domain::Farm {
                        farm_id: "zz".into(),
                        name: "场".into(),
                        species: ruralsan::domain::Species::Pig,
                        head_on_hand: 1,
                        annual_out: 1,
                        manure_t: Some(1.7e308),
                        utilized_pct: 50.0,
                        facility_equipped: false,
                    })
                })
            }),
            Box::new(|r| rule(r, "manure_t", Reason::TooLarge(1e7))),
        ),
        (
            "roster-bidi.db",
            Box::new(|c| {
                c.execute_batch(
                    "INSERT INTO roster (code, name, is_village) VALUES ('430202999999', '假\u{202E}村', 1)",
                )
                .unwrap()
            }),
            Box::new(|r| *r == Refusal::RosterRow { code: "430202999999".into() }),
        ),
        (
            "area-zero-width.db",
            Box::new(|c| c.execute_batch("INSERT INTO area (code, name) VALUES ('430299', '假\u{FEFF}区')").unwrap()),
            Box::new(|r| *r == Refusal::AreaRow { code: "430299".into() }),
        ),
        (
            "tombstone-of-nothing.db",
            Box::new(|c| insert_root(c, "ghost-visit", "", true)),
            Box::new(|r| history(r, RowReason::TombstoneWithoutVisit)),
        ),
        (
            "second-root-in-file.db",
            Box::new(|c| {
                let (visit_id, payload) = first_revision(c);
                let mut v: VisitData = serde_json::from_str(&payload).unwrap();
                v.surveyor = "王芳".into();
                insert_root(c, &visit_id, &v.canonical_json(), false);
            }),
            Box::new(|r| history(r, RowReason::SecondRoot)),
        ),
    ];
    let mut n = 0;
    for (name, change, is_it) in &cases {
        let file = variant(dir, &good, name, change);
        assert_refused(&mut local, &file, is_it);
        n += 1;
    }

    // Against the local history: a second root of a visit the county has,
    // and a parentless deletion of it.
    let (visit_id, payload) = first_revision(&common::sql(&local));
    let mut v: VisitData = serde_json::from_str(&payload).unwrap();
    v.surveyor = "王芳".into();
    let other = v.canonical_json();
    let second_root = variant(dir, &good, "second-root-here.db", |c| insert_root(c, &visit_id, &other, false));
    assert_refused(&mut local, &second_root, |r| history(r, RowReason::SecondRoot));
    let delete_root = variant(dir, &good, "delete-root-here.db", |c| insert_root(c, &visit_id, "", true));
    assert_refused(&mut local, &delete_root, |r| history(r, RowReason::SecondRoot));
    assert_eq!(n + 2, 15);

    // The same root as the local one is no second root: it merges.
    let same_root = variant(dir, &good, "same-root.db", |c| insert_root(c, &visit_id, &payload, false));
    let r = local.merge_files(&[same_root], MergeOptions::default()).unwrap();
    assert!(matches!(r.files[0], FileOutcome::Merged(_)), "{:?}", r.files[0]);
}

/// Merges one file, expecting a refusal of that file with a reason that `is_it`.
fn assert_refused(local: &mut Store, file: &Path, is_it: impl Fn(&Refusal) -> bool) {
    let before = common::dump(local);
    let report = local.merge_files(&[file.to_path_buf()], MergeOptions::default()).unwrap();
    assert_eq!(report.files.len(), 1);
    match &report.files[0] {
        FileOutcome::Refused(r) => {
            assert_eq!(r.file, file.display().to_string(), "refusal does not name the file");
            assert!(r.reasons.iter().any(&is_it), "{}: not the expected reason: {:?}", file.display(), r.reasons);
        }
        other => panic!("{}: not refused: {other:?}", file.display()),
    }
    assert_eq!(common::dump(local), before, "{}: the local database changed", file.display());
}

/// A schema refusal naming `object` ("trigger wipe") among the extra objects.
fn extra_object(r: &Refusal, object: &str) -> bool {
    matches!(r, Refusal::SchemaDiffers { extra, .. } if extra.iter().any(|e| e == object))
}

#[test]
fn hostile_files_are_refused_whole_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = good_snapshot(dir);
    let mut local = county(dir);

    let not_sqlite = dir.join("notes.db");
    std::fs::write(&not_sqlite, "visit_id,village_code\nthis is a CSV file renamed .db\n".repeat(20)).unwrap();
    assert_refused(&mut local, &not_sqlite, |r| *r == Refusal::NotSqlite);

    let truncated = dir.join("truncated.db");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2 + 100]).unwrap();
    assert_refused(&mut local, &truncated, |r| *r == Refusal::Truncated);

    let truncated_pages = dir.join("truncated-pages.db");
    std::fs::write(&truncated_pages, &bytes[..4096 * 3]).unwrap();
    assert_refused(&mut local, &truncated_pages, |r| *r == Refusal::Truncated);

    let wrong_app = variant(dir, &good, "wrong-app.db", |c| c.execute_batch("PRAGMA application_id = 42").unwrap());
    assert_refused(&mut local, &wrong_app, |r| *r == Refusal::WrongApplicationId(42));

    let newer = variant(dir, &good, "newer.db", |c| c.execute_batch("PRAGMA user_version = 7").unwrap());
    assert_refused(
        &mut local,
        &newer,
        |r| matches!(r, Refusal::NewerSchema { version: 7, supported, .. } if *supported == ruralsan::store::SCHEMA_VERSION),
    );

    let trigger = variant(dir, &good, "trigger.db", |c| {
        c.execute_batch("CREATE TRIGGER wipe AFTER INSERT ON meta BEGIN DELETE FROM roster; END;").unwrap()
    });
    assert_refused(&mut local, &trigger, |r| extra_object(r, "trigger wipe"));

    let view =
        variant(dir, &good, "view.db", |c| c.execute_batch("CREATE VIEW visit2 AS SELECT * FROM visit").unwrap());
    assert_refused(&mut local, &view, |r| extra_object(r, "view visit2"));

    let extra_table = variant(dir, &good, "extra-table.db", |c| c.execute_batch("CREATE TABLE evil (x)").unwrap());
    assert_refused(&mut local, &extra_table, |r| extra_object(r, "table evil"));

    let changed = variant(dir, &good, "changed-index.db", |c| {
        c.execute_batch("DROP INDEX revision_visit; CREATE INDEX revision_visit ON revision (hlc);").unwrap()
    });
    assert_refused(&mut local, &changed, |r| {
        *r == Refusal::SchemaDiffers { extra: vec![], missing_or_changed: vec!["index revision_visit".to_string()] }
    });

    // Break the b-tree of the revision table: the page type byte becomes invalid.
    let corrupt = dir.join("corrupt.db");
    {
        let c = Connection::open(&good).unwrap();
        let root: i64 =
            c.query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'revision'", [], |r| r.get(0)).unwrap();
        let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        let mut b = bytes.clone();
        b[((root - 1) * page) as usize] = 0x07;
        std::fs::write(&corrupt, b).unwrap();
    }
    assert_refused(&mut local, &corrupt, |r| matches!(r, Refusal::Corrupt { .. }));

    // A header that lies about the free pages: SQLite reads it, quick_check does not pass it.
    let freelist = dir.join("freelist.db");
    let mut b = bytes.clone();
    b[36..40].copy_from_slice(&5u32.to_be_bytes());
    std::fs::write(&freelist, b).unwrap();
    assert_refused(&mut local, &freelist, |r| matches!(r, Refusal::IntegrityFailed { .. }));

    let negative = variant(dir, &good, "negative.db", |c| rewrite_first_visit(c, |v| v.households = -5));
    assert_refused(&mut local, &negative, |r| {
        matches!(r, Refusal::Revision { field: "households", why: RowReason::Rule(Reason::Negative), .. })
    });

    let outsider =
        variant(dir, &good, "outsider.db", |c| rewrite_first_visit(c, |v| v.village_code = "439999999999".into()));
    // A unit outside the local roster: the file is refused as a whole
    // (a merge never adds roster units), naming the count and the code.
    assert_refused(&mut local, &outsider, |r| {
        *r == Refusal::ForeignRoster { units: 1, first: vec!["439999999999".into()] }
    });

    let bad_roster = variant(dir, &good, "bad-roster.db", |c| {
        c.execute_batch("INSERT INTO roster (code, name, is_village) VALUES ('ABCDEFGHIJKL', '假村', 1)").unwrap()
    });
    assert_refused(&mut local, &bad_roster, |r| *r == Refusal::RosterCode { code: "ABCDEFGHIJKL".into() });

    let tampered = variant(dir, &good, "tampered.db", |c| {
        c.execute_batch(
            "UPDATE revision SET payload = replace(payload, '\"households\":', '\"households\":1') WHERE rowid = 1",
        )
        .unwrap()
    });
    assert_refused(&mut local, &tampered, |r| {
        matches!(r, Refusal::Revision { field: "rev_id", why: RowReason::RevIdMismatch, .. })
    });

    let huge = variant(dir, &good, "huge.db", |c| {
        c.execute_batch("UPDATE revision SET author = hex(zeroblob(50000000)) WHERE rowid = 1").unwrap()
    });
    assert!(std::fs::metadata(&huge).unwrap().len() > 100_000_000);
    assert_refused(&mut local, &huge, |r| {
        *r == Refusal::ValueTooBig { max_bytes: ruralsan::store::sync::MAX_VALUE_BYTES as usize }
    });

    // A laptop's live database (not a snapshot): its -wal holds recent saves.
    let live = dir.join("live.db");
    std::fs::copy(&good, &live).unwrap();
    std::fs::write(dir.join("live.db-wal"), b"frames").unwrap();
    assert_refused(&mut local, &live, |r| *r == Refusal::LiveDatabase);

    let missing = dir.join("no-such-file.db");
    assert_refused(&mut local, &missing, |r| *r == Refusal::NoSuchFile);

    // Refused files leave neither a backup nor a staged copy behind.
    assert_eq!(backups(dir), Vec::<String>::new(), "a backup was taken for a refused file");
    assert_eq!(staged_files(dir), Vec::<String>::new(), "a staged copy was left behind");

    // A refused file among good ones: the good one is merged, the bad one refused.
    let r = local.merge_files(&[negative.clone(), good.clone()], MergeOptions::default()).unwrap();
    assert!(matches!(r.files[0], FileOutcome::Refused(_)));
    let FileOutcome::Merged(m) = &r.files[1] else { panic!("good file not merged: {:?}", r.files[1]) };
    assert_eq!((m.new_visits, m.new_revisions), (12, 12));
    let n: i64 = common::sql(&local).query_row("SELECT count(*) FROM merge_log", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 1, "only the good file is logged");
}

#[test]
fn good_file_merges_once_and_a_dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = good_snapshot(dir);
    let mut local = county(dir);
    let before = common::dump(&local);
    let dry =
        local.merge_files(std::slice::from_ref(&good), MergeOptions { dry_run: true, ..Default::default() }).unwrap();
    let FileOutcome::Merged(d) = &dry.files[0] else { panic!("{:?}", dry.files[0]) };
    assert_eq!(d.new_visits, 12);
    assert!(dry.backup.is_none());
    assert_eq!(common::dump(&local), before, "a dry run changed the database");

    let r = local.merge_files(std::slice::from_ref(&good), MergeOptions::default()).unwrap();
    let FileOutcome::Merged(m) = &r.files[0] else { panic!("{:?}", r.files[0]) };
    assert_eq!((m.new_visits, m.new_revisions, m.conflicts), (12, 12, 0));
    let backup = r.backup.expect("a backup before writing");
    // The backup holds the database as it was before the merge.
    let b = Store::open(&backup).unwrap();
    assert_eq!(common::dump(&b), before, "the backup is not the database as it was");
    let visits: i64 = common::sql(&local).query_row("SELECT count(*) FROM visit", [], |r| r.get(0)).unwrap();
    assert_eq!(visits, 22);

    let after = common::dump(&local);
    let again = local.merge_files(std::slice::from_ref(&good), MergeOptions::default()).unwrap();
    assert!(matches!(again.files[0], FileOutcome::AlreadyMerged { .. }), "{:?}", again.files[0]);
    assert_eq!(common::dump(&local), after, "merging the same file again changed something");
}

/// Adds to the database at `db` revisions of visit `visit_id` made through
/// plain SQL (as a hostile crew's laptop could): a chain of `chain`
/// revisions above `root`, and `siblings` heads, the i-th a child of the
/// i-th link of the chain (of `root` when `chain` is 0). Each differs in
/// its notes. Returns the ids of the sibling heads.
fn grow_heads(db: &Path, visit_id: &str, root: &str, chain: usize, siblings: usize) -> Vec<String> {
    let c = Connection::open(db).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let payload = ruralsan::store::revisions::load_revision(&c, root).unwrap().unwrap().payload;
    let v: VisitData = serde_json::from_str(&payload).unwrap();
    let now = chrono::Utc::now().timestamp_millis() - 60_000;
    let tx = c.unchecked_transaction().unwrap();
    let me = ruralsan::identity::Identity::load_default().unwrap();
    let insert = |parent: &str, notes: String, n: usize| -> String {
        let mut w = v.clone();
        w.notes = notes;
        let payload = w.canonical_json();
        let parents = vec![parent.to_string()];
        // Signed by this test's installation, as the crew's own app would.
        let mut r = ruralsan::store::revisions::Revision {
            rev_id: revision_id(visit_id, &parents, &payload, false),
            visit_id: visit_id.to_string(),
            parents,
            payload,
            deleted: false,
            hlc: ruralsan::store::revisions::format_hlc(now, n as i64),
            device: String::new(),
            author: "陈静".into(),
            crew: String::new(),
            signature: String::new(),
        };
        r.sign(&me);
        ruralsan::store::revisions::insert_revision(&tx, &r).unwrap();
        r.rev_id
    };
    let mut links = vec![root.to_string()];
    for i in 0..chain {
        let parent = links.last().unwrap().clone();
        links.push(insert(&parent, format!("chain {i}"), i));
    }
    let heads: Vec<String> =
        (0..siblings).map(|i| insert(&links[(i + 1).min(links.len() - 1)], format!("head {i}"), chain + i)).collect();
    tx.commit().unwrap();
    heads
}

/// The staged copies in a staging folder (its lock file is no copy).
fn staged_files(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("staging")) {
        Ok(entries) => {
            entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n != ".lock").collect()
        }
        Err(_) => Vec::new(),
    }
}

/// The files in the backups folder.
fn backups(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(dir.join("backups")) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

#[test]
fn a_file_with_more_heads_than_a_person_can_settle_is_refused_and_leaves_no_backup_or_staging() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut crew = Store::open(&dir.join("crew").join("crew.db")).unwrap();
    crew.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    let code = villages(&crew, 1).remove(0);
    let v = random_visit(&mut Rng::new(3), &code, "2024-05-01");
    let saved = crew.save_visit("陈静", "visit-many-heads", Some(&v)).unwrap();
    let root = crew.current_revision("visit-many-heads").unwrap().unwrap();
    let _ = saved;
    let max = ruralsan::store::sync::MAX_HEADS_PER_VISIT;
    grow_heads(crew.path().unwrap(), "visit-many-heads", &root, 0, max + 1);
    let file = dir.join("many-heads.db");
    crew.snapshot(&file).unwrap();

    let mut local = county(dir);
    assert_refused(&mut local, &file, |r| {
        *r == Refusal::TooManyHeads { visit: "visit-many-heads".into(), heads: max + 1, max }
    });
    assert_eq!(backups(dir), Vec::<String>::new(), "a backup was taken for a refused file");
    assert_eq!(staged_files(dir), Vec::<String>::new(), "a staged copy was left behind");
    // A dry run refuses it the same way.
    let dry =
        local.merge_files(std::slice::from_ref(&file), MergeOptions { dry_run: true, ..Default::default() }).unwrap();
    assert!(matches!(&dry.files[0], FileOutcome::Refused(r) if matches!(r.reasons[0], Refusal::TooManyHeads { .. })));

    // At the bound exactly, the file is accepted: the conflict is listed with every side.
    let mut crew2 = Store::open(&dir.join("crew2").join("crew.db")).unwrap();
    crew2.import_roster(&common::sample("sample").join("villages.csv")).unwrap();
    crew2.save_visit("陈静", "visit-at-bound", Some(&v)).unwrap();
    let root2 = crew2.current_revision("visit-at-bound").unwrap().unwrap();
    grow_heads(crew2.path().unwrap(), "visit-at-bound", &root2, 0, max);
    let file2 = dir.join("at-bound.db");
    crew2.snapshot(&file2).unwrap();
    let r = local.merge_files(std::slice::from_ref(&file2), MergeOptions::default()).unwrap();
    assert!(matches!(&r.files[0], FileOutcome::Merged(m) if m.conflicts == 1), "{:?}", r.files[0]);
    let list = local.conflicts().unwrap();
    assert_eq!(list.len(), 1);
    let notes = list[0].fields.iter().find(|f| f.field == "notes").expect("notes conflict");
    assert_eq!(notes.sides.len(), max);
    assert_eq!(notes.base, Some(serde_json::Value::String(v.notes.clone())));
}

#[test]
fn conflicts_on_a_long_chain_with_thousands_of_sibling_heads_are_listed_and_resolved() {
    // The 3,000 × 3,000 case of issue 12, made directly in the database (a
    // merge refuses it now): the base is the root, every head a side.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut local = county(dir);
    let code = villages(&local, 1).remove(0);
    let v = random_visit(&mut Rng::new(5), &code, "2024-05-01");
    local.save_visit("张伟", "visit-wide", Some(&v)).unwrap();
    let root = local.current_revision("visit-wide").unwrap().unwrap();
    let n = 3_000;
    let heads = grow_heads(local.path().unwrap(), "visit-wide", &root, n, n);
    {
        let c = common::sql(&local);
        let tx = c.unchecked_transaction().unwrap();
        tx.execute("DELETE FROM head WHERE visit_id = 'visit-wide'", []).unwrap();
        for h in &heads {
            tx.execute("INSERT INTO head (visit_id, rev_id) VALUES ('visit-wide', ?1)", [h]).unwrap();
        }
        tx.commit().unwrap();
    }
    let list = local.conflicts().unwrap();
    assert_eq!(list.len(), 1);
    let notes = list[0].fields.iter().find(|f| f.field == "notes").expect("notes conflict");
    assert_eq!(notes.sides.len(), n);
    // Head i hangs off link i+1 of the chain (link 0 is the root); the
    // first hangs off "chain 0", the nearest link all heads share.
    assert_eq!(notes.base, Some(serde_json::Value::String("chain 0".into())));
    let take = heads[7].clone();
    local
        .resolve_conflict(
            Some("张伟"),
            "visit-wide",
            &ruralsan::store::conflict::Resolution { take: Some(take), fields: vec![], seen: vec![] },
        )
        .unwrap();
    assert!(local.conflicts().unwrap().is_empty());
    let notes: String = common::sql(&local)
        .query_row("SELECT notes FROM visit WHERE visit_id = 'visit-wide'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(notes, "head 7");
}

#[test]
fn leftovers_of_a_killed_merge_are_removed_and_backups_are_kept_within_the_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = good_snapshot(dir);
    let mut local = county(dir);
    // What a merge killed midway leaves: a staged copy of the crew file, and
    // a backup cut short by a full disk under its temporary name.
    std::fs::create_dir_all(dir.join("staging")).unwrap();
    std::fs::copy(&good, dir.join("staging").join("staged-4242-0.db")).unwrap();
    std::fs::create_dir_all(dir.join("backups")).unwrap();
    std::fs::write(dir.join("backups").join(".county-20250101T000000Z.db.4242.partial"), b"half a backup").unwrap();
    // Backups of earlier merges: daily for 40 days, up to yesterday.
    let today = chrono::Utc::now().date_naive();
    let mut old = Vec::new();
    for d in 1..=40u64 {
        let t = (today - chrono::Days::new(d)).and_hms_opt(8, 0, 0).unwrap();
        let name = format!("county-{}.db", t.format("%Y%m%dT%H%M%SZ"));
        std::fs::write(dir.join("backups").join(&name), b"an old backup").unwrap();
        old.push((name, t));
    }
    std::fs::write(dir.join("backups").join("notes.txt"), b"someone's file").unwrap();

    local.set_backup_retention(ruralsan::domain::settings::BackupRetention { last: 3, months: 2 });
    let r = local.merge_files(std::slice::from_ref(&good), MergeOptions::default()).unwrap();
    assert!(matches!(r.files[0], FileOutcome::Merged(_)), "{:?}", r.files[0]);
    assert_eq!(staged_files(dir), Vec::<String>::new(), "the killed merge's staged copy is still there");
    let taken = r.backup.clone().expect("a backup").file_name().unwrap().to_string_lossy().into_owned();
    let kept = r.backups.clone().expect("where backups are");
    assert_eq!(kept.dir, dir.join("backups"));
    // Kept: the newest 3 (the new one and the last two days), and the newest
    // of this month and the month before (when not among them already).
    let mut all = old.clone();
    all.push((taken.clone(), chrono::Utc::now().naive_utc()));
    let gone = ruralsan::store::sync::to_remove(
        &all,
        ruralsan::domain::settings::BackupRetention { last: 3, months: 2 },
        today,
    );
    let mut want: Vec<String> =
        all.iter().map(|(n, _)| n.clone()).filter(|n| !gone.contains(n)).chain(["notes.txt".to_string()]).collect();
    want.sort();
    assert_eq!(backups(dir), want, "partial backup left, or the bound not kept");
    assert!(want.len() <= 3 + 2 + 1);
    assert_eq!(kept.pruned as usize, gone.len());
}
