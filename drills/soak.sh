#!/usr/bin/env bash
# soak.sh — the soak drill (issue 25): the packaged jar with the unit's JVM flags under a steady, accelerated
# day-in-the-life load for DURATION (default 1h), sampled every 10 s, then judged on leaks and drift.
#
# The load (accelerated about 60×: the scheduler runs every second instead of every minute):
#   - environment "soak", two secrets: SOAK_SCHEDULED (rotateEvery PT30S, warnBefore PT10S, whenOverdue rotate:
#     a due-soon, an overdue and a SCHEDULED rotation every ~30 s) and SOAK_MANUAL (a MANUAL rotation every 10 s);
#     previousGrace PT5S on both, so a PREVIOUS version is retired every few seconds;
#   - a steady stream of audited env-file fetches: wrk, CONNS connections with a pause between requests (about
#     RATE/s), in 10-s slices; the fetcher's token and grant live one minute and are replaced every 30 s, so a
#     token.expire and a grant.expire happen all the time;
#   - a signed audit checkpoint every minute (the hourly one, accelerated) and audit retention PT2M: every
#     scheduler run archives what is older into a signed archive file;
#   - RESTARTS master-key rotation restarts (stop, a new key, start with the new and the previous key: every data
#     key re-wrapped), all in the first quarter, at DURATION/12, 2×DURATION/12, …: the pass criteria compare the
#     second and the last quarter of one JVM's life, and a restart later would reset the very growth looked for.
#     A run shorter than 20 minutes first warms up for WARMUP_S (60) seconds, its restart 10 s into it, and its
#     quarters start after it (a 3-minute run's second quarter would otherwise be a JVM a minute old).
#     The load pauses around a restart (the drill causes it; a refused connection then is not a fault).
# Every 10 s: RSS and PSS (/proc/PID/smaps_rollup), heap used after a full GC (jcmd GC.run + GC.heap_info, the
# JDK's own jcmd), open file descriptors, threads, the pool's connections (agroal_active_count +
# agroal_available_count at /q/metrics) and the SQLite connections actually open (fds on the database file),
# database, WAL and audit-archive size; per 10-s slice the fetch's rate, p50 and p99 and its answers by class.
#
# Pass criteria (any failure fails the drill; Q1..Q4 are the quarters of DURATION):
#   - no 5xx, no other non-2xx fetch, no socket error or timeout;
#   - fds: max(Q4) <= max(Q1) + FD_SLACK (16); threads: max(Q4) <= max(Q1) + THREAD_SLACK (8); pool connections:
#     max(Q4) <= max(Q1) + POOL_SLACK (1). The slacks: wrk's connections and a burst of worker threads are
#     sampled at an instant, and the service's worker pool grows and shrinks with load; a leak grows past them;
#   - heap after GC flat: median(Q4) <= 1.10 × median(Q2) (Q1 holds the warm-up and the restarts; the median,
#     since one sample taken while an archive is written holds a few MiB more for a moment);
#   - RSS: median(Q4) < 1.10 × median(Q2) (growth of its level, as the heap's; each quarter's max is printed);
#   - WAL bounded: max(Q4) <= max(Q1..Q3) + 4 MiB (one auto-checkpoint's worth of pages);
#   - fetch p99 over all of Q4's fetches <= 1.5 × p99 over all of Q1's (from each slice's latency percentiles, merged);
#   and at the end: no rotation PENDING or RUNNING (nor FAILED or ROLLED_BACK); the audit chain verifies offline
#   (tools/audit-verify: every archive with its signature, the archives and a fresh export as one chain from seq 1
#   against a fresh signed checkpoint, and the export after the last archive, all under the signing key pinned at
#   the first start); no temporary file; PRAGMA integrity_check ok; no ERROR in a log but the due-state ALERTs the
#   drill causes on purpose.
#
# Run (after ./mvnw package -DskipTests; needs java 17+ with jcmd, curl, jq, python3, sqlite3, wrk; gnuplot for
# the plot):
#   drills/soak.sh            one hour (docs/drills.md#soak has the committed result and plot)
#   drills/soak.sh 2m         the CI version (after its minute of warm-up: three minutes of load)
#   drills/soak.sh --plot DIR plot a kept result directory again (DIR/soak.png)
#   drills/soak.sh --judge DIR   the pass criteria again over a kept result directory (DIR/summary.tsv)
# Knobs: RATE=300 CONNS=8 RESTARTS (2 from 20 minutes on, else 1), OUT=<dir> (results: samples.tsv, fetch.tsv,
#        latency.tsv, summary.tsv, soak.png; default: a directory in WORK, printed), FD_SLACK=16 THREAD_SLACK=8 POOL_SLACK=1,
#        APP, START_DEADLINE, KEEP=1 / KEEP_ON_FAILURE=1 (keep the temporary directory).
# Exit 0 when every criterion passes, 1 otherwise (or on a setup error), 2 on bad usage.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
USAGE="usage: drills/soak.sh [DURATION: 1h, 60m, 180s, 3m … (default 1h)] | --plot DIR | --judge DIR"

