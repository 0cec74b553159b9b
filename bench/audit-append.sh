#!/usr/bin/env bash
# audit-append.sh — audited appends per second, 1 client vs 32 concurrent clients.
#
# Every /api/v1 request writes one hash-chained audit event through the single group-commit
# writer (AuditWriter). This starts the packaged service (-Xmx128m) in a fresh temp dir, warms up,
# then runs wrk against GET /api/v1/environments (a cheap audited read) with 1 connection
# (each request pays its own durable commit) and with 32 connections / 2 threads (group commit).
# Events are counted in the database (max(seq) before/after), not assumed from wrk.
# Commits are estimated from the service's fdatasync/fsync calls (perf, if usable): with WAL and
# synchronous=FULL each commit syncs the WAL once; checkpoints add a few more, so events/sync is
# a lower bound of events per commit. Ends with GET /api/v1/audit/verify.
#
# Run:   bench/audit-append.sh          (needs java 17, curl, python3, wrk)
# Knobs: APP=<repo>/target/quarkus-app  POLICIES=<repo>/policies (must suit the packaged build)  DURATION=15s
#        KEEP=1 (keep the temp dir)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SOURCE_POLICIES=${POLICIES:-$REPO/policies}   # the service itself reads a snapshot, $WORK/policies
WORK=$(mktemp -d /tmp/ltc-bench-append.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
JVM_FLAGS=(-Xmx128m)

DURATION=${DURATION:-15s}
DB=$WORK/data/ltc-secrets.db
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

cleanup() {
    stop_service
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

need_commands wrk python3 curl

mkdir -m 700 "$WORK/root"
cp -r "$SOURCE_POLICIES" "$WORK/policies"   # a snapshot: edits to the tree during the run do not matter
start_service "$START_DEADLINE"
AUTH="Authorization: Bearer $(cat "$WORK/data/bootstrap-admin.token")"

head_seq() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select max(seq) from audit_event").fetchone()[0])' "$DB"; }

PERF=
if command -v perf >/dev/null && perf stat -e syscalls:sys_enter_fdatasync true >/dev/null 2>&1; then PERF=1; fi

# run CONNS THREADS DURATION: one wrk run; appends a table row to $WORK/rows
run() {
    local conns=$1 threads=$2 dur=$3 before after out syncs=n/a
    before=$(head_seq)
    if [[ -n $PERF ]]; then
        perf stat -x, -o "$WORK/perf.txt" -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -p "$PID" -- \
            wrk -t"$threads" -c"$conns" -d"$dur" --latency -H "$AUTH" "$URL/api/v1/environments" >"$WORK/wrk.txt"
        syncs=$(awk -F, '/syscalls/ {s += $1} END {print s}' "$WORK/perf.txt")
    else
        wrk -t"$threads" -c"$conns" -d"$dur" --latency -H "$AUTH" "$URL/api/v1/environments" >"$WORK/wrk.txt"
    fi
    after=$(head_seq)
    out=$(awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
               /requests in/ {n=$1; secs=$4; sub(/s,$/, "", secs)}
               END {printf "%s %s %s %s %s", rps, p99, bad+0, n, secs}' "$WORK/wrk.txt")
    read -r rps p99 bad reqs secs <<<"$out"
    grep 'Socket errors' "$WORK/wrk.txt" >&2 || true
    python3 - "$conns" "$threads" "$rps" "$p99" "$bad" "$reqs" "$((after - before))" "$secs" "$syncs" >>"$WORK/rows" <<'EOF'
import sys
c, t, rps, p99, bad, reqs, ev, secs, syncs = sys.argv[1:]
per = "%.1f" % (int(ev) / int(syncs)) if syncs.isdigit() and int(syncs) else "n/a"
print(f"{c:>5} {t:>7} {float(rps):>9.0f} {p99:>9} {bad:>7} {reqs:>8} {ev:>8} {int(ev) / float(secs):>9.0f} {syncs:>7} {per:>11}")
EOF
}

# warm-up (not reported)
wrk -t2 -c8 -d5s -H "$AUTH" "$URL/api/v1/environments" >/dev/null
: >"$WORK/rows"
run 1 1 "$DURATION"
run 32 2 "$DURATION"
VERIFY=$(curl -sf -H "$AUTH" "$URL/api/v1/audit/verify")
ERRORS=$(service_logs | grep -cE ' (ERROR|WARN) ' || true)

echo
echo "audit-append: GET /api/v1/environments, $DURATION per run, -Xmx128m, nproc=$(nproc), loadavg before start $LOAD0 (other load skews results)"
printf '%5s %7s %9s %9s %7s %8s %8s %9s %7s %11s\n' conns threads req/s p99 non2xx requests events events/s syncs events/sync
cat "$WORK/rows"
python3 - "$WORK/rows" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
print("ratio 32/1: req/s x%.1f, events/s x%.1f" % (float(rows[1][2]) / float(rows[0][2]), float(rows[1][7]) / float(rows[0][7])))
EOF
echo "verify: $VERIFY"
read -r _ _ RPS1 _ < <(sed -n 1p "$WORK/rows")
read -r _ _ RPS32 _ < <(sed -n 2p "$WORK/rows")
summary "audited requests, 32 connections (group commit)" "$RPS32 req/s" "1 connection" "$RPS1 req/s" \
    "$(ratio "$RPS32" "$RPS1")" "–" "–"
echo "service log ERROR/WARN lines: $ERRORS"
grep -q '"valid":true' <<<"$VERIFY" || { echo "FAIL: audit chain not valid" >&2; exit 1; }
