-- The county aggregate written by hand in plain SQL (no ruralsan functions):
-- the counting visit of each village (latest survey_date <= the as-of date,
-- greatest visit_id that day) and the sewage, garbage and manure sums per
-- county. Parameters: :as_of. Used by bench/summary.sh as the yardstick.
WITH cv AS MATERIALIZED (
  SELECT rid, village_code FROM (
    SELECT v.rowid AS rid, v.village_code,
           lead(v.survey_date) OVER w IS NULL AS last
    FROM visit v
    WHERE v.survey_date <= :as_of
    WINDOW w AS (PARTITION BY v.village_code ORDER BY v.survey_date, v.visit_id))
  WHERE last),
vill AS (
  SELECT cv.village_code, v.households, v.hh_controlled, v.natural_villages, v.nv_garbage_covered,
         v.hh_sewer + v.hh_reuse
           + coalesce((SELECT sum(f.households_served) FROM facility f
                       WHERE f.visit_id = v.visit_id AND f.status = 'normal'), 0) AS treated,
         (SELECT total(p) FROM (
            SELECT coalesce(m.manure_t, CASE m.species
              WHEN 'pig' THEN m.annual_out * 2.0 * 180
              WHEN 'dairy_cattle' THEN m.head_on_hand * 20.0 * 365
              WHEN 'beef_cattle' THEN m.head_on_hand * 10.0 * 365
              WHEN 'sheep_goat' THEN m.head_on_hand * 2.6 * 365
              WHEN 'layer' THEN m.head_on_hand * 0.1 * 365
              WHEN 'broiler' THEN m.annual_out * 0.1 * 45
              ELSE 0 END / 1000.0) AS p
            FROM farm m WHERE m.visit_id = v.visit_id)) AS produced,
         (SELECT total(p * u / 100.0) FROM (
            SELECT m.utilized_pct AS u, coalesce(m.manure_t, CASE m.species
              WHEN 'pig' THEN m.annual_out * 2.0 * 180
              WHEN 'dairy_cattle' THEN m.head_on_hand * 20.0 * 365
              WHEN 'beef_cattle' THEN m.head_on_hand * 10.0 * 365
              WHEN 'sheep_goat' THEN m.head_on_hand * 2.6 * 365
              WHEN 'layer' THEN m.head_on_hand * 0.1 * 365
              WHEN 'broiler' THEN m.annual_out * 0.1 * 45
              ELSE 0 END / 1000.0) AS p
            FROM farm m WHERE m.visit_id = v.visit_id)) AS utilized
  FROM cv JOIN visit v ON v.rowid = cv.rid)
SELECT substr(r.code, 1, 6) AS county, count(*) AS villages, count(vill.village_code) AS surveyed,
       sum(vill.households > 0 AND vill.treated * 1.0 / vill.households >= 0.5) AS villages_treated,
       sum(vill.households > 0 AND (vill.treated + vill.hh_controlled) * 1.0 / vill.households >= 0.5) AS villages_controlled,
       total(vill.treated) AS households_treated, total(vill.households) AS households,
       total(vill.nv_garbage_covered) AS nv_covered, total(vill.natural_villages) AS natural_villages,
       total(vill.produced) AS produced_t, total(vill.utilized) AS utilized_t
FROM roster r LEFT JOIN vill ON vill.village_code = r.code
WHERE r.is_village = 1
GROUP BY county ORDER BY county;
