#!/usr/bin/env bash
# crash.sh [iterations] — the crash drill: kill -9 at random moments during bursts of rotations, and
# prove after every restart that nothing acknowledged was lost and nothing was left half-done.
#
# What it proves (PRODUCT.md invariants 2 and 3, issue 10 "Crash"). The packaged jar runs on a
# temporary data directory with two drill environments (no `app` section, so rotations need no app;
# drill-a: two secrets at mode 0600, one exported as *_PREVIOUS; drill-b: one secret at mode 0640).
# Each iteration fires a burst in the background — per secret a client that requests rotations
# (now and then a rollback) back to back and polls each to its end, per environment a client that
# fetches the env file — then SIGKILLs the JVM after a random delay (seeded RNG), sometimes kills it
# again while it restarts (during crash recovery), and restarts it. Then, counting every violation:
#   - at the crash: each env file complete, parseable (bash `set -a; . file` and python-dotenv if
#     installed, which must agree), every name there, at its policy mode; PRAGMA integrity_check ok
#     on a copy of the database and WAL the crash left;
#   - after recovery: no rotation PENDING or RUNNING (resumed ones are waited for, with a deadline);
#     every rotation answered 202 exists and is finished; every rotation the client saw COMPLETED
#     is still COMPLETED; per secret exactly one CURRENT, no PENDING, at most one PREVIOUS, and the
#     CURRENT is the newest COMPLETED rotation's version, no older than the last acknowledged one;
#     the env file on disk is what the API serves (SHA-256 of disk = body = ETag; envFile keyed only by
#     an hmac fingerprint; X-Secret-Version = the CURRENT versions, no drift or conflict), parseable and
#     at its mode; no temporary file in the env-file directories or the data directory;
#     PRAGMA integrity_check ok on the live database; GET /audit/verify valid and tools/audit-verify
#     OK on a fresh export with a signed checkpoint. Every fetch during the burst that answered 200
#     was whole (SHA-256 of the body = its ETag). A 5xx during the burst is counted too.
# At the end, every rotation acknowledged COMPLETED in any iteration is checked once more.
# Values and tokens are never printed: files are compared by hash, values inside python.
#
# Run (after ./mvnw package -DskipTests; needs java 17+, curl, jq, python3, sqlite3):
#   drills/crash.sh 5       short (CI, about a minute)
#   drills/crash.sh 100     long (the result in docs/drills.md; ~15 min on 2 cores)
# Knobs: DRILL_SEED=<n> reproduces the delays of a run (printed at the start; the interleaving
#        inside the JVM is not reproducible), KILL_WINDOW_MS=2500 (kill within this after the burst's
#        first rotation is accepted), RESTART_KILL_EVERY=4 (kill during start-up in about one iteration in this many; 0: never),
#        APP=<dir with quarkus-run.jar>, DRILL_JVM_FLAGS, START_DEADLINE=600 (seconds), KEEP=1 (keep the
#        temporary directory; KEEP_ON_FAILURE=1: only if the drill fails),
#        DRILL_SELFTEST=1 (after the first kill, tear an env file and plant a temporary file: the run
#        must then report inconsistencies and exit 1 — proof that the checks can fail).
# Exit 0 with no inconsistency, 1 otherwise (or on a setup error), 2 on bad usage.
set -euo pipefail

usage() { echo "usage: drills/crash.sh [iterations]   (default 5; env: DRILL_SEED, KILL_WINDOW_MS, RESTART_KILL_EVERY, KEEP)"; }
case ${1:-} in -h|--help) usage; exit 0 ;; esac
ITERATIONS=${1:-5}
[[ $ITERATIONS =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
KILL_WINDOW_MS=${KILL_WINDOW_MS:-2500}
RESTART_KILL_EVERY=${RESTART_KILL_EVERY:-4}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ltc-drill-crash.XXXXXX")
chmod 700 "$WORK"
T0=$SECONDS
BAD=0

fail() { echo "crash drill: FAILED: $*" >&2; exit 1; }
# shellcheck source=drills/lib.sh
source "$REPO/drills/lib.sh"

install_cleanup crash

need_tools
DOTENV_PY=$(dotenv_python)
if [[ -z $DOTENV_PY ]]; then echo "crash drill: python-dotenv not installed: env files are checked with bash only"; fi

SEED=${DRILL_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) % 32768 ))}
[[ $SEED =~ ^[0-9]+$ ]] || fail "DRILL_SEED must be a number"
RANDOM=$SEED
echo "crash drill: $ITERATIONS iterations, seed $SEED (DRILL_SEED=$SEED drills/crash.sh $ITERATIONS reproduces the delays), work dir $WORK"

