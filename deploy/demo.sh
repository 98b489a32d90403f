#!/usr/bin/env bash
# The ohfed demo: a national aggregator, two regional aggregators (London;
# North East and Yorkshire) and six trust agents in five ICSs (two in South East London), each with
# twelve months of generated sample data; waits until the national view has
# everything, then prints the national and one ICS view.
#
#   bash deploy/demo.sh          build (installing what is missing) and run
#   bash deploy/demo.sh stop     stop every demo process
#
# Everything listens on 127.0.0.1 only, over mutual TLS with development
# certificates made by deploy/dev-certs.sh in ./demo-run/certs (each agent
# presents its trust's, each regional aggregator its region's upstream);
# state lives in ./demo-run/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
RUN="$ROOT/demo-run"
BIN="$ROOT/build"
NATIONAL=127.0.0.1:${OHFED_DEMO_PORT:-7400}
LONDON=127.0.0.1:$(( ${OHFED_DEMO_PORT:-7400} + 1 ))
NEY=127.0.0.1:$(( ${OHFED_DEMO_PORT:-7400} + 2 ))
DASHBOARD=127.0.0.1:$(( ${OHFED_DEMO_PORT:-7400} + 43 ))
# trust:regional-aggregator pairs
AGENTS=("RJ1:$LONDON" "RJZ:$LONDON" "R1H:$LONDON" "RAL:$LONDON" "RCB:$NEY" "RAE:$NEY")

stop_all() {
  [ -f "$RUN/pids" ] || return 0
  while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$RUN/pids"
  sleep 1
  while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$RUN/pids"
  rm -f "$RUN/pids"
}

if [ "${1:-}" = "stop" ]; then
  stop_all
  echo "ohfed demo stopped"
  exit 0
fi