# plot DIR: DIR/soak.png from DIR/samples.tsv and DIR/fetch.tsv (gnuplot; skipped with a note without it).
plot() {
    local dir=$1
    if ! command -v gnuplot >/dev/null; then
        echo "soak drill: gnuplot not installed (Debian: apt-get install gnuplot-nox): no plot"
        return 0
    fi
    local marks="" t
    # A dotted line at each master-key restart.
    while read -r t; do
        marks+="set arrow from $t/60.0, graph 0 to $t/60.0, graph 1 nohead dt 3 lc rgb 'gray40'; "
    done < <(cat "$dir/restarts.txt" 2>/dev/null)
    gnuplot -e "dir='$dir'; title='$(head -n 1 "$dir/title.txt" 2>/dev/null || echo soak)'; $marks" - <<'GP'
set terminal pngcairo size 1500,1100 font ",10"
set output dir.'/soak.png'
set datafile separator "\t"
set key bottom right box opaque
set grid
set xlabel "minutes (quarters from 0; dotted: master-key restarts)"
set multiplot layout 3,2 title title
s = dir.'/samples.tsv'
f = dir.'/fetch.tsv'
set autoscale xfix
set title "memory (MiB)"
plot s using ($1/60):($2/1024) skip 1 with lines lw 2 title "RSS", \
     s using ($1/60):($3/1024) skip 1 with lines lw 2 title "PSS", \
     s using ($1/60):($4/1024) skip 1 with linespoints pt 7 ps 0.4 title "heap after full GC"
set title "open file descriptors and threads"
plot s using ($1/60):5 skip 1 with lines lw 2 title "fds", \
     s using ($1/60):6 skip 1 with lines lw 2 title "threads"
set title "database connections"
set yrange [0:*]
plot s using ($1/60):7 skip 1 with steps lw 2 title "pool (active + available)", \
     s using ($1/60):8 skip 1 with steps lw 1 title "pool active", \
     s using ($1/60):9 skip 1 with steps lw 1 dt 2 title "SQLite connections open"
set title "database, WAL and audit archive (MiB)"
set logscale y
set yrange [*:*]
plot s using ($1/60):($10/1048576) skip 1 with lines lw 2 title "database", \
     s using ($1/60):($11/1048576+0.001) skip 1 with lines lw 2 title "WAL", \
     s using ($1/60):($12/1048576+0.001) skip 1 with lines lw 2 title "audit archive"
unset logscale y
set title "audited env-file fetch, per 10-s slice: latency (ms)"
set yrange [0:*]
plot f using ($1/60):6 skip 1 with lines lw 2 title "p99", \
     f using ($1/60):5 skip 1 with lines lw 1 title "p50"
set title "fetch rate (req/s) and non-2xx answers"
plot f using ($1/60):4 skip 1 with lines lw 2 title "req/s", \
     f using ($1/60):($9+$10+$11+$12) skip 1 with impulses lw 3 title "5xx + other non-2xx + socket errors"
unset multiplot
GP
    echo "soak drill: plot $dir/soak.png"
}

# judge DIR: the pass criteria over DIR's series (samples.tsv, fetch.tsv, latency.tsv, params.tsv); writes
# DIR/summary.tsv (the criteria, then DIR/endstate.txt) and prints how many criteria failed.
judge() {
    python3 - "$1" <<'PY'
import csv, statistics, sys
out = sys.argv[1]
params = dict(l.split("\t") for l in open(out + "/params.tsv").read().split("\n") if l)
duration = float(params["duration_s"])
fd_slack, thread_slack, pool_slack = (int(params[k]) for k in ("fd_slack", "thread_slack", "pool_slack"))
def rows(name):
    with open(out + "/" + name) as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f, delimiter="\t")]