# ---- policies ------------------------------------------------------------------------------------

mkdir -p "$POLICIES/environments"
mkdir -m 700 "$ROOT"
cat >"$POLICIES/environments/drill-a.yaml" <<'EOF'
environment: drill-a
envFile:
  path: /etc/drill/drill-a.env
  mode: "0600"
variables:
  LTC_ENV: drill-a
  LTC_DB_PATH: /var/lib/drill/app.db
secrets:
  ALPHA_KEY:
    length: 64
    rotateEvery: P90D
    exportPreviousAs: ALPHA_KEY_PREVIOUS
  BETA_KEY:
    length: 48
    rotateEvery: P90D
EOF
cat >"$POLICIES/environments/drill-b.yaml" <<'EOF'
environment: drill-b
envFile:
  path: /etc/drill/drill-b.env
  mode: "0640"
variables:
  LTC_ENV: drill-b
secrets:
  GAMMA_KEY:
    length: 32
    rotateEvery: P90D
EOF
ENVS=(drill-a drill-b)
declare -A MODE=([drill-a]=600 [drill-b]=640)
declare -A SPEC=([drill-a]="ALPHA_KEY:64 BETA_KEY:48 LTC_ENV:0 LTC_DB_PATH:0" [drill-b]="GAMMA_KEY:32 LTC_ENV:0")
SECRETS=(drill-a/ALPHA_KEY drill-a/BETA_KEY drill-b/GAMMA_KEY)
env_file() { echo "$ROOT/etc/drill/$1.env"; }

# ---- counting ------------------------------------------------------------------------------------

# report ITER LINES: every non-empty line is one inconsistency.
report() {
    local iter=$1 line
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        BAD=$((BAD + 1))
        echo "  INCONSISTENT [iteration $iter] $line"
    done <<<"$2"
}

# ---- the burst -------------------------------------------------------------------------------------

# rotate_worker ITER ENV SECRET: rotations (one in six a rollback) back to back until the service dies.
rotate_worker() {
    local iter=$1 env=$2 secret=$3 body hdr code id status kind
    body=$WORK/w-$env-$secret.json
    hdr=(-H @"$WORK/auth.hdr" --max-time 20)
    while [[ ! -e $WORK/stop ]]; do
        kind=rotations
        ((RANDOM % 6 == 0)) && kind=rollback
        code=$(curl -s -o "$body" -w '%{http_code}' "${hdr[@]}" -H 'Content-Type: application/json' \
            -d '{"reason":"crash drill"}' "$URL/api/v1/environments/$env/secrets/$secret/$kind" 2>/dev/null) || code=000
        case $code in
            202)
                id=$(jq -r .id "$body")
                echo "$iter $env $secret $id $kind" >>"$WORK/accepted"
                while :; do
                    code=$(curl -s -o "$body" -w '%{http_code}' "${hdr[@]}" "$URL/api/v1/rotations/$id" 2>/dev/null) || return 0
                    [[ $code == 200 ]] || { [[ $code == 5* ]] && echo "GET /rotations/$id answered $code" >>"$WORK/burst-bad"; return 0; }
                    status=$(jq -r .status "$body")
                    [[ $status == PENDING || $status == RUNNING ]] || break
                    sleep 0.01
                done
                if [[ $status == COMPLETED ]]; then
                    echo "$iter $env $secret $id $kind" >>"$WORK/acked"
                else
                    echo "$iter $env $secret $id $kind $status" >>"$WORK/not-completed"
                fi
                ;;
            409) sleep 0.02 ;;   # a rollback without a PREVIOUS, or a rotation recovered at start still running
            000) return 0 ;;     # the service is gone
            5*) echo "POST …/$env/secrets/$secret/$kind answered $code: $(jq -r .code "$body" 2>/dev/null)" >>"$WORK/burst-bad" ;;
            *) echo "POST …/$env/secrets/$secret/$kind answered $code: $(jq -r .code "$body" 2>/dev/null)" >>"$WORK/burst-odd" ;;
        esac
    done
}

