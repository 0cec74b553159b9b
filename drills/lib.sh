# shellcheck shell=bash
# lib.sh — shared by the drills (sourced, not run): start and kill the packaged jar on a temporary
# data directory, call the API with the bootstrap token, and the checks every drill repeats (env file
# on disk, temporary files, SQLite integrity, audit chain online and offline).
#
# The caller sets REPO and WORK (a 0700 directory it removes) before sourcing, and defines fail().
# Nothing here prints a secret value or a token: the token reaches curl through a header file in
# WORK (mode 0600), and env files are compared by SHA-256 or inside python, never echoed.

APP=${APP:-$REPO/target/quarkus-app}
JAR=$APP/quarkus-run.jar
# The unit's heap and collector (k8s-free-deploy/systemd/ltc-secrets.service); C1 only, because a
# drill restarts the JVM hundreds of times and C2 would spend most of each life compiling.
read -r -a JVM_FLAGS <<<"${DRILL_JVM_FLAGS:--Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
DATA=$WORK/data
ROOT=$WORK/root
POLICIES=$WORK/policies
PID=
URL=
STARTS=0
# HTTP_PORT: a fixed port instead of 0 (drills/soak.sh keeps one URL across restarts, and its load generator with it);
# SERVICE_PROPS: more -D options for the next start (drills/soak.sh: the master-key files of a key rotation).
HTTP_PORT=${HTTP_PORT:-0}
SERVICE_PROPS=()
# SERVICE_ENV: NAME=value pairs for the service's environment (unit_service_flags: the unit's malloc settings).
SERVICE_ENV=()
# Seconds a start may take before the drill gives up: 2-4 s on a quiet machine, but a start took
# over 120 s with other builds on the two cores, which is load, not a fault of the service.
START_DEADLINE=${START_DEADLINE:-600}

# BACKGROUND: the drill's own background loops; at exit they are told to stop (WORK/stop) and killed.
BACKGROUND=()

