-- bench/plain.sql — every indicator of SPEC §4 per county from the plain
-- per-visit figures design of bench/plain_build.sql, by hand: each village's
-- counting visit (latest survey_date up to :as_of, greatest visit_id that
-- day) picked with SQLite's bare-column max() in one pass over fig's key,
-- duplicates by a count on the key, then sums per area with the village
-- threshold (0.5) applied per village. :as_of must be bound as text
-- (`.parameter set :as_of "'2025-12-31'"`). Other levels: replace the 6 of
-- each area prefix (bench/run.sh does).
WITH cv AS (
  SELECT f.village_code, max(f.survey_date || f.visit_id) AS k, f.survey_date, f.households, f.treated,
         f.controlled, f.natural_villages, f.nv_covered, f.fac_normal, f.fac_total, f.produced_t, f.utilized_t,
         f.scale_farms, f.scale_equipped, f.water_listed, f.water_remediated, f.water_relapsed
  FROM fig f WHERE f.survey_date <= :as_of
  GROUP BY f.village_code),
va AS (
  SELECT substr(cv.village_code, 1, 6) AS area, count(*) AS surveyed,
         sum((SELECT count(*) FROM fig x WHERE x.village_code = cv.village_code AND x.survey_date = cv.survey_date) > 1)
           AS duplicate_visits,
         sum(households > 0 AND treated * 1.0 / households >= 0.5) AS villages_treated,
         sum(households > 0 AND (treated + controlled) * 1.0 / households >= 0.5) AS villages_controlled,
         sum(treated) AS households_treated, sum(households) AS households,
         sum(fac_normal) AS fac_normal, sum(fac_total) AS fac_total,
         sum(nv_covered) AS nv_covered, sum(natural_villages) AS natural_villages,
         total(produced_t) AS produced_t, total(utilized_t) AS utilized_t,
         sum(scale_farms) AS scale_farms, sum(scale_equipped) AS scale_equipped,
         sum(water_listed) AS listed, sum(water_remediated) AS remediated, sum(water_relapsed) AS relapsed
  FROM cv JOIN village r ON r.code = cv.village_code
  GROUP BY area),
rv AS (SELECT substr(code, 1, 6) AS area, count(*) AS villages FROM village GROUP BY area)
SELECT rv.area, rv.villages, coalesce(va.surveyed, 0), coalesce(va.duplicate_visits, 0),
       coalesce(va.villages_treated, 0), coalesce(va.villages_controlled, 0),
       1.0 * coalesce(va.villages_treated, 0) / rv.villages AS sewage_rate,
       coalesce(va.households_treated, 0), coalesce(va.households, 0),
       1.0 * va.households_treated / nullif(va.households, 0) AS household_rate,
       coalesce(va.fac_normal, 0), coalesce(va.fac_total, 0), 1.0 * va.fac_normal / nullif(va.fac_total, 0),
       coalesce(va.nv_covered, 0), coalesce(va.natural_villages, 0),
       1.0 * va.nv_covered / nullif(va.natural_villages, 0) AS garbage_rate,
       coalesce(va.produced_t, 0.0), coalesce(va.utilized_t, 0.0), va.utilized_t / nullif(va.produced_t, 0) AS manure_rate,
       coalesce(va.scale_farms, 0), coalesce(va.scale_equipped, 0),
       1.0 * va.scale_equipped / nullif(va.scale_farms, 0) AS equipping_rate,
       coalesce(va.listed, 0), coalesce(va.remediated, 0), coalesce(va.relapsed, 0),
       1.0 * va.remediated / nullif(va.listed, 0) AS black_odor_rate
FROM rv LEFT JOIN va ON va.area = rv.area
ORDER BY rv.area;
