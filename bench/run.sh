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

# 3. summary vs the hand-written aggregate of bench/hand.sql (counting visit
#    per village; sewage, garbage and manure sums) in the sqlite3 shell
for level in county township; do
  len=$([ $level = county ] && echo 6 || echo 9)
  sed "s/substr(r.code, 1, 6)/substr(r.code, 1, $len)/" "$repo/bench/hand.sql" > hand_$level.sql
  measure "$bin" --db nat.db summary --as-of 2025-12-31 --level $level --format json; r=$secs; m=$kb
  measure sqlite3 nat.db -cmd ".parameter set :as_of '2025-12-31'" ".read hand_$level.sql"
  row "summary --level $level" "$r" "$m" "$secs"
done

# 4. export vs the sqlite3 shell writing the same tables as CSV
measure "$bin" --db nat.db export out; r=$secs; m=$kb
measure sqlite3 nat.db -cmd ".mode csv" -cmd ".headers on" ".once b_visit.csv" "SELECT * FROM visit" \
  ".once b_facility.csv" "SELECT * FROM facility" ".once b_farm.csv" "SELECT * FROM farm" \
  ".once b_water.csv" "SELECT * FROM water_body" ".once b_roster.csv" "SELECT * FROM roster"
row "export" "$r" "$m" "$secs"

# 5. merge of 10 crew databases (Hunan roster, ~110k visits in all) into an
#    empty county database, then the same 10 files again; baseline: a plain
#    set union of the revisions with INSERT OR IGNORE ... SELECT
province="$repo/../shared/data/hunan_villages_2021.csv"
[ -f "$province" ] || { head -30000 roster.csv > province.csv; province=province.csv; }
crews=()
for i in $(seq 1 10); do
  "$bin" generate --roster "$province" --seed "$((100 + i))" --fraction 0.42 crew$i >/dev/null
  "$bin" --db crew$i-live.db import crew$i >/dev/null
  "$bin" --db crew$i-live.db snapshot crew$i.db >/dev/null
  crews+=("crew$i.db")
done
revs=0
for f in "${crews[@]}"; do revs=$((revs + $(sqlite3 "$f" 'SELECT count(*) FROM revision'))); done
mkdir -p county
measure "$bin" --db county/county.db merge "${crews[@]}"; r=$secs; m=$kb
{ sqlite3 "${crews[0]}" ".schema revision"; } > union.sql
for f in "${crews[@]}"; do
  echo "ATTACH '$f' AS c; INSERT OR IGNORE INTO main.revision SELECT * FROM c.revision; DETACH c;" >> union.sql
done
measure sqlite3 union.db ".read union.sql"
row "merge 10 crew files ($revs revisions)" "$r" "$m" "$secs"
measure "$bin" --db county/county.db merge "${crews[@]}"; r=$secs; m=$kb
measure sqlite3 union.db ".read union.sql"
row "the same 10 files again" "$r" "$m" "$secs"

# 6. first frames, from the programs' own clocks (examples drawing into a
#    test terminal): crew UI and supervisor dashboard; baseline: the
#    hand-written county aggregate above
cd "$repo" && cargo build --release --quiet --examples && cd "$work"
/usr/bin/time -f "%e %M" -o time.txt "$repo/target/release/examples/tui_bench" nat.db > tui.txt
read -r _ kb < time.txt
crew_ms=$(grep -m1 'open to first frame' tui.txt | grep -oE '[0-9.]+ ms' | cut -d' ' -f1)
crew_kb=$kb
measure sqlite3 nat.db -cmd ".parameter set :as_of '2025-12-31'" ".read hand_county.sql"
base=$secs
row "crew UI first frame" "$(awk -v v="$crew_ms" 'BEGIN{print v/1000}')" "$crew_kb" "$base"
if [ -x "$repo/target/release/examples/dashboard_figures" ]; then
  /usr/bin/time -f "%e %M" -o time.txt "$repo/target/release/examples/dashboard_figures" nat.db 2025-12-31 > dash.txt
  read -r _ dkb < time.txt
  dash_ms=$(grep -m1 -i 'first frame' dash.txt | grep -oE '[0-9.]+ ms' | head -1 | cut -d' ' -f1)
  row "dashboard first frame" "$(awk -v v="$dash_ms" 'BEGIN{print v/1000}')" "$dkb" "$base"
  drill_ms=$(grep -m1 -i 'drill' dash.txt | grep -oE '[0-9.]+ ms' | head -1 | cut -d' ' -f1)
  [ -n "$drill_ms" ] && row "dashboard drill into a county" "$(awk -v v="$drill_ms" 'BEGIN{print v/1000}')" "$dkb" "$base"
fi

echo
echo "ruralsan $(git -C "$repo" rev-parse --short HEAD), $roster_src, $(nproc) cores, $(uname -m), $(date -u +%F)"
printf '%-40s %12s %12s %8s %12s\n' operation "ruralsan s" "baseline s" ratio "peak MB"
for line in "${rows[@]}"; do
  IFS=$'\t' read -r op r b kb <<<"$line"
  awk -v op="$op" -v r="$r" -v b="$b" -v kb="$kb" 'BEGIN { printf "%-40s %12.3f %12.3f %8.2f %12.0f\n", op, r, b, (b > 0 ? r / b : 0), kb / 1024 }'
done
