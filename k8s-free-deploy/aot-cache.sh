#!/usr/bin/env bash
# aot-cache.sh — makes the start-up cache the ltc-secrets unit starts with, for the JVM that will run it and the
# jar at the path it will be run from; the unit's launcher (ltc-secrets-java, its ExecStart) uses it.
#
# A cache holds the classes a start loads, already parsed, verified and (JDK 25) linked, with the method profiles
# of a training run, so the JVM maps them instead of loading them again: a start takes about a third of the time
# and the class metadata is shared, read-only memory. With the aot-jar packaging (application.properties) every
# class is on the JVM's own class path, so the cache holds our classes and our libraries', not only the JDK's.
#   - JDK 25 or newer (the newest one under /usr/lib/jvm, e.g. Temurin 25): a JDK AOT cache, -XX:AOTCache
#     (JEP 483, 514, 515), written by the training run itself (-XX:AOTCacheOutput).
#   - otherwise (/usr/bin/java, JDK 17 or 21): an AppCDS archive, -XX:SharedArchiveFile (-XX:ArchiveClassesAtExit).
# Either is valid only for the exact JDK build that made it, the same JVM flags (heap, GC) and the jar's path, size
# and time; otherwise the JVM prints a warning and starts without it (slower, nothing else changes). So it is made
# on the host, after the app is installed (install.sh runs this), and again after a JDK upgrade.
#
# The training run: the jar starts with the unit's JVM flags, in the prod profile but on throw-away paths (a
# temporary data dir, master key, file root and port; the installed policies without their app restart and
# approval sections, so a rotation restarts nothing and a grant needs no second person); once ready it is used as
# clients use it (grants, audited env-file fetches, a rotation, audit verify and export, metrics, a refused
# request), then stopped, and the JVM writes the cache. Nothing of the real installation is read or written.
# Takes 10–60 s.
#
# Writes into DIR: the cache (app.aot or app-cds.jsa), `java` (a link to the java it was made for) and `flags` (the
# JVM flags that use it, one a line), each replaced atomically; the launcher runs DIR/java with DIR/flags.
#
# Usage: aot-cache.sh JAR DIR POLICIES [JAVA]      (or: aot-cache.sh --java, which prints the java it would choose)
#   JAR       the installed quarkus-run.jar, as the unit names it (absolute path)
#   DIR       where the cache, java and flags go (the launcher's ../jvm: /opt/ltc-secrets/jvm)
#   POLICIES  a policies directory (environments/*.yaml) for the training run
#   JAVA      the java to make it for (default: the newest JDK 25+ under /usr/lib/jvm, else /usr/bin/java)
set -euo pipefail

# The unit's JVM flags (ExecStart= of systemd/ltc-secrets.service, after the launcher; keep the two in step): a
# cache is made and used with the same heap and collector, and the training run should look like the service.
UNIT_FLAGS=(-Xms32m -Xmx128m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -XX:TrimNativeHeapInterval=5000)
export MALLOC_ARENA_MAX=2   # the unit's Environment=

# feature JAVA: the java's feature version (17, 21, 25), from its -version line.
feature() { "$1" -version 2>&1 | sed -n '1s/^[^"]*"\([0-9]*\).*/\1/p'; }

# choose_java: the newest JDK 25+ under /usr/lib/jvm, else /usr/bin/java (else java on PATH).
choose_java() {
    local best=0 chosen='' candidate v
    for candidate in /usr/lib/jvm/*/bin/java; do
        [[ -x $candidate ]] || continue
        v=$(feature "$candidate")
        if [[ -n $v ]] && ((v >= 25 && v > best)); then best=$v; chosen=$candidate; fi
    done
    if [[ -z $chosen ]]; then
        if [[ -x /usr/bin/java ]]; then chosen=/usr/bin/java; else chosen=$(command -v java); fi
    fi
    echo "$chosen"
}

if [[ ${1:-} == --java ]]; then choose_java; exit 0; fi
usage="usage: aot-cache.sh JAR DIR POLICIES [JAVA]"
JAR=${1:?$usage}
DIR=${2:?$usage}
POLICIES=${3:?$usage}
JAVA=${4:-$(choose_java)}
[[ $JAR == /* && -f $JAR ]] || { echo "aot-cache.sh: $JAR: not an absolute path to the jar" >&2; exit 2; }
[[ $DIR == /* ]] || { echo "aot-cache.sh: $DIR: not an absolute path" >&2; exit 2; }
VERSION=$(feature "$JAVA")
[[ -n $VERSION ]] || { echo "aot-cache.sh: $JAVA: not a java" >&2; exit 2; }
if ((VERSION >= 25)); then
    CACHE=$DIR/app.aot
    # --enable-native-access: sqlite-jdbc loads its native library; without it JDK 24+ prints four WARNING lines
    # at every start. In both runs: the cache is used only with the module options it was made with.
    RECORD=(-XX:AOTCacheOutput="$CACHE.tmp-$$" --enable-native-access=ALL-UNNAMED)
    USE=(-XX:AOTCache="$CACHE" --enable-native-access=ALL-UNNAMED)
else
    CACHE=$DIR/app-cds.jsa
    RECORD=(-XX:ArchiveClassesAtExit="$CACHE.tmp-$$")
    USE=(-XX:SharedArchiveFile="$CACHE")
fi

WORK=$(mktemp -d /tmp/ltc-aot-cache.XXXXXX)
PID=
cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill -9 "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    rm -f "$CACHE.tmp-$$" "$CACHE.tmp-$$.config" "$DIR/flags.tmp-$$" "$DIR/java.tmp-$$"
}
trap cleanup EXIT
fail() {
    tail -20 "$WORK/training.log" >&2 2>/dev/null || true
    echo "aot-cache.sh: $*; no cache made (the service starts without one, slower)" >&2
    exit 1
}

mkdir -p "$DIR"
mkdir -m 700 "$WORK/root" "$WORK/policies"
mkdir "$WORK/policies/environments"
for policy in "$POLICIES"/environments/*.yaml; do
    [[ -f $policy ]] || continue
    # Without app: (a rotation would restart the host's real app) and approvals: (a grant would wait for a second
    # person); the rest of the policy as installed, so its classes and paths are the real ones.
    sed -e '/^app:/,/^[a-z]/{/^app:/d;/^  /d}' -e '/^approvals:/,/^[a-z]/{/^approvals:/d;/^  /d}' \
        "$policy" >"$WORK/policies/environments/${policy##*/}"
