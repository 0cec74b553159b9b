#!/usr/bin/env bash
# drills/faults.sh — fault injection drill (issue 10): the packaged service under four faults.
#
# What it proves, for each fault, against the real jar with a real SQLite file and a real env file:
#   - requests during the fault fail cleanly: a 2xx that really happened, or the contract's problem
#     response (application/problem+json, 503 unavailable / 500 env-file-unwritable / the rotation's
#     own FAILED or ROLLED_BACK), within MAX_TIME — never a hang, a stack trace or a secret in a body;
#   - nothing is half-applied: the env file is at every moment a whole file (the previous one or the
#     new one), at its policy mode; exactly one CURRENT version, no PENDING left, no rotation stuck
#     PENDING or RUNNING; every request refused with 503 left no trace (its principal does not exist);
#   - no unaudited change: every finished rotation has its rotation.complete / .fail / .rollback event,
#     every principal and grant its create event, and the audit chain verifies;
#   - the service recovers by itself when the fault clears, without a restart: /health UP, the rotation
#     that the fault interrupted finishes, and the next rotation is COMPLETED;
#   - the service log never holds a secret value or token, and no stack trace of an expected fault.
#
# The faults:
#   1. disk-full      the data directory is a small tmpfs; a filler file takes every free byte, then goes;
#   2. read-only      the data directory turns read-only under the running service, then writable again.
#                     A tmpfs cannot be remounted read-only while SQLite holds its files open for writing
#                     (EBUSY), so this injects what a filesystem remounted read-only after an error
#                     (ext4 errors=remount-ro) gives the process: EROFS from every write, fsync, truncate
#                     and open-for-write under the data directory, through an LD_PRELOAD shim compiled
#                     here (gcc) and switched by a control file;
#   3. env-dir-ro     the env file's directory (its own tmpfs) is remounted read-only during a rotation;
#   4. app-flapping   the app's health endpoint (a python3 stub) answers 503, then alternates 503/200,
#                     then 200: the rotation rolls back while it is unhealthy and completes once healthy.
# Scenarios 1 and 2 also run a rotation that the fault hits between writing the env file and recording
# the promotion (the app's restart command waits RESTART_DELAY seconds to leave room for it).
#
# Run:   ./mvnw -o -q package -DskipTests && drills/faults.sh     (as root: it mounts tmpfs; java 17,
#        curl, jq, python3, gcc, openssl, sqlite3)
# Knobs: APP=<repo>/target/quarkus-app  ROUNDS=1 (each round runs all four scenarios; the long run uses
#        more)  SCENARIOS="disk-full read-only env-dir-ro app-flapping"  MAX_TIME=75 (seconds a request
#        may take before it counts as a hang)  KEEP=1 (keep the work directory and its log)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
APP=${APP:-$REPO/target/quarkus-app}
ROUNDS=${ROUNDS:-1}
SCENARIOS=${SCENARIOS:-disk-full read-only env-dir-ro app-flapping}
MAX_TIME=${MAX_TIME:-75}
RESTART_DELAY=3
ENV=prod
SECRET=LTC_SECRET_KEY

[[ $(id -u) -eq 0 ]] || { echo "faults.sh: run as root (it mounts tmpfs filesystems)" >&2; exit 2; }
for tool in java curl jq python3 gcc openssl sqlite3 mount; do
    command -v "$tool" >/dev/null || { echo "faults.sh: needs $tool" >&2; exit 2; }
done
[[ -f $APP/quarkus-run.jar ]] || { echo "faults.sh: $APP/quarkus-run.jar missing: ./mvnw -o -q package -DskipTests" >&2; exit 2; }

WORK=$(mktemp -d /tmp/ltc-faults.XXXXXX)
DATA=$WORK/data
ENVDIR=$WORK/root/etc/lifetimecircle
ENVFILE=$ENVDIR/$ENV.env
LOG=$WORK/service.log
EROFS_ON=$WORK/erofs-on
PID=
STUB_PID=
WATCH_PID=
MOUNTS=()
# Secret values and tokens seen through the API: kept in this shell only, to look for in the log.
VALUES=()

cleanup() {
    local rc=$?
    rm -f "$EROFS_ON"
    for p in $WATCH_PID $PID $STUB_PID; do
        if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
    done
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" || true; done
    if [[ -n ${KEEP:-} || $rc -ne 0 || -e $WORK/failed ]]; then echo "kept $WORK (service log: $LOG)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { printf '[faults %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
    touch "$WORK/failed"   # fail may run in a subshell: the mark outlives it
    say "FAIL: $*" >&2
    [[ -f $LOG ]] && tail -40 "$LOG" >&2
    exit 1
}

