# shellcheck shell=bash
# lib.sh — sourced by the bench scripts: the service's start-up (drills/lib.sh's, one copy for the
# drills and the benchmarks), the tools check, and one summary row per measurement for bench/all.sh.
#
# The caller sets REPO and WORK (a temporary directory it removes) before sourcing; from drills/lib.sh
# it gets launch_service/start_service (the packaged jar on a free port, PID, URL, its log in LOG),
# stop_service and kill9. It sets JVM_FLAGS after sourcing: each benchmark names the flags it measures.

fail() { echo "${0##*/}: FAILED: $*" >&2; exit 1; }

[[ -z ${APP:-} || $APP == /* ]] || APP=$PWD/$APP   # the service starts in WORK: a relative APP would not be found
# shellcheck source=drills/lib.sh
. "$REPO/drills/lib.sh"

# need_commands CMD…: every command is there, or fail with the line that installs them. A benchmark
# never installs anything itself: apt-get in the middle of a run is load on the machine it measures.
need_commands() {
    local c missing=()
    for c in "$@"; do
        command -v "$c" >/dev/null || [[ -x /usr/sbin/$c ]] || missing+=("$c")
    done
    ((${#missing[@]} == 0)) || fail "missing ${missing[*]}; install first: apt-get update && apt-get install -y ${missing[*]}"
    [[ -f $JAR ]] || fail "$JAR missing: run ./mvnw package -DskipTests first"
}

# service_logs: everything this run's starts of the service printed (one log per start).
service_logs() {
    local i
    for ((i = 1; i <= STARTS; i++)); do cat "$WORK/service-$i.log"; done
}

# summary MEASUREMENT VALUE BASELINE_NAME BASELINE RATIO TARGET MET
#   appends a tab-separated row to $BENCH_SUMMARY when it is set (bench/all.sh sets it), so each
#   script keeps printing its own detailed table and all.sh prints one table of every target.
#   VALUE and BASELINE carry their unit ("3,120 req/s"); RATIO is value/baseline ("0.034×") or "–";
#   MET is yes, NO or "–" (no target).
summary() {
    [[ -n ${BENCH_SUMMARY:-} ]] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_SUMMARY"
}

# ratio A B: A/B with two decimals (three below 0.1).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "–"; else { r = a / b; printf (r < 0.1 ? "%.3f×" : "%.2f×"), r } }'; }

# met CONDITION-AWK-EXPRESSION: yes or NO.
met() { awk "BEGIN { print (($1) ? \"yes\" : \"NO\") }"; }

# free_port FIRST: the first port from FIRST up that nothing on 127.0.0.1 listens on.
free_port() {
    local p=$1
    while (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    echo "$p"
}