# fetch_worker ENV: fetches the env file; a 200 must be whole (SHA-256 of the body = its ETag).
fetch_worker() {
    local env=$1 body hdr code etag sum
    body=$WORK/f-$env.body
    hdr=$WORK/f-$env.hdr
    while [[ ! -e $WORK/stop ]]; do
        code=$(curl -s -D "$hdr" -o "$body" -w '%{http_code}' -H @"$WORK/auth.hdr" --max-time 20 \
            "$URL/api/v1/environments/$env/env-file" 2>/dev/null) || return 0
        if [[ $code == 200 ]]; then
            etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *"\([0-9a-f]*\)".*/\1/p' "$hdr")
            sum=$(sha256sum "$body" | cut -d' ' -f1)
            echo fetch >>"$WORK/fetched"
            [[ $sum == "$etag" ]] || echo "GET …/$env/env-file: body SHA-256 differs from its ETag" >>"$WORK/burst-bad"
        elif [[ $code == 5* ]]; then
            echo "GET …/$env/env-file answered $code" >>"$WORK/burst-bad"
        fi
        : >"$body"
        sleep 0.05
    done
}

# ---- checks ----------------------------------------------------------------------------------------

# The disk as the crash left it: env files complete and at mode, database intact.
check_crash_image() {
    local iter=$1 env out
    for env in "${ENVS[@]}"; do
        report "$iter" "$(check_env_file_syntax "$(env_file "$env")" "$env" "${MODE[$env]}" "${SPEC[$env]}" | sed 's/^/at the crash: /')"
    done
    out=$(db_integrity "$DATA/ltc-secrets.db")
    [[ $out == ok ]] || report "$iter" "at the crash: PRAGMA integrity_check: $out"
}

