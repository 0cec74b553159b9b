#!/usr/bin/env bash
# appcds.sh — creates the AppCDS archive the ltc-secrets unit starts with (-XX:SharedArchiveFile=),
# for the JVM that will run it and the jar at the path it will be run from.
#
# An archive holds the classes a start loads, already parsed and verified, so the JVM maps them
# instead of loading them again: start-up is faster and their metadata is shared, read-only memory.
# It is only valid for the exact JDK build that made it and for the jar path, size and time it was
# made with; otherwise the JVM prints a warning and starts without it (slower, nothing else
# changes). So it is made on the host, after the app is installed (install.sh runs this), and again
# after a JDK upgrade.
#
# How: a training run. The installed jar starts once with the unit's heap and GC, in the prod
# profile but on throw-away paths (a temporary data dir, master key, file root and port 0; the
# installed policies, so their classes load too), until it is ready; then it is stopped and the JVM
# writes every class it loaded into the archive. Nothing of the real installation is read or written.
# Takes 5–20 s.
#
# Usage: appcds.sh JAR ARCHIVE POLICIES [JAVA]
#   JAR       the installed quarkus-run.jar, as the unit names it (absolute path)
#   ARCHIVE   where to write the archive (replaced atomically)
#   POLICIES  a policies directory (environments/*.yaml) for the training run
#   JAVA      the java the unit runs (default: /usr/bin/java, else java on PATH)
set -euo pipefail

usage="usage: appcds.sh JAR ARCHIVE POLICIES [JAVA]"
JAR=${1:?$usage}
ARCHIVE=${2:?$usage}
POLICIES=${3:?$usage}
JAVA=${4:-}
if [[ -z $JAVA ]]; then
    if [[ -x /usr/bin/java ]]; then JAVA=/usr/bin/java; else JAVA=$(command -v java); fi
fi
[[ $JAR == /* && -f $JAR ]] || { echo "appcds.sh: $JAR: not an absolute path to the jar" >&2; exit 2; }

WORK=$(mktemp -d /tmp/ltc-appcds.XXXXXX)
PID=
cleanup() {
    if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill -9 "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    rm -f "$ARCHIVE.tmp-$$"
}
trap cleanup EXIT
fail() {
    tail -20 "$WORK/training.log" >&2 2>/dev/null || true
    echo "appcds.sh: $*; no archive made (the service starts without one, slower)" >&2
    exit 1
}

mkdir -m 700 "$WORK/root"
head -c 32 /dev/urandom | base64 >"$WORK/master.key"
chmod 0400 "$WORK/master.key"
# The unit's heap and GC: an archive is made and used with the same collector.
# env -i: nothing from the caller's environment (an exported LTC_SECRETS_* webhook URL, say) reaches
# the throw-away instance.
(cd "$WORK" && exec env -i PATH="$PATH" LTC_SECRETS_DATA_DIR="$WORK/data" LTC_SECRETS_POLICIES_DIR="$POLICIES" \
    LTC_SECRETS_FILE_ROOT="$WORK/root" LTC_SECRETS_MASTER_KEY_FILE="$WORK/master.key" \
    LTC_SECRETS_SCHEDULER_CHECK_EVERY=24h QUARKUS_HTTP_PORT=0 \
    "$JAVA" -Xms32m -Xmx128m -XX:+UseSerialGC -XX:ArchiveClassesAtExit="$ARCHIVE.tmp-$$" \
    -Dquarkus.profile=prod -jar "$JAR") >"$WORK/training.log" 2>&1 &
PID=$!
for _ in $(seq 600); do
    grep -q "Listening on:" "$WORK/training.log" && break
    kill -0 "$PID" 2>/dev/null || fail "the training run exited before it was ready"
    sleep 0.1
done
grep -q "Listening on:" "$WORK/training.log" || fail "the training run was not ready within 60 s"
kill -TERM "$PID"
wait "$PID" || true   # 143 after SIGTERM; the archive is written on the way out
PID=
[[ -s $ARCHIVE.tmp-$$ ]] || fail "the JVM wrote no archive"
chmod 0644 "$ARCHIVE.tmp-$$"
mv -f "$ARCHIVE.tmp-$$" "$ARCHIVE"
echo "appcds: $ARCHIVE ($(($(stat -c %s "$ARCHIVE") / 1048576)) MiB, $("$JAVA" -version 2>&1 | head -1))"
