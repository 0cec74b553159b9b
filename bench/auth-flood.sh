#!/usr/bin/env bash
# auth-flood.sh — does a flood of unauthenticated requests slow down a legitimate deploy fetch?
#
# Starts the packaged service with the systemd unit's JVM flags and malloc settings (-Xmx128m, SerialGC)
# in a fresh temp dir, makes a deployer principal (its own token) with env-file:read on prod, then
# measures GET /api/v1/environments/prod/env-file with wrk (FETCH_CONNS connections, one thread):
#   1. alone, after a WARMUP at the same load;
#   2. while a second wrk (FLOOD_CONNS connections, one thread) sends GET /api/v1/environments with a
#      well-formed token that does not exist (each one a 401: looked up in the database, refused,
#      audited in aggregate), started a second before and stopped a second after the fetch run.
# Prints fetch req/s and p99 side by side, the flood's rate, and how many audit events the flood
# added (aggregated: about two per second, not one per 401). Both wrk share the service's two cores,
# so the flood costs the fetch CPU whatever the service does; what must not happen is the fetch
# waiting behind the flood's audit events (the single writer) or its database lookups (the pool).
#
# Run:   ./mvnw package -DskipTests && bench/auth-flood.sh   (java 17, curl, python3, wrk)
# Knobs: APP=<repo>/target/quarkus-app  DURATION=15s  WARMUP=20s  FETCH_CONNS=4  FLOOD_CONNS=32
#        JAVA_EXTRA="-D…" (more JVM flags)  KEEP=1 (keep the temp dir)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ltc-bench-flood.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-20s}
FETCH_CONNS=${FETCH_CONNS:-4}
FLOOD_CONNS=${FLOOD_CONNS:-32}
unit_jvm_flags
FLOOD_PID=
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

cleanup() {
    if [[ -n $FLOOD_PID ]] && kill -0 "$FLOOD_PID" 2>/dev/null; then kill "$FLOOD_PID"; wait "$FLOOD_PID" 2>/dev/null || true; fi
    stop_service
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

need_commands wrk python3 curl

mkdir -m 700 "$WORK/root"
mkdir -p "$WORK/policies/environments"
bench_prod_yaml "$WORK/policies/environments/prod.yaml"   # no app, no approvals: the grant below is in force at once
start_service "$START_DEADLINE"
TOKEN=$(cat "$WORK/data/bootstrap-admin.token")
AUTH="Authorization: Bearer $TOKEN"
api() { curl -sf -H "$AUTH" -H 'Content-Type: application/json' "$URL/api/v1/$1" -d "$2"; }
api principals '{"name":"bench-deployer","role":"deployer"}' >/dev/null
DEPLOY_TOKEN=$(api principals/bench-deployer/tokens '{"ttl":"PT12H"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
DEPLOY_AUTH="Authorization: Bearer $DEPLOY_TOKEN"
api grants '{"principal":"bench-deployer","environment":"prod","permission":"env-file:read","ttl":"PT12H","reason":"benchmark"}' >/dev/null
# Well-formed (ltcs_<16 hex>_<43 base64url>), so every request costs a token lookup; no such token exists.
BAD_AUTH="Authorization: Bearer ltcs_0123456789abcdef_$(printf 'A%.0s' $(seq 43))"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "$BAD_AUTH" "$URL/api/v1/environments") == 401 ]] \
    || { echo "the flood's token is not refused with 401" >&2; exit 1; }

