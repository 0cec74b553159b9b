#!/usr/bin/env bash
# all.sh — runs every benchmark one after the other (never two at once: they share two cores) and
# prints one table: each measured value, the baseline measured in the same run, the ratio and the
# target. Each script's own detailed output is kept in the log directory it names at the end.
#
# Run:   ./mvnw package -DskipTests && bench/all.sh      (about 13 minutes on 2 cores)
# Knobs: ONLY="startup rotation-fetch" (a subset, in this order; ONLY=all: every benchmark)  EVENTS=1000000
#        (audit-1m) and each script's own knobs, passed through the environment.
# stores (PostgreSQL store against SQLite) is not in the default set: it adds about 3 minutes (a quarter more)
# and needs Debian's postgresql package; ONLY="… stores" or ONLY=all runs it.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
LOGS=$(mktemp -d /tmp/ltc-bench-all.XXXXXX)
export BENCH_SUMMARY=$LOGS/summary.tsv
: >"$BENCH_SUMMARY"
[[ -f $REPO/target/quarkus-app/quarkus-run.jar ]] || { echo "run ./mvnw package -DskipTests first" >&2; exit 1; }

DEFAULT="startup rotation-fetch audit-append audit-1m emergency auth-flood"
ALL="$DEFAULT stores"
SELECTED=${ONLY:-$DEFAULT}
[[ $SELECTED != all ]] || SELECTED=$ALL
for bench in $SELECTED; do
    [[ " $ALL " == *" $bench "* ]] || { echo "unknown benchmark '$bench' in ONLY (one of: $ALL)" >&2; exit 2; }
done

FAILED=()
for bench in $SELECTED; do
    echo "== $bench ($(date -u +%H:%M:%S), loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
    if ! "$REPO/bench/$bench.sh" >"$LOGS/$bench.log" 2>&1; then
        FAILED+=("$bench")
        tail -5 "$LOGS/$bench.log" | sed 's/^/   /'
    fi
done

echo
echo "ltc-secrets benchmarks, $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)," \
    "$(java -version 2>&1 | head -1), nproc=$(nproc)"
{
    printf 'measurement\tvalue\tbaseline (same run)\tbaseline value\tratio\ttarget\tmet\n'
    cat "$BENCH_SUMMARY"
} | column -t -s $'\t'
echo
echo "detailed output: $LOGS/<bench>.log"
if ((${#FAILED[@]})); then
    echo "FAILED: ${FAILED[*]}" >&2
    exit 1
fi
