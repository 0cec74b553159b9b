#!/usr/bin/env bash
# failover.sh — active/standby failover time on a shared PostgreSQL store: two instances of the packaged jar
# on one database (a temporary PostgreSQL cluster from Debian's postgresql package, as testing/TestPostgres
# starts one), the active killed with kill -9, and the time from the kill to the standby's first 201 on a
# write (POST /api/v1/principals, polled every 10 ms). The killed instance is started again, joins as the
# standby, and the next run kills the other one. Prints each run and the median.
#
# Run:   ./mvnw package -DskipTests && bench/failover.sh     (java 17+, curl, PostgreSQL 14+ server binaries;
#        as root the server runs as the postgres user via runuser)
# Knobs: APP=<repo>/target/quarkus-app  RUNS=10  KEEP=1 (keep the temp dir)  PG_BIN=/usr/lib/postgresql/15/bin
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ltc-bench-failover.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
RUNS=${RUNS:-10}
PG_BIN=${PG_BIN:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}
# Beside WORK, not in it: as root the server runs as postgres, which cannot enter WORK (0700).
PG_DIR=$(mktemp -d /tmp/ltc-bench-failover-pg.XXXXXX)
DB=ltc_bench
declare -A PIDS=() URLS=()

as_postgres() {
    if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    local name
    for name in "${!PIDS[@]}"; do
        kill -9 "${PIDS[$name]}" 2>/dev/null || true
        wait "${PIDS[$name]}" 2>/dev/null || true
    done
    if [[ -f $PG_DIR/data/postmaster.pid ]]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK" "$PG_DIR"; else echo "kept $WORK $PG_DIR"; fi
}
trap cleanup EXIT

need_commands curl java
[[ -x $PG_BIN/pg_ctl ]] || fail "no PostgreSQL server binaries (set PG_BIN; Debian: apt-get install postgresql)"

# The cluster: trust authentication on 127.0.0.1 only, role ltc, in WORK.
chmod 700 "$PG_DIR"
if [[ $(id -u) == 0 ]]; then chown postgres "$PG_DIR"; fi
as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U ltc -E UTF8 --no-sync >"$WORK/initdb.log"
PG_PORT=$(free_port 55432)
as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 -l "$PG_DIR/server.log" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U ltc "$DB"

mkdir -m 700 "$WORK/root"

# launch NAME: starts instance NAME on a free port of its own (its advertise URL is the default,
# http://127.0.0.1:PORT) with its own data dir; master key, env-file root and database are shared.
launch() {
    local name=$1 port
    port=$(free_port $((18300 + RANDOM % 1000)))
    (
        cd "$WORK" || exit 1
        exec java "${JVM_FLAGS[@]}" -Dquarkus.profile=dev -Dquarkus.http.port="$port" \
            -Dltc-secrets.data-dir="$WORK/data-$name" -Dltc-secrets.policies-dir="$REPO/policies" \
            -Dltc-secrets.file-root="$WORK/root" -Dltc-secrets.master-key-file="$WORK/master.key" \
            -Dltc-secrets.store=postgresql -Dltc-secrets.store.url="jdbc:postgresql://127.0.0.1:$PG_PORT/$DB" \
            -Dltc-secrets.store.username=ltc -jar "$JAR"
    ) >>"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
    URLS[$name]=http://127.0.0.1:$port
}

# await_role NAME ROLE: /health answers 200 with that role, or fail after START_DEADLINE seconds.
await_role() {
    local name=$1 role=$2 deadline=$((SECONDS + START_DEADLINE))
    while ((SECONDS < deadline)); do
        kill -0 "${PIDS[$name]}" 2>/dev/null || fail "instance $name exited (log: $WORK/$name.log)"
        if curl -sf --max-time 5 "${URLS[$name]}/health" 2>/dev/null | grep -q "\"role\":\"$role\""; then
            return 0
        fi
        sleep 0.1
    done
    fail "instance $name did not answer role $role within $START_DEADLINE s (log: $WORK/$name.log)"
}

# write NAME RUN: one POST that creates a principal; prints the HTTP status (000: no answer).
write() {
    curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H @"$WORK/auth.hdr" \
        -H 'Content-Type: application/json' -d "{\"name\":\"failover-$2-$RANDOM\",\"role\":\"auditor\"}" \
        "${URLS[$1]}/api/v1/principals" 2>/dev/null || true
}

launch a
await_role a active
launch b
await_role b standby
DATA=$WORK/data-a auth_header   # the bootstrap admin's token, written by the first active

echo "failover: kill -9 of the active until the standby's first 201 on a write ($RUNS runs, load $(cut -d' ' -f1-3 /proc/loadavg))"
active=a
standby=b
declare -a MS=()
for run in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    kill -9 "${PIDS[$active]}"
    wait "${PIDS[$active]}" 2>/dev/null || true
    until [[ $(write "$standby" "$run") == 201 ]]; do
        (( ($(date +%s%N) - t0) / 1000000000 < 60 )) || fail "run $run: no write on $standby within 60 s"
        sleep 0.01
    done
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    MS+=("$ms")
    printf 'run %2d: %s killed, %s took a write after %5d ms\n' "$run" "$active" "$standby" "$ms"
    launch "$active"      # as systemd's Restart= would: it comes back as the standby
    await_role "$active" standby
    tmp=$active; active=$standby; standby=$tmp
done

median=$(printf '%s\n' "${MS[@]}" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }')
echo "median failover: $median ms (kill -9 to first write on the standby; contract: within 15 s)"
summary "failover, kill -9 → first write" "$median ms" "–" "–" "–" "≤ 15000 ms" "$(met "$median <= 15000")"
