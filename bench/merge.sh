#!/usr/bin/env bash
# bench/merge.sh [CREWS] [FRACTION] [WORKDIR]
# Figures for issue 4: builds CREWS crew databases over the Hunan roster
# (generate + import, each crew its own seed), snapshots them, then times
# merging them all into an empty county database, and merging them again.
# Prints wall time, visits/s and peak memory (from /usr/bin/time -v).
set -euo pipefail
crews=${1:-10}
fraction=${2:-0.42}
work=${3:-/tmp/ruralsan-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/target/release/ruralsan
roster=${ROSTER:-/work/shared/data/hunan_villages_2021.csv}
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 2; }
mkdir -p "$work"
files=()
for i in $(seq 1 "$crews"); do
  snap=$work/crew$i-snap.db
  if [ ! -f "$snap" ]; then
    rm -rf "$work/bundle$i" "$work/crew$i.db"*
    "$bin" generate --roster "$roster" --seed "$i" --fraction "$fraction" "$work/bundle$i" >/dev/null
    "$bin" --db "$work/crew$i.db" import "$work/bundle$i" >/dev/null
    "$bin" --db "$work/crew$i.db" snapshot "$snap" >/dev/null
    rm -rf "$work/bundle$i"
  fi
  files+=("$snap")
done
visits=0
for f in "${files[@]}"; do visits=$((visits + $(sqlite3 "$f" 'select count(*) from revision'))); done
rm -rf "$work/county" && mkdir -p "$work/county"
county=$work/county/county.db
run() {
  local label=$1; shift
  /usr/bin/time -v "$@" >"$work/out.txt" 2>"$work/time.txt" || { cat "$work/time.txt"; exit 1; }
  local wall rss user sys
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  user=$(grep 'User time' "$work/time.txt" | awk '{print $NF}')
  sys=$(grep 'System time' "$work/time.txt" | awk '{print $NF}')
  echo "$label: wall $wall (cpu user ${user}s + sys ${sys}s), peak RSS $((rss / 1024)) MB"
}
run "first merge of $crews files ($visits revisions)" "$bin" --db "$county" merge "${files[@]}"
tail -3 "$work/out.txt"
secs=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
cpu=$(grep -E 'User time|System time' "$work/time.txt" | awk '{s += $NF} END {print s}')
echo "rate: $(python3 -c "print(round($visits / $secs))") visits/s wall, $(python3 -c "print(round($visits / $cpu))") visits per CPU-second (load average: $(cut -d' ' -f1 /proc/loadavg))"
run "same $crews files again" "$bin" --db "$county" merge "${files[@]}"
tail -2 "$work/out.txt"
echo "county: $(sqlite3 "$county" 'select count(*) from visit') visits, $(du -h "$county" | cut -f1)"
