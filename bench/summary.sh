#!/usr/bin/env bash
# bench/summary.sh [DB] [RURALSAN]
#
# Times `ruralsan summary --format json` at county and township level on a
# national database against the same county aggregate written by hand in
# plain SQL (bench/hand.sql) run by the sqlite3 shell on the same file, and
# reports wall and CPU seconds and peak memory (RSS) of each, best of $RUNS.
# Then checks that the hand-written figures equal ruralsan's.
#
# The database is built on first use (about 4 minutes):
#   ruralsan --db DB roster import shared/data/china_villages_2021.csv.gz   (618k units)
#   ruralsan generate --roster china.csv --seed 1 --fraction 1 natb           (one visit per village, some more)
#   ruralsan --db DB import natb
#
# Goals (issue 3): under 1 s each; ruralsan at most 1.5 × the hand-written
# query; under 200 MB. Benchmarks print figures; nothing here fails on time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
db=${1:-/tmp/nat.db}
bin=${2:-$here/target/release/ruralsan}
as_of=${AS_OF:-2025-12-31}
runs=${RUNS:-5}
roster=${ROSTER:-$here/../shared/data/china_villages_2021.csv.gz}
[ -f "$roster" ] || roster=/work/shared/data/china_villages_2021.csv.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$db" ]; then
  echo "building $db from $roster ..."
  "$bin" --db "$db" roster import "$roster"
  zcat "$roster" >"$tmp/china.csv"
  "$bin" generate --roster "$tmp/china.csv" --seed 1 --fraction 1 "$tmp/natb"
  "$bin" --db "$db" import "$tmp/natb"
  rm -rf "$tmp/china.csv" "$tmp/natb"
fi
# Open once with this ruralsan so that its schema (indexes) is in place, and
# warm the OS cache the same way for both sides.
"$bin" --db "$db" --config "$tmp/none.toml" summary --as-of "$as_of" --level province --format json >/dev/null
sed "s/:as_of/'$as_of'/g" "$here/bench/hand.sql" >"$tmp/hand.sql"

echo "sqlite3 shell $(sqlite3 --version | cut -d' ' -f1); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "villages $(sqlite3 "$db" 'SELECT count(*) FROM roster WHERE is_village = 1'), visits $(sqlite3 "$db" 'SELECT count(*) FROM visit'), db $(du -m "$db" | cut -f1) MB"

# best LABEL CMD... : runs CMD $runs times, prints the run with the least wall time.
best() {
  local label=$1
  shift
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" >"$tmp/out"
    cat "$tmp/t"
  done | sort -n | head -1 | awk -v l="$label" '{printf "%-34s %6.2f s wall %6.2f s user %5.2f s sys %6.0f MB peak\n", l, $1, $2, $3, $4 / 1024}'
}

best "ruralsan summary --level county" "$bin" --db "$db" --config "$tmp/none.toml" summary --as-of "$as_of" --level county --format json
best "ruralsan summary --level township" "$bin" --db "$db" --config "$tmp/none.toml" summary --as-of "$as_of" --level township --format json
best "hand-written SQL (county)" sqlite3 -csv "$db" -init /dev/null ".read $tmp/hand.sql"

# Same figures? (villages, surveyed, treated, controlled, households treated,
# households, garbage covered, natural villages, manure produced, utilized)
"$bin" --db "$db" --config "$tmp/none.toml" summary --as-of "$as_of" --level county --format json >"$tmp/ours.json"
sqlite3 -csv "$db" -init /dev/null ".read $tmp/hand.sql" >"$tmp/hand.csv"
python3 - "$tmp/ours.json" "$tmp/hand.csv" <<'EOF'
import csv, json, math, sys
ours = {a["code"]: a for a in json.load(open(sys.argv[1]))["areas"]}
bad = rows = 0
for row in csv.reader(open(sys.argv[2])):
    a = ours[row[0]]
    want = [a["villages"], a["surveyed"], a["sewage"]["villages_treated"], a["sewage"]["villages_controlled"],
            a["sewage"]["households_treated"], a["sewage"]["households"], a["garbage"]["covered"],
            a["garbage"]["natural_villages"], a["manure"]["produced_t"], a["manure"]["utilized_t"]]
    rows += 1
    if any(not math.isclose(float(g), w, rel_tol=1e-9, abs_tol=1e-9) for g, w in zip(row[1:], want)):
        bad += 1
print(f"hand-written vs ruralsan: {rows} counties, {bad} differ")
EOF
