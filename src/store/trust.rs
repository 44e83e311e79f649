//! Whom this database trusts to send revisions (README "Identity and
//! enrolment"): the enrolled crew keys (`crew_key`), enrolment from a card
//! or on first merge, revocation, and the gate every revision from a file
//! passes: signed by its device key, by a key enrolled here (or certified by
//! one, or this installation's own), not revoked, not stamped in the future.

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use super::error::Refusal;
use super::revisions::{MAX_AHEAD_MS, Revision, stamp_ms};
use crate::identity::{self, Identity, fingerprint};

/// The domain tag of an enrolment certificate.
const CERT_TAG: &str = "ruralsan enrolment v1";

/// What an enrolment certificate covers: the crew's key and name, when, by whom.
pub fn certificate_message(key: &str, name: &str, enrolled_at: &str, enrolled_by: &str) -> Vec<u8> {
    identity::message(CERT_TAG, &[key, name, enrolled_at, enrolled_by])
}

/// A key enrolled here, as `ruralsan crews` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CrewKey {
    pub key: String,
    pub name: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    /// The key that enrolled it (this installation's, or the installation
    /// that certified it, for a crew accepted through a county's file).
    pub enrolled_by: String,
    /// Revisions signed by this key held here.
    pub revisions: i64,
}

/// Why an enrolment or revocation was not done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrustError {
    #[error("no enrolled key has the fingerprint {fingerprint}")]
    UnknownFingerprint { fingerprint: String },
    #[error("this installation's own key is always trusted")]
    OwnKey,
    #[error("{name} ({fingerprint}) is already enrolled")]
    AlreadyEnrolled { name: String, fingerprint: String },
}

/// An enrolment: who, and the certificate signed by this installation.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolled {
    pub name: String,
    pub key: String,
}

fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Inserts an enrolment of `key` as `name`, certified by `by`.
fn insert_enrolment(conn: &Connection, by: &Identity, key: &str, name: &str) -> Result<()> {
    let at = now_text();
    let cert = by.sign(&certificate_message(key, name, &at, &by.key_id()));
    conn.execute(
        "INSERT INTO crew_key (key, name, enrolled_at, revoked_at, enrolled_by, certificate)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
        params![key, name, at, by.key_id(), cert],
    )?;
    Ok(())
}

impl Store {
    /// The name of the file that first brought a revision here (`None`: made here).
    pub fn revision_file(&self, rev_id: &str) -> Result<Option<String>> {
        super::conflict::origin_file(&self.conn, rev_id)
    }

