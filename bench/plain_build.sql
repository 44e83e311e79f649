-- bench/plain_build.sql — the yardstick design, written by hand in plain SQL:
-- what any SQL user would build for the indicators of SPEC §4. Run by the
-- sqlite3 shell on a database holding the bundle's CSV files imported as
-- plain tables (visit, facility, farm, water_body; all columns TEXT, as
-- `.import` makes them) and the roster CSV as `roster` (bench/run.sh does).
--
-- It adds what a plain design has: an index on each child table by visit,
-- the administrative villages of the roster (SPEC §1 by name, as the
-- national roster gives no kind), and a typed table of per-visit figures,
-- computed once "when the visit is written" (here: in bulk), keyed
-- (village_code, survey_date, visit_id) for picking each village's counting
-- visit. bench/plain.sql then computes every indicator from `fig` and
-- `village` alone. Default settings (coefficients of SPEC §4).
DROP TABLE IF EXISTS village;
DROP TABLE IF EXISTS fig;
CREATE INDEX IF NOT EXISTS facility_visit ON facility (visit_id);
CREATE INDEX IF NOT EXISTS farm_visit ON farm (visit_id);
CREATE INDEX IF NOT EXISTS water_body_visit ON water_body (visit_id);
CREATE INDEX IF NOT EXISTS visit_village ON visit (village_code, survey_date, visit_id);

CREATE TABLE village (code TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
INSERT INTO village
  SELECT code, name FROM roster
  WHERE rtrim(name) LIKE '%村' OR rtrim(name) LIKE '%村委会' OR rtrim(name) LIKE '%村民委员会';

CREATE TABLE fig (
  village_code TEXT NOT NULL, survey_date TEXT NOT NULL, visit_id TEXT NOT NULL,
  households INTEGER, treated INTEGER, controlled INTEGER, natural_villages INTEGER, nv_covered INTEGER,
  fac_normal INTEGER, fac_total INTEGER, produced_t REAL, utilized_t REAL, scale_farms INTEGER,
  scale_equipped INTEGER, water_listed INTEGER, water_remediated INTEGER, water_relapsed INTEGER,
  PRIMARY KEY (village_code, survey_date, visit_id)) WITHOUT ROWID;

WITH
fac AS (
  SELECT visit_id, sum(status = 'normal') AS normal, count(*) AS total,
         sum(CASE WHEN status = 'normal' THEN CAST(households_served AS INTEGER) ELSE 0 END) AS served
  FROM facility GROUP BY visit_id),
fm AS (
  SELECT visit_id, CAST(utilized_pct AS REAL) AS pct, facility_equipped IN ('1', 'true', 'yes', '是') AS equipped,
         coalesce(CAST(nullif(manure_t, '') AS REAL), CASE species
           WHEN 'pig' THEN CAST(annual_out AS INTEGER) * 2.0 * 180
           WHEN 'dairy_cattle' THEN CAST(head_on_hand AS INTEGER) * 20.0 * 365
           WHEN 'beef_cattle' THEN CAST(head_on_hand AS INTEGER) * 10.0 * 365
           WHEN 'sheep_goat' THEN CAST(head_on_hand AS INTEGER) * 2.6 * 365
           WHEN 'layer' THEN CAST(head_on_hand AS INTEGER) * 0.1 * 365
           WHEN 'broiler' THEN CAST(annual_out AS INTEGER) * 0.1 * 45
           ELSE 0 END / 1000.0) AS produced,
         CASE species
           WHEN 'pig' THEN CAST(annual_out AS INTEGER) >= 500
           WHEN 'dairy_cattle' THEN CAST(head_on_hand AS INTEGER) >= 100
           WHEN 'beef_cattle' THEN CAST(annual_out AS INTEGER) >= 50
           WHEN 'sheep_goat' THEN CAST(annual_out AS INTEGER) >= 200
           WHEN 'layer' THEN CAST(head_on_hand AS INTEGER) >= 2000
           WHEN 'broiler' THEN CAST(annual_out AS INTEGER) >= 10000
           ELSE 0 END AS scale
  FROM farm),
farms AS (
  SELECT visit_id, total(produced) AS produced, total(produced * (pct / 100.0)) AS utilized,
         sum(scale) AS scale, sum(scale AND equipped) AS equipped
  FROM fm GROUP BY visit_id),
wb AS (
  SELECT visit_id, listed IN ('national', 'provincial') AS listed, status IN ('remediated', 'verified') AS done,
         (CASE WHEN nullif(transparency_cm, '') IS NULL THEN 0
               WHEN CAST(nullif(depth_cm, '') AS REAL) < 25
                 THEN CAST(transparency_cm AS REAL) < 0.4 * CAST(depth_cm AS REAL)
               ELSE CAST(transparency_cm AS REAL) < 25 END)
         OR coalesce(CAST(nullif(do_mg_l, '') AS REAL) < 2.0, 0)
         OR coalesce(CAST(nullif(nh3n_mg_l, '') AS REAL) > 15.0, 0) AS black
  FROM water_body),
waters AS (
  SELECT visit_id, sum(listed) AS listed, sum(listed AND done AND NOT black) AS remediated,
         sum(listed AND done AND black) AS relapsed
  FROM wb GROUP BY visit_id)
INSERT INTO fig
SELECT v.village_code, v.survey_date, v.visit_id, CAST(v.households AS INTEGER),
       CAST(v.hh_sewer AS INTEGER) + CAST(v.hh_reuse AS INTEGER) + coalesce(fac.served, 0),
       CAST(v.hh_controlled AS INTEGER), CAST(v.natural_villages AS INTEGER), CAST(v.nv_garbage_covered AS INTEGER),
       coalesce(fac.normal, 0), coalesce(fac.total, 0), coalesce(farms.produced, 0.0),
       coalesce(farms.utilized, 0.0), coalesce(farms.scale, 0), coalesce(farms.equipped, 0),
       coalesce(waters.listed, 0), coalesce(waters.remediated, 0), coalesce(waters.relapsed, 0)
FROM visit v LEFT JOIN fac USING (visit_id) LEFT JOIN farms USING (visit_id) LEFT JOIN waters USING (visit_id);
ANALYZE;