# --- the EROFS shim: a read-only data directory as the running process sees it -----------------------
cat >"$WORK/faults-erofs.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* While $FAULT_CONTROL exists, writes under $FAULT_DIR fail with EROFS, as on a filesystem the kernel
   remounted read-only: open for writing, write, truncate, allocate, fsync, rename, unlink, mkdir. */
static char dir[PATH_MAX];
static size_t dirlen;
static const char *control;
static unsigned char marked[65536];

__attribute__((constructor)) static void init(void) {
    const char *d = getenv("FAULT_DIR");
    control = getenv("FAULT_CONTROL");
    if (d && realpath(d, dir)) dirlen = strlen(dir);
}
static int active(void) { return dirlen && control && access(control, F_OK) == 0; }
static int under_at(int dirfd, const char *p) {
    char buf[PATH_MAX], link[64];
    if (!dirlen || !p) return 0;
    if (p[0] != '/') {
        ssize_t n;
        if (dirfd == AT_FDCWD) { if (!getcwd(buf, sizeof buf)) return 0; n = (ssize_t)strlen(buf); }
        else { snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd); n = readlink(link, buf, sizeof buf - 1); if (n < 0) return 0; }
        snprintf(buf + n, sizeof buf - (size_t)n, "/%s", p);
        p = buf;
    }
    return strncmp(p, dir, dirlen) == 0 && (p[dirlen] == '/' || p[dirlen] == 0);
}
static int is_marked(int fd) { return fd >= 0 && fd < 65536 && marked[fd]; }
static void mark(int fd, int on) { if (fd >= 0 && fd < 65536) marked[fd] = (unsigned char)on; }
#define REAL(name) static __typeof__(&name) real; if (!real) real = (__typeof__(&name))dlsym(RTLD_NEXT, #name)
#define REFUSE(ret) do { errno = EROFS; return ret; } while (0)

static int do_openat(int dirfd, const char *p, int flags, mode_t m, int (*real)(int, const char *, int, ...)) {
    int in = under_at(dirfd, p);
    if (in && (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) && active()) REFUSE(-1);
    int fd = real(dirfd, p, flags, m);
    mark(fd, in);
    return fd;
}
static mode_t mode_arg(int flags, va_list ap) { return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0; }
int openat(int d, const char *p, int f, ...) { REAL(openat); va_list ap; va_start(ap, f); mode_t m = mode_arg(f, ap); va_end(ap); return do_openat(d, p, f, m, real); }
int openat64(int d, const char *p, int f, ...) { REAL(openat64); va_list ap; va_start(ap, f); mode_t m = mode_arg(f, ap); va_end(ap); return do_openat(d, p, f, m, real); }
int open(const char *p, int f, ...) { REAL(openat); va_list ap; va_start(ap, f); mode_t m = mode_arg(f, ap); va_end(ap); return do_openat(AT_FDCWD, p, f, m, real); }
int open64(const char *p, int f, ...) { REAL(openat64); va_list ap; va_start(ap, f); mode_t m = mode_arg(f, ap); va_end(ap); return do_openat(AT_FDCWD, p, f, m, real); }
int close(int fd) { REAL(close); mark(fd, 0); return real(fd); }
ssize_t write(int fd, const void *b, size_t n) { REAL(write); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, b, n); }
ssize_t pwrite(int fd, const void *b, size_t n, off_t o) { REAL(pwrite); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, b, n, o); }
ssize_t pwrite64(int fd, const void *b, size_t n, off64_t o) { REAL(pwrite64); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, b, n, o); }
ssize_t writev(int fd, const struct iovec *v, int c) { REAL(writev); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, v, c); }
ssize_t pwritev(int fd, const struct iovec *v, int c, off_t o) { REAL(pwritev); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, v, c, o); }
int ftruncate(int fd, off_t l) { REAL(ftruncate); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, l); }
int ftruncate64(int fd, off64_t l) { REAL(ftruncate64); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, l); }
int fsync(int fd) { REAL(fsync); if (is_marked(fd) && active()) REFUSE(-1); return real(fd); }
int fdatasync(int fd) { REAL(fdatasync); if (is_marked(fd) && active()) REFUSE(-1); return real(fd); }
int fallocate(int fd, int m, off_t o, off_t l) { REAL(fallocate); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, m, o, l); }
int fallocate64(int fd, int m, off64_t o, off64_t l) { REAL(fallocate64); if (is_marked(fd) && active()) REFUSE(-1); return real(fd, m, o, l); }
int posix_fallocate(int fd, off_t o, off_t l) { REAL(posix_fallocate); if (is_marked(fd) && active()) return EROFS; return real(fd, o, l); }
int posix_fallocate64(int fd, off64_t o, off64_t l) { REAL(posix_fallocate64); if (is_marked(fd) && active()) return EROFS; return real(fd, o, l); }
int rename(const char *a, const char *b) { REAL(rename); if ((under_at(AT_FDCWD, a) || under_at(AT_FDCWD, b)) && active()) REFUSE(-1); return real(a, b); }
int renameat(int da, const char *a, int db, const char *b) { REAL(renameat); if ((under_at(da, a) || under_at(db, b)) && active()) REFUSE(-1); return real(da, a, db, b); }
int renameat2(int da, const char *a, int db, const char *b, unsigned f) { REAL(renameat2); if ((under_at(da, a) || under_at(db, b)) && active()) REFUSE(-1); return real(da, a, db, b, f); }
int unlink(const char *p) { REAL(unlink); if (under_at(AT_FDCWD, p) && active()) REFUSE(-1); return real(p); }
int unlinkat(int d, const char *p, int f) { REAL(unlinkat); if (under_at(d, p) && active()) REFUSE(-1); return real(d, p, f); }
int mkdir(const char *p, mode_t m) { REAL(mkdir); if (under_at(AT_FDCWD, p) && active()) REFUSE(-1); return real(p, m); }
int mkdirat(int d, const char *p, mode_t m) { REAL(mkdirat); if (under_at(d, p) && active()) REFUSE(-1); return real(d, p, m); }
C
gcc -shared -fPIC -O2 -Wall -Werror -o "$WORK/faults-erofs.so" "$WORK/faults-erofs.c" -ldl

