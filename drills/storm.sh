#!/usr/bin/env bash
# storm.sh — the concurrency storm: 50 parallel rotations of one secret and 200 parallel env-file
# fetches against the packaged jar, then proof that the service serialised them correctly.
#
# What it proves (issue 10 "Concurrency storm"; PRODUCT.md invariants 2-4). 50 clients ask at the
# same moment to rotate the one secret of a drill environment (no `app` section); the API refuses
# all but one while a rotation is pending or running (409 problem+json, code "conflict": counted,
# and each refused client asks again until it is accepted, so 50 rotations go through). Meanwhile
# 200 clients fetch the env file, all at once and then each every 1-3 s until the last rotation
# ends. Afterwards, counting every violation:
#   - every rotation accepted, all 50 COMPLETED; exactly one CURRENT version (the newest), the
#     one before it PREVIOUS, the rest RETIRED, none PENDING; versions contiguous 1..51;
#   - every fetch answered 200 with a whole file: SHA-256 of the body = its ETag = the file hash
#     the rotation to the version in X-Secret-Version wrote (its write-env-file step), and that
#     version was CURRENT or just-previous while the fetch ran: it was promoted before the response
#     ended, and it is not older than the one before the version CURRENT when the request was sent
#     (rotations' finishedAt against the client's clock: the same host);
#   - every refusal was a 409 problem+json with code "conflict" (any other answer is an inconsistency);
#   - the env file on disk is the CURRENT version's file (hash), parseable by bash and python-dotenv,
#     at mode 0600, no temporary file beside it; PRAGMA integrity_check ok;
#   - the audit chain verifies (GET /audit/verify and tools/audit-verify on an export with a signed
#     checkpoint) and holds one envfile.read event per fetch served.
# Fetched bodies are hashed and deleted at once; no value or token is printed.
#
# Run (after ./mvnw package -DskipTests; needs java 17+, curl, jq, python3, sqlite3):
#   drills/storm.sh                  the storm as CI runs it (about a minute on 2 cores)
#   ROTATIONS=200 FETCHERS=400 drills/storm.sh    a longer one
# Knobs: ROTATIONS=50 FETCHERS=200 FETCH_ROUNDS=1000, APP=<dir with quarkus-run.jar>, DRILL_JVM_FLAGS,
#        START_DEADLINE=600 (seconds), KEEP=1 (keep the temporary directory; KEEP_ON_FAILURE=1: only if
#        the drill fails). A client that is not accepted within 1200 s gives up (an inconsistency).
# Exit 0 with no inconsistency, 1 otherwise (or on a setup error), 2 on bad usage.
set -euo pipefail

case ${1:-} in
    -h|--help) echo "usage: drills/storm.sh   (env: ROTATIONS=50 FETCHERS=200 FETCH_ROUNDS=1000 KEEP=1)"; exit 0 ;;
    "") ;;
    *) echo "usage: drills/storm.sh   (env: ROTATIONS=50 FETCHERS=200 FETCH_ROUNDS=1000 KEEP=1)" >&2; exit 2 ;;
esac
ROTATIONS=${ROTATIONS:-50}
FETCHERS=${FETCHERS:-200}
FETCH_ROUNDS=${FETCH_ROUNDS:-1000}
ENV=storm
SECRET=LTC_SECRET_KEY

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ltc-drill-storm.XXXXXX")
chmod 700 "$WORK"
T0=$SECONDS
BAD=0
fail() { echo "storm drill: FAILED: $*" >&2; exit 1; }
# shellcheck source=drills/lib.sh
source "$REPO/drills/lib.sh"

install_cleanup storm

report() {
    local line
    while IFS= read -r line; do
        [[ -n $line ]] || continue
        BAD=$((BAD + 1))
        echo "  INCONSISTENT $line"
    done <<<"$1"
}

need_tools
DOTENV_PY=$(dotenv_python)
[[ -n $DOTENV_PY ]] || echo "storm drill: python-dotenv not installed: the env file is checked with bash only"

mkdir -p "$POLICIES/environments"
mkdir -m 700 "$ROOT"
cat >"$POLICIES/environments/$ENV.yaml" <<EOF
environment: $ENV
envFile:
  path: /etc/drill/$ENV.env
  mode: "0600"
variables:
  LTC_ENV: $ENV
