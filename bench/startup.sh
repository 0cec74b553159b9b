#!/usr/bin/env bash
# startup.sh — time from launch to healthy, and RSS and PSS at ready, of the packaged app started as the unit
# starts it (k8s-free-deploy/systemd/ltc-secrets.service: its launcher, JVM flags, Environment= and the prod
# profile) with the start-up cache install.sh makes (k8s-free-deploy/aot-cache.sh: a JDK AOT cache for the newest
# JDK 25+, else an AppCDS archive), against the same jar on the same java without the cache (the baseline),
# alternately in one run.
#
# Each start is a restart of an installed service: the data dir (SQLite, master key, installation keys, env files
# of the policies) is created once by a first start that is not counted, so the measured starts migrate nothing
# and write no version 1. "Healthy" is the first 200 from GET /health, polled every 10 ms; RSS (VmRSS) and PSS
# (smaps_rollup) are the java process's at that moment.
#
# Run:   ./mvnw package -DskipTests && bench/startup.sh   (java 17+, curl, python3)
# Knobs: APP=<repo>/target/quarkus-app  RUNS=10  KEEP=1 (keep the temp dir)
#        JAVA=/usr/lib/jvm/java-17-openjdk-amd64/bin/java (the fallback: AppCDS on that java; default: the java
#        aot-cache.sh chooses, as install.sh does)  JAVA_EXTRA="-Xlog:startuptime…" (added to both)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ltc-bench-startup.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
UNIT=$REPO/k8s-free-deploy/systemd/ltc-secrets.service
RUNS=${RUNS:-10}
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

