#!/usr/bin/env bash
# rotation-fetch.sh — rotation latency (request to COMPLETED, no restart hook) and audited env-file
# fetch throughput, with the cheapest unaudited endpoint (GET /health) as the in-process baseline.
#
# Starts the packaged service (-Xmx128m, the unit's heap) in a fresh temp dir, grants the bootstrap
# admin secret:rotate and env-file:read on prod, then:
#   1. ROTATIONS sequential rotations of prod's LTC_SECRET_KEY, each timed from the POST to the
#      first GET /api/v1/rotations/{id} that says COMPLETED (python, one keep-alive connection);
#   2. wrk, 2 threads / 32 connections: GET /health, then GET /api/v1/environments/prod/env-file
#      (authenticated, grant-checked, decrypted, durably audited before each response).
#
# Run:   ./mvnw package -DskipTests && bench/rotation-fetch.sh   (needs java 17, curl, python3; installs wrk)
# Knobs: APP=<repo>/target/quarkus-app  ROTATIONS=100  DURATION=15s  PORT=18320  KEEP=1
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
APP=${APP:-$REPO/target/quarkus-app}
ROTATIONS=${ROTATIONS:-100}
DURATION=${DURATION:-15s}
WORK=$(mktemp -d /tmp/ltc-bench-rotation.XXXXXX)
PID=
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill "$PID"; wait "$PID" 2>/dev/null || true; fi
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; } >/dev/null

PORT=${PORT:-18320}
while (: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
URL=http://127.0.0.1:$PORT

mkdir -m 700 "$WORK/root"
# prod as shipped, without its app section: this measures the engine, not a restart hook.
mkdir -p "$WORK/policies/environments"
sed '/^app:/,/^[a-z]/{/^app:/d;/^  /d}' "$REPO/policies/environments/prod.yaml" >"$WORK/policies/environments/prod.yaml"
(cd "$WORK" && exec java -Xmx128m -Dquarkus.profile=dev -Dltc-secrets.data-dir="$WORK/data" \
    -Dltc-secrets.policies-dir="$WORK/policies" -Dltc-secrets.file-root="$WORK/root" \
    -Dquarkus.http.port="$PORT" -jar "$APP/quarkus-run.jar") >"$WORK/service.log" 2>&1 &
PID=$!
for _ in $(seq 120); do kill -0 "$PID" 2>/dev/null || break; curl -sf -o /dev/null "$URL/health" && break; sleep 0.5; done
curl -sf -o /dev/null "$URL/health" || { tail -50 "$WORK/service.log"; echo "service not healthy" >&2; exit 1; }
TOKEN=$(cat "$WORK/data/bootstrap-admin.token")
AUTH="Authorization: Bearer $TOKEN"
for permission in secret:rotate env-file:read; do
    curl -sf -o /dev/null -H "$AUTH" -H 'Content-Type: application/json' "$URL/api/v1/grants" \
        -d "{\"principal\":\"bootstrap-admin\",\"environment\":\"prod\",\"permission\":\"$permission\",\"ttl\":\"PT12H\",\"reason\":\"benchmark\"}"
done

ROT=$(python3 - "$PORT" "$TOKEN" "$ROTATIONS" <<'PY'
import http.client, json, statistics, sys, time
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
c = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None):
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")
lat = []
for i in range(n + 5):
    t0 = time.perf_counter()
    s, r = call("POST", "/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rotations", json.dumps({"reason": "bench"}))
    assert s == 202, (s, r)
    while r["status"] in ("PENDING", "RUNNING"):
        s, r = call("GET", "/api/v1/rotations/" + r["id"])
    assert r["status"] == "COMPLETED", r["status"]
    if i >= 5:   # the first few warm the JIT
        lat.append((time.perf_counter() - t0) * 1000)
q = statistics.quantiles(lat, n=100)
print(f"{statistics.median(lat):.1f} {q[89]:.1f} {q[98]:.1f} {max(lat):.1f}")
PY
)
read -r MED P90 P99 MAX <<<"$ROT"

# wrk URL [header]: prints "req/s p99 non2xx"
bench() {
    local header=()
    [[ $# -gt 1 ]] && header=(-H "$2")
    wrk -t2 -c8 -d3s "${header[@]}" "$1" >/dev/null   # warm-up
    wrk -t2 -c32 -d"$DURATION" --latency "${header[@]}" "$1" >"$WORK/wrk.txt"
    awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF} END {printf "%.0f %s %d", rps, p99, bad}' "$WORK/wrk.txt"
}
read -r H_RPS H_P99 H_BAD <<<"$(bench "$URL/health")"
read -r F_RPS F_P99 F_BAD <<<"$(bench "$URL/api/v1/environments/prod/env-file" "$AUTH")"
VERIFY=$(curl -sf -H "$AUTH" "$URL/api/v1/audit/verify")

echo
echo "rotation-fetch: -Xmx128m, nproc=$(nproc), loadavg before start $LOAD0 (other load skews results)"
printf '%-44s %10s %10s %10s %10s\n' "rotation, request to COMPLETED ($ROTATIONS)" median p90 p99 max
printf '%-44s %8sms %8sms %8sms %8sms\n' "" "$MED" "$P90" "$P99" "$MAX"
printf '%-44s %10s %10s %8s\n' "wrk 2 threads, 32 connections, $DURATION" req/s p99 non2xx
printf '%-44s %10s %10s %8s\n' "GET /health (baseline: no auth, no audit)" "$H_RPS" "$H_P99" "$H_BAD"
printf '%-44s %10s %10s %8s\n' "GET …/prod/env-file (auth, grant, audit)" "$F_RPS" "$F_P99" "$F_BAD"
python3 -c 'import sys; print(f"ratio env-file/health: {float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$F_RPS" "$H_RPS"
echo "verify: $VERIFY"
echo "service log ERROR/WARN lines: $(grep -cE ' (ERROR|WARN) ' "$WORK/service.log" || true)"
