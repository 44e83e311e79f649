#!/usr/bin/env bash
# bench/run.sh — ruralsan beside plain baselines at national scale.
#
# Builds the release binary, prepares a national database (the real national
# roster from ../shared/data when present, a synthetic one of the same size
# otherwise) and measures each operation next to the plain way of doing the
# same work with the sqlite3 shell, in the same run. Prints one table:
# operation, ruralsan time, baseline time, ratio, peak memory.
#
# Usage: bench/run.sh [WORK_DIR]   (default /tmp/ruralsan-bench; needs sqlite3)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/ruralsan-bench}
command -v sqlite3 >/dev/null || { echo "bench needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
cd "$repo" && cargo build --release --quiet
bin="$repo/target/release/ruralsan"
rm -rf "$work" && mkdir -p "$work" && cd "$work"

national="$repo/../shared/data/china_villages_2021.csv.gz"
if [ -f "$national" ]; then
  zcat "$national" > roster.csv
  roster_src="national roster (shared/data)"
else
  # 486k villages and 130k communities in 31 provinces, codes like the real ones.
  awk 'BEGIN { print "code,name,urban_rural_code,township_code,township_name,county_code,county_name";
    for (i = 0; i < 618000; i++) { p = 11 + i % 31; c = int(i / 31) % 20; t = int(i / 620) % 40; v = int(i / 24800);
      code = sprintf("%02d%02d%02d%03d%03d", p, 1 + c % 20, 1 + t % 30, 1 + t, v);
      kind = (i % 5 == 0) ? "社区居委会" : "村";
      printf "%s,合成%d%s,,%s,乡镇%d,%s,县%d\n", code, i, kind, substr(code, 1, 9), t, substr(code, 1, 6), c } }' > roster.csv
  roster_src="synthetic roster (generator)"
fi

rows=()
# measure LABEL -- command...: sets $secs and $kb
measure() {
  /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>run.err || { echo "failed: $*" >&2; cat run.err >&2; exit 1; }
  read -r secs kb < time.txt
}
row() { # operation, ruralsan secs, ruralsan kb, baseline secs
  rows+=("$(printf '%s\t%s\t%s\t%s' "$1" "$2" "$4" "$3")")
}

# 1. roster import vs sqlite3 .import into a plain table
measure "$bin" --db nat.db roster import roster.csv; r=$secs; m=$kb
measure sqlite3 base.db -cmd ".mode csv" ".import roster.csv roster"; row "roster import ($(($(wc -l < roster.csv) - 1)) rows)" "$r" "$m" "$secs"

# 2. bundle import: one generated visit (plus repeats) for every village
"$bin" generate --roster roster.csv --seed 1 --fraction 1 bundle >/dev/null
rm -f bundle/villages.csv
visits=$(sqlite3 :memory: -cmd ".mode csv" ".import bundle/visits.csv v" "SELECT count(*) FROM v")
measure "$bin" --db nat.db import bundle; r=$secs; m=$kb
measure sqlite3 base.db -cmd ".mode csv" ".import bundle/visits.csv visit" ".import bundle/facilities.csv facility" \
  ".import bundle/farms.csv farm" ".import bundle/water_bodies.csv water_body"
row "bundle import ($visits visits)" "$r" "$m" "$secs"

# 3. summary vs a hand-written aggregate of the same figures (counting visit
#    per village, sewage, garbage, facilities) in the sqlite3 shell
for level in county township; do
  len=$([ $level = county ] && echo 6 || echo 9)
  measure "$bin" --db nat.db summary --as-of 2025-12-31 --level $level --format json; r=$secs; m=$kb
  measure sqlite3 nat.db "
    WITH cv AS (SELECT * FROM (SELECT v.*, row_number() OVER (PARTITION BY village_code ORDER BY survey_date DESC, visit_id DESC) rn
                FROM visit v WHERE survey_date <= '2025-12-31') WHERE rn = 1),
         f AS (SELECT f.visit_id, sum(status = 'normal') n, count(*) t,
                      sum(CASE WHEN status = 'normal' THEN households_served ELSE 0 END) s
               FROM cv JOIN facility f ON f.visit_id = cv.visit_id GROUP BY f.visit_id)
    SELECT substr(r.code, 1, $len), count(*), count(cv.visit_id),
           sum(cv.households > 0 AND (cv.hh_sewer + cv.hh_reuse + coalesce(f.s, 0)) * 1.0 / cv.households >= 0.5),
           sum(cv.nv_garbage_covered), sum(cv.natural_villages), sum(f.n), sum(f.t)
    FROM roster r LEFT JOIN cv ON cv.village_code = r.code LEFT JOIN f ON f.visit_id = cv.visit_id
    WHERE r.is_village GROUP BY 1 ORDER BY 1;"
  row "summary --level $level" "$r" "$m" "$secs"
done

# 4. export vs the sqlite3 shell writing the same tables as CSV
measure "$bin" --db nat.db export out; r=$secs; m=$kb
measure sqlite3 nat.db -cmd ".mode csv" -cmd ".headers on" ".once b_visit.csv" "SELECT * FROM visit" \
  ".once b_facility.csv" "SELECT * FROM facility" ".once b_farm.csv" "SELECT * FROM farm" \
  ".once b_water.csv" "SELECT * FROM water_body" ".once b_roster.csv" "SELECT * FROM roster"
row "export" "$r" "$m" "$secs"

echo
echo "ruralsan $(git -C "$repo" rev-parse --short HEAD), $roster_src, $(nproc) cores, $(uname -m), $(date -u +%F)"
printf '%-36s %12s %12s %8s %12s\n' operation "ruralsan s" "baseline s" ratio "peak MB"
for line in "${rows[@]}"; do
  IFS=$'\t' read -r op r b kb <<<"$line"
  awk -v op="$op" -v r="$r" -v b="$b" -v kb="$kb" 'BEGIN { printf "%-36s %12.2f %12.2f %8.2f %12.0f\n", op, r, b, (b > 0 ? r / b : 0), kb / 1024 }'
done