samples, fetches = rows("samples.tsv"), rows("fetch.tsv")
def quarter(t):   # None during the warm-up (t < 0)
    return None if t < 0 else min(3, int(t // (duration / 4)))
def q(series, key, qs, stat=max):
    v = [r[key] for r in series if quarter(r["t_s"]) in qs]
    return stat(v) if v else float("nan")
GRID = [float(i) for i in range(1, 91)] + [i / 10 for i in range(901, 1001)]
latency = []
for line in open(out + "/latency.tsv"):
    f = line.split("\t")
    if len(f) == 2 + len(GRID) and int(f[1]) > 0:
        latency.append((float(f[0]), int(f[1]), [int(v) for v in f[2:]]))
def p99(qs):
    # Over all of the quarters' fetches: the smallest latency v such that the slices' fetches at or below v (each
    # slice's share read from its percentile grid, conservatively) reach 99 % of them; exact to the grid's 0.1 %.
    slices = [(n, list(zip(us, GRID))) for t, n, us in latency if quarter(t) in qs]
    total = sum(n for n, _ in slices)
    if not total:
        return float("nan")
    for v in sorted({us for _, g in slices for us, _ in g}):
        below = sum(n * max([p for us, p in g if us <= v], default=0) / 100 for n, g in slices)
        if below >= 0.99 * total - 1e-6:
            return v / 1000
results = []
def crit(name, first, last, limit, ok):
    results.append((name, first, last, limit, "PASS" if ok else "FAIL"))
n5 = sum(r["n5xx"] for r in fetches)   # every fetch, the warm-up's too
bad = sum(r["n4xx"] + r["other"] + r["socket_errors"] + r["timeouts"] for r in fetches)
total = sum(r["requests"] for r in fetches)
crit("fetches answered 5xx (of %d)" % total, 0, n5, 0, n5 == 0)
crit("fetches answered 4xx/other or lost (socket error, timeout)", 0, bad, 0, bad == 0)
for key, slack, name in (("fds", fd_slack, "open file descriptors"), ("threads", thread_slack, "threads"),
                         ("pool", pool_slack, "pool connections")):
    a, b = q(samples, key, {0}), q(samples, key, {3})
    crit(name + ": max Q4 <= max Q1 + %d" % slack, a, b, a + slack, b <= a + slack)
# The heap's level, not its maximum: one sample taken while an archive or a rotation is in flight holds a few MiB
# more for a moment (seen: 21 MiB typical, one 27); a leak moves the median.
a, b = q(samples, "heap_after_gc_kib", {1}, statistics.median), q(samples, "heap_after_gc_kib", {3}, statistics.median)
crit("heap after full GC (MiB): median Q4 <= 1.10 x median Q2", a / 1024, b / 1024, 1.1 * a / 1024, b <= 1.1 * a)
# RSS growth as the heap's, by its level: one sample can catch a moment's native allocation (seen: 299 MiB once in
# a quarter of 263-278, back to 265 ten seconds later); growth moves the median. Each quarter's maximum is printed.
a, b = q(samples, "rss_kib", {1}, statistics.median), q(samples, "rss_kib", {3}, statistics.median)
crit("RSS (MiB): median Q4 < 1.10 x median Q2", a / 1024, b / 1024, 1.1 * a / 1024, b < 1.1 * a)
a, b = q(samples, "wal_bytes", {0, 1, 2}), q(samples, "wal_bytes", {3})
crit("WAL (MiB): max Q4 <= max Q1-Q3 + 4", a / 2**20, b / 2**20, a / 2**20 + 4, b <= a + 4 * 2**20)
a, b = p99({0}), p99({3})
crit("fetch p99 (ms), all fetches of the quarter: Q4 <= 1.5 x Q1", a, b, 1.5 * a, b <= 1.5 * a)
with open(out + "/summary.tsv", "w") as f:
    f.write("criterion\tbaseline\tlast_quarter\tlimit\tresult\n")
    for r in results:
        f.write("%s\t%.2f\t%.2f\t%.2f\t%s\n" % r)
    f.write("# fetches %d in %d slices (%.0f/s per slice on average); per quarter: RSS max (MiB) %s, heap after GC median (MiB) %s, "
            "fetch p99 (ms) %s\n" % (total, len(fetches), statistics.mean(r["req_per_s"] for r in fetches),
            " ".join("%.0f" % (q(samples, "rss_kib", {i}) / 1024) for i in range(4)),
            " ".join("%.1f" % (q(samples, "heap_after_gc_kib", {i}, statistics.median) / 1024) for i in range(4)),
            " ".join("%.2f" % p99({i}) for i in range(4))))
    try:
        f.write(open(out + "/endstate.txt").read())
    except FileNotFoundError:
        pass
print(sum(1 for r in results if r[4] == "FAIL"))
PY
}

case ${1:-} in
    -h|--help) echo "$USAGE"; exit 0 ;;
    --plot) [[ -d ${2:-} ]] || { echo "$USAGE" >&2; exit 2; }; plot "$2"; exit 0 ;;
    --judge)
        [[ -d ${2:-} ]] || { echo "$USAGE" >&2; exit 2; }
        n=$(judge "$2")
        column -t -s $'\t' "$2/summary.tsv"
        ((n == 0)); exit ;;
    "") DURATION_S=3600 ;;
    *)
        if [[ $1 =~ ^([0-9]+)(s|m|h)?$ ]]; then
            case ${BASH_REMATCH[2]} in
                h) DURATION_S=$((BASH_REMATCH[1] * 3600)) ;;
                m) DURATION_S=$((BASH_REMATCH[1] * 60)) ;;
                *) DURATION_S=${BASH_REMATCH[1]} ;;
            esac
        else
            echo "$USAGE" >&2; exit 2
        fi
        ;;
