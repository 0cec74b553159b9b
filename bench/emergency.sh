#!/usr/bin/env bash
# emergency.sh — the emergency rotation procedure end to end, with a real restart command and health
# check, against the same app restart done directly as the baseline.
#
# Starts the packaged service (-Xmx128m, the unit's heap) in a fresh temp dir with prod's policy as
# shipped except its app section, which points at a real app started here: a small python3 HTTP
# server that loads <tmp>/root/etc/lifetimecircle/prod.env at start (refusing to start without an
# LTC_SECRET_KEY of 32+ characters) and answers GET /health with the pid and a fingerprint of the key.
# app.restartCommand is /bin/sh <tmp>/restart.sh: kill the app (pid file), start a new one with
# nohup in the background, return. The bench grants the bootstrap admin secret:rotate on prod and a
# second principal (deployer) env-file:read, then, EMERGENCIES times, interleaved:
#   1. baseline: time `sh restart.sh` plus polling the app's /health until 200, polled every 10 ms
#      and polled the engine's way (at once, then every 200 ms);
#   2. POST /api/v1/environments/prod/emergency-rotations, then GET /api/v1/rotations/{id} every
#      10 ms (each GET is an audited read) on one keep-alive connection until COMPLETED or FAILED.
# Asserts every emergency COMPLETED, the app came back on the new key each time, the deployer's grant
# was revoked by the first one (and its env-file fetch refused), and GET /api/v1/audit/verify is valid.
# The journal's steps carry the time each one ended; restart.sh and the app also log their own
# times (timing.log), and the breakdown shows both.
#
# Run:   ./mvnw package -DskipTests && bench/emergency.sh   (needs java 17, curl, python3)
# Knobs: APP=<repo>/target/quarkus-app  EMERGENCIES=10  APP_PORT=18430 (the app's; the service takes a free port)  KEEP=1
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ltc-bench-emergency.XXXXXX)
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"
JVM_FLAGS=(-Xmx128m)
N=${EMERGENCIES:-10}
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)

cleanup() {
    stop_service
    local app_pid
    app_pid=$(cat "$WORK/app.pid" 2>/dev/null || true)
    if [[ -n $app_pid ]] && kill -0 "$app_pid" 2>/dev/null; then kill "$app_pid" 2>/dev/null || true; fi
    if [[ -z ${KEEP:-} ]]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

need_commands python3 curl
APP_PORT=$(free_port "${APP_PORT:-18430}")
ENV_FILE=$WORK/root/etc/lifetimecircle/prod.env

# The app: loads the env file once at start, like the API's systemd unit with EnvironmentFile=.
cat >"$WORK/app.py" <<'PY'
import hashlib, http.server, json, os, sys, time
env_file, port, timing = sys.argv[1], int(sys.argv[2]), sys.argv[3]
env = {}
try:
    with open(env_file) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            env[name] = value
except OSError as e:
    print(f"cannot read {env_file}: {e.strerror}", file=sys.stderr)
    sys.exit(1)
key = env.get("LTC_SECRET_KEY", "")
if len(key) < 32:
    print("LTC_SECRET_KEY missing or shorter than 32 characters; refusing to start", file=sys.stderr)
    sys.exit(1)
body = json.dumps({"pid": os.getpid(), "key": hashlib.sha256(key.encode()).hexdigest()[:16]}).encode()
del key
answered = False

def mark(event):
    with open(timing, "a") as f:
        f.write(f"{event} {time.time():.6f} {os.getpid()}\n")

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global answered
        if self.path != "/health":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if not answered:
            answered = True
            mark("app-first-200")
    def log_message(self, *args):
        pass

for attempt in range(500):   # the old app's socket may take a moment to go
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Health)
        break
    except OSError:
        time.sleep(0.01)
else:
    sys.exit("port %d stayed busy" % port)
mark("app-listening")
server.serve_forever()
PY

# The restart command: stop the running app, start a new one in the background, return.
cat >"$WORK/restart.sh" <<SH
#!/bin/sh
set -eu
echo "restart-begin \$(date +%s.%N) \$\$" >>"$WORK/timing.log"
if [ -f "$WORK/app.pid" ]; then
    old=\$(cat "$WORK/app.pid")
    kill "\$old" 2>/dev/null || true
    # gone, or a zombie nobody reaps (its socket is closed either way); at most ~5 s
    i=0
    while kill -0 "\$old" 2>/dev/null && ! grep -q ') Z ' "/proc/\$old/stat" 2>/dev/null && [ \$i -lt 500 ]; do
        sleep 0.01; i=\$((i + 1))
    done
fi
nohup python3 "$WORK/app.py" "$ENV_FILE" "$APP_PORT" "$WORK/timing.log" </dev/null >>"$WORK/app.log" 2>&1 &
echo \$! >"$WORK/app.pid"
echo "restart-end \$(date +%s.%N) \$\$" >>"$WORK/timing.log"
SH