# The unit's command line: the launcher, the JVM flags up to -jar (the jar is ours), its Environment= lines
# without a specifier (the paths are set per start below).
exec_start=$(sed -e ':a' -e '/\\$/{N;s/\\\n//;ba}' "$UNIT" | sed -n 's/^ExecStart=[-@:+!]*//p' | head -n 1)
read -r -a argv <<<"$exec_start"
UNIT_FLAGS=()
for ((i = 1; i < ${#argv[@]}; i++)); do
    [[ ${argv[i]} == -jar ]] && break
    UNIT_FLAGS+=("${argv[i]}")
done
# shellcheck disable=SC2206 # JAVA_EXTRA is a list of flags
UNIT_FLAGS+=(${JAVA_EXTRA:-})
UNIT_ENV=()
while read -r assignment; do
    [[ $assignment == *'$'* || $assignment == *%* ]] || UNIT_ENV+=("$assignment")
done < <(sed -n 's/^Environment=//p' "$UNIT" | grep -v '^LTC_SECRETS_')

cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill -9 "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

need_commands curl python3
# The installed layout the launcher expects: bin/ltc-secrets-java beside jvm/ (the cache, java, flags).
mkdir -p "$WORK/opt/bin"
cp "$REPO/k8s-free-deploy/ltc-secrets-java" "$WORK/opt/bin/"
"$REPO/k8s-free-deploy/aot-cache.sh" "$JAR" "$WORK/opt/jvm" "$REPO/policies" ${JAVA:+"$JAVA"}
CACHE_FLAG=$(head -n 1 "$WORK/opt/jvm/flags")
JVM=$(readlink "$WORK/opt/jvm/java")
mkdir -m 700 "$WORK/root"
head -c 32 /dev/urandom | base64 >"$WORK/master.key"
chmod 0400 "$WORK/master.key"

# start MODE: starts the service (MODE cached: through the launcher, as the unit; plain: the same java, no
# cache), waits for healthy, sets MS (launch to healthy), RSS and PSS (KiB), stops it.
start() {
    local launcher=$WORK/opt/jvm/java flags=("${UNIT_FLAGS[@]}") port t0 t1
    if [[ $1 == cached ]]; then
        launcher=$WORK/opt/bin/ltc-secrets-java
        # A start that cannot use the cache fails instead of being counted as one that did.
        if [[ $CACHE_FLAG == -XX:AOTCache=* ]]; then flags+=(-XX:AOTMode=on); else flags+=(-Xshare:on); fi
    fi
    port=$(free_port 18380)
    LOG=$WORK/service-$1.log
    t0=$(date +%s%N)
    (cd "$WORK" && exec env -i PATH="$PATH" "${UNIT_ENV[@]}" LTC_SECRETS_DATA_DIR="$WORK/data" \
        LTC_SECRETS_POLICIES_DIR="$REPO/policies" LTC_SECRETS_FILE_ROOT="$WORK/root" \
        LTC_SECRETS_MASTER_KEY_FILE="$WORK/master.key" LTC_SECRETS_SCHEDULER_CHECK_EVERY=24h QUARKUS_HTTP_PORT="$port" \
        "$launcher" "${flags[@]}" -jar "$JAR") >"$LOG" 2>&1 &
    PID=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do
        kill -0 "$PID" 2>/dev/null || fail "the $1 start exited: $(tail -n 20 "$LOG")"
        (($(date +%s%N) - t0 < START_DEADLINE * 1000000000)) || fail "the $1 start was not healthy within $START_DEADLINE s"
        sleep 0.01
    done
    t1=$(date +%s%N)
    RSS=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
    PSS=$(awk '/^Pss:/ {print $2}' "/proc/$PID/smaps_rollup")
    kill "$PID"
    wait "$PID" || true
    PID=
    MS=$(((t1 - t0) / 1000000))
}
PID=

start plain   # creates the data dir, keys and env files; not counted
declare -a PLAIN_MS PLAIN_RSS PLAIN_PSS C_MS C_RSS C_PSS
for _ in $(seq "$RUNS"); do
    start plain; PLAIN_MS+=("$MS"); PLAIN_RSS+=("$RSS"); PLAIN_PSS+=("$PSS")
    start cached; C_MS+=("$MS"); C_RSS+=("$RSS"); C_PSS+=("$PSS")
done
LOAD1=$(cut -d" " -f1-3 /proc/loadavg)

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }
mib() { echo $(($1 / 1024)); }
PM=$(median "${PLAIN_MS[@]}"); CM=$(median "${C_MS[@]}")
PR=$(mib "$(median "${PLAIN_RSS[@]}")"); CR=$(mib "$(median "${C_RSS[@]}")")
PP=$(mib "$(median "${PLAIN_PSS[@]}")"); CP=$(mib "$(median "${C_PSS[@]}")")
KIND=${CACHE_FLAG%%=*}; KIND=${KIND#-XX:}   # AOTCache or SharedArchiveFile
VERSION=$("$JVM" -version 2>&1 | head -1)
echo
echo "startup: ${UNIT_ENV[*]} ${UNIT_FLAGS[*]}, $VERSION, nproc=$(nproc), loadavg before $LOAD0, after $LOAD1"
printf '%-44s %10s %8s %12s %12s\n' "launch to healthy ($RUNS starts each)" median max "RSS median" "PSS median"
printf '%-44s %8sms %6sms %8s MiB %8s MiB\n' "baseline: same java, no cache" "$PM" "$(max "${PLAIN_MS[@]}")" "$PR" "$PP"
printf '%-44s %8sms %6sms %8s MiB %8s MiB\n' "with $KIND (as the unit starts it)" "$CM" "$(max "${C_MS[@]}")" "$CR" "$CP"
echo "ratio with/without cache: $(ratio "$CM" "$PM"); targets: <= 1500 ms and <= 0.35x; RSS <= 160 MiB"
J=${VERSION#*\"}; J=${J%%\"*}
summary "start-up to healthy, $KIND, java $J (median of $RUNS)" "$CM ms" "same jar and java, no cache" "$PM ms" \
    "$(ratio "$CM" "$PM")" "≤ 1,500 ms and ≤ 0.35×" "$(met "$CM <= 1500 && $CM <= 0.35 * $PM")"
summary "RSS at ready, $KIND, java $J (median of $RUNS)" "$CR MiB" "same jar and java, no cache" "$PR MiB" \
    "$(ratio "$CR" "$PR")" "≤ 160 MiB" "$(met "$CR <= 160")"
summary "PSS at ready, $KIND, java $J (median of $RUNS)" "$CP MiB" "same jar and java, no cache" "$PP MiB" \
    "$(ratio "$CP" "$PP")" "– (beside RSS)" "–"