# --- filesystems, policy, the app stub ----------------------------------------------------------------
mkdir -p "$DATA" "$ENVDIR" "$WORK/cred" "$WORK/policies/environments" "$WORK/app"
mount -t tmpfs -o size=16m,mode=0700 tmpfs "$DATA"
MOUNTS+=("$DATA")
mount -t tmpfs -o size=1m,mode=0750 tmpfs "$ENVDIR"
MOUNTS+=("$ENVDIR")
openssl rand -base64 32 >"$WORK/cred/master.key"
chmod 0400 "$WORK/cred/master.key"
VALUES+=("$(head -c 44 "$WORK/cred/master.key")")

cat >"$WORK/app/stub.py" <<'PY'
# The app: GET /health answers per the control file (up: 200, down: 503, flap: 503 and 200 in turn);
# POST /alert keeps the service's alerts, one JSON body a line.
import http.server, itertools, os, sys
control, portfile, alerts = sys.argv[1:4]
turn = itertools.count()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        mode = open(control).read().strip() if os.path.exists(control) else "up"
        if mode == "flap":
            self.reply(503 if next(turn) % 2 == 0 else 200)
        else:
            self.reply(200 if mode == "up" else 503)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(alerts, "ab") as f:
            f.write(body + b"\n")
        self.reply(204)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
PY
echo up >"$WORK/app/health"
echo 0 >"$WORK/app/restart-delay"
: >"$WORK/app/alerts.jsonl"
python3 "$WORK/app/stub.py" "$WORK/app/health" "$WORK/app/port" "$WORK/app/alerts.jsonl" &
STUB_PID=$!
for _ in $(seq 100); do [[ -s $WORK/app/port ]] && break; sleep 0.1; done
STUB_PORT=$(cat "$WORK/app/port")
cat >"$WORK/app/restart.sh" <<'SH'
#!/bin/sh
# The app's restart command: takes as long as restart-delay says (room to inject a fault mid-rotation).
sleep "$(cat "$(dirname "$0")/restart-delay")"
echo restarted
SH
chmod 0755 "$WORK/app/restart.sh"

# The shipped prod policy, its app section pointed at the stub, and without its approvals section: with it
# (two-person approval, docs/operations.md) POST /grants on prod answers 202 and the grant waits for a second
# person. This drill injects faults into rotations and writes with its grants in force, not into approvals.
sed -e '/^app:/,/^[a-z]/{/^app:/d;/^  /d}' -e '/^approvals:/,/^[a-z]/{/^approvals:/d;/^  /d}' \
    "$REPO/policies/environments/prod.yaml" >"$WORK/policies/environments/prod.yaml"
! grep -qE '^(app|approvals):' "$WORK/policies/environments/prod.yaml" || fail "could not strip app/approvals from the shipped prod.yaml"
cat >>"$WORK/policies/environments/prod.yaml" <<EOF
app:
  restartCommand: ["$WORK/app/restart.sh"]
  healthUrl: http://127.0.0.1:$STUB_PORT/health
  restartTimeout: PT20S
  healthTimeout: PT3S
EOF
MODE=$(sed -n 's/^  mode: "0\([0-7]*\)".*/\1/p' "$WORK/policies/environments/prod.yaml")