esac
((DURATION_S >= 120)) || { echo "soak drill: DURATION must be at least 2 minutes (quarters of 30 s)" >&2; exit 2; }
RATE=${RATE:-300}
CONNS=${CONNS:-8}
SLICE=10
SAMPLE_EVERY=10
MANUAL_EVERY=10
# A short run warms up for a minute before its quarters start (its restart in it): a young JVM's heap takes a
# step in its first minutes (lazy initialisation: the first checkpoint, archive…), which a 3-minute run's
# second quarter would otherwise take for its baseline. An hour's first quarter is its warm-up.
if ((DURATION_S >= 1200)); then
    RESTARTS=${RESTARTS:-2} WARMUP_S=${WARMUP_S:-0}
else
    RESTARTS=${RESTARTS:-1} WARMUP_S=${WARMUP_S:-60}
fi
FD_SLACK=${FD_SLACK:-16}
THREAD_SLACK=${THREAD_SLACK:-8}
POOL_SLACK=${POOL_SLACK:-1}
ENV=soak

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ltc-drill-soak.XXXXXX")
chmod 700 "$WORK"
OUT=${OUT:-$WORK/result}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T_START=$SECONDS
fail() { echo "soak drill: FAILED: $*" >&2; exit 1; }
# shellcheck source=drills/lib.sh
source "$REPO/drills/lib.sh"
# The unit's JVM flags and malloc settings (k8s-free-deploy/systemd/ltc-secrets.service): a soak measures the
# service as it runs in production, with C2, not the C1-only flags of the restart-heavy drills.
unit_service_flags

install_cleanup soak

need_tools
for t in wrk jcmd; do
    command -v "$t" >/dev/null || fail "$t not found (Debian: apt-get install wrk openjdk-17-jdk-headless)"
done
# jcmd must be the JDK the jar runs with: the same java on PATH.
[[ $(readlink -f "$(command -v jcmd)") == "$(dirname "$(readlink -f "$(command -v java)")")/jcmd" ]] ||
    echo "soak drill: note: jcmd ($(readlink -f "$(command -v jcmd)")) is not beside java; it must attach to it all the same"

mkdir -p "$POLICIES/environments" "$WORK/slices" "$WORK/keys"
mkdir -m 700 "$ROOT"
cat >"$POLICIES/environments/$ENV.yaml" <<EOF
# The soak drill's environment (drills/soak.sh): prod's shape, its periods accelerated.
environment: $ENV
envFile:
  path: /etc/drill/$ENV.env
  mode: "0600"
  onDrift: repair
variables:
  LTC_ENV: $ENV
secrets:
  SOAK_SCHEDULED:
    length: 64
    alphabet: base64url
    rotateEvery: PT30S
    warnBefore: PT10S
    previousGrace: PT5S
    whenOverdue: rotate
  SOAK_MANUAL:
    length: 64
    alphabet: base64url
    rotateEvery: P90D
    warnBefore: P14D
    previousGrace: PT5S
    whenOverdue: flag