# install_cleanup NAME: at exit, however the drill ends (also on Ctrl-C or TERM): tell the loops to stop and kill
# them, stop the service (before waiting: a bare wait would also wait for the JVM), and remove WORK unless
# KEEP=1 (or KEEP_ON_FAILURE=1 and the drill failed).
install_cleanup() {
    DRILL_NAME=$1
    trap drill_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

drill_cleanup() {
    local rc=$? p
    touch "$WORK/stop"
    for p in "${BACKGROUND[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_service
    wait 2>/dev/null || true
    if [[ -n ${KEEP:-} || $rc -ne 0 && -n ${KEEP_ON_FAILURE:-} ]]; then
        echo "$DRILL_NAME drill: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

# unit_service_flags: JVM_FLAGS and SERVICE_ENV as k8s-free-deploy/systemd/ltc-secrets.service runs the service:
# its ExecStart's JVM flags and its MALLOC_* environment, read from the unit itself, so a drill that measures memory
# cannot drift from production (the soak once ran without the malloc arena cap and native-heap trimming and saw
# RSS creep the unit does not have). DRILL_JVM_FLAGS still replaces the flags.
unit_service_flags() {
    local unit=$REPO/k8s-free-deploy/systemd/ltc-secrets.service flags
    flags=$(sed -n '/^ExecStart=/,/-jar/p' "$unit" | tr -d '\\\n' | sed -e 's/^ExecStart=[^ ]* //' -e 's/ *-Dquarkus.profile.*//')
    read -r -a JVM_FLAGS <<<"${DRILL_JVM_FLAGS:-$flags}"
    read -r -a SERVICE_ENV <<<"$(sed -n 's/^Environment=\(MALLOC_[A-Z_]*=[^ ]*\)$/\1/p' "$unit" | tr '\n' ' ')"
    [[ " ${JVM_FLAGS[*]} " == *" -Xmx"* ]] || fail "could not read the JVM flags from $unit"
}

need_tools() {
    local t
    for t in java curl jq python3 sqlite3 sha256sum stat; do
        command -v "$t" >/dev/null || fail "$t not found (Debian: apt-get install curl jq python3 sqlite3 coreutils openjdk-17-jdk-headless)"
    done
    [[ -f $JAR ]] || fail "$JAR missing: run ./mvnw package -DskipTests (or verify) first"
}

# A python3 that has python-dotenv (Debian's /usr/bin/python3 first, as the env-file tests use), or none.
dotenv_python() {
    local p
    for p in /usr/bin/python3 python3; do
        if command -v "$p" >/dev/null && "$p" -c 'import dotenv' 2>/dev/null; then echo "$p"; return; fi
    done
}

# start_service: launch the jar on port 0 (the JVM binds a free port itself; no race with other
# processes on a shared machine; or on HTTP_PORT) and set PID and URL from Quarkus's "Listening on:" line.
launch_service() {
    STARTS=$((STARTS + 1))
    LOG=$WORK/service-$STARTS.log
    : >"$LOG"   # before the launch, so await_healthy never reads a log that is not there yet
    (
        cd "$WORK" || exit 1
        exec env "${SERVICE_ENV[@]}" java "${JVM_FLAGS[@]}" -Dquarkus.profile=dev -Dquarkus.http.port="$HTTP_PORT" \
            -Dltc-secrets.data-dir="$DATA" -Dltc-secrets.policies-dir="$POLICIES" \
            -Dltc-secrets.file-root="$ROOT" "${SERVICE_PROPS[@]}" -jar "$JAR"
    ) >"$LOG" 2>&1 &
    PID=$!
    URL=
}

# await_healthy [seconds]: the port from the log, then /health 200; fails on exit or deadline.
await_healthy() {
    local deadline=$((SECONDS + ${1:-90})) port
    while ((SECONDS < deadline)); do
        kill -0 "$PID" 2>/dev/null || fail "the service exited during start (log: $LOG)"$'\n'"$(tail -n 30 "$LOG")"
        if [[ -z $URL ]]; then
            port=$(sed -n 's/.*Listening on: http:\/\/127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$LOG" | head -n 1) || port=
            [[ -n $port ]] && URL=http://127.0.0.1:$port
        fi
        if [[ -n $URL ]] && curl -sf -o /dev/null --max-time 5 "$URL/health"; then return 0; fi
        sleep "${HEALTH_POLL:-0.1}"   # bench/startup.sh times the start, and polls every 10 ms
    done
    fail "the service was not healthy within ${1:-90} s (log: $LOG)"$'\n'"$(tail -n 30 "$LOG")"
}

start_service() { launch_service; await_healthy "${1:-90}"; }

# kill9: SIGKILL the JVM this drill started (by its pid, nothing else) and reap it.
kill9() {
    [[ -n $PID ]] || return 0
    kill -9 "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
}

# stop_service: TERM, as systemd stops it; KILL after 30 s.
stop_service() {
    local i
    [[ -n $PID ]] || return 0
    kill "$PID" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill9
}

# auth_header: the bootstrap token as a curl header file (mode 0600), so no command line shows it.
auth_header() {
    local token
    token=$(<"$DATA/bootstrap-admin.token")
    (umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$WORK/auth.hdr")
}

# api METHOD PATH [curl args…] → HTTP status on stdout ("000" if the service did not answer), body in $WORK/body.
api() {
    local method=$1 path=$2
    shift 2
    curl -sS -o "$WORK/body" -w '%{http_code}' --max-time 30 -X "$method" -H @"$WORK/auth.hdr" "$@" "$URL$path" \
        2>/dev/null || true
}

api_json() { api "$1" "$2" -H 'Content-Type: application/json' -d "$3"; }

grant_self() { # ENV PERMISSION
    local code
    code=$(api_json POST /api/v1/grants "{\"principal\":\"bootstrap-admin\",\"environment\":\"$1\",\"permission\":\"$2\",\"ttl\":\"P7D\",\"reason\":\"reliability drill\"}")
    [[ $code == 201 ]] || fail "grant $2 on $1: HTTP $code $(head -c 300 "$WORK/body")"
}

# temp_files DIR…: temporary files a write could leave (ours: .<name>.tmp-*; SQLite's rollback journal).
temp_files() {
    find "$@" \( -name '*.tmp-*' -o -name '*-journal' \) -print 2>/dev/null
}

# db_integrity DB: PRAGMA integrity_check on a copy of the database and its WAL (the copy, so that
# checking the state a crash left never changes it: opening the original would replay the WAL).
db_integrity() {
    local db=$1 copy=$WORK/integrity
    rm -rf "$copy"
    mkdir -m 700 "$copy"
    cp "$db" "$copy/db"
    [[ -f $db-wal ]] && cp "$db-wal" "$copy/db-wal"
    sqlite3 "$copy/db" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//'
    rm -rf "$copy"
}

# check_env_file_syntax FILE ENV MODE SECRETS_SPEC: prints nothing if the file is complete, parses
# the same under bash (set -a; . file) and python-dotenv (if installed), holds every expected name
# with secrets of the right length and alphabet, and has the policy's mode; else one line per
# problem (names and modes only, never a value). SPEC: "NAME:length …" for secrets, "NAME:0" for a
# name that must be there with any value.
check_env_file_syntax() {
    local file=$1 env=$2 mode=$3 spec=$4 py
    if [[ ! -f $file || -L $file ]]; then echo "$file is not a regular file"; return; fi
    [[ $(stat -c %a "$file") == "$mode" ]] || echo "$file has mode $(stat -c %a "$file"), policy says $mode"
    [[ $(stat -c %u "$file") == "$(id -u)" ]] || echo "$file is not owned by the service's user"
    py=${DOTENV_PY:-python3}
    "$py" - "$file" "$env" "$spec" <<'PY'
import hashlib, re, subprocess, sys
path, env, spec = sys.argv[1], sys.argv[2], sys.argv[3].split()
raw = open(path, "rb").read()
problems = []
text = raw.decode("utf-8", "replace")
if not text.endswith("\n"):
    problems.append("does not end with a newline (truncated?)")
lines = text.split("\n")[:-1]
if not lines or not lines[0].startswith("# ltc-secrets env file: environment=%s version=" % env) \
        or not lines[0].endswith(" - written by ltc-secrets; do not edit"):
    problems.append("first line is not the ltc-secrets header")
names = []
for i, line in enumerate(lines[1:], 2):
    m = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line)
    if not m:
        problems.append("line %d is not NAME=value" % i)
    else:
        names.append(m.group(1))
if names != sorted(names):
    problems.append("names are not sorted")
# bash: each name's value, NUL-separated, from a clean environment; compared here, never printed.
script = 'set -a; . "$1" || exit 3; shift; for n in "$@"; do printf "%s\\0" "${!n-<unset>}"; done'
r = subprocess.run(["bash", "-c", script, "bash", path] + names, env={"PATH": "/usr/bin:/bin"},
                   capture_output=True)
bash_values = r.stdout.split(b"\0")[:-1] if r.returncode == 0 else None
if bash_values is None or len(bash_values) != len(names):
    problems.append("bash could not source it (exit %d)" % r.returncode)
file_values = {m.group(1): m.group(2) for m in (re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", l) for l in lines[1:]) if m}
try:
    import dotenv
    dv = dotenv.dotenv_values(path)
    if sorted(dv) != sorted(names):
        problems.append("python-dotenv reads other names")
    elif bash_values is not None and any(dv[n] != bash_values[i].decode() for i, n in enumerate(names)):
        problems.append("python-dotenv and bash read different values for " + ",".join(
            n for i, n in enumerate(names) if dv[n] != bash_values[i].decode()))
except ImportError:
    pass
for item in spec:
    name, length = item.split(":")
    v = file_values.get(name)
    if v is None:
        problems.append("no %s line" % name)
    elif length == "0":
        pass
    elif len(v) != int(length) or not re.fullmatch(r"[A-Za-z0-9_-]+", v):
        problems.append("%s is not %s base64url characters" % (name, length))
for p in problems:
    print("%s: %s" % (path, p))
PY
}

# audit_check LABEL: GET /audit/verify must be valid, and tools/audit-verify must accept an export
# taken after a fresh checkpoint (which the export covers). Prints nothing when both agree it is valid.
audit_check() {
    local code out
    code=$(api GET /api/v1/audit/verify)
    if [[ $code != 200 ]] || [[ $(jq -r .valid "$WORK/body") != true ]]; then
        echo "GET /audit/verify: HTTP $code $(jq -c '{valid, events, firstInvalidSeq, reason}' "$WORK/body" 2>/dev/null)"
    fi
    code=$(api GET /api/v1/audit/checkpoint)
    [[ $code == 200 ]] || { echo "GET /audit/checkpoint: HTTP $code"; return; }
    cp "$WORK/body" "$WORK/checkpoint.json"
    code=$(api GET '/api/v1/audit/export?format=jsonl')
    [[ $code == 200 ]] || { echo "GET /audit/export: HTTP $code"; return; }
    mv "$WORK/body" "$WORK/audit.jsonl"
    if ! out=$(python3 "$REPO/tools/audit-verify" --checkpoint "$WORK/checkpoint.json" "$WORK/audit.jsonl" 2>&1); then
        echo "tools/audit-verify: $out"
    fi
}
