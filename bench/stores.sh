#!/usr/bin/env bash
# stores.sh — the PostgreSQL store against the SQLite store in one run: rotation latency and the audited
# env-file fetch, by the method and with the knobs of rotation-fetch.sh, on each store one after the other
# (never both at once: two cores), SQLite being the same-run baseline of PostgreSQL.
#
# For each store in STORES: the packaged jar with the unit's JVM flags on a fresh data directory (SQLite: its
# database there; PostgreSQL: a fresh database of a temporary cluster this script starts and stops itself), the
# bootstrap admin given secret:rotate on prod and a deployer given env-file:read on prod, then
#   1. ROTATIONS sequential rotations of prod's LTC_SECRET_KEY after ROT_WARMUP untimed ones, timed by the client
#      from the POST to the poll that says COMPLETED, and the service's own finishedAt − requestedAt;
#   2. wrk, 2 threads / 32 connections, DURATION on GET …/prod/env-file as the deployer after a WARMUP at the
#      same load: req/s, p50, p99, errors, and the CPU the service and the PostgreSQL server spent per fetch;
#   3. (PostgreSQL) the statements per fetch and per rotation from pg_stat_statements, and the messages the service
#      sent the server (FETCHES sequential fetches, then 20 rotations, after the timed parts: the counting is off
#      while they are measured).
# After each store: every fetch left its event (events added, less the first verify's own, = the grant's useCount) and the
# chain verifies, or the script fails.
#
# Run:   ./mvnw package -DskipTests && bench/stores.sh    (java 17, curl, python3, wrk, Debian's postgresql;
#        about 3 minutes; as root the server runs as the postgres user)
# Knobs: APP=<repo>/target/quarkus-app  STORES="sqlite postgresql" (order; "postgresql sqlite" to reverse it)
#        ROTATIONS=100  ROT_WARMUP=50  DURATION=15s  WARMUP=20s  FETCHES=500  PG_PORT=15432 (first port tried)
#        PG_BIN=/usr/lib/postgresql/<newest>/bin  JAVA_EXTRA="…" (profiling)  KEEP=1 (keep the temp dirs)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ltc-bench-stores.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
FETCHES=${FETCHES:-500}
read -r -a STORE_LIST <<<"${STORES:-sqlite postgresql}"
PG_DB=ltc_bench
PG_USER=ltc
PG_DIR=
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
FETCH_PATH=/api/v1/environments/prod/env-file

cleanup() {
    stop_service
    pg_stop
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

need_commands wrk python3 curl psql
PG_BIN=${PG_BIN:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x $PG_BIN/pg_ctl ]] || fail "no PostgreSQL server binaries in ${PG_BIN:-/usr/lib/postgresql/*/bin}; install first: apt-get install -y postgresql"