FETCH=$URL/api/v1/environments/prod/env-file
# wrk output file -> "req/s p99_ms errors" (errors = non-2xx + socket errors)
parse() {
    awk '/Requests\/sec/ {rps=$2}
         /^ +99%/ {p99=$2; if (p99 ~ /us$/) p99=p99/1000; else if (p99 ~ /ms$/) p99=p99+0; else if (p99 ~ /s$/) p99=p99*1000}
         /Non-2xx/ {bad+=$NF}
         /Socket errors/ {gsub(/[^0-9 ]/, " "); split($0, e, " +"); for (i in e) bad+=e[i]}
         END {printf "%.0f %.2f %d", rps, p99, bad}' "$1"
}
events() { curl -sf -H "$AUTH" "$URL/api/v1/audit/verify" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
seconds() { local d=$1; d=${d%s}; echo "$d"; }

wrk -t1 -c"$FETCH_CONNS" -d"$WARMUP" -H "$DEPLOY_AUTH" "$FETCH" >/dev/null   # warm-up of the fetch path
wrk -t1 -c"$FLOOD_CONNS" -d5s -H "$BAD_AUTH" "$URL/api/v1/environments" >/dev/null   # and of the 401 path
wrk -t1 -c"$FETCH_CONNS" -d"$DURATION" --latency -H "$DEPLOY_AUTH" "$FETCH" >"$WORK/alone.txt"
read -r A_RPS A_P99 A_BAD <<<"$(parse "$WORK/alone.txt")"

EVENTS0=$(events)
wrk -t1 -c"$FLOOD_CONNS" -d"$(($(seconds "$DURATION") + 2))s" --latency -H "$BAD_AUTH" "$URL/api/v1/environments" \
    >"$WORK/flood.txt" &
FLOOD_PID=$!
sleep 1   # the flood is under way before the fetch is measured
wrk -t1 -c"$FETCH_CONNS" -d"$DURATION" --latency -H "$DEPLOY_AUTH" "$FETCH" >"$WORK/flooded.txt"
wait "$FLOOD_PID" || true
FLOOD_PID=
sleep 2   # the last second's aggregated events are flushed
EVENTS1=$(events)
read -r U_RPS U_P99 U_BAD <<<"$(parse "$WORK/flooded.txt")"
F_RPS=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/flood.txt")
F_TOTAL=$(awk '/requests in/ {print $1}' "$WORK/flood.txt")
F_P99=$(parse "$WORK/flood.txt" | cut -d' ' -f2)
FETCHED=$(awk '/requests in/ {print $1}' "$WORK/flooded.txt")
# Events added meanwhile: one per fetch (envfile.read), the aggregated auth.denied ones, the verify itself.
DENIED_EVENTS=$((EVENTS1 - EVENTS0 - FETCHED - 1))

echo
echo "auth-flood: ${JVM_FLAGS[*]}, nproc=$(nproc), loadavg before start $LOAD0 (other load skews results)"
printf '%-58s %9s %9s %7s\n' "GET …/prod/env-file, wrk 1 thread, $FETCH_CONNS connections, $DURATION" req/s p99_ms errors
printf '%-58s %9s %9s %7s\n' "  alone" "$A_RPS" "$A_P99" "$A_BAD"
printf '%-58s %9s %9s %7s\n' "  under a 401 flood ($FLOOD_CONNS connections)" "$U_RPS" "$U_P99" "$U_BAD"
echo "flood: $F_TOTAL requests with an unknown token, $F_RPS req/s, p99 $F_P99 ms, all 401;" \
    "auth.denied events it added: $DENIED_EVENTS (aggregated per source and reason per second)"
echo "service log ERROR/WARN lines: $(service_logs | grep -cE ' (ERROR|WARN) ' || true)"
summary "audited env-file fetch p99, $FETCH_CONNS conns, under a 401 flood ($F_RPS req/s)" \
    "$U_P99 ms ($U_RPS req/s, $U_BAD errors)" "the same fetch alone" "$A_P99 ms ($A_RPS req/s)" \
    "$(ratio "$U_P99" "$A_P99")" "p99 ≤ 1.5× alone, 0 errors" "$(met "$U_P99 <= 1.5 * $A_P99 && $U_BAD == 0")"
summary "auth.denied events added by $F_TOTAL 401s" "$DENIED_EVENTS" "401s" "$F_TOTAL" \
    "$(ratio "$DENIED_EVENTS" "$F_TOTAL")" "≤ 2 per second of flood" \
    "$(met "$DENIED_EVENTS <= 2 * ($(seconds "$DURATION") + 4)")"
