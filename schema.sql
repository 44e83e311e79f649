-- ruralsan database schema: the one source of truth. Applied inside a
-- transaction on open; the program sets PRAGMA user_version to its schema
-- version afterwards. Every statement must be safe to run twice.
PRAGMA application_id = 1381191233; -- 0x52534E41, 'RSNA'

-- Facts about this database: device_id (made on first open), hlc (the last
-- hybrid logical clock stamp issued), last_surveyor.
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Roster: village-level units (SPEC §1). is_village = administrative village.
CREATE TABLE IF NOT EXISTS roster (
  code             TEXT PRIMARY KEY CHECK (length(code) = 12),
  name             TEXT NOT NULL,
  is_village       INTEGER NOT NULL CHECK (is_village IN (0, 1)),
  urban_rural_code TEXT
) STRICT, WITHOUT ROWID;

-- Names of counties (6-digit codes) and townships (9-digit codes).
CREATE TABLE IF NOT EXISTS area (
  code TEXT PRIMARY KEY CHECK (length(code) IN (6, 9)),
  name TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Every saved state of every visit, immutable. rev_id is a hash of
-- (visit_id, sorted parents, payload, deleted); payload is the canonical JSON
-- of the visit's figures and child rows. hlc orders revisions across devices.
-- The metadata (hlc, device, crew, author) is covered by the signature of the
-- device's key (schema version 4; README "Identity and enrolment"): device is
-- the signer's public key (64 hex digits), crew its installation's name,
-- author the editor (who typed it, not the visit's surveyor). Revisions from
-- before version 4 keep their old device id and have crew = signature = ''.
-- Version 5: the revision the current rows were made from (visit.rev_id)
-- has payload '' (a visit not deleted never has an empty payload): its
-- content is those rows, kept once (src/store/payload.rs). A snapshot
-- carries every payload in full.
CREATE TABLE IF NOT EXISTS revision (
  rev_id    TEXT PRIMARY KEY,
  visit_id  TEXT NOT NULL,
  parents   TEXT NOT NULL,  -- JSON array of rev_ids, sorted
  payload   TEXT NOT NULL,
  deleted   INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  hlc       TEXT NOT NULL,  -- 'wall-ms(13 digits).counter(5 digits)'
  device    TEXT NOT NULL,
  author    TEXT NOT NULL,
  crew      TEXT NOT NULL,
  signature TEXT NOT NULL   -- ed25519, 128 hex digits; '' for legacy and automatic merges
) STRICT;
CREATE INDEX IF NOT EXISTS revision_visit ON revision (visit_id);

-- The parent edges of the revision graph, for finding heads.
CREATE TABLE IF NOT EXISTS revision_parent (
  parent_id TEXT NOT NULL,
  rev_id    TEXT NOT NULL,
  PRIMARY KEY (parent_id, rev_id)
) STRICT, WITHOUT ROWID;

-- The heads of each visit: revisions no other revision names as a parent.
-- More than one head is a conflict until someone resolves it.
CREATE TABLE IF NOT EXISTS head (
  visit_id TEXT NOT NULL,
  rev_id   TEXT NOT NULL,
  PRIMARY KEY (visit_id, rev_id)
) STRICT, WITHOUT ROWID;

-- Current tables: the winning head of every visit that is not deleted.
-- Always rebuildable from the revisions.
CREATE TABLE IF NOT EXISTS visit (
  visit_id           TEXT PRIMARY KEY,
  rev_id             TEXT NOT NULL,
  village_code       TEXT NOT NULL,
  survey_date        TEXT NOT NULL,
  surveyor           TEXT NOT NULL,
  households         INTEGER NOT NULL,
  hh_sewer           INTEGER NOT NULL,
  hh_reuse           INTEGER NOT NULL,
  hh_controlled      INTEGER NOT NULL,
  natural_villages   INTEGER NOT NULL,
  nv_garbage_covered INTEGER NOT NULL,
  notes              TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS visit_village_date ON visit (village_code, survey_date, visit_id);
-- Schema version 2 covered the summary with this index; version 3 reads
-- visit_figures instead.
DROP INDEX IF EXISTS visit_counting;

CREATE TABLE IF NOT EXISTS facility (
  visit_id          TEXT NOT NULL,
  facility_id       TEXT NOT NULL,
  kind              TEXT NOT NULL,
  households_served INTEGER NOT NULL,
  status            TEXT NOT NULL,
  capacity_m3_d     REAL,
  PRIMARY KEY (visit_id, facility_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS farm (
  visit_id          TEXT NOT NULL,
  farm_id           TEXT NOT NULL,
  name              TEXT NOT NULL,
  species           TEXT NOT NULL,
  head_on_hand      INTEGER NOT NULL,
  annual_out        INTEGER NOT NULL,
  manure_t          REAL,
  utilized_pct      REAL NOT NULL,
  facility_equipped INTEGER NOT NULL,
  PRIMARY KEY (visit_id, farm_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS water_body (
  visit_id        TEXT NOT NULL,
  water_id        TEXT NOT NULL,
  name            TEXT NOT NULL,
  kind            TEXT NOT NULL,
  area_m2         REAL,
  length_m        REAL,
  depth_cm        REAL,
  transparency_cm REAL,
  do_mg_l         REAL,
  nh3n_mg_l       REAL,
  listed          TEXT NOT NULL,
  status          TEXT NOT NULL,
  PRIMARY KEY (visit_id, water_id)
) STRICT, WITHOUT ROWID;

-- What each current visit contributes to the indicators (SPEC §4; the
-- domain's visit_figures), written in the same transaction as the visit's
-- current rows and deleted with them, so a summary reads only this table and
-- the roster. Keyed for picking each village's counting visit as of a date:
-- the last row of the village with survey_date <= D. Independent of the
-- village threshold (households and treated households are kept); produced
-- and utilized tonnes and scale farms depend on the manure coefficients,
-- recorded with the formula version in meta 'figures_settings' — a summary
-- with other coefficients recomputes the table first. Never read from a
-- merged file: merges recompute it here. Rebuildable from the current tables.
CREATE TABLE IF NOT EXISTS visit_figures (
  village_code         TEXT NOT NULL,
  survey_date          TEXT NOT NULL,
  visit_id             TEXT NOT NULL,
  households           INTEGER NOT NULL,
  households_treated   INTEGER NOT NULL,
  hh_controlled        INTEGER NOT NULL,
  natural_villages     INTEGER NOT NULL,
  nv_covered           INTEGER NOT NULL,
  facilities_normal    INTEGER NOT NULL,
  facilities_total     INTEGER NOT NULL,
  produced_t           REAL NOT NULL,
  utilized_t           REAL NOT NULL,
  scale_farms          INTEGER NOT NULL,
  scale_farms_equipped INTEGER NOT NULL,
  water_listed         INTEGER NOT NULL,
  water_remediated     INTEGER NOT NULL,
  water_relapsed       INTEGER NOT NULL,
  PRIMARY KEY (village_code, survey_date, visit_id)
) STRICT, WITHOUT ROWID;

-- A visit form being typed, kept so a crash loses at most the last keystrokes.
CREATE TABLE IF NOT EXISTS draft (
  draft_id   TEXT PRIMARY KEY,
  visit_id   TEXT NOT NULL,
  base_rev   TEXT,           -- the revision being edited, NULL for a new visit
  form       TEXT NOT NULL,  -- JSON of the form as typed
  updated_at TEXT NOT NULL
) STRICT;

-- Every file merged into this database: merging the same file again is a no-op.
CREATE TABLE IF NOT EXISTS merge_log (
  file_hash     TEXT PRIMARY KEY,
  source_device TEXT NOT NULL,
  merged_at     TEXT NOT NULL,
  file_name     TEXT NOT NULL,
  revisions     INTEGER NOT NULL,
  new_revisions INTEGER NOT NULL
) STRICT;

-- The file that first brought each revision here (merge_log.file_hash), for
-- showing where a side of a conflict came from. Local knowledge.
CREATE TABLE IF NOT EXISTS revision_origin (
  rev_id    TEXT PRIMARY KEY,
  file_hash TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- The keys this installation trusts to send revisions (README "Identity and
-- enrolment"). certificate: the enrolling key's signature of (key, name,
-- enrolled_at), so that a database that trusts the enrolling installation
-- trusts the crews it enrolled. A revoked key's revisions merged before stay.
CREATE TABLE IF NOT EXISTS crew_key (
  key         TEXT PRIMARY KEY CHECK (length(key) = 64),
  name        TEXT NOT NULL,
  enrolled_at TEXT NOT NULL,
  revoked_at  TEXT,
  enrolled_by TEXT NOT NULL,
  certificate TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Reviews (schema version 6): a reviewer's judgement of one
-- revision of a visit (approved, issues, rejected) with a note. Immutable
-- and merged by union like revisions: review_id hashes every other column
-- but the signature, which is the reviewer's key's (device) ed25519
-- signature of it (README "Review"). A later edit of the visit is a new
-- revision that no review names yet: the current revision's reviews count.
CREATE TABLE IF NOT EXISTS review (
  review_id TEXT PRIMARY KEY,
  visit_id  TEXT NOT NULL,
  rev_id    TEXT NOT NULL,
  state     TEXT NOT NULL CHECK (state IN ('approved', 'issues', 'rejected')),
  note      TEXT NOT NULL,
  hlc       TEXT NOT NULL,
  device    TEXT NOT NULL,
  crew      TEXT NOT NULL,
  author    TEXT NOT NULL,
  signature TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS review_rev ON review (rev_id, device, hlc);
CREATE INDEX IF NOT EXISTS review_visit ON review (visit_id, hlc);