deploy/build.sh ohfed-aggregator ohfed-agent ohfed ohfed-sample-data
stop_all
rm -rf "$RUN"
mkdir -p "$RUN"
CERTS="$RUN/certs"
TRUSTS=()
for pair in "${AGENTS[@]}"; do TRUSTS+=("${pair%%:*}"); done
deploy/dev-certs.sh "$CERTS" "${TRUSTS[@]}" >/dev/null
SERVE=(--tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" --tls-ca "$CERTS/ca.pem")
# Dashboard sign-in tokens: the national aggregator's tokens file holds only
# their hashes; the tokens themselves are printed at the end.
"$BIN/bin/ohfed" token new --scope national --name "demo national" > "$RUN/token-national.txt"
"$BIN/bin/ohfed" token new --scope ics:QKK --name "demo South East London lead" > "$RUN/token-ics-QKK.txt"
for f in "$RUN"/token-*.txt; do sed -n 2p "$f"; done > "$RUN/tokens"
NATIONAL_TOKEN=$(head -1 "$RUN/token-national.txt")
ICS_TOKEN=$(head -1 "$RUN/token-ics-QKK.txt")

start() {  # name, command...
  local name=$1; shift
  setsid "$@" >"$RUN/$name.log" 2>&1 < /dev/null &
  echo $! >> "$RUN/pids"
}

wait_for() {  # description, command...
  local what=$1; shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "demo: timed out waiting for $what (logs in $RUN)" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }

echo "== starting aggregators"
start national "$BIN/bin/ohfed-aggregator" --listen "$NATIONAL" \
  --data "$RUN/national" "${SERVE[@]}" --tokens "$RUN/tokens" --http "$DASHBOARD"
wait_for "national aggregator" port_open "$NATIONAL"
wait_for "national dashboard" port_open "$DASHBOARD"
start london "$BIN/bin/ohfed-aggregator" --listen "$LONDON" \
  --data "$RUN/london" --upstream "$NATIONAL" --covers region:Y56 "${SERVE[@]}" \
  --upstream-tls-cert "$CERTS/regional-Y56.pem" --upstream-tls-key "$CERTS/regional-Y56.key"
start ney "$BIN/bin/ohfed-aggregator" --listen "$NEY" \
  --data "$RUN/ney" --upstream "$NATIONAL" --covers region:Y63 "${SERVE[@]}" \
  --upstream-tls-cert "$CERTS/regional-Y63.pem" --upstream-tls-key "$CERTS/regional-Y63.key"
wait_for "London aggregator" port_open "$LONDON"
wait_for "NE&Y aggregator" port_open "$NEY"

LAST=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
FIRST=$(date -u -d "$(date -u +%Y-%m-01) -12 month" +%Y-%m)
echo "== starting agents with sample data for $FIRST..$LAST"
for pair in "${AGENTS[@]}"; do
  trust=${pair%%:*}; upstream=${pair#*:}
  dir="$RUN/agent-$trust"
  mkdir -p "$dir"
  "$BIN/bin/ohfed-sample-data" --trust "$trust" --out "$dir" --end "$LAST"
  start "agent-$trust" "$BIN/bin/ohfed-agent" --trust "$trust" --data "$dir" \
    --aggregator "$upstream" --tls-cert "$CERTS/trust-$trust.pem" \
    --tls-key "$CERTS/trust-$trust.key" --tls-ca "$CERTS/ca.pem"
done
for pair in "${AGENTS[@]}"; do
  trust=${pair%%:*}; dir="$RUN/agent-$trust"
  wait_for "agent $trust" test -S "$dir/agent.sock"
  for kind in staffing activity profile; do
    "$BIN/bin/ohfed" --agent "$dir/agent.sock" import "$kind" "$dir/$kind.csv" --accept-outliers >/dev/null
  done
  "$BIN/bin/ohfed" --agent "$dir/agent.sock" sync --timeout 60
done

NATIONAL_CALLER=(--tls-cert "$CERTS/national.pem" --tls-key "$CERTS/national.key" --tls-ca "$CERTS/ca.pem")
Q=("$BIN/bin/ohfed" query --aggregator "$NATIONAL" "${NATIONAL_CALLER[@]}")
all_reported() {
  "${Q[@]}" --scope national --period "$LAST" --measures completeness \
    --format csv 2>/dev/null \
    | grep -q "^national,$LAST,national,England,,,${#AGENTS[@]},"
}
echo "== waiting for the regions to forward to the national aggregator"
wait_for "national completeness" all_reported

echo
echo "== National view: workforce (WTE) by region, $LAST"
"${Q[@]}" --scope national --by region --period "$LAST" --measures staffing.wte --stats sum
echo
echo "== National view: activity, $FIRST..$LAST"
"${Q[@]}" --scope national --period "$FIRST:$LAST" --measures activity.count --stats sum,mean,min,max
echo
echo "== National view: workforce ratios"
"${Q[@]}" --scope national --period "$LAST" --measures derived
echo
echo "== ICS view: NHS South East London (ics:QKK) by trust, workforce (WTE), $LAST"
"${Q[@]}" --scope ics:QKK --by trust --period "$LAST" --measures staffing.wte --stats sum
echo
# Below national, activity is published for months, quarters, years and
# financial years only (disclosure control): the quarter of $LAST.
QUARTER="${LAST%-*}-Q$(( (10#${LAST#*-} + 2) / 3 ))"
echo "== ICS view: NHS South East London (ics:QKK) by trust, activity, $QUARTER"
echo "   (* = 1 to 7 or hidden to protect one; others rounded to the nearest 5)"
"${Q[@]}" --scope ics:QKK --by trust --period "$QUARTER" --measures activity.count --stats sum
echo
echo "== Completeness by region, $LAST"
echo "   (on time = first received by the 15th of the following month; the demo"
echo "   sends twelve months at once today, so $LAST is on time only if today is"
echo "   on or before the 15th)"
"${Q[@]}" --scope national --by region --period "$LAST" --measures completeness
echo
echo "== Completeness of ICS QKK by trust, $LAST"
"${Q[@]}" --scope ics:QKK --period "$LAST" --measures completeness

cat <<MSG

ohfed demo is running over mutual TLS (state and logs in $RUN, development
certificates in $CERTS):
  national aggregator   $NATIONAL
  London aggregator     $LONDON  (covers region:Y56; agents RJ1, RJZ, R1H, RAL)
  NE&Y aggregator       $NEY  (covers region:Y63; agents RCB, RAE)
  dashboard             https://$DASHBOARD/  (national aggregator)

Open the dashboard at https://$DASHBOARD/ (the certificate is the demo's own
CA, $CERTS/ca.pem, so the browser warns once) and sign in with
  national token        $NATIONAL_TOKEN
  ICS lead (ics:QKK)    $ICS_TOKEN
or from a script:
  curl --cacert $CERTS/ca.pem -H "Authorization: Bearer $NATIONAL_TOKEN" https://$DASHBOARD/scope/national/workforce.csv

Query further, for example:
  $BIN/bin/ohfed query --aggregator $NATIONAL --tls-cert $CERTS/national.pem --tls-key $CERTS/national.key --tls-ca $CERTS/ca.pem --scope region:Y56 --by ics --period $LAST --measures staffing.wte --format csv
  $BIN/bin/ohfed --agent $RUN/agent-RJ1/agent.sock status
Stop everything:
  bash deploy/demo.sh stop
MSG