# as_pg CMD…: root cannot run the server; as root, the postgres user runs it (as CI and testing/TestPostgres do).
as_pg() {
    if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start: a new cluster in its own temporary directory (WORK is 0700 root's) on a free port; sets PG_URL.
pg_start() {
    PG_DIR=$(mktemp -d /tmp/ltc-bench-pg.XXXXXX)
    if ((EUID == 0)); then chown postgres "$PG_DIR"; fi
    # --no-sync: initdb's own files need not reach the disk for a cluster that lives for minutes; the server runs with fsync on.
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U "$PG_USER" -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
        || fail "initdb: $(tail -n 5 "$PG_DIR/initdb.log")"
    PG_PORT=$(free_port "${PG_PORT:-15432}")
    # The server's defaults (shared_buffers 128 MB, wal_sync_method fdatasync, …) but for these lines. The first
    # three are defaults, stated because they are the point: every commit waits for its WAL flush, as SQLite's
    # synchronous=FULL waits for its fsync. TCP on 127.0.0.1 only (trust authentication: a throw-away cluster) and
    # the socket in the temporary directory, not Debian's /var/run/postgresql, which an installed cluster may own.
    # pg_stat_statements with track=none counts nothing while the store is measured (its hooks return at once);
    # ALTER SYSTEM turns it to top for the counting after, by a reload (a -c option would outrank ALTER SYSTEM).
    as_pg tee -a "$PG_DIR/data/postgresql.conf" >/dev/null <<EOF
fsync = on
synchronous_commit = on
full_page_writes = on
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = none
EOF
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 -l "$PG_DIR/server.log" start >/dev/null \
        || fail "pg_ctl start: $(tail -n 5 "$PG_DIR/server.log")"
    PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    pg_sql postgres "create database $PG_DB" >/dev/null
    pg_sql "$PG_DB" "create extension pg_stat_statements" >/dev/null
    PG_URL=jdbc:postgresql://127.0.0.1:$PG_PORT/$PG_DB
}

pg_stop() {
    [[ -n $PG_DIR ]] || return 0
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    if [[ -n ${KEEP:-} ]]; then echo "kept $PG_DIR"; else rm -rf "$PG_DIR"; fi
    PG_DIR=
}

# pg_sql DB SQL: the rows, unaligned and tab-separated.
pg_sql() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$1" -c "$2"; }

# cpu_ms PID…: CPU milliseconds (user + system) of each PID, its reaped children and its live children: the JVM
# with all its threads, or the postmaster with every backend, also those that ended.
cpu_ms() {
    python3 - "$@" <<'PY'
import os, sys
pids = set(sys.argv[1:])
def fields(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()   # after "(comm)", which may hold spaces
    except OSError:
        return None
ticks = 0
for pid in os.listdir("/proc"):
    if not pid.isdigit() or (f := fields(pid)) is None:
        continue
    if pid in pids:
        ticks += sum(int(x) for x in f[11:15])   # utime stime cutime cstime
    elif f[1] in pids:
        ticks += int(f[11]) + int(f[12])         # a live child: utime stime
print(ticks * 1000 // os.sysconf("SC_CLK_TCK"))
PY
}

# fetches N: N sequential audited fetches as the deployer, one keep-alive connection (for counting, not timing).
fetches() {
    BENCH_AUTH=$DEPLOY_AUTH python3 - "$PORT" "$1" "$FETCH_PATH" <<'PY'
import http.client, os, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("GET", path, headers={"Authorization": os.environ["BENCH_AUTH"].split(": ", 1)[1]})
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
PY
}

# pg_messages: the messages the service's connections have sent the server so far (TCP data segments from
# their side: each is a query, a sync or validate-on-borrow's empty query, each answered before the next).
pg_messages() {
    ss -tinH state established "( dport = :$PG_PORT )" | grep -o 'data_segs_out:[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }'
}

# pg_commits: "transactions WAL-fsyncs" of the server so far (every transaction, read-only ones and
# validate-on-borrow's empty queries too; the WAL fsyncs are the durable commits). A backend reports its counts
# when idle for 10 s (PGSTAT_IDLE_INTERVAL), so this waits 11 s first. Counted here because pg_stat_statements
# hardly sees pgjdbc's COMMIT (1 per 500 sequential fetches, while pg_stat_wal saw a flush per fetch).
pg_commits() {
    sleep 11
    pg_sql "$PG_DB" "select (select xact_commit from pg_stat_database where datname = '$PG_DB'), wal_sync from pg_stat_wal"
}

# count LABEL N CMD…: runs CMD (N operations, sequential) with pg_stat_statements on and prints the statements
# per operation, most calls first, and the messages to the server per operation.
count() {
    local label=$1 n=$2 m0 c0 c1 s0 s1
    shift 2
    pg_sql "$PG_DB" "select pg_stat_statements_reset()" >/dev/null
    read -r c0 s0 <<<"$(pg_commits)"
    m0=$(pg_messages)
    "$@"
    m0=$(($(pg_messages) - m0))
    read -r c1 s1 <<<"$(pg_commits)"
    # c1 - c0 - 1: the first reading's own transaction is not the service's
    echo "PostgreSQL per $label ($n, sequential): $(awk -v m="$m0" -v c=$((c1 - c0 - 1)) -v s=$((s1 - s0)) -v n="$n" \
        'BEGIN { printf "%.1f messages from the service, %.2f transactions, %.2f WAL fsyncs", m / n, c / n, s / n }'); statements:"
    pg_sql "$PG_DB" "select to_char(calls::numeric / $n, 'FM990.00'), to_char(total_exec_time * 1000 / calls, 'FM999990.0') || ' µs',
                            left(regexp_replace(query, '\s+', ' ', 'g'), 110)
                     from pg_stat_statements where dbid = (select oid from pg_database where datname = '$PG_DB')
                       and query not like '%pg_stat_statements%'
                     order by calls desc, total_exec_time desc limit 16" | sed 's/^/   /'
}

declare -A R   # R[store.key]: this run's results
# measure STORE: one store, from a fresh data directory (and database) to the service stopped.
measure() {
    local store=$1 events0 cpu_svc0 cpu_pg0=0 cpu_svc1 cpu_pg1=0 rps p50 p99 bad uses
    DATA=$WORK/$store/data
    ROOT=$WORK/$store/root
    mkdir -p "$WORK/$store"
    mkdir -m 700 "$ROOT"
    unit_jvm_flags
    if [[ $store == postgresql ]]; then
        pg_start
        JVM_FLAGS+=(-Dltc-secrets.store=postgresql -Dltc-secrets.store.url="$PG_URL" -Dltc-secrets.store.username="$PG_USER")
    fi
    echo "== $store ($(date -u +%H:%M:%S), loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
    start_service "$START_DEADLINE"
    bench_principals

    rotations "$ROTATIONS" "$ROT_WARMUP"
    R[$store.rot]="$ROT_MED $ROT_P90 $ROT_P95 $ROT_P99 $ROT_MAX $ROT_SRV_MED $ROT_SRV_P95"

    audit_state
    events0=$EVENTS
    wrk_warm "$URL$FETCH_PATH" "$DEPLOY_AUTH"
    cpu_svc0=$(cpu_ms "$PID")
    [[ $store != postgresql ]] || cpu_pg0=$(cpu_ms "$PG_PID")
    read -r rps p50 p99 bad <<<"$(wrk_timed "$URL$FETCH_PATH" "$DEPLOY_AUTH")"
    cpu_svc1=$(cpu_ms "$PID")
    [[ $store != postgresql ]] || cpu_pg1=$(cpu_ms "$PG_PID")
    R[$store.fetch]="$rps $p50 $p99 $bad"
    # CPU µs per fetch of the timed run (wrk's "N requests in …" line counts them)
    R[$store.cpu]=$(awk -v s=$((cpu_svc1 - cpu_svc0)) -v p=$((cpu_pg1 - cpu_pg0)) \
        '/ requests in / { n = $1 } END { printf "%.0f %.0f", s * 1000 / n, p * 1000 / n }' "$WORK/wrk.txt")

    audit_state
    uses=$(deployer_uses)
    [[ $VERIFY == *'"valid":true'* ]] || fail "$store: the audit chain does not verify: $VERIFY"
    # the first verify's own audit.verify event is in the second count, besides one envfile.read per fetch
    ((EVENTS - events0 - 1 == uses)) || fail "$store: $((EVENTS - events0 - 1)) audit events for $uses fetches"
    R[$store.audit]="$((EVENTS - events0 - 1)) $uses"

    if [[ $store == postgresql ]]; then
        pg_sql "$PG_DB" "alter system set pg_stat_statements.track = top" >/dev/null
        pg_sql "$PG_DB" "select pg_reload_conf()" >/dev/null
        R[$store.statements]=$(count fetch "$FETCHES" fetches "$FETCHES"; count rotation 20 rotations 20 0)
    fi
    echo "service log ERROR/WARN lines: $(service_logs | grep -cE ' (ERROR|WARN) ' || true)"
    stop_service
    pg_stop
}

prod_policy
for store in "${STORE_LIST[@]}"; do
    case $store in sqlite | postgresql) ;; *) fail "unknown store '$store' in STORES (sqlite, postgresql)" ;; esac
    measure "$store"
done

echo
unit_jvm_flags
echo "stores: ${JVM_FLAGS[*]}, nproc=$(nproc), loadavg before start $LOAD0, order: ${STORE_LIST[*]}," \
    "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') (fsync on, synchronous_commit on)"
printf '%-12s %-44s %9s %9s %9s %9s %9s   %s\n' store "rotation, request to COMPLETED ($ROTATIONS)" median p90 p95 p99 max \
    "service: finishedAt - requestedAt median, p95"
for store in "${STORE_LIST[@]}"; do
    read -r med p90 p95 p99 max smed sp95 <<<"${R[$store.rot]}"
    printf '%-12s %-44s %7sms %7sms %7sms %7sms %7sms   %s ms, %s ms\n' "$store" "" "$med" "$p90" "$p95" "$p99" "$max" "$smed" "$sp95"
done
printf '%-12s %-44s %9s %9s %9s %7s %12s %12s\n' store "GET …/prod/env-file, wrk 2 threads, 32 conns, $DURATION" \
    req/s p50_ms p99_ms errors "service µs/req" "postgres µs/req"
for store in "${STORE_LIST[@]}"; do
    read -r rps p50 p99 bad <<<"${R[$store.fetch]}"
    read -r csvc cpg <<<"${R[$store.cpu]}"
    read -r ev uses <<<"${R[$store.audit]}"
    printf '%-12s %-44s %9s %9s %9s %7s %12s %12s\n' "$store" "audited: $ev events = useCount $uses, chain valid" \
        "$rps" "$p50" "$p99" "$bad" "$csvc" "$cpg"
done
[[ -z ${R[postgresql.statements]:-} ]] || echo "${R[postgresql.statements]}"

# The summary: PostgreSQL's values with SQLite's from this run as the baseline (ratio = PostgreSQL / SQLite).
if [[ -n ${R[sqlite.rot]:-} && -n ${R[postgresql.rot]:-} ]]; then
    read -r s_med _ s_p95 _ _ s_smed _ <<<"${R[sqlite.rot]}"
    read -r p_med _ p_p95 _ _ p_smed _ <<<"${R[postgresql.rot]}"
    read -r s_rps s_p50 s_p99 s_bad <<<"${R[sqlite.fetch]}"
    read -r p_rps p_p50 p_p99 p_bad <<<"${R[postgresql.fetch]}"
    base="SQLite store, same run"
    summary "PostgreSQL store: rotation, request to COMPLETED (median of $ROTATIONS)" "$p_med ms (p95 $p_p95)" \
        "$base" "$s_med ms (p95 $s_p95)" "$(ratio "$p_med" "$s_med")" "median ≤ 25 ms" "$(met "$p_med <= 25")"
    summary "PostgreSQL store: rotation, service's finishedAt − requestedAt (median)" "$p_smed ms" \
        "$base" "$s_smed ms" "$(ratio "$p_smed" "$s_smed")" "–" "–"
    summary "PostgreSQL store: audited env-file fetch, wrk 2 threads/32 conns" "$p_rps req/s, $p_bad errors" \
        "$base" "$s_rps req/s, $s_bad errors" "$(ratio "$p_rps" "$s_rps")" "0 errors" "$(met "$p_bad == 0")"
    summary "PostgreSQL store: audited env-file fetch p50 / p99" "$p_p50 / $p_p99 ms" \
        "$base" "$s_p50 / $s_p99 ms" "$(ratio "$p_p99" "$s_p99") (p99)" "p99 ≤ 5 ms" "$(met "$p_p99 <= 5")"
fi