EOF
# A fixed port, so the load generator keeps its URL across the restarts (picked free by the kernel just before).
HTTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVICE_PROPS=(-Dltc-secrets.scheduler.check-every=1s -Dltc-secrets.audit.checkpoint-every=PT1M
               -Dltc-secrets.audit.retention=PT2M
               # a failed commit's whole trace (AuditWriter logs it at DEBUG): what a soak finds must be diagnosable
               -Dquarkus.log.category.\"org.lifetimecircle.secrets.audit.AuditWriter\".level=DEBUG)
BASE_PROPS=("${SERVICE_PROPS[@]}")

start_service "$START_DEADLINE"
echo "$PID" >"$WORK/pid"
auth_header
grant_self "$ENV" secret:rotate
grant_self "$ENV" env-file:read
# The audit signing key as the first start has it: every later check pins it (a master-key rotation re-wraps it,
# never replaces it).
code=$(api GET /api/v1/audit/checkpoint)
[[ $code == 200 ]] || fail "GET /api/v1/audit/checkpoint: HTTP $code"
jq -r .publicKeyPem "$WORK/body" >"$WORK/audit-signing.pem"
grep -q 'BEGIN PUBLIC KEY' "$WORK/audit-signing.pem" || fail "no publicKeyPem in the checkpoint"
code=$(api_json POST /api/v1/principals '{"name":"soak-fetcher","role":"deployer"}')
[[ $code == 201 ]] || fail "POST /api/v1/principals: HTTP $code $(head -c 300 "$WORK/body")"

# call NAME METHOD PATH [JSON]: like lib.sh's api, but each background loop has its own body file (NAME).
call() {
    local name=$1 method=$2 path=$3
    shift 3
    curl -sS -o "$WORK/body-$name" -w '%{http_code}' --max-time 60 -X "$method" -H @"$WORK/auth.hdr" \
        ${1:+-H 'Content-Type: application/json' -d "$1"} "$URL$path" 2>/dev/null || echo 000
}

# fetch_creds: a new one-minute token and grant for soak-fetcher (the old ones expire on their own).
fetch_creds() {
    local code
    code=$(call creds POST /api/v1/principals/soak-fetcher/tokens '{"ttl":"PT1M"}')
    if [[ $code != 201 ]]; then echo "$code" >>"$WORK/creds-errors"; return 1; fi
    (umask 077 && jq -r .token "$WORK/body-creds" >"$WORK/fetch.token.new" && mv "$WORK/fetch.token.new" "$WORK/fetch.token")
    rm -f "$WORK/body-creds"
    code=$(call creds POST /api/v1/grants \
        "{\"principal\":\"soak-fetcher\",\"environment\":\"$ENV\",\"permission\":\"env-file:read\",\"ttl\":\"PT1M\",\"reason\":\"soak drill\"}")
    if [[ $code != 201 ]]; then echo "$code" >>"$WORK/creds-errors"; return 1; fi
}

# paused LOOP: true while a restart is on; the loop says it is idle (LOOP.idle) so the restart can go ahead.
paused() {
    if [[ -e $WORK/pause ]]; then touch "$WORK/$1.idle"; return 0; fi
    rm -f "$WORK/$1.idle"
    return 1
}

now() { echo "$EPOCHREALTIME"; }
T0=

# fetch_loop: 10-s wrk slices until stop; one fetch.tsv row per slice (seconds from T0 at its end).
fetch_loop() {
    local n=0 creds_at=-1000 t1 s
    while [[ ! -e $WORK/stop ]]; do
        if paused fetch; then sleep 0.2; creds_at=-1000; continue; fi
        if ((SECONDS - creds_at >= 30)); then
            fetch_creds || { sleep 1; continue; }
            creds_at=$SECONDS
        fi
        n=$((n + 1))
        s=$WORK/slices/$(printf %06d "$n")
        SOAK_TOKEN_FILE=$WORK/fetch.token SOAK_PATH=/api/v1/environments/$ENV/env-file \
            SOAK_DELAY_MS=$((CONNS * 1000 / RATE)) SOAK_SLICE_OUT=$s \
            wrk -t1 -c"$CONNS" -d"${SLICE}s" --timeout 10s -s "$REPO/drills/soak-fetch.lua" "$URL" >"$s.wrk" 2>&1 || true
        t1=$(now)
        if [[ -s $s ]]; then
            # t, slice, requests, req/s, p50 ms, p99 ms, 2xx, 4xx, 5xx, other, socket errors, timeouts
            awk -v t="$t1" -v t0="$T0" -v n="$n" -v d="$SLICE" '$1 == "S" {
                printf "%.1f\t%d\t%d\t%.1f\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d\n", t - t0, n, $2, $2 / d, $9 / 1000, $10 / 1000, $3, $4, $5, $6, $7, $8
            }' "$s" >>"$WORK/fetch.rows"
            echo "$(awk -v t="$t1" -v t0="$T0" 'BEGIN { printf "%.1f", t - t0 }') $s" >>"$WORK/slices.idx"
        else
            echo "slice $n: wrk wrote no result: $(tail -n 3 "$s.wrk" | tr '\n' ' ')" >>"$WORK/fetch-errors"
        fi
    done
}

# manual_loop: a MANUAL rotation of SOAK_MANUAL every 10 s (asked again each second while one still runs: 409).
manual_loop() {
    local code next=$SECONDS
    while [[ ! -e $WORK/stop ]]; do
        if paused manual || ((SECONDS < next)); then sleep 0.2; continue; fi
        code=$(call manual POST "/api/v1/environments/$ENV/secrets/SOAK_MANUAL/rotations" '{"reason":"soak drill"}')
        echo "$code" >>"$WORK/manual.codes"
        if [[ $code == 202 ]]; then next=$((next + MANUAL_EVERY)); else sleep 1; fi
        ((next > SECONDS - MANUAL_EVERY)) || next=$SECONDS   # after a pause: no burst to catch up
    done
}

