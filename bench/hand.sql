-- The county aggregate written by hand in plain SQL (no ruralsan functions),
-- the yardstick of bench/summary.sh: each village's counting visit (latest
-- survey_date up to the as-of date, greatest visit_id that day; SQLite takes
-- the bare columns from the row of the max()), then per county the villages
-- of the roster and the sewage, garbage and manure sums of the counting
-- visits. :as_of must be bound as text (bench/summary.sh substitutes it; in
-- the shell `.parameter set :as_of "'2025-12-31'"` -- without the inner
-- quotes the shell binds the number 2025-12-31 = 1982 and no visit counts).
-- Other levels: replace the 6 of each area prefix (bench/run.sh does).
-- Written for speed the same way as ruralsan's SUMMARY_SQL (the covering
-- index visit_counting of schema v2; child rows looked up in visit_id order).
WITH cv AS (
  SELECT g.* FROM (
    SELECT v.village_code, max(v.survey_date || v.visit_id) AS counting, v.visit_id,
           v.households, v.hh_sewer, v.hh_reuse, v.hh_controlled, v.natural_villages, v.nv_garbage_covered
    FROM visit v
    WHERE v.survey_date <= :as_of
    GROUP BY v.village_code) g
  WHERE EXISTS (SELECT 1 FROM roster r WHERE r.code = g.village_code AND r.is_village = 1)
  ORDER BY g.visit_id),
vill AS MATERIALIZED (
  SELECT cv.village_code AS code, cv.households, cv.hh_controlled, cv.natural_villages, cv.nv_garbage_covered,
         cv.hh_sewer + cv.hh_reuse
           + coalesce((SELECT sum(f.households_served) FROM facility f
                       WHERE f.visit_id = cv.visit_id AND f.status = 'normal'), 0) AS treated,
         (SELECT total(coalesce(m.manure_t, CASE m.species
              WHEN 'pig' THEN m.annual_out * 2.0 * 180
              WHEN 'dairy_cattle' THEN m.head_on_hand * 20.0 * 365
              WHEN 'beef_cattle' THEN m.head_on_hand * 10.0 * 365
              WHEN 'sheep_goat' THEN m.head_on_hand * 2.6 * 365
              WHEN 'layer' THEN m.head_on_hand * 0.1 * 365
              WHEN 'broiler' THEN m.annual_out * 0.1 * 45
              ELSE 0 END / 1000.0) * (m.utilized_pct / 100.0))
          FROM farm m WHERE m.visit_id = cv.visit_id) AS utilized,
         (SELECT total(coalesce(m.manure_t, CASE m.species
              WHEN 'pig' THEN m.annual_out * 2.0 * 180
              WHEN 'dairy_cattle' THEN m.head_on_hand * 20.0 * 365
              WHEN 'beef_cattle' THEN m.head_on_hand * 10.0 * 365
              WHEN 'sheep_goat' THEN m.head_on_hand * 2.6 * 365
              WHEN 'layer' THEN m.head_on_hand * 0.1 * 365
              WHEN 'broiler' THEN m.annual_out * 0.1 * 45
              ELSE 0 END / 1000.0))
          FROM farm m WHERE m.visit_id = cv.visit_id) AS produced
  FROM cv),
va AS (
  SELECT substr(r.code, 1, 6) AS county, count(*) AS surveyed,
         sum(households > 0 AND treated * 1.0 / households >= 0.5) AS villages_treated,
         sum(households > 0 AND (treated + hh_controlled) * 1.0 / households >= 0.5) AS villages_controlled,
         sum(treated) AS households_treated, sum(households) AS households,
         sum(nv_garbage_covered) AS nv_covered, sum(natural_villages) AS natural_villages,
         total(produced) AS produced_t, total(utilized) AS utilized_t
  FROM vill r GROUP BY county),
rv AS (
  SELECT substr(r.code, 1, 6) AS county, count(*) AS villages FROM roster r WHERE r.is_village = 1 GROUP BY county)
SELECT rv.county, rv.villages, coalesce(va.surveyed, 0), coalesce(va.villages_treated, 0),
       coalesce(va.villages_controlled, 0), coalesce(va.households_treated, 0), coalesce(va.households, 0),
       coalesce(va.nv_covered, 0), coalesce(va.natural_villages, 0),
       coalesce(va.produced_t, 0.0), coalesce(va.utilized_t, 0.0)
FROM rv LEFT JOIN va ON va.county = rv.county
ORDER BY rv.county;