# After recovery, through the API (python, one keep-alive connection) and on disk.
check_recovered() {
    local iter=$1 env out problems
    out=$(python3 - "$URL" "$WORK" "$iter" "${SECRETS[@]}" 2>&1 <<'PY'
import hashlib, http.client, json, os, sys, time
from urllib.parse import urlparse
url, work, iteration, secrets = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
u = urlparse(url)
auth = open(os.path.join(work, "auth.hdr")).read().strip().split(": ", 1)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def get(path):
    conn.request("GET", path, headers={auth[0]: auth[1]})
    r = conn.getresponse()
    return r.status, r.getheaders(), r.read()
def get_json(path):
    s, _, b = get(path)
    if s != 200:
        raise SystemExit("GET %s answered %d" % (path, s))
    return json.loads(b)
problems = []
# 1. Nothing stuck: PENDING rotations are resumed at start; give them a deadline.
deadline = time.time() + 60
while True:
    unfinished = get_json("/api/v1/rotations?status=PENDING&limit=1000") + get_json("/api/v1/rotations?status=RUNNING&limit=1000")
    if not unfinished or time.time() > deadline:
        break
    time.sleep(0.2)
for r in unfinished:
    problems.append("rotation %s of %s/%s still %s 60 s after the restart" % (r["id"], r["environment"], r["secret"], r["status"]))
# 2. Every 202 of this iteration exists and is finished; every acknowledged COMPLETED is still COMPLETED.
def lines(name):
    p = os.path.join(work, name)
    return [l.split() for l in open(p)] if os.path.exists(p) else []
accepted = [l for l in lines("accepted") if l[0] == iteration]
acked = [l for l in lines("acked") if l[0] == iteration]
seen = {}
for _, env, secret, rid, kind in accepted:
    s, _, b = get("/api/v1/rotations/" + rid)
    if s != 200:
        problems.append("rotation %s (%s of %s/%s) was accepted with 202 but answers %d after the restart" % (rid, kind, env, secret, s))
        continue
    seen[rid] = json.loads(b)
    if seen[rid]["status"] in ("PENDING", "RUNNING"):
        problems.append("rotation %s accepted before the crash is %s" % (rid, seen[rid]["status"]))
for _, env, secret, rid, kind in acked:
    st = seen.get(rid, {}).get("status")
    if st != "COMPLETED":
        problems.append("rotation %s (%s of %s/%s) was acknowledged COMPLETED before the crash, now %s" % (rid, kind, env, secret, st))
# 3. Per secret: one CURRENT, no PENDING, at most one PREVIOUS; CURRENT = the newest COMPLETED rotation's version,
#    which is the last acknowledged one or a later one.
history = {}
for env in sorted({s.split("/")[0] for s in secrets}):
    history[env] = get_json("/api/v1/rotations?environment=%s&limit=1000" % env)
    detail = get_json("/api/v1/environments/" + env)
    current_of = {s["name"]: s["currentVersion"] for s in detail["secrets"]}
    ef = detail["envFile"]
    if ef.get("drift") is not None or ef.get("conflict"):
        problems.append("%s: envFile drift=%s conflict=%s" % (env, json.dumps(ef.get("drift")), ef.get("conflict")))
    expected_versions = []
    for s in sorted(x.split("/")[1] for x in secrets if x.startswith(env + "/")):
        versions = get_json("/api/v1/environments/%s/secrets/%s/versions" % (env, s))
        by_state = {}
        for v in versions:
            by_state.setdefault(v["state"], []).append(v["version"])
        if len(by_state.get("CURRENT", [])) != 1:
            problems.append("%s/%s: CURRENT versions %s" % (env, s, by_state.get("CURRENT", [])))
            continue
        if by_state.get("PENDING"):
            problems.append("%s/%s: PENDING versions %s after recovery" % (env, s, by_state["PENDING"]))
        if len(by_state.get("PREVIOUS", [])) > 1:
            problems.append("%s/%s: PREVIOUS versions %s" % (env, s, by_state["PREVIOUS"]))
        cur = by_state["CURRENT"][0]
        if current_of.get(s) != cur:
            problems.append("%s/%s: environment says version %s is CURRENT, versions say %s" % (env, s, current_of.get(s), cur))
        done = [r for r in history[env] if r["secret"] == s and r["status"] == "COMPLETED"]
        if not done or done[0]["toVersion"] != cur:
            problems.append("%s/%s: CURRENT is version %s, the newest COMPLETED rotation made %s" % (env, s, cur, done[0]["toVersion"] if done else None))
        mine = [l[3] for l in acked if l[1] == env and l[2] == s]
        if mine and done:
            order = [r["id"] for r in history[env] if r["secret"] == s]
            if mine[-1] in order and order.index(done[0]["id"]) > order.index(mine[-1]):
                problems.append("%s/%s: the newest COMPLETED rotation %s is older than %s, acknowledged before the crash" % (env, s, done[0]["id"], mine[-1]))
        expected_versions.append("%s:%d" % (s, cur))
    # 4. The file on disk is what the API serves.
    disk = open(os.path.join(work, "root", ef["path"].lstrip("/")), "rb").read()
    disk_sha = hashlib.sha256(disk).hexdigest()
    s, headers, body = get("/api/v1/environments/%s/env-file" % env)
    h = {k.lower(): v for k, v in headers}
    if s != 200:
        problems.append("%s: GET env-file answered %d" % (env, s))
        continue
    body_sha = hashlib.sha256(body).hexdigest()
    # envFile names the file only by a keyed fingerprint (no plain hash outside the reader's own fetch):
    # the file the service last wrote is the one on disk when there is no drift (checked above).
    if not (disk_sha == body_sha == h.get("etag", "").strip('"')):
        problems.append("%s: env file on disk, served body and ETag differ" % env)
    if ef.get("sha256") is not None or not str(ef.get("fingerprint", "")).startswith("hmac-sha256:"):
        problems.append("%s: envFile shows a plain hash or no keyed fingerprint" % env)
    if h.get("x-secret-version") != ",".join(expected_versions):
        problems.append("%s: X-Secret-Version %s, CURRENT versions %s" % (env, h.get("x-secret-version"), ",".join(expected_versions)))
    body = disk = None
print(json.dumps({"problems": problems, "accepted": len(accepted), "acked": len(acked)}))
PY
) || { report "$iter" "the API checks could not run: $out"; return; }
    if ! problems=$(jq -r '.problems[]' <<<"$out" 2>&1); then
        report "$iter" "the API checks answered something unreadable: ${out:0:300}"
        return
    fi
    report "$iter" "$problems"
    ITER_ACCEPTED=$(jq -r .accepted <<<"$out")
    ITER_ACKED=$(jq -r .acked <<<"$out")
    for env in "${ENVS[@]}"; do
        report "$iter" "$(check_env_file_syntax "$(env_file "$env")" "$env" "${MODE[$env]}" "${SPEC[$env]}")"
    done
    report "$iter" "$(temp_files "$ROOT/etc/drill" "$DATA" | sed 's/^/temporary file left: /')"
    out=$(sqlite3 -readonly "$DATA/ltc-secrets.db" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//')
    [[ $out == ok ]] || report "$iter" "live database: PRAGMA integrity_check: $out"
    report "$iter" "$(audit_check)"
    if [[ -s $WORK/burst-bad ]]; then report "$iter" "$(sed 's/^/during the burst: /' "$WORK/burst-bad")"; fi
    : >"$WORK/burst-bad"
}

# Every rotation acknowledged COMPLETED in any iteration, once more at the end.
final_sweep() {
    local out
    out=$(python3 - "$URL" "$WORK" <<'PY'
import http.client, json, os, sys
from urllib.parse import urlparse
url, work = sys.argv[1], sys.argv[2]
u = urlparse(url)
auth = open(os.path.join(work, "auth.hdr")).read().strip().split(": ", 1)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
p = os.path.join(work, "acked")
for l in (open(p) if os.path.exists(p) else []):
    it, env, secret, rid, kind = l.split()
    conn.request("GET", "/api/v1/rotations/" + rid, headers={auth[0]: auth[1]})
    r = conn.getresponse()
    b = r.read()
    st = json.loads(b)["status"] if r.status == 200 else "HTTP %d" % r.status
    if st != "COMPLETED":
        print("rotation %s (%s of %s/%s, acknowledged in iteration %s) is %s at the end" % (rid, kind, env, secret, it, st))
PY
)
    report end "$out"
}

# ---- the drill ---------------------------------------------------------------------------------------

start_service "$START_DEADLINE"
auth_header
for env in "${ENVS[@]}"; do
    grant_self "$env" secret:rotate
    grant_self "$env" env-file:read
done
: >"$WORK/burst-bad"
check_recovered 0
echo "crash drill: service up at $URL; baseline checks done (inconsistencies so far: $BAD)"

ACCEPTED=0 ACKED=0 RESTART_KILLS=0
for ((i = 1; i <= ITERATIONS; i++)); do
    # Draw every random number of the iteration first, so a seed gives the same sequence whatever happens.
    delay_ms=$((RANDOM % KILL_WINDOW_MS))
    restart_kill_ms=-1
    if ((RESTART_KILL_EVERY > 0 && RANDOM % RESTART_KILL_EVERY == 0)); then restart_kill_ms=$((RANDOM % 4000)); else : $((RANDOM)); fi
    rm -f "$WORK/stop"
    BACKGROUND=()
    for s in "${SECRETS[@]}"; do rotate_worker "$i" "${s%/*}" "${s#*/}" & BACKGROUND+=("$!"); done
    for env in "${ENVS[@]}"; do fetch_worker "$env" & BACKGROUND+=("$!"); done
    # The delay counts from the burst's first accepted rotation: on a loaded machine the clients
    # can take longer to start than the whole window, and a kill before any rotation proves little.
    for ((w = 0; w < 600; w++)); do grep -q "^$i " "$WORK/accepted" 2>/dev/null && break; sleep 0.05; done
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    kill9
    touch "$WORK/stop"
    wait "${BACKGROUND[@]}" 2>/dev/null || true
    BACKGROUND=()
    if [[ -n ${DRILL_SELFTEST:-} && $i == 1 ]]; then
        # Faults the checks must catch: a torn env file, and a temporary file nobody removes.
        head -c 40 "$(env_file drill-b)" >"$WORK/torn" && cat "$WORK/torn" >"$(env_file drill-b)" && rm -f "$WORK/torn"
        : >"$DATA/.ltc-secrets.db.tmp-selftest"
        echo "crash drill: SELFTEST: tore drill-b's env file and planted a temporary file; expect inconsistencies"
    fi
    check_crash_image "$i"
    what="killed ${delay_ms} ms into the burst"
    if ((restart_kill_ms >= 0)); then
        # Again while it starts: during recovery, or before it got that far.
        launch_service
        sleep "$(printf '%d.%03d' $((restart_kill_ms / 1000)) $((restart_kill_ms % 1000)))"
        kill9
        RESTART_KILLS=$((RESTART_KILLS + 1))
        check_crash_image "$i"
        what="$what, again ${restart_kill_ms} ms into the restart"
    fi
    start_service "$START_DEADLINE"
    ITER_ACCEPTED=0 ITER_ACKED=0
    check_recovered "$i"
    ACCEPTED=$((ACCEPTED + ITER_ACCEPTED))
    ACKED=$((ACKED + ITER_ACKED))
    echo "iteration $i/$ITERATIONS: $what; rotations accepted $ITER_ACCEPTED, acknowledged COMPLETED $ITER_ACKED; inconsistencies so far $BAD"
done
final_sweep
stop_service

FETCHES=$(grep -c . "$WORK/fetched" 2>/dev/null || true)
NOT_COMPLETED=$(grep -c . "$WORK/not-completed" 2>/dev/null || true)
ODD=$(sort "$WORK/burst-odd" 2>/dev/null | uniq -c | sed 's/^ */    /' || true)
[[ -z $ODD ]] || printf 'crash drill: other answers during bursts (not inconsistencies):\n%s\n' "$ODD"
echo "crash drill: iterations $ITERATIONS, rotations acknowledged COMPLETED $ACKED (accepted $ACCEPTED, ${NOT_COMPLETED:-0} ended otherwise), fetches $FETCHES, restarts killed again $RESTART_KILLS, inconsistencies $BAD, seed $SEED, $((SECONDS - T0)) s"
((BAD == 0))