# --- the service: the prod profile with the unit's JVM flags, port 0 -----------------------------------
LD_PRELOAD=$WORK/faults-erofs.so FAULT_DIR=$DATA FAULT_CONTROL=$EROFS_ON \
    java -Xms32m -Xmx128m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Dquarkus.profile=prod \
    -Dquarkus.http.port=0 -Dltc-secrets.data-dir="$DATA" -Dltc-secrets.master-key-file="$WORK/cred/master.key" \
    -Dltc-secrets.policies-dir="$WORK/policies" -Dltc-secrets.file-root="$WORK/root" \
    -Dltc-secrets.scheduler.check-every=2s -Dltc-secrets.alerts.webhook-url="http://127.0.0.1:$STUB_PORT/alert" \
    -jar "$APP/quarkus-run.jar" >"$LOG" 2>&1 &
PID=$!
PORT=
for _ in $(seq 240); do
    kill -0 "$PID" 2>/dev/null || fail "the service exited at start"
    PORT=$(grep -oE 'Listening on: http://127\.0\.0\.1:[0-9]+' "$LOG" | head -1 | grep -oE '[0-9]+$' || true)
    [[ -n $PORT ]] && break
    sleep 0.5
done
[[ -n $PORT ]] || fail "the service did not start listening"
URL=http://127.0.0.1:$PORT
TOKEN=$(cat "$DATA/bootstrap-admin.token")
VALUES+=("$TOKEN")
AUTH="Authorization: Bearer $TOKEN"
say "service pid $PID on port $PORT, app stub on $STUB_PORT, work $WORK"