secrets:
  $SECRET:
    length: 64
    rotateEvery: P90D
EOF
ENV_FILE=$ROOT/etc/drill/$ENV.env

start_service "$START_DEADLINE"
auth_header
grant_self "$ENV" secret:rotate
grant_self "$ENV" env-file:read
code=$(api GET "/api/v1/environments/$ENV")
[[ $code == 200 ]] || fail "GET /api/v1/environments/$ENV: HTTP $code"
VERSION_BEFORE=$(jq -r '.secrets[0].currentVersion' "$WORK/body")
# The API names an env file only by a keyed fingerprint; the file's own SHA-256 comes from a fetch (ETag = body).
code=$(api GET "/api/v1/environments/$ENV/env-file")
[[ $code == 200 ]] || fail "GET /api/v1/environments/$ENV/env-file: HTTP $code"
jq -nc --argjson v "$VERSION_BEFORE" --arg sha "$(sha256sum <"$WORK/body" | cut -c1-64)" '{version: $v, sha256: $sha}' \
    >"$WORK/before.json"
echo "storm drill: service up at $URL; $ROTATIONS rotation clients, $FETCHERS fetch clients (work dir $WORK)"

# rotate_client N: asks until accepted (409 while another rotation is pending or running), then polls
# its rotation to the end. One line per answer in rot-N: "202 <id> <final status>" or "409 conflict".
rotate_client() {
    local n=$1
    local out=$WORK/rot-$n body=$WORK/body-rot-$n.json code id status deadline=$((SECONDS + 1200))
    while ((SECONDS < deadline)); do
        code=$(curl -s -o "$body" -w '%{http_code} %{content_type}' -H @"$WORK/auth.hdr" --max-time 30 \
            -H 'Content-Type: application/json' -d '{"reason":"storm drill"}' \
            "$URL/api/v1/environments/$ENV/secrets/$SECRET/rotations" 2>/dev/null) || code="000 -"
        case $code in
            202\ *)
                id=$(jq -r .id "$body")
                while :; do
                    status=$(curl -s -H @"$WORK/auth.hdr" --max-time 30 "$URL/api/v1/rotations/$id" | jq -r .status) || status=UNREADABLE
                    [[ $status == PENDING || $status == RUNNING ]] || break
                    sleep 0.05
                done
                echo "202 $id $status" >>"$out"
                return 0
                ;;
            409\ application/problem+json*)
                # (a bash match, not jq: 50 clients retrying must not cost a process more each time)
                if [[ $(<"$body") == *'"code":"conflict"'* ]]; then echo "409 conflict" >>"$out"; else echo "409 other-code" >>"$out"; fi
                sleep "0.$((RANDOM % 3 + 1))"   # 0.1-0.3 s: 50 clients must not turn into a busy loop
                ;;
            *)
                echo "other ${code%% *} $(jq -r .code "$body" 2>/dev/null || echo -)" >>"$out"
                sleep 0.2
                ;;
        esac
    done
    echo "gave-up" >>"$out"
}