    /// The keys enrolled here, by name.
    pub fn crews(&self) -> Result<Vec<CrewKey>> {
        let mut st = self.conn.prepare(
            "SELECT k.key, k.name, k.enrolled_at, k.revoked_at, k.enrolled_by,
                    (SELECT count(*) FROM revision r WHERE r.device = k.key)
             FROM crew_key k ORDER BY k.name, k.key",
        )?;
        let rows = st.query_map([], |r| {
            Ok(CrewKey {
                key: r.get(0)?,
                name: r.get(1)?,
                enrolled_at: r.get(2)?,
                revoked_at: r.get(3)?,
                enrolled_by: r.get(4)?,
                revisions: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Enrols a crew from its card file (`ruralsan crews enrol FILE`).
    pub fn enrol_card(&mut self, path: &std::path::Path) -> Result<Enrolled> {
        let (name, key) = identity::read_card(path)?;
        if key == self.device {
            return Err(TrustError::OwnKey.into());
        }
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let held: Option<(String, Option<String>)> = tx
            .query_row("SELECT name, revoked_at FROM crew_key WHERE key = ?1", [&key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match held {
            Some((name, None)) => {
                return Err(TrustError::AlreadyEnrolled { name, fingerprint: fingerprint(&key) }.into());
            }
            // Enrolling a revoked key again trusts it again, with a new certificate.
            Some((_, Some(_))) => {
                tx.execute("DELETE FROM crew_key WHERE key = ?1", [&key])?;
            }
            None => {}
        }
        insert_enrolment(&tx, &self.identity, &key, &name)?;
        tx.commit()?;
        Ok(Enrolled { name, key })
    }

    /// Revokes the enrolled key with this fingerprint (spaces allowed) or
    /// key id: its future revisions are refused; those held stay.
    pub fn revoke(&mut self, fp: &str) -> Result<CrewKey> {
        let want = identity::normalise_fingerprint(fp);
        let found = self.crews()?.into_iter().find(|k| k.key == want || fingerprint(&k.key) == want);
        let Some(mut k) = found else {
            return Err(TrustError::UnknownFingerprint { fingerprint: fp.to_string() }.into());
        };
        if k.revoked_at.is_none() {
            let at = now_text();
            self.conn.execute("UPDATE crew_key SET revoked_at = ?2 WHERE key = ?1", params![k.key, at])?;
            k.revoked_at = Some(at);
        }
        Ok(k)
    }
}

/// Per-key tally of the revisions a gate refused.
#[derive(Default)]
struct Tally {
    crew: String,
    unknown: u64,
    revoked: u64,
    ahead_ms: i64,
}

/// The gate of one file's merge: which keys are trusted, what was refused,
/// what to enrol and record once the file is accepted.
pub(crate) struct Gate {
    own: String,
    bound_ms: i64,
    now_ms: i64,
    enrol_new: bool,
    adopt_legacy: bool,
    /// Unsigned legacy revisions admitted (`adopt_legacy`).
    pub adopted_legacy: u64,
    /// Key → revoked here.
    known: HashMap<String, bool>,
    /// Keys certified in the file by a key trusted here: (name, enrolled_at, by, certificate).
    certified: HashMap<String, (String, String, String, String)>,
    tally: HashMap<String, Tally>,
    /// Revisions admitted (new here), to record where they came from.
    pub admitted: Vec<String>,
    /// Signatures still to verify (a batch, checked on every core).
    pending: Vec<Pending>,
    /// Revisions whose signature did not verify.
    bad: Vec<Refusal>,
}

/// A revision's signature waiting to be verified.
struct Pending {
    rev: String,
    crew: String,
    device: String,
    message: Vec<u8>,
    signature: String,
}

/// How many signatures are verified together (bounded memory).
const VERIFY_BATCH: usize = 4096;

impl Gate {
    /// Reads the keys trusted here, and the certificates in `file` that a key
    /// trusted here signed.
    pub fn load(local: &Connection, file: &Connection, own: &str, enrol_new: bool, adopt_legacy: bool) -> Result<Gate> {
        let mut known = HashMap::new();
        {
            let mut st = local.prepare("SELECT key, revoked_at IS NOT NULL FROM crew_key")?;
            for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))? {
                let (k, revoked) = row?;
                known.insert(k, revoked);
            }
        }
        let trusted = |k: &str| k == own || known.get(k) == Some(&false);
        let mut certified = HashMap::new();
        // A file without the table (an older version) certifies nobody.
        let rows: Vec<(String, String, String, Option<String>, String, String)> = file
            .prepare("SELECT key, name, enrolled_at, revoked_at, enrolled_by, certificate FROM crew_key")
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .unwrap_or_default();
        for (key, name, at, revoked, by, cert) in rows {
            let sound = identity::is_key_id(&key)
                && identity::name_ok(&name)
                && at.chars().count() <= 40
                && revoked.is_none()
                && !known.contains_key(&key)
                && trusted(&by)
                && identity::verify(&by, &certificate_message(&key, &name, &at, &by), &cert);
            if sound {
                certified.insert(key, (name, at, by, cert));
            }
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        Ok(Gate {
            own: own.to_string(),
            bound_ms: now_ms + MAX_AHEAD_MS,
            now_ms,
            enrol_new,
            adopt_legacy,
            adopted_legacy: 0,
            known,
            certified,
            tally: HashMap::new(),
            admitted: Vec::new(),
            pending: Vec::new(),
            bad: Vec::new(),
        })
    }

    /// Checks a revision new here; a refusal that concerns this revision
    /// alone is returned, those that concern its key are tallied for [`Gate::finish`].
    pub fn admit(&mut self, r: &Revision, short: impl Fn(&str) -> String) -> Option<Refusal> {
        if super::conflict::is_auto_merge(r) && r.crew.is_empty() && r.signature.is_empty() {
            // Automatic merges are made alike on every database, by none of them.
            self.admitted.push(r.rev_id.clone());
            return None;
        }
        // A legacy revision (before version 4: no crew, no signature), taken
        // on the word of the person merging during the changeover.
        if self.adopt_legacy && r.signature.is_empty() && r.crew.is_empty() {
            self.adopted_legacy += 1;
            self.admitted.push(r.rev_id.clone());
            return None;
        }
        if r.signature.is_empty() || !identity::is_key_id(&r.device) {
            return Some(Refusal::Unsigned { rev: short(&r.rev_id), crew: short(&r.crew) });
        }
        self.pending.push(Pending {
            rev: short(&r.rev_id),
            crew: short(&r.crew),
            device: r.device.clone(),
            message: super::revisions::signed_message(&r.rev_id, &r.hlc, &r.device, &r.crew, &r.author),
            signature: r.signature.clone(),
        });
        if self.pending.len() >= VERIFY_BATCH {
            self.verify_pending();
        }
        self.admit_signer(&r.device, &r.crew, &r.hlc, short);
        self.admitted.push(r.rev_id.clone());
        None
    }

    /// Tallies a record signed by `device` (whose signature verified):
    /// whether the key is trusted here, revoked, unknown, and whether its
    /// stamp is ahead of the clock bound; refusals come from [`Gate::finish`].
    /// Revisions and reviews pass the same tally.
    pub fn admit_signer(&mut self, device: &str, crew: &str, hlc: &str, short: impl Fn(&str) -> String) {
        let t = self.tally.entry(device.to_string()).or_default();
        if t.crew.is_empty() {
            t.crew = short(crew);
        }
        if let Some(ms) = stamp_ms(hlc).filter(|ms| *ms > self.bound_ms) {
            t.ahead_ms = t.ahead_ms.max(ms - self.now_ms);
        }
        if device != self.own && !self.certified.contains_key(device) {
            match self.known.get(device) {
                Some(false) => {}
                Some(true) => t.revoked += 1,
                None if self.enrol_new => {}
                None => t.unknown += 1,
            }
        }
    }

    /// Verifies the signatures waiting; those that fail become refusals.
    fn verify_pending(&mut self) {
        let items: Vec<(&str, &[u8], &str)> =
            self.pending.iter().map(|p| (p.device.as_str(), p.message.as_slice(), p.signature.as_str())).collect();
        let ok = identity::verify_all(&items);
        for (p, ok) in self.pending.drain(..).zip(ok) {
            if !ok {
                let fingerprint = fingerprint(&p.device);
                self.bad.push(Refusal::BadSignature { rev: p.rev, crew: p.crew, fingerprint });
            }
        }
    }

    /// The refusals: bad signatures, then per key (not enrolled, revoked,
    /// stamped ahead).
    pub fn finish(&mut self) -> Vec<Refusal> {
        self.verify_pending();
        let mut keys: Vec<&String> = self.tally.keys().collect();
        keys.sort();
        let mut out = std::mem::take(&mut self.bad);
        for k in keys {
            let t = &self.tally[k];
            let fp = fingerprint(k);
            if t.unknown > 0 {
                out.push(Refusal::NotEnrolled { crew: t.crew.clone(), fingerprint: fp.clone(), revisions: t.unknown });
            }
            if t.revoked > 0 {
                out.push(Refusal::Revoked { crew: t.crew.clone(), fingerprint: fp.clone(), revisions: t.revoked });
            }
            if t.ahead_ms > 0 {
                out.push(Refusal::FutureStamp { crew: t.crew.clone(), fingerprint: fp, ahead_ms: t.ahead_ms });
            }
        }
        out
    }

    /// Once the file is accepted (inside its transaction): the keys enrolled
    /// by `--enrol-new` and those certified by a trusted installation are
    /// added to `crew_key`, and each admitted revision's origin recorded.
    /// Returns the keys newly enrolled or certified: (name, key).
    pub fn record(&self, tx: &Connection, me: &Identity, file_hash: &str) -> Result<Vec<Enrolled>> {
        let mut out = Vec::new();
        let mut keys: Vec<&String> = self.tally.keys().collect();
        keys.sort();
        for k in keys {
            if *k == self.own || self.known.contains_key(k) {
                continue;
            }
            let name = self.tally[k].crew.clone();
            if let Some((name, at, by, cert)) = self.certified.get(k) {
                tx.execute(
                    "INSERT OR IGNORE INTO crew_key (key, name, enrolled_at, revoked_at, enrolled_by, certificate)
                     VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
                    params![k, name, at, by, cert],
                )?;
                out.push(Enrolled { name: name.clone(), key: k.clone() });
            } else if self.enrol_new {
                let name = if identity::name_ok(&name) { name } else { fingerprint(k) };
                insert_enrolment(tx, me, k, &name)?;
                out.push(Enrolled { name, key: k.clone() });
            }
        }
        let mut origin =
            tx.prepare_cached("INSERT OR IGNORE INTO revision_origin (rev_id, file_hash) VALUES (?1, ?2)")?;
        for r in &self.admitted {
            origin.execute([r, file_hash])?;
        }
        Ok(out)
    }
}

/// What `restamp` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restamped {
    /// This installation's revisions given a new stamp (and signed again).
    pub restamped: u64,
    /// Automatic merge revisions whose stamp followed their parents'.
    pub merges: u64,
    /// Revisions from other installations still stamped ahead (they must restamp theirs).
    pub others_ahead: u64,
}

/// What the clock says against the revisions held (the crew app warns at start).
#[derive(Debug, Clone, PartialEq)]
pub enum ClockWarning {
    /// This computer's clock is before the newest revision held (its stamp).
    Behind { newest: String },
    /// This computer's clock is more than a year after the newest revision.
    FarAhead { newest: String },
}

/// How far after the newest revision the clock may be without a warning.
const FAR_AHEAD_MS: i64 = 366 * 24 * 60 * 60 * 1000;

impl Store {
    /// After a wrong clock was fixed (README "The clock rule"): every
    /// revision of this installation stamped more than a day ahead of the
    /// clock gets a stamp from the corrected clock and a new signature (its
    /// id, a hash of its content, is unchanged), automatic merges over them
    /// follow, the stored clock comes back, and the visits are refreshed.
    /// A county never holds these revisions, as it refused them.
    pub fn restamp(&mut self) -> Result<Restamped> {
        use super::revisions::{REVISION_COLUMNS, format_hlc, next_hlc, row_to_revision};
        let bound = format_hlc(chrono::Utc::now().timestamp_millis() + MAX_AHEAD_MS, 0);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ahead: Vec<Revision> = {
            let mut st =
                tx.prepare(&format!("SELECT {REVISION_COLUMNS} FROM revision WHERE hlc > ?1 ORDER BY hlc, rev_id"))?;
            st.query_map([&bound], row_to_revision)?.collect::<rusqlite::Result<_>>()?
        };
        let held: Option<String> =
            tx.query_row("SELECT max(hlc) FROM revision WHERE hlc <= ?1", [&bound], |r| r.get(0))?;
        tx.execute("DELETE FROM meta WHERE key = 'hlc'", [])?;
        if let Some(h) = held {
            tx.execute("INSERT INTO meta (key, value) VALUES ('hlc', ?1)", [h])?;
        }
        let mut out = Restamped::default();
        let mut new_stamp: HashMap<String, String> = HashMap::new();
        let mut visits = std::collections::BTreeSet::new();
        for mut r in ahead {
            if r.device == self.device {
                r.hlc = next_hlc(&tx)?;
                r.sign(&self.identity);
                out.restamped += 1;
            } else if super::conflict::is_auto_merge(&r) {
                let parents = r.parents.iter().map(|p| {
                    new_stamp.get(p).cloned().map_or_else(
                        || tx.query_row("SELECT hlc FROM revision WHERE rev_id = ?1", [p], |x| x.get::<_, String>(0)),
                        Ok,
                    )
                });
                r.hlc = parents.collect::<rusqlite::Result<Vec<_>>>()?.into_iter().max().unwrap_or(r.hlc);
                out.merges += 1;
            } else {
                out.others_ahead += 1;
                continue;
            }
            tx.execute(
                "UPDATE revision SET hlc = ?2, crew = ?3, signature = ?4 WHERE rev_id = ?1",
                params![r.rev_id, r.hlc, r.crew, r.signature],
            )?;
            new_stamp.insert(r.rev_id.clone(), r.hlc.clone());
            visits.insert(r.visit_id.clone());
        }
        for v in &visits {
            super::revisions::refresh_visit(&tx, v)?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Whether this computer's clock looks wrong against the newest revision held.
    ///
    /// The newest stamp is the clock kept in `meta` (every stamp issued,
    /// imported or merged moves it, in the same transaction, and a merge
    /// refuses stamps beyond its bound): one read instead of a scan of every
    /// revision (0.2 s on a national database, at every start). A database
    /// without it (older versions) is scanned.
    pub fn clock_warning(&self) -> Result<Option<ClockWarning>> {
        let newest = match self.meta("hlc")? {
            Some(h) => Some(h),
            None => self.conn.query_row("SELECT max(hlc) FROM revision", [], |r| r.get(0))?,
        };
        let Some(newest) = newest else { return Ok(None) };
        let Some(ms) = stamp_ms(&newest) else { return Ok(None) };
        let now = chrono::Utc::now().timestamp_millis();
        let shown = chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or(newest);
        Ok(if now < ms {
            Some(ClockWarning::Behind { newest: shown })
        } else if now - ms > FAR_AHEAD_MS {
            Some(ClockWarning::FarAhead { newest: shown })
        } else {
            None
        })
    }
}
