#!/usr/bin/env bash
# startup.sh — time from `java -jar` to healthy and RSS at ready, with the unit's JVM flags: the
# packaged app with an AppCDS archive made as install.sh makes it (k8s-free-deploy/appcds.sh), as
# the unit starts it, against the same jar without the archive (the baseline), alternately in one run.
#
# Each start is a restart of an installed service: the data dir (SQLite, master key, installation
# keys, env files of the sample policies) is created once by a first start that is not counted, so
# the measured starts migrate nothing and write no version 1. "Healthy" is the first 200 from
# GET /health, polled every 10 ms by one curl loop; RSS is VmRSS of the java process at that moment.
#
# Run:   ./mvnw package -DskipTests && bench/startup.sh   (java 17+, curl)
# Knobs: APP=<repo>/target/quarkus-app  RUNS=10  KEEP=1 (keep the temp dir)
#        JAVA_EXTRA="-Xlog:startuptime…" (added to both)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ltc-bench-startup.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
POLICIES=$REPO/policies
HEALTH_POLL=0.01   # the measurement's resolution: /health is polled every 10 ms
RUNS=${RUNS:-10}
# The unit's ExecStart flags (k8s-free-deploy/systemd/ltc-secrets.service), archive added per mode below.
UNIT_FLAGS=(-Xms32m -Xmx128m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

cleanup() {
    stop_service
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

need_commands curl
"$REPO/k8s-free-deploy/appcds.sh" "$JAR" "$WORK/app-cds.jsa" "$REPO/policies"

mkdir -m 700 "$WORK/root"

# start MODE: starts the service, waits for healthy, sets MS (launch to healthy) and RSS (KiB), stops it.
start() {
    JVM_FLAGS=("${UNIT_FLAGS[@]}")
    # shellcheck disable=SC2206 # JAVA_EXTRA is a list of flags
    JVM_FLAGS+=(${JAVA_EXTRA:-})
    # -Xshare:on: a start that cannot use the archive fails instead of being counted as one that did.
    [[ $1 == appcds ]] && JVM_FLAGS+=(-XX:SharedArchiveFile="$WORK/app-cds.jsa" -Xshare:on)
    local t0 t1
    t0=$(date +%s%N)
    start_service "$START_DEADLINE"
    t1=$(date +%s%N)
    RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
    stop_service
    MS=$(((t1 - t0) / 1000000))
}

start plain   # creates the data dir, keys and env files; not counted
declare -a PLAIN_MS PLAIN_RSS CDS_MS CDS_RSS
for _ in $(seq "$RUNS"); do
    start plain; PLAIN_MS+=("$MS"); PLAIN_RSS+=("$RSS")
    start appcds; CDS_MS+=("$MS"); CDS_RSS+=("$RSS")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }
PM=$(median "${PLAIN_MS[@]}"); CM=$(median "${CDS_MS[@]}")
PR=$(($(median "${PLAIN_RSS[@]}") / 1024)); CR=$(($(median "${CDS_RSS[@]}") / 1024))
echo
echo "startup: ${UNIT_FLAGS[*]}, $(java -version 2>&1 | head -1), nproc=$(nproc), loadavg before start $LOAD0"
printf '%-44s %10s %8s %12s   target\n' "java -jar to healthy ($RUNS starts each)" median max "RSS median"
printf '%-44s %8sms %6sms %9s MiB\n' "baseline: no archive" "$PM" "$(max "${PLAIN_MS[@]}")" "$PR"
printf '%-44s %8sms %6sms %9s MiB   <= 1500 ms, <= 160 MiB\n' "with app-cds.jsa (as the unit starts it)" "$CM" "$(max "${CDS_MS[@]}")" "$CR"
echo "ratio with/without archive: $(ratio "$CM" "$PM")"
summary "start-up, java -jar to healthy (median of $RUNS)" "$CM ms" "same jar, no AppCDS archive" "$PM ms" \
    "$(ratio "$CM" "$PM")" "≤ 1,500 ms" "$(met "$CM <= 1500")"
summary "RSS at ready (median of $RUNS)" "$CR MiB" "same jar, no AppCDS archive" "$PR MiB" "$(ratio "$CR" "$PR")" \
    "≤ 160 MiB" "$(met "$CR <= 160")"