# sample: one samples.tsv row of the running JVM (nothing while it is not up).
sample() {
    local pid t rss pss heap fds threads pool active sqlite db wal archive metrics f
    pid=$(<"$WORK/pid")
    [[ -d /proc/$pid ]] || return 0
    t=$(now)
    read -r rss pss < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r + 0, p + 0 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || return 0
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 0
    fds=0 sqlite=0
    for f in "/proc/$pid/fd/"*; do
        fds=$((fds + 1))
        [[ $(readlink "$f" 2>/dev/null) == "$DATA/ltc-secrets.db" ]] && sqlite=$((sqlite + 1))
    done
    # A full collection, then the heap's occupancy: what is live (SerialGC: young + tenured "used").
    heap=$(jcmd "$pid" -f "$WORK/jcmd.txt" 2>/dev/null |
        awk '/generation +total/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1); sub(/K,?$/, "", v); u += v } } END { print u + 0 }')
    ((heap > 0)) || return 0   # jcmd could not attach (the JVM is starting or stopping): no row rather than a 0
    metrics=$(curl -s --max-time 10 "$URL/q/metrics" 2>/dev/null) || metrics=
    active=$(awk '/^agroal_active_count/ { print $2 + 0; exit }' <<<"$metrics")
    pool=$(awk '/^agroal_(active|available)_count/ { n += $2 } END { print n + 0 }' <<<"$metrics")
    db=$(stat -c %s "$DATA/ltc-secrets.db" 2>/dev/null || echo 0)
    wal=$(stat -c %s "$DATA/ltc-secrets.db-wal" 2>/dev/null || echo 0)
    archive=$(du -sb "$DATA/audit-archive" 2>/dev/null | cut -f1) || archive=0
    # t, rss KiB, pss KiB, heap KiB, fds, threads, pool, pool active, sqlite connections, db, wal, archive bytes, start
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$(awk -v t="$t" -v t0="$T0" 'BEGIN { printf "%.1f", t - t0 }')" "$rss" "$pss" "$heap" "$fds" "$threads" \
        "$pool" "${active:-0}" "$sqlite" "$db" "$wal" "${archive:-0}" "$(<"$WORK/starts")" >>"$WORK/samples.rows"
}
printf 'GC.run\nGC.heap_info\n' >"$WORK/jcmd.txt"

sample_loop() {
    local next=$SECONDS
    while [[ ! -e $WORK/stop ]]; do
        if ((SECONDS >= next)); then
            next=$((next + SAMPLE_EVERY))
            [[ -e $WORK/pause ]] || sample || true
        fi
        sleep 0.5
    done
}

# master_key_restart: the load paused, the service stopped (TERM), a new key, a start with it and the previous one.
KEY=$DATA/master.key
master_key_restart() {
    local i new
    touch "$WORK/pause"
    for ((i = 0; i < 300; i++)); do [[ -e $WORK/fetch.idle && -e $WORK/manual.idle ]] && break; sleep 0.1; done
    stop_service
    new=$WORK/keys/master-$STARTS.key
    (umask 277 && head -c 32 /dev/urandom | base64 >"$new")
    SERVICE_PROPS=("${BASE_PROPS[@]}" -Dltc-secrets.master-key-file="$new" -Dltc-secrets.previous-master-key-file="$KEY")
    KEY=$new
    start_service "$START_DEADLINE"
    echo "$PID" >"$WORK/pid"
    echo "$STARTS" >"$WORK/starts"
    awk -v t="$(now)" -v t0="$T0" 'BEGIN { printf "%.1f\n", t - t0 }' >>"$OUT/restarts.txt"
    grep -q 'master key rotation: re-wrapped' "$LOG" || fail "start $STARTS re-wrapped nothing (log: $LOG)"
    echo "soak drill: master-key rotation restart $((STARTS - 1)) of $RESTARTS at $((SECONDS - LOAD0)) s: $(sed -n 's/.*\(master key rotation: re-wrapped [^(]*\).*/\1/p' "$LOG" | head -n 1)"
    rm -f "$WORK/pause"
}

echo "$STARTS" >"$WORK/starts"
: >"$OUT/restarts.txt"
echo "soak drill: $((DURATION_S / 60)) min after ${WARMUP_S} s of warm-up, about $RATE fetches/s on $CONNS connections, a MANUAL rotation every ${MANUAL_EVERY} s, $RESTARTS master-key restart(s); service at $URL (work dir $WORK, results in $OUT)"
T0=$(awk -v t="$(now)" -v w="$WARMUP_S" 'BEGIN { printf "%.6f", t + w }')   # the quarters' zero
LOAD0=$SECONDS
fetch_loop & BACKGROUND+=("$!")
manual_loop & BACKGROUND+=("$!")
sample_loop & BACKGROUND+=("$!")
for ((k = 1; k <= RESTARTS; k++)); do
    if ((WARMUP_S > 0)); then at=$((LOAD0 + 10 * k)); else at=$((LOAD0 + DURATION_S * k / 12)); fi
    while ((SECONDS < at)); do sleep 1; done
    master_key_restart
done
while ((SECONDS < LOAD0 + WARMUP_S + DURATION_S)); do
    kill -0 "$PID" 2>/dev/null || fail "the service died (log: $LOG)"$'\n'"$(tail -n 30 "$LOG")"
    sleep 1
done
touch "$WORK/stop"
wait "${BACKGROUND[@]}" || true
BACKGROUND=()
echo "soak drill: load done after $((SECONDS - LOAD0)) s; checking"

# --- the end state
PROBLEMS=()
problem() { PROBLEMS+=("$1"); echo "  FAILED $1"; }
deadline=$((SECONDS + 120))
while :; do
    busy=0
    for st in PENDING RUNNING; do
        code=$(api GET "/api/v1/rotations?environment=$ENV&status=$st&limit=1000")
        [[ $code == 200 ]] || fail "GET /api/v1/rotations?status=$st: HTTP $code"
        busy=$((busy + $(jq length "$WORK/body")))
    done
    ((busy == 0 || SECONDS >= deadline)) && break
    sleep 1