# fetch_client N: all clients fetch at once, then each again every 1-3 s until the rotations are done
# (at most FETCH_ROUNDS times), so fetches overlap every promotion.
# One line per fetch in fetch-N: "<t0> <t1> <status> <X-Secret-Version> <ETag> <sha256 of body>".
# The body goes straight into sha256sum (never to disk); status and headers come from curl's -w on stderr.
# Few processes per fetch: with 200 clients on 2 cores, forks would otherwise starve the service.
fetch_client() {
    local n=$1
    local out=$WORK/fetch-$n meta=$WORK/meta-$n round t0 t1 code version etag sum
    for ((round = 0; round < FETCH_ROUNDS; round++)); do
        ((round > 0)) && [[ -e $WORK/stop ]] && break
        t0=$EPOCHREALTIME
        sum=$(curl -s -w '%{stderr}%{http_code} %header{x-secret-version} %header{etag}' -H @"$WORK/auth.hdr" \
            --max-time 60 "$URL/api/v1/environments/$ENV/env-file" 2>"$meta" | sha256sum) || true
        t1=$EPOCHREALTIME
        read -r code version etag <"$meta" || true
        etag=${etag//\"/}
        echo "$t0 $t1 ${code:-000} ${version:--} ${etag:--} ${sum%% *}" >>"$out"
        sleep "$((RANDOM % 3 + 1)).$((RANDOM % 10))"
    done
    rm -f "$meta"
}

STORM0=$SECONDS
fetchers=()
rotators=()
for ((n = 1; n <= FETCHERS; n++)); do fetch_client "$n" & fetchers+=("$!"); done
for ((n = 1; n <= ROTATIONS; n++)); do rotate_client "$n" & rotators+=("$!"); done
wait "${rotators[@]}"
touch "$WORK/stop"
((${#fetchers[@]} == 0)) || wait "${fetchers[@]}"
STORM_S=$((SECONDS - STORM0))
# One fetch more, after the last rotation: the file served for the final CURRENT version, compared with disk.
fetch_client 0

cat "$WORK"/rot-[0-9]* >"$WORK/rotations.txt"
cat "$WORK"/fetch-[0-9]* >"$WORK/fetches.txt"
ACCEPTED=$(grep -c '^202 ' "$WORK/rotations.txt" || true)
REFUSED=$(grep -c '^409 conflict$' "$WORK/rotations.txt" || true)
FETCHES=$(grep -c . "$WORK/fetches.txt" || true)
report "$(grep -v -e '^202 ' -e '^409 conflict$' "$WORK/rotations.txt" | sort | uniq -c | sed 's/^ *\([0-9]*\) \(.*\)/rotation request answered "\2" (×\1), not 202 or 409 conflict/' || true)"

code=$(api GET "/api/v1/rotations?environment=$ENV&limit=1000")
[[ $code == 200 ]] || fail "GET /api/v1/rotations: HTTP $code"
mv "$WORK/body" "$WORK/history.json"
code=$(api GET "/api/v1/environments/$ENV/secrets/$SECRET/versions")
[[ $code == 200 ]] || fail "GET versions: HTTP $code"
mv "$WORK/body" "$WORK/versions.json"
code=$(api GET "/api/v1/environments/$ENV")
[[ $code == 200 ]] || fail "GET /api/v1/environments/$ENV: HTTP $code"
mv "$WORK/body" "$WORK/environment.json"

ANALYSIS=$(python3 - "$WORK" "$SECRET" "$ROTATIONS" "$ENV_FILE" 2>&1 <<'PY'
import datetime, hashlib, json, os, sys
work, secret, rotations, env_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
load = lambda n: json.load(open(os.path.join(work, n)))
before, history, versions, environment = load("before.json"), load("history.json"), load("versions.json"), load("environment.json")
problems = []
def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
accepted = [l.split()[1:] for l in open(os.path.join(work, "rotations.txt")) if l.startswith("202 ")]
if len(accepted) != rotations:
    problems.append("%d of %d rotations were accepted" % (len(accepted), rotations))
for rid, status in accepted:
    if status != "COMPLETED":
        problems.append("rotation %s ended %s (no app: it must complete)" % (rid, status))
# The file each version was served from: the version before the storm from a fetch then; each later version
# from the first fetch that named it (every other fetch of that version must be the same file). Each rotation
# journals its write by keyed fingerprint only, which the drill cannot recompute.
file_of = {before["version"]: before["sha256"]}
promoted = {before["version"]: float("-inf")}
ids = {rid for rid, _ in accepted}
for r in history:
    if r["id"] not in ids or r["status"] != "COMPLETED":
        continue
    writes = [s for s in r["steps"] if s["name"] == "write-env-file" and (s["detail"] or "").startswith("fingerprint=hmac-sha256:")]
    if len(writes) != 1:
        problems.append("rotation %s has no single write-env-file step with a keyed fingerprint" % r["id"])
        continue
    if r["toVersion"] in promoted:
        problems.append("version %s made twice (rotation %s)" % (r["toVersion"], r["id"]))
    promoted[r["toVersion"]] = ts(r["finishedAt"])
missing = ids - {r["id"] for r in history}
if missing:
    problems.append("accepted rotations missing from the history: %s" % sorted(missing))
# Versions: contiguous, one CURRENT (the newest), one PREVIOUS (the one before), the rest RETIRED.
nums = sorted(v["version"] for v in versions)
top = before["version"] + rotations
if nums != list(range(1, top + 1)):
    problems.append("versions are not contiguous 1..%d: %d versions, from %s to %s" % (top, len(nums), nums[:1], nums[-1:]))
state = {v["version"]: v["state"] for v in versions}
for v, s in sorted(state.items()):
    want = "CURRENT" if v == top else "PREVIOUS" if v == top - 1 else "RETIRED"
    if s != want:
        problems.append("version %d is %s, expected %s" % (v, s, want))
if environment["secrets"][0]["currentVersion"] != top:
    problems.append("the environment says version %s is CURRENT, expected %d" % (environment["secrets"][0]["currentVersion"], top))
# The file on disk: the CURRENT version's.
disk_sha = hashlib.sha256(open(env_file, "rb").read()).hexdigest()
if environment["envFile"].get("sha256") is not None or environment["envFile"].get("drift") is not None:
    problems.append("envFile shows a plain hash or a drift: %s" % json.dumps(environment["envFile"]))
# Every fetch: 200, whole, and the CURRENT or just-previous version while it ran.
order = sorted((t, v) for v, t in promoted.items())
def current_at(t):
    c = before["version"]
    for when, v in order:
        if when <= t:
            c = max(c, v)
    return c
served, kinds, bad_fetch = 0, {}, {}
def flag(key, example):
    bad_fetch.setdefault(key, [0, example])[0] += 1
for line in open(os.path.join(work, "fetches.txt")):
    t0, t1, code, xv, etag, sha = line.split()
    t0, t1 = float(t0), float(t1)
    if code != "200":
        flag("HTTP %s" % code, "")
        continue
    served += 1
    if not xv.startswith(secret + ":"):
        flag("X-Secret-Version %s" % xv, "")
        continue
    v = int(xv.split(":")[1])
    kinds[v] = kinds.get(v, 0) + 1
    if sha != etag:
        flag("body SHA-256 differs from its ETag (a partial or mixed file)", "version %d" % v)
    elif sha != file_of.setdefault(v, sha):
        flag("body is not the file of the version it names (another fetch of it was another file)", "version %d" % v)
    # 2 ms: finishedAt is stored in milliseconds
    if promoted.get(v, float("inf")) > t1 + 0.002:
        flag("served a version before it was promoted", "version %d" % v)
    if v < current_at(t0 - 0.002) - 1:
        flag("served a version older than the just-previous one", "version %d while %d was CURRENT" % (v, current_at(t0)))
if disk_sha != file_of.get(top):
    problems.append("the env file on disk is not the file served for version %d" % top)
for k, (n, example) in sorted(bad_fetch.items()):
    problems.append("%d fetch(es): %s%s" % (n, k, (" (e.g. " + example + ")") if example else ""))
print(json.dumps({"problems": problems, "served": served, "versionsServed": len(kinds),
                  "maxPerVersion": max(kinds.values()) if kinds else 0}))
PY
) || fail "the analysis did not run: $ANALYSIS"
report "$(jq -r '.problems[]' <<<"$ANALYSIS")"
SERVED=$(jq -r .served <<<"$ANALYSIS")

report "$(check_env_file_syntax "$ENV_FILE" "$ENV" 600 "$SECRET:64 LTC_ENV:0")"
report "$(temp_files "$ROOT/etc/drill" "$DATA" | sed 's/^/temporary file left: /')"
out=$(sqlite3 -readonly "$DATA/ltc-secrets.db" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//')
[[ $out == ok ]] || report "PRAGMA integrity_check: $out"
report "$(audit_check)"
# One durable envfile.read event per fetch served (audit_check left the export in $WORK/audit.jsonl).
READS=$(jq -c "select(.action == \"envfile.read\" and .environment == \"$ENV\" and .outcome == \"SUCCESS\")" "$WORK/audit.jsonl" | grep -c . || true)
# (and one for the drill's own fetch before the storm).
[[ $READS == "$((SERVED + 1))" ]] || report "$READS envfile.read events in the audit trail for $SERVED fetches served (+1 before the storm)"
stop_service

echo "storm drill: rotations $ACCEPTED accepted and COMPLETED (409 conflict refusals $REFUSED), fetches $FETCHES ($SERVED served, $(jq -r .versionsServed <<<"$ANALYSIS") versions seen), storm $STORM_S s, inconsistencies $BAD, $((SECONDS - T0)) s in all"
((BAD == 0))
