#!/usr/bin/env bash
# bench/run.sh — ruralsan beside plain baselines at national scale.
#
# Builds the release binary, prepares a national database (the real national
# roster from ../shared/data when present, a synthetic one of the same size
# otherwise) and measures each operation next to the plain way of doing the
# same work with the sqlite3 shell, in the same run. Prints one table:
# operation, ruralsan, baseline (the plain way; for summaries the per-visit
# figures yardstick of bench/plain_build.sql + bench/plain.sql), ratio,
# bench/hand.sql (the older hand-written aggregate, summaries only), peak MB.
# "cold" rows drop the database files' pages from the page cache first
# (fsync + posix_fadvise DONTNEED; fincore shows what stayed resident).
#
# Usage: bench/run.sh [WORK_DIR]   (default /tmp/ruralsan-bench; needs sqlite3, python3)
# BIN=path/to/ruralsan EXAMPLES=dir measures another build (e.g. an older
# commit's; EXAMPLES holds its tui_bench and dashboard_figures) without building.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/ruralsan-bench}
command -v sqlite3 >/dev/null || { echo "bench needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  (cd "$repo" && cargo build --release --quiet --bins --examples)
  bin="$repo/target/release/ruralsan"
  examples="$repo/target/release/examples"
  version="ruralsan $(git -C "$repo" rev-parse --short HEAD)"
else
  bin=$BIN
  examples=${EXAMPLES:-$(dirname "$BIN")/examples}
  version="ruralsan at $BIN"
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work"

national="$repo/../shared/data/china_villages_2021.csv.gz"
[ -f "$national" ] || national=/work/shared/data/china_villages_2021.csv.gz
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
# measure command...: sets $secs and $kb (peak RSS)
measure() {
  /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>run.err || { echo "failed: $*" >&2; cat run.err >&2; exit 1; }
  read -r secs kb < time.txt
}
# row OPERATION RURALSAN BASELINE HAND PEAK_KB: one line of the table; numbers
# as text, "" where there is none.
row() { rows+=("$1|$2|$3|$4|$5"); }
# evict FILE...: writes back and drops the files' pages from the page cache;
# prints how many KiB stayed resident (fincore), "?" without fincore.
evict() {
  python3 - "$@" <<'PY'
import os, sys
for f in sys.argv[1:]:
    if os.path.exists(f):
        fd = os.open(f, os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY
  if command -v fincore >/dev/null; then
    local present=()
    for f in "$@"; do [ -e "$f" ] && present+=("$f"); done
    fincore -nb -o RES "${present[@]}" | awk '{s += $1} END {printf "%d", s / 1024}'
  else
    printf '?'
  fi
}
resident=()
sql_as_of=(-cmd ".parameter set :as_of \"'2025-12-31'\"")

# 1. roster import vs sqlite3 .import into a plain table
measure "$bin" --db nat.db roster import roster.csv; r=$secs; m=$kb
measure sqlite3 base.db -cmd ".mode csv" ".import roster.csv roster"
row "roster import ($(($(wc -l < roster.csv) - 1)) rows)" "$r" "$secs" "" "$m"

# 2. bundle import: one generated visit (plus repeats) for every village
"$bin" generate --roster roster.csv --seed 1 --fraction 1 bundle >/dev/null
rm -f bundle/villages.csv
# The generated files written back first: the import does not pay for it.
sync
visits=$(sqlite3 :memory: -cmd ".mode csv" ".import bundle/visits.csv v" "SELECT count(*) FROM v")
measure "$bin" --db nat.db import bundle; r=$secs; m=$kb
measure sqlite3 base.db -cmd ".mode csv" ".import bundle/visits.csv visit" ".import bundle/facilities.csv facility" \
  ".import bundle/farms.csv farm" ".import bundle/water_bodies.csv water_body"
row "bundle import ($visits visits)" "$r" "$secs" "" "$m"
row "  import rate, visits/s" "$(awk -v n="$visits" -v s="$r" 'BEGIN{printf "%.0f", n / s}')" \
  "$(awk -v n="$visits" -v s="$secs" 'BEGIN{printf "%.0f", n / s}')" "" ""

# 3. the yardstick: per-visit figures by hand (bench/plain_build.sql), and
#    the database sizes: ruralsan's file against the plain design's (plain
#    tables of the CSV files, indexes by visit, the figures table)
measure sqlite3 base.db ".read $repo/bench/plain_build.sql"
row "yardstick: per-visit figures made (bulk)" "" "$secs" "" ""
sqlite3 nat.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", b / 1048576}'; }
row "database size, MB" "$(mb nat.db)" "$(mb base.db)" "" ""

# 4. summaries, warm (each query run once before the timed run) and cold
for level in county township; do
  len=$([ $level = county ] && echo 6 || echo 9)
  sed "s/substr(r.code, 1, 6)/substr(r.code, 1, $len)/" "$repo/bench/hand.sql" > hand_$level.sql
  sed "s/, 1, 6)/, 1, $len)/g" "$repo/bench/plain.sql" > plain_$level.sql
  run_rs=("$bin" --db nat.db summary --as-of 2025-12-31 --level $level --format json)
  run_plain=(sqlite3 base.db "${sql_as_of[@]}" ".read plain_$level.sql")
  run_hand=(sqlite3 nat.db "${sql_as_of[@]}" ".read hand_$level.sql")
  "${run_rs[@]}" >/dev/null; "${run_plain[@]}" >/dev/null; "${run_hand[@]}" >/dev/null
  measure "${run_rs[@]}"; r=$secs; m=$kb
  measure "${run_plain[@]}"; p=$secs
  measure "${run_hand[@]}"; h=$secs
  row "summary --level $level, warm" "$r" "$p" "$h" "$m"
  resident+=("$(evict nat.db nat.db-wal nat.db-shm)"); measure "${run_rs[@]}"; r=$secs; m=$kb
  resident+=("$(evict base.db)"); measure "${run_plain[@]}"; p=$secs
  resident+=("$(evict nat.db nat.db-wal nat.db-shm)"); measure sh -c 'timeout 300 "$@"; exit 0' _ "${run_hand[@]}"; h=$secs
  row "summary --level $level, cold" "$r" "$p" "$h" "$m"
done

# 5. export vs the sqlite3 shell writing the same tables as CSV
measure "$bin" --db nat.db export out; r=$secs; m=$kb
measure sqlite3 nat.db -cmd ".mode csv" -cmd ".headers on" ".once b_visit.csv" "SELECT * FROM visit" \
  ".once b_facility.csv" "SELECT * FROM facility" ".once b_farm.csv" "SELECT * FROM farm" \
  ".once b_water.csv" "SELECT * FROM water_body" ".once b_roster.csv" "SELECT * FROM roster"
row "export" "$r" "$secs" "" "$m"

# 6. merge of 10 crew databases (Hunan roster, ~110k visits in all) into an
#    empty county database, then the same 10 files again; baseline: a plain
#    set union of the revisions with INSERT OR IGNORE ... SELECT
province="$repo/../shared/data/hunan_villages_2021.csv"
[ -f "$province" ] || province=/work/shared/data/hunan_villages_2021.csv
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
# A merge never adds roster units (issue 11): the county loads its roster first.
"$bin" --db county/county.db roster import "$province" >/dev/null
measure "$bin" --db county/county.db merge "${crews[@]}"; r=$secs; m=$kb
sqlite3 "${crews[0]}" ".schema revision" | sed 's/^CREATE \(TABLE\|INDEX\) /CREATE \1 IF NOT EXISTS /' > union.sql
for f in "${crews[@]}"; do
  echo "ATTACH '$f' AS c; INSERT OR IGNORE INTO main.revision SELECT * FROM c.revision; DETACH c;" >> union.sql
done
measure sqlite3 union.db ".read union.sql"
row "merge 10 crew files ($revs revisions)" "$r" "$secs" "" "$m"
measure "$bin" --db county/county.db merge "${crews[@]}"; r=$secs; m=$kb
measure sqlite3 union.db ".read union.sql"
row "the same 10 files again" "$r" "$secs" "" "$m"

# 7. first frames and the province trend, from the programs' own clocks
#    (examples drawing into a test terminal); baseline: the yardstick's
#    county summary (the figure a dashboard must compute)
measure "${run_plain[@]/township/county}"
base=$secs
/usr/bin/time -f "%e %M" -o time.txt "$examples/tui_bench" nat.db > tui.txt
read -r _ kb < time.txt
crew_ms=$(grep -m1 'open to first frame' tui.txt | grep -oE '[0-9.]+ ms' | cut -d' ' -f1)
row "crew UI first frame" "$(awk -v v="$crew_ms" 'BEGIN{print v/1000}')" "" "" "$kb"
if [ -x "$examples/dashboard_figures" ]; then
  /usr/bin/time -f "%e %M" -o time.txt "$examples/dashboard_figures" nat.db 2025-12-31 > dash.txt
  read -r _ dkb < time.txt
  dash_ms=$(grep -m1 -i 'first frame' dash.txt | grep -oE '[0-9.]+ ms' | head -1 | cut -d' ' -f1)
  row "dashboard first frame (warm)" "$(awk -v v="$dash_ms" 'BEGIN{print v/1000}')" "$base" "" "$dkb"
  # Drilling into a county shows its townships.
  drill_ms=$(grep -m1 '(Township' dash.txt | grep -oE '[0-9.]+ ms' | head -1 | cut -d' ' -f1 || true)
  [ -n "$drill_ms" ] && row "dashboard drill into a county" "$(awk -v v="$drill_ms" 'BEGIN{print v/1000}')" "" "" "$dkb"
  trend=$(grep -m1 '^trend of' dash.txt || true)
  if [ -n "$trend" ]; then
    quarters=$(grep -oE '[0-9]+ quarters' <<<"$trend" | cut -d' ' -f1)
    trend_ms=$(grep -oE '[0-9.]+ ms' <<<"$trend" | tail -1 | cut -d' ' -f1)
    row "province trend ($quarters quarters)" "$(awk -v v="$trend_ms" 'BEGIN{print v/1000}')" "" "" "$dkb"
  fi
fi

echo
echo "$version, $roster_src, $(nproc) cores, $(uname -m), $(date -u +%F)"
printf '%-42s %11s %11s %7s %11s %8s\n' operation "ruralsan" "baseline" ratio "hand.sql" "peak MB"
for line in "${rows[@]}"; do
  IFS='|' read -r op r b h kb <<<"$line"
  awk -v op="$op" -v r="$r" -v b="$b" -v h="$h" -v kb="$kb" 'function f(x) { return x == "" ? "" : (x >= 1000 ? sprintf("%.0f", x) : sprintf("%.3f", x)) }
    BEGIN { printf "%-42s %11s %11s %7s %11s %8s\n", op, f(r), f(b), (r != "" && b > 0 ? sprintf("%.2f", r / b) : ""),
            f(h), (kb == "" ? "" : sprintf("%.0f", kb / 1024)) }'
done
echo "seconds, except where the operation names another unit; baseline: the plain way in the sqlite3 shell"
echo "(summaries: bench/plain.sql on bench/plain_build.sql's figures; hand.sql: bench/hand.sql on ruralsan's file)."
echo "page cache after eviction, KiB resident per cold run: ${resident[*]}"
