#!/usr/bin/env bash
# Agent import benchmark (issue 14, point 5; footprint, point 6).
#
#   tests/bench/agent_import.sh [BUILD_DIR] [ROWS] [MONTHS]
#
# Generates ROWS activity events (default 1,000,000 over 24 months) as one
# CSV, starts a real ohfed-agent on a fresh data directory, imports the file
# with the `ohfed` CLI (to durable, summarised state) and prints the time
# and the agent's memory from /proc (VmRSS idle, VmHWM peak, VmRSS after),
# then does the same with the sqlite3 CLI: .import into a file database and
# the same monthly counts and wait-time medians. SPLIT_MIB=14 splits the
# file by month into files under that size, for builds whose import takes
# one control message (before issue 14). Nothing is asserted: figures only.
set -euo pipefail

BUILD=${1:-build}
ROWS=${2:-1000000}
MONTHS=${3:-24}
HERE=$(cd "$(dirname "$0")" && pwd)
AGENT=$BUILD/bin/ohfed-agent
CLI=$BUILD/bin/ohfed
WORK=$(mktemp -d /tmp/agent_import_bench.XXXXXX)
trap '[[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

now_ms() { date +%s%3N; }
proc() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

CSV=$WORK/activity.csv
python3 "$HERE/gen_activity_csv.py" "$ROWS" "$CSV" "$MONTHS"
BYTES=$(stat -c %s "$CSV")
FILES=("$CSV")
if [[ -n "${SPLIT_MIB:-}" ]]; then
  # One file per group of whole months, each under SPLIT_MIB.
  python3 - "$CSV" "$SPLIT_MIB" "$WORK" <<'PY'
import sys, collections
src, limit, work = sys.argv[1], int(sys.argv[2]) << 20, sys.argv[3]
lines = open(src).read().splitlines(True)
header, by_month = lines[0], collections.OrderedDict()
for l in lines[1:]:
    by_month.setdefault(l[:7], []).append(l)
part, size, n = [], 0, 0
def flush():
    global part, size, n
    if part:
        open("%s/part%03d.csv" % (work, n), "w").write(header + "".join(part))
        n += 1
    part, size = [], 0
for m, rows in by_month.items():
    s = sum(map(len, rows))
    if size + s > limit: flush()
    part += rows; size += s
flush()
PY
  FILES=("$WORK"/part*.csv)
fi

DATA=$WORK/agent
mkdir -p "$DATA"
"$AGENT" --trust RJ1 --data "$DATA" --aggregator 127.0.0.1:9 --insecure \
  --initial-backoff-ms 60000 --max-backoff-seconds 600 >"$WORK/agent.log" 2>&1 &
PID=$!
for _ in $(seq 500); do
  "$CLI" --agent "$DATA/agent.sock" status >/dev/null 2>&1 && break
  sleep 0.02
done
sleep 2  # let start-up settle
IDLE_RSS=$(proc $PID VmRSS)
IDLE_THREADS=$(proc $PID Threads)

cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
CPU0=$(cpu_ms $PID)
START=$(now_ms)
for f in "${FILES[@]}"; do
  /usr/bin/time -f "%M" -o "$WORK/cli.rss" "$CLI" --agent "$DATA/agent.sock" \
    import activity "$f" >"$WORK/import.out"
done
END=$(now_ms)
AGENT_MS=$((END - START))
AGENT_CPU_MS=$(($(cpu_ms $PID) - CPU0))
PEAK=$(proc $PID VmHWM)
AFTER=$(proc $PID VmRSS)
sleep 3
AFTER3=$(proc $PID VmRSS)
THREADS=$(proc $PID Threads)
CLI_RSS=$(cat "$WORK/cli.rss")
DB_KB=$(du -sk "$DATA/db" | cut -f1)
grep -E "imported|periods" "$WORK/import.out" | head -2 | cut -c1-120 >&2 || true
kill $PID; wait $PID 2>/dev/null || true; PID=

SQL=$WORK/sqlite.db
START=$(now_ms)
/usr/bin/time -f "%M %U %S" -o "$WORK/sqlite.rss" sqlite3 "$SQL" >/dev/null <<SQLEOF
.mode csv
.import $CSV events
CREATE TABLE monthly AS
  SELECT substr(date, 1, 7) AS month, activity, count(*) AS events
  FROM events GROUP BY 1, 2;
CREATE TABLE medians AS
  WITH w AS (
    SELECT substr(date, 1, 7) AS month, activity,
           CAST(wait_days AS INTEGER) AS d,
           ROW_NUMBER() OVER (PARTITION BY substr(date, 1, 7), activity
                              ORDER BY CAST(wait_days AS INTEGER)) AS rn,
           COUNT(*) OVER (PARTITION BY substr(date, 1, 7), activity) AS n
    FROM events WHERE wait_days <> '')
  SELECT month, activity, AVG(d) AS median FROM w
  WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY 1, 2;
SQLEOF
END=$(now_ms)
SQLITE_MS=$((END - START))
read -r SQLITE_RSS SQLITE_U SQLITE_S < "$WORK/sqlite.rss"
SQLITE_CPU_MS=$(awk -v u="$SQLITE_U" -v s="$SQLITE_S" 'BEGIN { print int((u + s) * 1000) }')

printf '%-34s %s\n' "rows / file" "$ROWS events, $(mib $((BYTES / 1024))) MiB, ${#FILES[@]} file(s)"
printf '%-34s %s\n' "agent idle RSS / threads" "$(mib "$IDLE_RSS") MiB / $IDLE_THREADS"
printf '%-34s %s\n' "agent import time (CPU)" "$AGENT_MS ms ($AGENT_CPU_MS ms)"
printf '%-34s %s\n' "sqlite3 import + summaries (CPU)" "$SQLITE_MS ms ($SQLITE_CPU_MS ms)"
printf '%-34s %s\n' "speed vs sqlite3 (goal >= 3)" "$(awk -v a="$AGENT_MS" -v s="$SQLITE_MS" 'BEGIN { printf "%.2fx", s / a }') wall, $(awk -v a="$AGENT_CPU_MS" -v s="$SQLITE_CPU_MS" 'BEGIN { printf "%.2fx", s / a }') CPU"
printf '%-34s %s\n' "agent peak RSS (VmHWM, goal <= 40)" "$(mib "$PEAK") MiB"
printf '%-34s %s\n' "agent RSS just after / 3 s after" "$(mib "$AFTER") / $(mib "$AFTER3") MiB"
printf '%-34s %s\n' "agent threads after" "$THREADS"
printf '%-34s %s\n' "ohfed CLI peak RSS (last file)" "$(mib "$CLI_RSS") MiB"
printf '%-34s %s\n' "sqlite3 peak RSS" "$(mib "$SQLITE_RSS") MiB"
printf '%-34s %s\n' "agent db / sqlite db size" "$(mib "$DB_KB") / $(mib $(( $(stat -c %s "$SQL") / 1024 ))) MiB"