mkdir -m 700 "$WORK/root"
# prod as shipped, with its app section replaced by this one and no approvals (bench_prod_yaml): the grants
# below are in force at once, and an emergency needs no review afterwards, as in the measured runs so far.
mkdir -p "$WORK/policies/environments"
bench_prod_yaml "$WORK/prod.yaml"
{
    cat "$WORK/prod.yaml"
    cat <<YAML
app:
  restartCommand: ["/bin/sh", "$WORK/restart.sh"]
  healthUrl: http://127.0.0.1:$APP_PORT/health
  restartTimeout: PT30S
  healthTimeout: PT30S
YAML
} >"$WORK/policies/environments/prod.yaml"

start_service "$START_DEADLINE"
PORT=${URL##*:}
[[ -f $ENV_FILE ]] || { echo "the service did not write $ENV_FILE" >&2; exit 1; }

# The app's first start, by hand: it needs the env file, which the service writes at its first start.
sh "$WORK/restart.sh"
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$APP_PORT/health" && break; sleep 0.05; done
curl -sf -o /dev/null "http://127.0.0.1:$APP_PORT/health" || { cat "$WORK/app.log"; echo "app not healthy" >&2; exit 1; }

TOKEN=$(cat "$WORK/data/bootstrap-admin.token")
AUTH="Authorization: Bearer $TOKEN"
api() { curl -sf -H "$AUTH" -H 'Content-Type: application/json' "$@"; }
api -o /dev/null "$URL/api/v1/grants" -d '{"principal":"bootstrap-admin","environment":"prod",
    "permission":"secret:rotate","ttl":"PT12H","reason":"benchmark"}'