done
((busy == 0)) || problem "$busy rotation(s) still PENDING or RUNNING 120 s after the load stopped"
for st in FAILED ROLLED_BACK; do
    code=$(api GET "/api/v1/rotations?environment=$ENV&status=$st&limit=1000")
    n=$(jq length "$WORK/body")
    ((n == 0)) || problem "$n rotation(s) $st: $(jq -c '[.[] | {id, kind, secret}] | .[:3]' "$WORK/body")"
done
curl -s "$URL/q/metrics" >"$WORK/metrics.txt"
ROTATIONS=$(awk '/^ltc_rotations_total/ && /outcome="COMPLETED"/ && match($0, /kind="[A-Z_]+"/) {
        n[substr($0, RSTART + 6, RLENGTH - 7)] += $NF } END { for (k in n) printf "%s %d, ", k, n[k] }' "$WORK/metrics.txt")
ROTATIONS=${ROTATIONS%, }

# The audit chain offline: a fresh checkpoint and export, then every archive and the whole chain from seq 1.
code=$(api GET /api/v1/audit/checkpoint)
[[ $code == 200 ]] || fail "GET /api/v1/audit/checkpoint: HTTP $code"
cp "$WORK/body" "$WORK/checkpoint.json"
code=$(curl -sS -o "$WORK/export.jsonl" -D "$WORK/export.hdr" -w '%{http_code}' -H @"$WORK/auth.hdr" \
    "$URL/api/v1/audit/export?format=jsonl")