# --- HTTP -----------------------------------------------------------------------------------------------
# call METHOD PATH [BODY]: the status in $ST, the body in $WORK/resp.body, headers in $WORK/resp.hdr.
# An answer that takes longer than MAX_TIME is a hang, and a hang fails the drill.
call() {
    local args=(-s -o "$WORK/resp.body" -D "$WORK/resp.hdr" -w '%{http_code}' --max-time "$MAX_TIME" -X "$1" -H "$AUTH")
    [[ $# -gt 2 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    ST=$(curl "${args[@]}" "$URL$2") || fail "$1 $2: no answer within ${MAX_TIME}s (curl exit $?)"
    body_is_clean "$1 $2" "$2"
}
body() { cat "$WORK/resp.body"; }
# ok METHOD PATH [BODY]: must succeed (2xx); prints the body.
ok() {
    call "$@"
    [[ $ST == 2* ]] || fail "$1 $2: expected 2xx, got $ST $(body)"
    body
}
# A body never holds a stack trace, an exception class or a secret value we know of.
body_is_clean() {
    if grep -qE '[[:space:]]at [a-z]+\.[a-zA-Z.$]+\(|Caused by:' "$WORK/resp.body" ||
        { [[ $ST != 2* ]] && grep -qE 'Exception|\b(java|org|io)\.[a-z]+\.' "$WORK/resp.body"; }; then
        fail "$1: answer holds a stack trace or class name: $(head -c 400 "$WORK/resp.body")"
    fi
    local v
    for v in "${VALUES[@]}"; do
        [[ $2 == *env-file ]] && continue   # the env file is the one place a value belongs
        if grep -qF -- "$v" "$WORK/resp.body"; then fail "$1: answer contains a secret value or token"; fi
    done
}
# faulted LABEL ALLOWED...: the last answer was a success or a clean problem with one of the statuses.
faulted() {
    local label=$1
    shift
    if [[ $ST == 2* ]]; then echo "ok"; return; fi
    local s
    for s in "$@"; do
        if [[ $ST == "$s" ]]; then
            grep -qi '^content-type: application/problem+json' "$WORK/resp.hdr" || fail "$label: $ST is not problem+json"
            [[ $(jq -r '.status' "$WORK/resp.body") == "$ST" && $(jq -r '.code' "$WORK/resp.body") != null ]] ||
                fail "$label: problem body without status/code: $(body)"
            jq -r '"\(.status) \(.code)"' "$WORK/resp.body"
            return
        fi
    done
    fail "$label: got $ST (allowed: 2xx $*): $(body)"
}

grant() {
    ok POST /api/v1/grants "{\"principal\":\"$1\",\"environment\":\"$ENV\",\"permission\":\"$2\",\"ttl\":\"PT12H\",\"reason\":\"fault drill\"}" >/dev/null
}
rotate() { # prints the rotation id
    ok POST "/api/v1/environments/$ENV/secrets/$SECRET/rotations" "{\"reason\":\"fault drill: $1\"}" | jq -r .id
}
# await ROTATION_ID: waits (deadline) until it finished; prints its status.
await() {
    local status
    for _ in $(seq 600); do
        status=$(ok GET "/api/v1/rotations/$1" | jq -r .status)
        [[ $status == PENDING || $status == RUNNING ]] || { echo "$status"; return; }
        sleep 0.2
    done
    fail "rotation $1 still $status after 120 s"
}
# Remembers the env file's secret values (to look for them where they must not be).
learn_values() {
    ok GET "/api/v1/environments/$ENV/env-file" >"$WORK/fetched.env"
    local v
    while IFS= read -r v; do VALUES+=("$v"); done < <(sed -n 's/^[A-Z_]*SECRET[A-Z_]*=//p' "$WORK/fetched.env")
    rm -f "$WORK/fetched.env"
}
# After a data-directory fault: audited requests are served again within a deadline. The first one may
# still get a clean 503 (it ran on a connection SQLite opened read-only during the fault; the service
# then opens its connections afresh), none after that.
await_writes() {
    local refused=0
    for _ in $(seq 150); do
        call GET "/api/v1/environments/$ENV"
        [[ $ST == 200 ]] && { say "$1: audited requests served again ($refused clean 503 after the fault cleared)"; return; }
        faulted "$1: after the fault" 503 >/dev/null
        refused=$((refused + 1))
        sleep 0.2
    done
    fail "$1: audited requests still refused 30 s after the fault cleared"
}
await_health() {
    for _ in $(seq 300); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/health" || true) == 200 ]] && return
        sleep 0.2
    done
    fail "/health not back to 200 within 60 s after the fault cleared"
}

# --- invariants ----------------------------------------------------------------------------------------
# The env file on disk is whole: the header, then NAME=value lines; at the policy mode.
file_whole() {
    [[ -f $ENVFILE && ! -L $ENVFILE ]] || fail "$1: $ENVFILE is missing or not a regular file"
    [[ $(stat -c %a "$ENVFILE") == "$MODE" ]] || fail "$1: $ENVFILE has mode $(stat -c %a "$ENVFILE"), policy says $MODE"
    head -1 "$ENVFILE" | grep -q '^# ltc-secrets env file: environment=' || fail "$1: $ENVFILE has no header"
    [[ $(grep -vc '^[A-Z_][A-Z0-9_]*=' "$ENVFILE") == 1 ]] || fail "$1: $ENVFILE has lines that are not NAME=value"
    grep -q "^$SECRET=" "$ENVFILE" || fail "$1: $ENVFILE lacks $SECRET"
}
# Everything agrees once the service has settled: no rotation PENDING or RUNNING, one CURRENT and no
# PENDING version, the file is what the CURRENT version renders, every change has its event, the chain
# verifies, and the database passes its integrity check.
consistent() {
    local label=$1 unfinished current pending
    for _ in $(seq 300); do
        unfinished=$(ok GET "/api/v1/rotations?environment=$ENV&limit=1000" | jq '[.[] | select(.status == "PENDING" or .status == "RUNNING")] | length')
        [[ $unfinished == 0 ]] && break
        sleep 0.2
    done
    [[ $unfinished == 0 ]] || fail "$label: $unfinished rotation(s) stuck PENDING or RUNNING"
    ok GET "/api/v1/environments/$ENV/secrets/$SECRET/versions" >"$WORK/versions.json"
    current=$(jq '[.[] | select(.state == "CURRENT")] | length' "$WORK/versions.json")
    pending=$(jq '[.[] | select(.state == "PENDING")] | length' "$WORK/versions.json")
    [[ $current == 1 && $pending == 0 ]] || fail "$label: $current CURRENT and $pending PENDING versions"
    local version
    version=$(jq '.[] | select(.state == "CURRENT") | .version' "$WORK/versions.json")
    file_whole "$label"
    head -1 "$ENVFILE" | grep -q "version=$SECRET:$version " || fail "$label: $ENVFILE is not of CURRENT version $version: $(head -1 "$ENVFILE")"
    ok GET "/api/v1/environments/$ENV/env-file" >"$WORK/fetched.env"
    cmp -s "$WORK/fetched.env" "$ENVFILE" || { rm -f "$WORK/fetched.env"; fail "$label: $ENVFILE differs from what the CURRENT versions render"; }
    rm -f "$WORK/fetched.env"
    ok GET "/api/v1/environments/$ENV" | jq -e '.envFile.drift == null and .envFile.conflict == false' >/dev/null ||
        fail "$label: the environment reports drift or a conflict: $(body)"
    no_temp_files "$label"
    audited "$label"
    ok GET /api/v1/audit/verify | jq -e '.valid' >/dev/null || fail "$label: audit chain does not verify: $(body)"
    [[ $(sqlite3 "file:$DATA/ltc-secrets.db?mode=ro" 'PRAGMA integrity_check') == ok ]] || fail "$label: integrity_check"
    log_is_clean "$label"
    say "$label: consistent (CURRENT v$version, file whole at mode $MODE, every change audited, chain valid)"
}
no_temp_files() {
    local left
    left=$(find "$ENVDIR" -name '.*.tmp-*' | wc -l)
    [[ $left == 0 ]] || fail "$1: $left temporary file(s) left in $ENVDIR"
}
# Every finished rotation, principal and grant has the audit event of its outcome.
audited() {
    local after=0 page n
    : >"$WORK/events.jsonl"
    while :; do
        page=$(ok GET "/api/v1/audit/events?after=$after&limit=1000")
        n=$(jq length <<<"$page")
        ((n > 0)) || break
        jq -c '.[]' <<<"$page" >>"$WORK/events.jsonl"
        after=$(jq '.[-1].seq' <<<"$page")
        ((n == 1000)) || break   # each read is itself audited: the trail grows while it is read
    done
    ok GET "/api/v1/rotations?environment=$ENV&limit=1000" >"$WORK/rotations.json"
    local missing
    missing=$(jq -r --slurpfile ev <(jq -s . "$WORK/events.jsonl") '
        .[] | select(.kind != "INITIAL") |
        {id, status, action: ({"COMPLETED": "rotation.complete", "FAILED": "rotation.fail",
                               "ROLLED_BACK": "rotation.rollback"}[.status])} as $r |
        select([$ev[0][] | select(.action == $r.action and .details.rotationId == $r.id)] | length != 1) |
        "\($r.id) \($r.status)"' "$WORK/rotations.json")
    [[ -z $missing ]] || fail "$1: finished rotation(s) without exactly one event of their outcome: $missing"
    missing=$(ok GET /api/v1/principals | jq -r --slurpfile ev <(jq -s . "$WORK/events.jsonl") '
        .[] | select(.name != "bootstrap-admin") | .name as $n |
        select([$ev[0][] | select(.action == "principal.create" and .outcome == "SUCCESS" and .target == $n)] | length != 1) | $n')
    [[ -z $missing ]] || fail "$1: principal(s) without their principal.create event: $missing"
    local grants events
    grants=$(ok GET "/api/v1/grants?limit=1000" | jq length)
    events=$(jq -s '[.[] | select(.action == "grant.create" and .outcome == "SUCCESS")] | length' "$WORK/events.jsonl")
    [[ $grants == "$events" ]] || fail "$1: $grants grants but $events grant.create events"
}
# The log holds no secret value or token, and no stack trace.
log_is_clean() {
    local v
    for v in "${VALUES[@]}"; do
        if grep -qF -- "$v" "$LOG" "$WORK/app/alerts.jsonl"; then fail "$1: the service log or an alert contains a secret value or token"; fi
    done
    if grep -nE '^[[:space:]]+at [A-Za-z0-9_.$]+\(|^Caused by: ' "$LOG" >"$WORK/traces.txt"; then
        fail "$1: stack trace in the service log: $(head -5 "$WORK/traces.txt")"
    fi
}

# --- watching the env file: every version of it seen on disk must be whole --------------------------
watch_start() {
    : >"$WORK/seen.sha"
    (
        while [[ ! -e $WORK/watch-stop ]]; do
            if [[ -f $ENVFILE ]]; then
                sha=$(sha256sum <"$ENVFILE" | cut -c1-64)
                grep -q "$sha" "$WORK/seen.sha" || { echo "$sha" >>"$WORK/seen.sha"; cp "$ENVFILE" "$WORK/seen-$sha"; }
            else
                echo missing >>"$WORK/seen.sha"
            fi
            sleep 0.02
        done
    ) &
    WATCH_PID=$!
}
# watch_stop LABEL ALLOWED_SHA...: every file seen was whole and one of the allowed ones. "+one" allows one
# more file, whichever it is (a rolled-back rotation's file: the API names files only by a keyed fingerprint).
watch_stop() {
    local label=$1 sha
    shift
    touch "$WORK/watch-stop"
    wait "$WATCH_PID" || true
    WATCH_PID=
    rm -f "$WORK/watch-stop"
    local extra=
    while read -r sha; do
        [[ $sha != missing ]] || fail "$label: the env file was missing for a moment"
        local allowed=0 a
        for a in "$@"; do
            [[ $sha == "$a" ]] && allowed=1
            if [[ $a == +one && $allowed == 0 && ( -z $extra || $sha == "$extra" ) ]]; then
                extra=$sha allowed=1
            fi
        done
        ((allowed)) || fail "$label: a file that is neither the previous nor the final one was on disk ($sha)"
    done <"$WORK/seen.sha"
    rm -f "$WORK"/seen-*
}
sha() { sha256sum <"$ENVFILE" | cut -c1-64; }

# --- the battery of requests run while a data-directory fault is on -----------------------------------
# Each is a success that really happened (checked after recovery) or a clean 503; never a hang.
N=0
during_db_fault() {
    local label=$1 out
    N=$((N + 1))
    call POST /api/v1/principals "{\"name\":\"fault-$N\",\"role\":\"deployer\"}"
    out=$(faulted "$label: create principal" 503)
    [[ $out == ok ]] && CREATED+=("fault-$N") || REFUSED+=("fault-$N")
    say "$label: create principal fault-$N -> $out"
    call POST "/api/v1/environments/$ENV/secrets/$SECRET/rotations" '{"reason":"fault drill: during the fault"}'
    out=$(faulted "$label: rotate" 503)
    if [[ $out == ok ]]; then LATE+=("$(jq -r .id "$WORK/resp.body")"); fi
    say "$label: rotate -> $out"
    call GET "/api/v1/environments/$ENV/env-file"
    out=$(faulted "$label: fetch env file" 503)
    say "$label: fetch env file -> $out"
    call GET "/api/v1/environments/$ENV"
    out=$(faulted "$label: read environment" 503)
    say "$label: read environment -> $out"
    call POST /api/v1/grants "{\"principal\":\"bootstrap-admin\",\"environment\":\"$ENV\",\"permission\":\"env-file:write\",\"ttl\":\"PT1H\",\"reason\":\"fault drill\"}"
    out=$(faulted "$label: create grant" 503)
    say "$label: create grant -> $out"
    call GET /health
    say "$label: /health -> $ST"
    [[ $ST == 200 || $ST == 503 ]] || fail "$label: /health answered $ST"
    file_whole "$label (during)"
}
CREATED=()
REFUSED=()
LATE=()
# After the fault: acknowledged changes are there, refused ones left nothing, late rotations finished.
settle_db_fault() {
    local label=$1 p r
    for p in "${CREATED[@]}"; do ok GET "/api/v1/principals/$p" >/dev/null; done
    for p in "${REFUSED[@]}"; do
        call GET "/api/v1/principals/$p"
        [[ $ST == 404 ]] || fail "$label: principal $p was refused with 503 but exists"
    done
    for r in "${LATE[@]}"; do say "$label: rotation $r accepted during the fault -> $(await "$r")"; done
    CREATED=() REFUSED=() LATE=()
}

# --- scenarios -----------------------------------------------------------------------------------------
grant bootstrap-admin secret:rotate
grant bootstrap-admin env-file:read
grant bootstrap-admin env-file:write
learn_values
consistent "start"

# A rotation the fault hits after the new file is written, before its promotion is recorded.
# $1 label, $2 the command that turns the fault on.
mid_rotation() {
    local label=$1 inject=$2 before id status
    before=$(sha)
    echo "$RESTART_DELAY" >"$WORK/app/restart-delay"
    watch_start
    id=$(rotate "$label mid-rotation")
    # Wait for the new file (the restart step is running), then inject.
    for _ in $(seq 100); do [[ $(sha) != "$before" ]] && break; sleep 0.05; done
    [[ $(sha) != "$before" ]] || fail "$label: the rotation did not write its file"
    local during
    during=$(sha)
    $inject
    say "$label: fault on while rotation $id restarts the app"
    sleep $((RESTART_DELAY + 2))
    echo 0 >"$WORK/app/restart-delay"
    file_whole "$label mid-rotation, during"
    MID_ID=$id MID_SHAS="$before $during"
}
mid_rotation_settle() {
    local label=$1 status after
    status=$(await "$MID_ID")
    after=$(sha)
    # shellcheck disable=SC2086 # two hashes
    watch_stop "$label mid-rotation" $MID_SHAS "$after"
    say "$label: rotation $MID_ID that the fault hit -> $status"
    # The fault must really have hit it between the file and the promotion, or this proved nothing.
    grep -q "rotation $MID_ID: promote cannot be recorded" "$LOG" ||
        fail "$label: rotation $MID_ID was not interrupted by the fault (no refused promotion in the log)"
    case $status in
        COMPLETED | FAILED | ROLLED_BACK) ;;
        *) fail "$label: rotation $MID_ID ended $status" ;;
    esac
}

disk_full_on() { dd if=/dev/zero of="$DATA/filler" bs=64k status=none 2>/dev/null || true; }
disk_full_off() { rm -f "$DATA/filler"; }
scenario_disk_full() {
    local label="disk-full"
    mid_rotation "$label" disk_full_on
    say "$label: $(df -h --output=avail "$DATA" | tail -1 | tr -d ' ') free in the data directory"
    during_db_fault "$label"
    during_db_fault "$label"
    disk_full_off
    say "$label: fault cleared"
    await_health
    await_writes "$label"
    mid_rotation_settle "$label"
    settle_db_fault "$label"
    [[ $(await "$(rotate "$label recovered")") == COMPLETED ]] || fail "$label: the next rotation did not complete"
    learn_values
    consistent "$label"
}

erofs_on() { touch "$EROFS_ON"; }
erofs_off() { rm -f "$EROFS_ON"; }
scenario_read_only() {
    local label="read-only"
    mid_rotation "$label" erofs_on
    during_db_fault "$label"
    during_db_fault "$label"
    erofs_off
    say "$label: fault cleared"
    await_health
    await_writes "$label"
    mid_rotation_settle "$label"
    settle_db_fault "$label"
    [[ $(await "$(rotate "$label recovered")") == COMPLETED ]] || fail "$label: the next rotation did not complete"
    learn_values
    consistent "$label"
}

scenario_env_dir_ro() {
    local label="env-dir-ro" before status out
    before=$(sha)
    cp -p "$ENVFILE" "$WORK/before.env"
    mount -o remount,ro "$ENVDIR"
    say "$label: $ENVDIR read-only"
    status=$(await "$(rotate "$label")")
    [[ $status == FAILED || $status == ROLLED_BACK ]] || fail "$label: rotation into a read-only directory ended $status"
    say "$label: rotation -> $status ($(body | jq -r '[.steps[] | select(.status == "FAILED") | "\(.name): \(.detail)"] | join("; ")'))"
    call POST "/api/v1/environments/$ENV/env-file/write" '{}'
    out=$(faulted "$label: write env file" 500)
    say "$label: write env file -> $out"
    [[ $ST != 2* ]] || fail "$label: writing into a read-only directory answered $ST"
    [[ $(jq -r .code "$WORK/resp.body") == env-file-unwritable ]] || fail "$label: expected env-file-unwritable: $(body)"
    cmp -s "$WORK/before.env" "$ENVFILE" || fail "$label: the env file changed"
    [[ $(stat -c %a "$ENVFILE") == "$MODE" ]] || fail "$label: the env file's mode changed"
    consistent "$label (during)"
    mount -o remount,rw "$ENVDIR"
    say "$label: fault cleared"
    [[ $(sha) == "$before" ]] || fail "$label: the env file changed"
    [[ $(await "$(rotate "$label recovered")") == COMPLETED ]] || fail "$label: the next rotation did not complete"
    learn_values
    consistent "$label"
}

scenario_app_flapping() {
    local label="app-flapping" before status
    before=$(sha)
    echo down >"$WORK/app/health"
    watch_start
    status=$(await "$(rotate "$label down")")
    [[ $status == ROLLED_BACK ]] || fail "$label: rotation against an unhealthy app ended $status"
    watch_stop "$label down" "$before" +one
    [[ $(sha) == "$before" ]] || fail "$label: the previous env file is not back after the rollback"
    say "$label: app down -> ROLLED_BACK, previous file back"
    consistent "$label (down)"
    echo flap >"$WORK/app/health"
    status=$(await "$(rotate "$label flapping")")
    [[ $status == COMPLETED || $status == ROLLED_BACK ]] || fail "$label: rotation against a flapping app ended $status"
    say "$label: app flapping 503/200 -> $status"
    learn_values
    consistent "$label (flapping)"
    echo up >"$WORK/app/health"
    status=$(await "$(rotate "$label up")")
    [[ $status == COMPLETED ]] || fail "$label: rotation against a healthy app ended $status"
    say "$label: app healthy -> COMPLETED"
    learn_values
    consistent "$label"
}

T0=$SECONDS
for round in $(seq "$ROUNDS"); do
    for s in $SCENARIOS; do
        say "round $round: $s"
        case $s in
            disk-full) scenario_disk_full ;;
            read-only) scenario_read_only ;;
            env-dir-ro) scenario_env_dir_ro ;;
            app-flapping) scenario_app_flapping ;;
            *) fail "unknown scenario $s" ;;
        esac
    done
done
kill -0 "$PID" 2>/dev/null || fail "the service is no longer running"
say "PASS: $ROUNDS round(s) of: $SCENARIOS in $((SECONDS - T0)) s, without a restart (pid $PID);" \
    "$(grep -c . "$WORK/app/alerts.jsonl") alert(s), $(grep -cE ' ERROR ' "$LOG" || true) ERROR log line(s), none with a value or a stack trace"