done
head -c 32 /dev/urandom | base64 >"$WORK/master.key"
chmod 0400 "$WORK/master.key"
# A free port: the training run's clients need to know it before the service logs it.
PORT=18399
while (: >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
URL=http://127.0.0.1:$PORT
# env -i: nothing from the caller's environment (an exported LTC_SECRETS_* webhook URL, say) reaches the
# throw-away instance.
(cd "$WORK" && exec env -i PATH="$PATH" MALLOC_ARENA_MAX="$MALLOC_ARENA_MAX" LTC_SECRETS_DATA_DIR="$WORK/data" LTC_SECRETS_POLICIES_DIR="$WORK/policies" \
    LTC_SECRETS_FILE_ROOT="$WORK/root" LTC_SECRETS_MASTER_KEY_FILE="$WORK/master.key" \
    LTC_SECRETS_SCHEDULER_CHECK_EVERY=24h QUARKUS_HTTP_PORT="$PORT" \
    "$JAVA" "${UNIT_FLAGS[@]}" "${RECORD[@]}" -Dquarkus.profile=prod -jar "$JAR") >"$WORK/training.log" 2>&1 &
PID=$!
for _ in $(seq 1200); do
    curl -sf -o /dev/null "$URL/health" && break
    kill -0 "$PID" 2>/dev/null || fail "the training run exited before it was ready"
    sleep 0.1
done
curl -sf -o /dev/null "$URL/health" || fail "the training run was not ready within 120 s"

# The workload. The token goes to curl in a header file (mode 0600 in WORK), never on a command line.
(umask 077 && printf 'Authorization: Bearer %s\n' "$(<"$WORK/data/bootstrap-admin.token")" >"$WORK/auth")
call() { # METHOD PATH [JSON]: the body on stdout; fails on an HTTP error
    curl -sf -X "$1" -H @"$WORK/auth" -H 'Content-Type: application/json' ${3:+-d "$3"} "$URL/api/v1/$2"
}
ENVS=()
for policy in "$WORK"/policies/environments/*.yaml; do
    [[ -f $policy ]] && ENVS+=("$(basename "$policy" .yaml)")
done
((${#ENVS[@]})) || fail "no policies in $POLICIES/environments"
for env in "${ENVS[@]}"; do
    for permission in env-file:read secret:rotate; do
        call POST grants "{\"principal\":\"bootstrap-admin\",\"environment\":\"$env\",\"permission\":\"$permission\",\"ttl\":\"PT1H\",\"reason\":\"start-up cache training\"}" >/dev/null \
            || fail "the training run refused a grant on $env"
    done
done
env=${ENVS[0]}
secret=$(call GET "environments/$env" | python3 -c 'import json, sys; print(json.load(sys.stdin)["secrets"][0]["name"])') || secret=
for _ in $(seq 200); do call GET "environments/$env/env-file" >/dev/null; done
if [[ -n $secret ]]; then
    id=$(call POST "environments/$env/secrets/$secret/rotations" '{"reason":"start-up cache training"}' \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') || id=
    for _ in $(seq 300); do
        [[ -n $id ]] || break
        call GET "rotations/$id" | grep -qE '"status":"(PENDING|RUNNING)"' || break
        sleep 0.1
    done
fi
for _ in $(seq 50); do call GET "environments/$env/env-file" >/dev/null; done
for path in environments grants principals "audit/verify" "audit/export?format=jsonl" "audit/export?format=csv"; do
    call GET "$path" >/dev/null || true
done
curl -s -o /dev/null "$URL/api/v1/environments" || true   # refused: no token
for path in /q/health /q/metrics /health; do curl -s -o /dev/null "$URL$path" || true; done

kill -TERM "$PID"
wait "$PID" || true   # 143 after SIGTERM; the cache is written on the way out
PID=
[[ -s $CACHE.tmp-$$ ]] || fail "the JVM wrote no cache"
chmod 0644 "$CACHE.tmp-$$"
printf '%s\n' "${USE[@]}" >"$DIR/flags.tmp-$$"
chmod 0644 "$DIR/flags.tmp-$$"
ln -s "$JAVA" "$DIR/java.tmp-$$"
# The cache first: a launcher that starts in between finds the old flags and a cache the JVM ignores, or the new.
mv -f "$CACHE.tmp-$$" "$CACHE"
mv -f "$DIR/flags.tmp-$$" "$DIR/flags"
mv -Tf "$DIR/java.tmp-$$" "$DIR/java"
# The other kind's leftovers (a JDK 25 installed since, or removed).
if ((VERSION >= 25)); then rm -f "$DIR/app-cds.jsa"; else rm -f "$DIR/app.aot"; fi
echo "aot-cache: $CACHE ($(($(stat -c %s "$CACHE") / 1048576)) MiB, $("$JAVA" -version 2>&1 | head -1))"