api -o /dev/null "$URL/api/v1/principals" -d '{"name":"deployer","role":"deployer"}'
DEPLOYER_TOKEN=$(api "$URL/api/v1/principals/deployer/tokens" -d '{"ttl":"PT12H"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
GRANT_ID=$(api "$URL/api/v1/grants" -d '{"principal":"deployer","environment":"prod",
    "permission":"env-file:read","ttl":"PT12H","reason":"benchmark: revoked by the emergency"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
DEPLOYER_FETCH_BEFORE=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $DEPLOYER_TOKEN" \
    "$URL/api/v1/environments/prod/env-file")

python3 - "$PORT" "$TOKEN" "$N" "$APP_PORT" "$WORK" "$GRANT_ID" "$DEPLOYER_TOKEN" "$ENV_FILE" \
    >"$WORK/report.txt" <<'PY'
import hashlib, http.client, json, statistics, subprocess, sys, time
from datetime import datetime
port, token, n, app_port, work, grant_id, deployer_token, env_file = sys.argv[1:9]
port, n, app_port = int(port), int(n), int(app_port)
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
c = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None, headers=h):
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")

def app_health():
    try:
        a = http.client.HTTPConnection("127.0.0.1", app_port, timeout=2)
        a.request("GET", "/health")
        r = a.getresponse()
        body = r.read()
        a.close()
        return r.status, json.loads(body) if r.status == 200 else None
    except OSError:
        return None, None

def file_key():
    for line in open(env_file):
        if line.startswith("LTC_SECRET_KEY="):
            v = line.strip().split("=", 1)[1].strip("'")
            return hashlib.sha256(v.encode()).hexdigest()[:16]

def timing_lines():
    with open(work + "/timing.log") as f:
        return f.read().splitlines()

def restart_direct(poll):
    """sh restart.sh, then /health until 200: every 10 ms, or the engine's way (at once, then 200 ms)."""
    t0 = time.perf_counter()
    subprocess.run(["/bin/sh", work + "/restart.sh"], check=True)
    t1 = time.perf_counter()
    while app_health()[0] != 200:
        time.sleep(poll)
        assert time.perf_counter() - t0 < 30, "app not healthy within 30 s"
    return (t1 - t0) * 1000, (time.perf_counter() - t0) * 1000

def ts(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()

base_tight, base_engine, base_sh, lat, runs = [], [], [], [], []
grant_after_first = deployer_after_first = None
for i in range(1, n + 1):
    sh_ms, total = restart_direct(0.01)
    base_sh.append(sh_ms); base_tight.append(total)
    base_engine.append(restart_direct(0.2)[1])

    _, before = app_health()
    mark = len(timing_lines())
    t_post = time.time()
    t0 = time.perf_counter()
    s, r = call("POST", "/api/v1/environments/prod/emergency-rotations",
                json.dumps({"reason": "bench", "incident": f"BENCH-{i}"}))
    assert s == 202, (s, r)
    polls = 0
    while r["status"] in ("PENDING", "RUNNING"):
        time.sleep(0.01)
        s, r = call("GET", "/api/v1/rotations/" + r["id"])
        assert s == 200, (s, r)
        polls += 1
    ms = (time.perf_counter() - t0) * 1000
    assert r["status"] == "COMPLETED", (r["status"], r["steps"])
    lat.append(ms)
    status, after = app_health()
    assert status == 200, "app not healthy after the emergency"
    assert after["pid"] != before["pid"], "the app was not restarted"
    assert after["key"] != before["key"] and after["key"] == file_key(), "the app is not on the new key"
    runs.append((ms, t_post, r, timing_lines()[mark:], polls))
    if i == 1:
        _, g = call("GET", "/api/v1/grants/" + grant_id)
        grant_after_first = g
        assert g["active"] is False and g["revokedAt"], g
        s, _ = call("GET", "/api/v1/environments/prod/env-file",
                    headers={"Authorization": "Bearer " + deployer_token})
        deployer_after_first = s
        assert s in (401, 403), s

def med(x): return statistics.median(x)
print(f"{'':46} {'median':>9} {'max':>9} {'min':>9}")
for name, xs in (
        (f"emergency, POST to COMPLETED ({n})", lat),
        (f"direct: sh restart.sh alone ({n})", base_sh),
        (f"direct: restart.sh + /health, 10 ms poll ({n})", base_tight),
        (f"direct: restart.sh + /health, 200 ms poll ({n})", base_engine)):
    print(f"{name:46} {med(xs):7.1f}ms {max(xs):7.1f}ms {min(xs):7.1f}ms")
with open(work + "/summary-values", "w") as f:   # for bench/lib.sh's summary row
    f.write(f"{med(lat):.0f} {med(base_engine):.0f}\n")
print(f"emergency minus direct (10 ms poll), medians: {med(lat) - med(base_tight):.1f} ms;"
      f" first emergency {lat[0]:.1f} ms (cold), median of the rest {med(lat[1:]) if n > 1 else lat[0]:.1f} ms")

# One run, the one nearest the median: the journal's step times, then the outside timeline.
ms, t_post, r, tl, polls = min(runs, key=lambda x: abs(x[0] - med(lat)))
print()
print(f"one run ({r['incident']}, {ms:.1f} ms, {polls} polls): journal steps[].at, delta from the previous step")
prev = t_post
print(f"  {'(POST sent, client clock)':24} {'':8} {0:8.0f} ms")
for st in r["steps"]:
    at = ts(st["at"])
    print(f"  {st['name']:24} {st['status']:8} {(at - prev) * 1000:8.0f} ms   {(st['detail'] or '')[:60]}")
    prev = at
print(f"  {'(COMPLETED seen)':24} {'':8} {(t_post + ms / 1000 - prev) * 1000:8.0f} ms")
print("same run, from restart.sh's and the app's own timestamps (timing.log), delta from the previous line")
events = [("POST sent", t_post)] + [(l.split()[0], float(l.split()[1])) for l in tl]
fin = ts(r["finishedAt"])
events += [("finish (journal)", fin), ("COMPLETED seen", t_post + ms / 1000)]
prev = t_post
for name, t in sorted(events, key=lambda e: e[1]):
    print(f"  {name:24} {(t - prev) * 1000:8.0f} ms   (+{(t - t_post) * 1000:.0f} ms)")
    prev = t
print(f"deployer grant {grant_id} after the first emergency: active={grant_after_first['active']} "
      f"revokedBy={grant_after_first['revokedBy']}; its env-file fetch: HTTP {deployer_after_first}")
PY

VERIFY=$(api "$URL/api/v1/audit/verify")
python3 -c 'import json, sys; v = json.loads(sys.argv[1]); assert v["valid"] is True, v' "$VERIFY"

echo
echo "emergency: -Xmx128m, nproc=$(nproc), loadavg before start $LOAD0, after $(cut -d" " -f1-3 /proc/loadavg)" \
    "(other load skews results)"
echo "app: python3 http.server, restart = /bin/sh restart.sh (kill, nohup start, return); engine polls health every 200 ms"
cat "$WORK/report.txt"
echo "deployer env-file fetch before the first emergency: HTTP $DEPLOYER_FETCH_BEFORE"
echo "verify: $VERIFY"
echo "service log ERROR/WARN lines: $(service_logs | grep -cE ' (ERROR|WARN) ' || true)," \
    "of which ALERT (one emergency.completed per emergency is expected): $(service_logs | grep -cE ' (ERROR|WARN) .* ALERT ' || true)"
echo "app starts refused: $(grep -c 'refusing' "$WORK/app.log" || true)"
read -r EM_MED EM_BASE <"$WORK/summary-values"
summary "emergency procedure, POST to COMPLETED (median)" "$EM_MED ms" "restart.sh + /health, 200 ms poll" \
    "$EM_BASE ms" "$(ratio "$EM_MED" "$EM_BASE")" "–" "–"
