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

# --- The rotation and fetch measurements (bench/rotation-fetch.sh, bench/stores.sh): one method, one set of knobs.
# Their defaults: ROTATIONS timed rotations after ROT_WARMUP untimed; wrk for DURATION after WARMUP.
ROTATIONS=${ROTATIONS:-100}
ROT_WARMUP=${ROT_WARMUP:-50}
DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-20s}

# unit_jvm_flags: JVM_FLAGS and SERVICE_ENV as the unit runs the service (drills/lib.sh's unit_service_flags: its
# ExecStart's flags and its MALLOC_* settings, read from k8s-free-deploy/systemd/ltc-secrets.service; never a bigger
# heap than prod, and RSS measured with prod's malloc arenas and native-heap trimming), plus JAVA_EXTRA (e.g.
# "-XX:StartFlightRecording=…" to profile).
unit_jvm_flags() {
    unit_service_flags
    # shellcheck disable=SC2206 # JAVA_EXTRA is a list of flags
    JVM_FLAGS+=(${JAVA_EXTRA:-})
}

# bench_prod_yaml DEST: prod as shipped, written to DEST without two sections:
#   app:        this measures the engine, not a restart hook (a script that wants one appends its own);
#   approvals:  two-person approval (docs/operations.md): with it, POST /grants on prod answers 202 with a pending
#               approval and the grant is not in force until a second person approves. The benchmarks measure
#               fetches, rotations and emergencies with their grants in force, not the approval flow (that is
#               k8s-free-deploy/smoke-test.sh's, with the shipped policy).
bench_prod_yaml() {
    sed -e '/^app:/,/^[a-z]/{/^app:/d;/^  /d}' -e '/^approvals:/,/^[a-z]/{/^approvals:/d;/^  /d}' \
        "$REPO/policies/environments/prod.yaml" >"$1"
    ! grep -qE '^(app|approvals):' "$1" || fail "could not strip app/approvals from $REPO/policies/environments/prod.yaml"
}

# prod_policy: prod as shipped in $POLICIES (bench_prod_yaml: no app, no approvals).
prod_policy() {
    mkdir -p "$POLICIES/environments"
    bench_prod_yaml "$POLICIES/environments/prod.yaml"
}

# post PATH JSON: POST to /api/v1/PATH as the bootstrap admin ($AUTH); the body on stdout.
post() { curl -sf -H "$AUTH" -H 'Content-Type: application/json' "$URL/api/v1/$1" -d "$2"; }

# bench_principals: after start_service, sets PORT, TOKEN and AUTH (the bootstrap admin, given secret:rotate
# on prod) and DEPLOY_AUTH (a new principal bench-deployer, role deployer, its own token, env-file:read on prod).
# shellcheck disable=SC2034 # sets variables for the caller
bench_principals() {
    local deploy_token
    PORT=${URL##*:}
    TOKEN=$(<"$DATA/bootstrap-admin.token")
    AUTH="Authorization: Bearer $TOKEN"
    post principals '{"name":"bench-deployer","role":"deployer"}' >/dev/null
    deploy_token=$(post principals/bench-deployer/tokens '{"ttl":"PT12H"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    DEPLOY_AUTH="Authorization: Bearer $deploy_token"
    bench_grant bootstrap-admin secret:rotate
    bench_grant bench-deployer env-file:read
}
bench_grant() { # PRINCIPAL PERMISSION on prod
    post grants "{\"principal\":\"$1\",\"environment\":\"prod\",\"permission\":\"$2\",\"ttl\":\"PT12H\",\"reason\":\"benchmark\"}" >/dev/null
}

# rotations N WARM: N sequential rotations of prod's LTC_SECRET_KEY after WARM untimed ones (the first ones warm
# the JIT, as the fetch's warm-up does), each timed by the client from the POST to the first
# GET /api/v1/rotations/{id} that says COMPLETED (python, one keep-alive connection). Sets ROT_MED ROT_P90
# ROT_P95 ROT_P99 ROT_MAX (ms) and ROT_SRV_MED ROT_SRV_P95: the service's own finishedAt − requestedAt (ms).
# shellcheck disable=SC2034 # sets variables for the caller
rotations() {
    read -r ROT_MED ROT_P90 ROT_P95 ROT_P99 ROT_MAX ROT_SRV_MED ROT_SRV_P95 <<<"$(BENCH_TOKEN=$TOKEN python3 - "$PORT" "$1" "$2" <<'PY'
import http.client, json, os, re, statistics, sys, time
from datetime import datetime, timezone
port, n, warm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
h = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"], "Content-Type": "application/json"}
c = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None):
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")
def instant(s):   # ISO-8601 in UTC with 0-9 fraction digits, as Jackson writes an Instant
    m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return t + (int(m.group(2)) / 10 ** len(m.group(2)) if m.group(2) else 0)
lat, srv = [], []
for i in range(n + warm):
    t0 = time.perf_counter()
    s, r = call("POST", "/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rotations", json.dumps({"reason": "bench"}))
    assert s == 202, (s, r)
    while r["status"] in ("PENDING", "RUNNING"):
        s, r = call("GET", "/api/v1/rotations/" + r["id"])
    assert r["status"] == "COMPLETED", r["status"]
    if i >= warm:
        lat.append((time.perf_counter() - t0) * 1000)
        srv.append((instant(r["finishedAt"]) - instant(r["requestedAt"])) * 1000)
q, qs = (statistics.quantiles(v, n=100, method="inclusive") for v in (lat, srv))
print(f"{statistics.median(lat):.1f} {q[89]:.1f} {q[94]:.1f} {q[98]:.1f} {max(lat):.1f} {statistics.median(srv):.1f} {qs[94]:.1f}")
PY
)"
}

# wrk_warm URL [HEADER] then wrk_timed URL [HEADER]: wrk at 2 threads / 32 connections, WARMUP untimed (the JIT
# compiles the request path for well over 10 s; a long-running service is measured warm), then DURATION timed.
# wrk_timed prints "req/s p50_ms p99_ms errors" (errors = non-2xx + socket errors); its output is in $WORK/wrk.txt.
wrk_warm() { wrk -t2 -c32 -d"$WARMUP" ${2:+-H "$2"} "$1" >/dev/null; }
wrk_timed() {
    wrk -t2 -c32 -d"$DURATION" --latency ${2:+-H "$2"} "$1" >"$WORK/wrk.txt"
    awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
         /Requests\/sec/ {rps=$2}
         /^ +50%/ {p50=ms($2)}
         /^ +99%/ {p99=ms($2)}
         /Non-2xx/ {bad+=$NF}
         /Socket errors/ {gsub(/[^0-9 ]/, " "); split($0, e, " +"); for (i in e) bad+=e[i]}
         END {printf "%.0f %.2f %.2f %d", rps, p50, p99, bad}' "$WORK/wrk.txt"
}

# audit_state: GET /audit/verify (which checks the chain) in VERIFY, and its number of events in EVENTS.
# shellcheck disable=SC2034 # sets variables for the caller
audit_state() {
    VERIFY=$(curl -sf -H "$AUTH" "$URL/api/v1/audit/verify")
    EVENTS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["events"])' "$VERIFY")
}

# deployer_uses: the bench-deployer grant's useCount (one per audited fetch).
deployer_uses() {
    curl -sf -H "$AUTH" "$URL/api/v1/grants?principal=bench-deployer" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["useCount"])'
}
