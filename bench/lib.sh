# shellcheck shell=bash
# lib.sh — sourced by the bench scripts: one summary row per measurement for bench/all.sh.
#
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