[[ $code == 200 ]] || fail "GET /api/v1/audit/export: HTTP $code"
HEAD_SEQ=$(tr -d '\r' <"$WORK/export.hdr" | awk -F': ' 'tolower($1) == "x-audit-last-seq" { print $2 }')
HEAD_HASH=$(tr -d '\r' <"$WORK/export.hdr" | awk -F': ' 'tolower($1) == "x-audit-last-hash" { print $2 }')
VERIFY=(python3 "$REPO/tools/audit-verify" --public-key "$WORK/audit-signing.pem")
mapfile -t ALL_ARCHIVES < <(find "$DATA/audit-archive" -name 'audit-*.jsonl' 2>/dev/null | sort)
# The scheduler still archives every second: archives written after the export hold events the export has too.
# The chain is the archives that end before the export's first event, then the export.
FIRST_SEQ=$(head -n 1 "$WORK/export.jsonl" | jq -r .seq)
ARCHIVES=()
for a in "${ALL_ARCHIVES[@]}"; do
    last=${a##*-}
    last=${last%.jsonl}
    if ((10#$last < FIRST_SEQ)); then ARCHIVES+=("$a"); fi
done
((${#ARCHIVES[@]} > 0)) || problem "no audit archive was written before the export (retention PT2M)"
# Each archive with its signature and anchor: tools/audit-verify's own main(), once per archive, in one python (an
# hour leaves thousands of archives; a process each would take minutes).
printf '%s\n' "${ALL_ARCHIVES[@]}" >"$WORK/archives.txt"
out=$(python3 - "$REPO/tools/audit-verify" "$WORK/audit-signing.pem" "$WORK/archives.txt" 2>&1 <<'PY'
import contextlib, importlib.machinery, importlib.util, io, sys
loader = importlib.machinery.SourceFileLoader("audit_verify", sys.argv[1])
spec = importlib.util.spec_from_loader("audit_verify", loader)
verify = importlib.util.module_from_spec(spec)
loader.exec_module(verify)
bad = 0
for path in open(sys.argv[3]).read().split():
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            rc = verify.main(["--public-key", sys.argv[2], "--archive", path])
    except SystemExit as e:
        rc = e.code
    if rc not in (0, None):
        bad += 1
        print("%s: %s" % (path, said.getvalue().strip()[:300]))
print("bad %d" % bad)
PY
) || true
[[ $(tail -n 1 <<<"$out") == "bad 0" ]] || problem "audit archives that do not verify: $(head -c 1000 <<<"$out")"
if ((${#ARCHIVES[@]} > 0)); then
    out=$("${VERIFY[@]}" --strict --after "${ARCHIVES[-1]}" --checkpoint "$WORK/checkpoint.json" \
        --expect-head "$HEAD_SEQ:$HEAD_HASH" "$WORK/export.jsonl" 2>&1) || problem "the export after the last archive does not verify: $out"
fi
cat "${ARCHIVES[@]}" "$WORK/export.jsonl" >"$WORK/chain.jsonl"
out=$("${VERIFY[@]}" --strict --checkpoint "$WORK/checkpoint.json" --expect-head "$HEAD_SEQ:$HEAD_HASH" \
    "$WORK/chain.jsonl" 2>&1) || problem "the whole chain (archives + export, from seq 1) does not verify: $out"
EVENTS=$(wc -l <"$WORK/chain.jsonl")
rm -f "$WORK/chain.jsonl"
REWRAPS=$(grep -c '"action":"masterkey.rewrap"' "$WORK/export.jsonl" "${ARCHIVES[@]}" | awk -F: '{ n += $NF } END { print n + 0 }')
((REWRAPS == RESTARTS)) || problem "$REWRAPS masterkey.rewrap events for $RESTARTS master-key restarts"

stop_service
left=$(temp_files "$DATA" "$ROOT")
[[ -z $left ]] || problem "temporary files left: $(tr '\n' ' ' <<<"$left")"
out=$(sqlite3 -readonly "$DATA/ltc-secrets.db" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//')
[[ $out == ok ]] || problem "PRAGMA integrity_check: $out"
# ERRORs: the due-state alerts (rotateEvery PT30S) and the alert on a token made for another principal (the
# fetcher's, every 30 s) are the drill's own doing; anything else is not.
errors=$(cat "$WORK"/service-*.log | grep -E '^[0-9T:.+Z-]+ ERROR ' |
    grep -v -E 'ERROR +\[[^]]*\] \([^)]*\) ALERT (secret\.(due-soon|overdue|ok) \[soak\]|token\.created-for-other \[null\]: .bootstrap-admin. created token [0-9a-f]+ for .soak-fetcher.)' || true)
[[ -z $errors ]] || problem "$(grep -c . <<<"$errors") unexpected ERROR line(s) in the logs, e.g. $(head -n 3 <<<"$errors")"
[[ ! -s $WORK/creds-errors ]] || problem "token/grant requests answered $(sort "$WORK/creds-errors" | uniq -c | tr '\n' ' ')"
[[ ! -s $WORK/fetch-errors ]] || problem "$(head -n 3 "$WORK/fetch-errors")"
manual_bad=$(grep -v -x -e 202 -e 409 "$WORK/manual.codes" | sort | uniq -c | tr '\n' ' ' || true)
[[ -z $manual_bad ]] || problem "MANUAL rotation requests answered $manual_bad"
MANUAL=$(grep -c -x 202 "$WORK/manual.codes" || true)

# --- the series and the pass criteria
printf 't_s\trss_kib\tpss_kib\theap_after_gc_kib\tfds\tthreads\tpool\tpool_active\tsqlite_connections\tdb_bytes\twal_bytes\tarchive_bytes\tstart\n' >"$OUT/samples.tsv"
cat "$WORK/samples.rows" >>"$OUT/samples.tsv"
printf 't_s\tslice\trequests\treq_per_s\tp50_ms\tp99_ms\tn2xx\tn4xx\tn5xx\tother\tsocket_errors\ttimeouts\n' >"$OUT/fetch.tsv"
cat "$WORK/fetch.rows" >>"$OUT/fetch.tsv"
echo "soak $((DURATION_S / 60)) min, $(date -u +%Y-%m-%d), ${RATE}/s target, $RESTARTS master-key restarts, load $(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/title.txt"
printf 'duration_s\t%s\nfd_slack\t%s\nthread_slack\t%s\npool_slack\t%s\n' "$DURATION_S" "$FD_SLACK" "$THREAD_SLACK" "$POOL_SLACK" >"$OUT/params.tsv"
# Each slice's latency percentiles (1..90 by 1, 90.1..100 by 0.1), one row per slice: what the p99 criterion merges.
while read -r t s; do
    printf '%s\t%s\t%s\n' "$t" "$(awk '$1 == "S" { print $2 }' "$s")" "$(awk '$1 == "P" { printf "%s%s", sep, $3; sep = "\t" }' "$s")"
done <"$WORK/slices.idx" >"$OUT/latency.tsv"
{
    echo "# rotations COMPLETED by kind: $ROTATIONS; MANUAL accepted $MANUAL; master-key restarts $RESTARTS; audit events $EVENTS in ${#ARCHIVES[@]} archives + the live chain"
    for p in "${PROBLEMS[@]}"; do echo "# end-state FAILED: $p"; done
    ((${#PROBLEMS[@]} > 0)) || echo "# end state: every rotation finished, audit chain verified offline, no temporary file, integrity ok, no unexpected ERROR"
} >"$OUT/endstate.txt"
JUDGED=$(judge "$OUT") || fail "the analysis did not run: $JUDGED"
column -t -s $'\t' "$OUT/summary.tsv" 2>/dev/null || cat "$OUT/summary.tsv"
plot "$OUT"
if ((JUDGED == 0 && ${#PROBLEMS[@]} == 0)); then
    echo "soak drill: PASSED ($((SECONDS - T_START)) s in all; results in $OUT)"
else
    echo "soak drill: FAILED: $JUDGED criteria, ${#PROBLEMS[@]} end-state problem(s) (results in $OUT)"
    exit 1
fi
