#!/usr/bin/env bash
# run.sh — the web console's end-to-end tests: the packaged jar on a temporary data directory and a free
# port, with short test policies (prod: one secret OVERDUE after 2 s, one OK, and two-person approval of
# grants, as the shipped prod policy has it, and of rotations; staging: one OK, no approvals, and a
# secret:rotate grant on staging for the bootstrap admin) and a second person (principal second-person,
# role security-engineer, for the two-person flow), driven in Debian's headless chromium by
# playwright-core, with axe-core for accessibility. Writes docs/console-overview.png, docs/console-approvals.png and docs/console-audit.png.
# Stops the jar at the end, whatever happens.
#
# Run (after ./mvnw package -DskipTests; needs java 17+, curl, jq, node 18+, npm, /usr/bin/chromium):
#   console-tests/run.sh
# Knobs: APP=<dir with quarkus-run.jar>, CHROMIUM=/usr/bin/chromium, KEEP=1 (keep the temporary directory),
#        START_DEADLINE=600 (seconds), SCREENSHOT_DIR=docs (where the three PNGs go).
# Never downloads a browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ltc-console-tests.XXXXXX")
chmod 700 "$WORK"
T0=$SECONDS
fail() { echo "console tests: FAILED: $*" >&2; exit 1; }
# shellcheck source=SCRIPTDIR/../drills/lib.sh
source "$REPO/drills/lib.sh"

cleanup() {
    local rc=$?
    stop_service
    if [[ -n ${KEEP:-} ]]; then echo "console tests: kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_tools
command -v node >/dev/null || fail "node not found (Debian: apt-get install nodejs npm)"
[[ -x $CHROMIUM ]] || fail "$CHROMIUM not found (Debian: apt-get install chromium)"
if [[ ! -d $HERE/node_modules/playwright-core || ! -d $HERE/node_modules/axe-core ]]; then
    (cd "$HERE" && npm ci --no-audit --no-fund) || fail "npm ci in console-tests failed"
fi

mkdir -p "$POLICIES/environments"
mkdir -m 700 "$ROOT"
cat >"$POLICIES/environments/prod.yaml" <<'YAML'
environment: prod
envFile:
  path: /etc/console-test/prod.env
  mode: "0600"
variables:
  LTC_ENV: prod
approvals:
  grants: true
  rotations: true
  expireAfter: PT1H
secrets:
  LTC_SECRET_KEY:
    length: 64
    rotateEvery: P90D
    warnBefore: P14D
  LTC_STALE_KEY:
    length: 48
    rotateEvery: PT2S
    warnBefore: PT1S
YAML
cat >"$POLICIES/environments/staging.yaml" <<'YAML'
environment: staging
envFile:
  path: /etc/console-test/staging.env
  mode: "0600"
variables:
  LTC_ENV: staging
secrets:
  LTC_SECRET_KEY:
    length: 64
    rotateEvery: P90D
    warnBefore: P14D
YAML

start_service "${START_DEADLINE:-600}"
auth_header
grant_self staging secret:rotate   # staging has no approvals: 201 at once
# The second person of the two-person flow: a security engineer (may approve grants and review emergencies).
# Its token goes to a file of mode 0600 in the 0700 work directory, as the bootstrap token does.
code=$(api_json POST /api/v1/principals '{"name":"second-person","role":"security-engineer"}')
[[ $code == 201 ]] || fail "create second-person: HTTP $code $(head -c 300 "$WORK/body")"
code=$(api_json POST /api/v1/principals/second-person/tokens '{}')
[[ $code == 201 ]] || fail "token for second-person: HTTP $code"
(umask 077 && jq -j .token "$WORK/body" >"$WORK/second-person.token")
: >"$WORK/body"
# LTC_STALE_KEY is due 2 s after version 1: wait until the API says OVERDUE, so the test sees it so.
deadline=$((SECONDS + 60))
until [[ $(api GET /api/v1/environments/prod) == 200 ]] \
        && [[ $(jq -r '.secrets[] | select(.name == "LTC_STALE_KEY") | .status' "$WORK/body") == OVERDUE ]]; do
    ((SECONDS < deadline)) || fail "LTC_STALE_KEY did not become OVERDUE within 60 s"
    sleep 0.2
done
echo "console tests: service up at $URL (work dir $WORK)"

# The tokens reach the test through files (mode 0600: the service's own, and the one written above), never a command line.
(
    cd "$HERE"
    CONSOLE_URL=$URL TOKEN_FILE=$DATA/bootstrap-admin.token SECOND_TOKEN_FILE=$WORK/second-person.token \
        CHROMIUM=$CHROMIUM SCREENSHOT_DIR=${SCREENSHOT_DIR:-$REPO/docs} \
        node --test --test-reporter=spec console.test.mjs
)
echo "console tests: passed in $((SECONDS - T0)) s"
