#!/usr/bin/env bash
# restore.sh — restores an ltc-secrets backup made by backup.sh into an installed host (or root
# prefix), and verifies it before and after it is put in place.
#
# Order of work, so that a bad backup never replaces a good database:
#   1. refuse while the service appears to run (systemd says active, or a process has the database
#      open), unless --force;
#   2. the backup: SHA256SUMS.hmac must verify under the master key installed here (HMAC-SHA256 under
#      HMAC-SHA256(master key, "ltc-secrets backup manifest v1"); backup.sh made it), so SHA256SUMS is
#      authentic; SHA256SUMS must match every file it lists, list the database and manifest, and no
#      file may be unlisted (a checksum alone is only self-consistent: anyone who can write the backup
#      could add a token row and recompute it);
#   3. a copy is staged in the data directory, and the master key installed on this host
#      (PREFIX/etc/ltc-secrets/master.key, put back from its offline copy BEFORE restoring) must be
#      the one its ciphertexts need: its id (mk-…, a one-way hash; the key is read only to hash it,
#      never printed or copied) must match;
#   4. the staged copy is checked: PRAGMA integrity_check = ok, and the audit
#      chain recomputed offline: the audit_event table is exported in the exact format of
#      GET /api/v1/audit/export?format=jsonl (with the latest signed checkpoint in the format of
#      GET /api/v1/audit/checkpoint) and tools/audit-verify checks every hash, the seq order and the
#      Ed25519 checkpoint signature (with openssl); after an audit archive the chain starts at the
#      signed anchor (audit-verify --after); signatures are checked against the audit signing key
#      pinned at go-live (--public-key; --no-pinned-key only says loudly that it was not), and the
#      chain must end at the manifest's (authenticated) head (audit-verify --expect-head);
#   4b. the live database, if there is one, is compared with the backup BEFORE it is moved aside: when
#      its audit head is newer, the security events after the backup (emergencies, revocations,
#      disables, rotations) are listed and the restore is refused unless --accept-rollback, because
#      the restore would bring back revoked keys, tokens and grants and disabled principals;
#   5. the current database (with its -wal/-shm and bootstrap token) moves aside to
#      <data-dir>/pre-restore-<time>-XXXX/, the staged copy is renamed into place as ltc-secrets.db,
#      owner ltc-secrets, mode 0600, with no stale -wal/-shm beside it;
#   6. the file in place is checked again (integrity_check, checksum);
#   7. unless the live database was at the backup's head (nothing to lose), the env-file hold is left:
#      <data-dir>/env-file-hold. The service then writes no env file and refuses rotations (409) until
#      an admin has repeated what the backup lacks and releases it:
#      POST /api/v1/admin/env-file-hold/release {"reason": …} (runbooks/restore-from-backup.md).
# Any failed check exits non-zero. Then start the service: without a hold it re-renders the env files
# from the restored CURRENT versions (restart the app if they changed); with the hold it writes none
# until an admin releases it. GET /api/v1/audit/verify should say valid. Tokens are those of the backup (only their hashes are stored); if no admin token is at hand:
# touch <data-dir>/bootstrap-admin.request before the start (README, "Lost every admin token?").
# The policies are not restored unless --with-policies: git is their source, install.sh puts them in
# place; a difference between the backup's and the installed ones is reported.
#
# A backup of a PostgreSQL store (ltc-secrets.pgdump; manifest "store": "postgresql") is restored into the
# PostgreSQL store the service is configured for (the unit's LTC_SECRETS_STORE_URL/_USERNAME/_PASSWORD_FILE, or
# --store-url/--store-user/--store-password-file), which must be an EMPTY database: create a new one (or rename
# the old one aside) first; nothing is moved aside or dropped by this script. Steps 1 and 2 are the same; then:
# the master key must be one the authenticated manifest names; the target must be empty; archives are verified;
# the env-file hold is always left (the old database is not compared: nobody can tell here what happened after
# the backup); `pg_restore --single-transaction --exit-on-error --no-owner --no-privileges` loads it, all or
# nothing; then the restored database itself is checked: its facts (schema version, audit head and checkpoint,
# master key ids, CURRENT versions) must equal the manifest's, and its audit chain, exported as the service
# exports it, must pass tools/audit-verify up to the manifest's head. A failed check says so and leaves the
# database for inspection: do not start the service on it; drop it and restore again.
#
# Run as root. Needs: sqlite3 (or for PostgreSQL: pg_restore and psql), python3, openssl, coreutils, diffutils.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: restore.sh [--root PREFIX] [--force] [--with-policies] (--public-key PEM | --no-pinned-key)
                  [--accept-rollback] [--store-url URL] [--store-user ROLE] [--store-password-file FILE]
                  BACKUP_DIR

Restore an ltc-secrets backup (from backup.sh) and verify it: the manifest MAC (master key),
checksums, master key id, PRAGMA integrity_check, and the audit hash chain recomputed offline with
tools/audit-verify. Refuses to roll back a newer live database unless --accept-rollback.

  --root PREFIX     installation root (default /), prepared with install.sh --root PREFIX
  --force           restore even though the service appears to be running
  --with-policies   also put the backup's policies in PREFIX/etc/ltc-secrets/policies
  --public-key PEM  the audit signing key pinned at go-live (tools/audit-verify --public-key); required
  --no-pinned-key   restore without it: checkpoint and anchor signatures are then checked only against
                    the key inside the backup itself, which proves nothing about who signed
  --accept-rollback the live database is newer than the backup: replace it anyway. Every emergency,
                    revocation, disable and rotation after the backup is undone and must be repeated;
                    env-file writes stay held until an admin releases them
  --store-url URL, --store-user ROLE, --store-password-file FILE
                    a PostgreSQL backup's target: an EMPTY database (defaults: LTC_SECRETS_STORE_URL,
                    _USERNAME, _PASSWORD_FILE, else the installed unit's; a credential %d/NAME is read
                    from its LoadCredential= source)
  -h, --help        this text

Exit status: 0 restored and verified, 1 a check failed, 2 usage.
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=/
FORCE=0
WITH_POLICIES=0
PUBKEY=
NO_PIN=0
ACCEPT_ROLLBACK=0
BACKUP=
PGOPTS=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --store-url) PGOPTS+=(--store-url "${2:?--store-url needs a URL}"); shift 2 ;;
        --store-user) PGOPTS+=(--username "${2:?--store-user needs a role}"); shift 2 ;;
        --store-password-file) PGOPTS+=(--password-file "${2:?--store-password-file needs a file}"); shift 2 ;;
        --root) PREFIX=${2:?--root needs a directory}; shift 2 ;;
        --force) FORCE=1; shift ;;
        --with-policies) WITH_POLICIES=1; shift ;;
        --public-key) PUBKEY=${2:?--public-key needs a PEM file}; shift 2 ;;
        --no-pinned-key) NO_PIN=1; shift ;;
        --accept-rollback) ACCEPT_ROLLBACK=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "restore.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
        *) [[ -z $BACKUP ]] || { echo "restore.sh: only one BACKUP_DIR" >&2; exit 2; }; BACKUP=$1; shift ;;
    esac
done
[[ -n $BACKUP ]] || { usage >&2; exit 2; }
if [[ -z $PUBKEY && $NO_PIN -eq 0 ]]; then
    echo "restore.sh: pass --public-key PEM (the audit signing key pinned at go-live), or --no-pinned-key to accept signatures checked only against the key inside the backup" >&2
    exit 2
fi
[[ -z $PUBKEY || $NO_PIN -eq 0 ]] || { echo "restore.sh: --public-key and --no-pinned-key exclude each other" >&2; exit 2; }

die() { echo "restore.sh: FAILED: $*" >&2; exit 1; }
step() { echo "restore: $*"; }
loud() { echo "restore: !!!!!!!! $*" >&2; }
if [[ $NO_PIN -eq 1 ]]; then
    loud "WARNING: --no-pinned-key: audit signatures are checked only against the public key inside the backup; a forged backup can carry its own key"
fi

[[ $EUID -eq 0 ]] || die "run as root (it sets the database's owner)"
[[ -d $PREFIX ]] || die "root prefix $PREFIX is not a directory"
PREFIX=$(cd "$PREFIX" && pwd -P)
R=${PREFIX%/}
[[ -d $BACKUP ]] || die "$BACKUP is not a directory"
BACKUP=$(cd "$BACKUP" && pwd -P)
DATA=$R/var/lib/ltc-secrets
DB=$DATA/ltc-secrets.db
KEY=$R/etc/ltc-secrets/master.key
DBTOOL=$HERE/ltc-secrets-db
# Which kind of backup (the authenticated manifest confirms it below): a dump is PostgreSQL's.
KIND=sqlite
DBFILE=ltc-secrets.db
tools=(sqlite3 python3 openssl sha256sum diff)
if [[ -f $BACKUP/ltc-secrets.pgdump && ! -e $BACKUP/ltc-secrets.db ]]; then
    KIND=postgresql
    DBFILE=ltc-secrets.pgdump
    tools=(pg_restore psql python3 openssl sha256sum diff)
fi
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install sqlite3 postgresql-client python3 openssl)"
done
# The offline verifier: next to the repo's scripts (tools/), or where install.sh puts it.
VERIFY=${LTC_AUDIT_VERIFY:-}
for c in "$HERE/../tools/audit-verify" "$R/opt/ltc-secrets/tools/audit-verify" /opt/ltc-secrets/tools/audit-verify; do
    if [[ -z $VERIFY && -f $c ]]; then VERIFY=$c; fi
done
[[ -n $VERIFY ]] || die "tools/audit-verify not found (install.sh installs it to /opt/ltc-secrets/tools)"
[[ -d $DATA ]] || die "no data directory $DATA: run install.sh${R:+ --root $PREFIX} first"
LTCS_UID=$(awk -F: '$1 == "ltc-secrets" { print $3; exit }' "$R/etc/passwd")
LTCS_GID=$(awk -F: '$1 == "ltc-secrets" { print $4; exit }' "$R/etc/passwd")
[[ -n $LTCS_UID && -n $LTCS_GID ]] || die "no ltc-secrets user in $R/etc/passwd: run install.sh first"

# ---- 1. the service must not be running ---------------------------------------------------

running=()
if [[ -z $R && -d /run/systemd/system ]] && command -v systemctl >/dev/null \
    && systemctl is-active --quiet ltc-secrets.service; then
    running+=("systemd reports ltc-secrets.service active")
fi
# Any root: a process with the database open, or a JVM whose working directory is the data
# directory (the unit's WorkingDirectory=; an idle service may have closed its pooled connections).
# Files are compared by device and inode, not by name: a container's /var/lib/ltc-secrets is
# another directory with the same name.
service_pids() {
    local data_id db_id='' f
    data_id=$(stat -L -c '%d:%i' "$DATA")
    [[ -e $DB ]] && db_id=$(stat -L -c '%d:%i' "$DB")
    if [[ -n $db_id ]]; then
        while IFS= read -r f; do
            if [[ $(stat -L -c '%d:%i' "$f" 2>/dev/null) == "$db_id" ]]; then f=${f#/proc/}; echo "${f%%/*}"; fi
        done < <(find /proc/[0-9]*/fd -maxdepth 1 -type l -lname '*/ltc-secrets.db' 2>/dev/null)
    fi
    for f in /proc/[0-9]*/exe; do
        [[ $(readlink "$f" 2>/dev/null) == */java ]] || continue
        f=${f%/exe}
        if [[ $(stat -L -c '%d:%i' "$f/cwd" 2>/dev/null) == "$data_id" ]]; then echo "${f#/proc/}"; fi
    done
}
holders=$(service_pids | sort -un | tr '\n' ' ')
[[ -z $holders ]] || running+=("process(es) ${holders% } use $DATA (database open or working directory)")
if [[ ${#running[@]} -gt 0 ]]; then
    if [[ $FORCE -eq 1 ]]; then
        echo "restore: WARNING: --force although ${running[*]}: restart the service right after; whatever it writes until then is lost" >&2
    else
        die "the service appears to be running (${running[*]}); stop it first (systemctl stop ltc-secrets) or pass --force"
    fi
fi
if [[ ${#running[@]} -eq 0 ]]; then step "service not running"; else step "continuing although the service runs (--force)"; fi

# ---- 2. the backup itself -----------------------------------------------------------------

for f in SHA256SUMS manifest.json "$DBFILE"; do
    [[ -f $BACKUP/$f ]] || die "$BACKUP/$f missing: not a backup made by backup.sh"
done
# The MAC first: it makes SHA256SUMS (and through it every file) authentic. It needs the master key,
# which the restore needs anyway; its id in the MAC file says which key a mismatch calls for.
[[ -f $BACKUP/SHA256SUMS.hmac ]] || die "$BACKUP/SHA256SUMS.hmac missing: the backup is not authenticated (made by an older backup.sh, or tampered with); refusing"
mac_line=$(sed -n 's/^hmac-sha256 \([0-9a-f]\{64\}\)$/\1/p' "$BACKUP/SHA256SUMS.hmac")
mac_key=$(sed -n 's/^key-id \(mk-[0-9a-f]\{16\}\)$/\1/p' "$BACKUP/SHA256SUMS.hmac")
[[ $(head -n 1 "$BACKUP/SHA256SUMS.hmac") == "ltc-secrets backup manifest v1" && -n $mac_line && -n $mac_key ]] \
    || die "SHA256SUMS.hmac is malformed; refusing"
[[ -f $KEY ]] || die "no master key at $KEY; the backup is authenticated under master key $mac_key: put its offline copy there first (root:root 0400)"
read -r have_key have_mac < <(python3 "$DBTOOL" manifest-mac "$KEY" "$BACKUP/SHA256SUMS") \
    || die "the master key at $KEY is malformed"
[[ $have_key == "$mac_key" ]] || die "the master key at $KEY is $have_key; the backup was authenticated under master key $mac_key (the key its ciphertexts need): put that key's offline copy there first"
python3 -c 'import hmac, sys; sys.exit(0 if hmac.compare_digest(sys.argv[1], sys.argv[2]) else 1)' "$have_mac" "$mac_line" \
    || die "SHA256SUMS.hmac does not verify under master key $have_key: the backup was changed after it was made; refusing"
step "SHA256SUMS authenticated (HMAC-SHA256 under a key derived from master key $have_key)"
for f in manifest.json "$DBFILE"; do
    grep -qE "^[0-9a-f]{64}  $f\$" "$BACKUP/SHA256SUMS" || die "SHA256SUMS does not list $f"
done
(cd "$BACKUP" && sha256sum --check --strict --quiet SHA256SUMS) || die "SHA256SUMS does not match the backup's files"
unlisted=$(cd "$BACKUP" || exit 1
    find . ! -type d ! -name SHA256SUMS ! -name SHA256SUMS.hmac -printf '%P\n' | LC_ALL=C sort \
        | comm -23 - <(sed -E 's/^[0-9a-f]{64}  //' SHA256SUMS | LC_ALL=C sort))
[[ -z $unlisted ]] || die "files not in the authenticated SHA256SUMS: $(tr '\n' ' ' <<<"$unlisted"); refusing"
step "SHA256SUMS verified ($(wc -l <"$BACKUP/SHA256SUMS") files)"

manifest() { python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else (",".join(map(str, v)) if isinstance(v, list) else v))' "$BACKUP/manifest.json" "$1"; }
step "backup of $(manifest sourceHost) taken $(manifest createdAt), schema $(manifest schemaVersion), audit head seq $(manifest audit.headSeq)"

# The store the service here is configured for must be the backup's: a restore does not change stores
# (ltc-secrets-db migrate-to-postgresql does, from SQLite).
PGOPTS+=(--service-root "$PREFIX")
TARGET_KIND=$(python3 "$DBTOOL" store-kind "${PGOPTS[@]}") || die "cannot tell which store the service uses"
want_store=
if [[ $KIND == postgresql ]]; then want_store=postgresql; fi
[[ $(manifest store) == "$want_store" ]] \
    || die "the manifest's store ($(manifest store)) is not what the backup's files say ($KIND)"
if [[ $TARGET_KIND != "$KIND" ]]; then
    if [[ $KIND == postgresql ]]; then
        die "this is a backup of a PostgreSQL store, and the service here is configured for $TARGET_KIND: configure ltc-secrets.store=postgresql (LTC_SECRETS_STORE_URL ...) in the unit, or pass --store-url"
    fi
    die "this is a backup of an SQLite store, and the service here uses PostgreSQL: restore it where the service uses SQLite, then move it with ltc-secrets-db migrate-to-postgresql"
fi

# Archived parts of the trail: each file with its detached signature and signed anchor.
verify_archives() {
    local a out vargs
    [[ -d $BACKUP/audit-archive ]] || return 0
    for a in "$BACKUP"/audit-archive/audit-*.jsonl; do
        [[ -f $a ]] || continue
        vargs=(--archive)
        if [[ -n $PUBKEY ]]; then vargs+=(--public-key "$PUBKEY"); fi
        out=$(python3 "$VERIFY" "${vargs[@]}" "$a" 2>/dev/null) || die "audit archive $(basename "$a"): ${out:-cannot verify}"
        step "$out"
    done
}

# The backup's audit archives replace the data directory's (those move aside into $ASIDE).
restore_archives() {
    [[ -d $BACKUP/audit-archive ]] || return 0
    if [[ -d $DATA/audit-archive ]]; then
        [[ -n $ASIDE ]] || ASIDE=$(mktemp -d "$DATA/pre-restore-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")
        mv "$DATA/audit-archive" "$ASIDE/"
    fi
    cp -R "$BACKUP/audit-archive" "$DATA/audit-archive"
    chown -R "$LTCS_UID:$LTCS_GID" "$DATA/audit-archive"
    step "audit archives restored"
}

# The policies are git's; put back only with --with-policies, a difference is reported either way.
restore_policies() {
    local pol=$R/etc/ltc-secrets/policies
    [[ -d $BACKUP/policies ]] || return 0
    if [[ -d $pol ]] && diff -r -q "$BACKUP/policies" "$pol" >/dev/null 2>&1; then
        step "installed policies equal the backup's"
    elif [[ $WITH_POLICIES -eq 1 ]]; then
        rm -rf "$pol.restore-new"
        cp -R --no-preserve=mode,ownership "$BACKUP/policies" "$pol.restore-new"
        chown -R 0:0 "$pol.restore-new"
        find "$pol.restore-new" -type d -exec chmod 0755 {} +
        find "$pol.restore-new" -type f -exec chmod 0644 {} +
        if [[ -d $pol ]]; then rm -rf "$pol.pre-restore"; mv "$pol" "$pol.pre-restore"; fi
        mv "$pol.restore-new" "$pol"
        step "policies restored to ${pol#"$R"} (previous ones in ${pol#"$R"}.pre-restore)"
    else
        echo "restore: WARNING: installed policies differ from the backup's (pass --with-policies to restore them):" >&2
        diff -r -q "$BACKUP/policies" "$pol" >&2 || true
    fi
}

# Leaves <data-dir>/env-file-hold saying why (restore-from-backup.md: released only by an audited request).
write_hold() {
    local hold=$DATA/env-file-hold
    python3 -c 'import json, sys, datetime
print(json.dumps({"restoredAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "backupCreatedAt": sys.argv[1] or None, "backupHeadSeq": int(sys.argv[2]),
                  "liveHeadSeq": int(sys.argv[3]) if sys.argv[3] else None, "why": sys.argv[4]}))' \
        "$(manifest createdAt)" "$1" "$2" "$3" >"$hold.tmp"
    chown "$LTCS_UID:$LTCS_GID" "$hold.tmp"
    chmod 0600 "$hold.tmp"
    mv -f "$hold.tmp" "$hold"
    sync "$hold" "$DATA" 2>/dev/null || true
    loud "env-file writes are HELD (${hold#"$R"}): the service will not write env files or rotate until an admin, after repeating what the backup lacks, runs POST /api/v1/admin/env-file-hold/release {\"reason\": …}"
}

# ---- PostgreSQL: into an empty database, then checked in place -----------------------------------

if [[ $KIND == postgresql ]]; then
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    pg_restore --list "$BACKUP/ltc-secrets.pgdump" >/dev/null 2>"$WORK/list.err" \
        || die "pg_restore cannot read the dump: $(head -c 300 "$WORK/list.err")"
    step "pg_restore --list reads the dump"
    # The key ids come from the authenticated manifest: the dump cannot be read before it is restored.
    need=$(manifest masterKeyIds)
    if [[ -n $need ]]; then
        have=$(python3 "$DBTOOL" key-id "$KEY") || die "the master key at $KEY is malformed"
        [[ ,$need, == *",$have,"* ]] || die "the master key at $KEY is $have; the backup's ciphertexts need $need: put that key's offline copy there first"
        step "master key $have matches the backup"
    fi
    if ! empty=$(python3 "$DBTOOL" store-empty "${PGOPTS[@]}" 2>"$WORK/empty.err"); then
        die "${empty:-$(head -c 500 "$WORK/empty.err")}: restore into a NEW, EMPTY database (CREATE DATABASE ... OWNER <the service's role>), with the old one renamed aside, and point the service at it"
    fi
    step "target database is empty"
    verify_archives
    loud "restoring into a new database: the old one is not compared, so ANY EMERGENCY ROTATION, TOKEN OR GRANT REVOCATION OR PRINCIPAL DISABLE AFTER $(manifest createdAt) (the backup's time) IS UNDONE AND MUST BE REPEATED. Check the alerts, tickets and audit exports since then."
    write_hold "$(manifest audit.headSeq)" "" no-live-store
    ASIDE=
    if [[ -e $DATA/bootstrap-admin.token ]]; then
        # It belongs to the database being replaced.
        ASIDE=$(mktemp -d "$DATA/pre-restore-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")
        mv "$DATA/bootstrap-admin.token" "$ASIDE/"
    fi
    restore_archives
    [[ -z $ASIDE ]] || step "previous bootstrap token and archives moved aside to ${ASIDE#"$R"}"
    python3 "$DBTOOL" restore-postgresql "$BACKUP/ltc-secrets.pgdump" "${PGOPTS[@]}" || die "pg_restore failed (nothing was restored)"
    step "pg_restore done (one transaction)"

    # ---- the restored database itself: facts equal to the manifest's, audit chain verified ----------------
    BAD="the restored database does NOT verify; do not start the service on it (drop it and restore again):"
    python3 "$DBTOOL" facts "${PGOPTS[@]}" >"$WORK/facts.json" 2>"$WORK/facts.err" \
        || die "$BAD cannot read it: $(head -c 300 "$WORK/facts.err")"
    python3 -c 'import json, sys
f, m = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
diff = [k for k in ("schemaVersion", "audit", "masterKeyIds", "secrets") if f.get(k) != m.get(k)]
print(" ".join(diff))
sys.exit(1 if diff else 0)' "$WORK/facts.json" "$BACKUP/manifest.json" >"$WORK/diff" \
        || die "$BAD it differs from the manifest in: $(cat "$WORK/diff")"
    step "restored facts equal the manifest's (schema $(manifest schemaVersion), audit head seq $(manifest audit.headSeq), checkpoint, master key ids, CURRENT versions)"
    python3 "$DBTOOL" export-audit "$WORK/audit.jsonl" --checkpoint "$WORK/checkpoint.json" --anchor "$WORK/anchor.json" \
        "${PGOPTS[@]}" 2>/dev/null || die "$BAD cannot export its audit trail"
    vargs=(--format jsonl)
    if [[ -f $WORK/anchor.json ]]; then vargs+=(--after "$WORK/anchor.json"); fi
    if [[ -f $WORK/checkpoint.json ]]; then vargs+=(--checkpoint "$WORK/checkpoint.json"); fi
    if [[ ( -f $WORK/checkpoint.json || -f $WORK/anchor.json ) && -n $PUBKEY ]]; then vargs+=(--public-key "$PUBKEY"); fi
    if [[ -n $(manifest audit.headSeq) && $(manifest audit.events) != 0 ]]; then
        vargs+=(--expect-head "$(manifest audit.headSeq):$(manifest audit.headHash)")
    fi
    if ! out=$(python3 "$VERIFY" "${vargs[@]}" "$WORK/audit.jsonl" 2>"$WORK/verify.err"); then
        die "$BAD audit chain: ${out:-$(head -c 500 "$WORK/verify.err")}"
    fi
    step "audit chain of the restored database: $out"
    restore_policies
    step "done. CURRENT versions: $(python3 -c 'import json, sys
print(", ".join("%s/%s v%s" % (s["environment"], s["secret"], s["currentVersion"]) for s in json.load(open(sys.argv[1]))["secrets"]) or "none")' "$WORK/facts.json")"
    step "next: start the service${R:+ (root $PREFIX)} on this database; it writes no env file while held; repeat emergencies/revocations since the backup, then release the hold (runbooks/restore-from-backup.md); check GET /api/v1/audit/verify"
    exit 0
fi

# ---- 3. stage a copy; the master key must fit it ---------------------------------------------

umask 077
STAGE=$(mktemp -d "$DATA/.restore.XXXXXX")
WORK=$(mktemp -d)
cleanup() { rm -rf "$STAGE" "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp "$BACKUP/ltc-secrets.db" "$STAGE/ltc-secrets.db"
step "staged a copy in ${STAGE#"$R"}"

# The master key on this host must open the staged copy (ids from the database itself, not the manifest).
need=$(python3 -c 'import json, sys; print(",".join(json.load(sys.stdin)["masterKeyIds"]))' \
    < <(python3 "$DBTOOL" facts "$STAGE/ltc-secrets.db"))
if [[ -n $need ]]; then
    [[ -f $KEY ]] || die "no master key at $KEY; the backup needs key $need: put its offline copy there first (root:root 0400)"
    have=$(python3 "$DBTOOL" key-id "$KEY") || die "the master key at $KEY is malformed"
    [[ ,$need, == *",$have,"* ]] || die "the master key at $KEY is $have; the backup's ciphertexts need $need: put that key's offline copy there first"
    [[ $need != *,* ]] || echo "restore: WARNING: the backup has ciphertexts under several master keys ($need); only $have is installed" >&2
    step "master key $have matches the backup"
fi

# ---- 4. check the staged copy before anything is replaced -------------------------------------

# check_db FILE WHAT: integrity, then the audit chain recomputed offline; sets HEAD_SEQ/HEAD_HASH.
check_db() {
    local file=$1 what=$2 out
    out=$(sqlite3 -readonly -bail "$file" 'PRAGMA integrity_check') || die "sqlite3 cannot read the $what"
    [[ $out == ok ]] || die "PRAGMA integrity_check of the $what: $(head -c 500 <<<"$out")"
    step "integrity_check of the $what: ok"
    python3 "$DBTOOL" export-audit "$file" "$WORK/audit.jsonl" --checkpoint "$WORK/checkpoint.json" \
        --anchor "$WORK/anchor.json" 2>/dev/null || die "cannot export the audit trail of the $what"
    local args=(--format jsonl)
    # After an archive the live chain starts at the signed anchor: its signature, seq and hash are checked.
    if [[ -f $WORK/anchor.json ]]; then
        args+=(--after "$WORK/anchor.json")
    fi
    if [[ -f $WORK/checkpoint.json ]]; then
        args+=(--checkpoint "$WORK/checkpoint.json")
    fi
    if [[ -f $WORK/checkpoint.json || -f $WORK/anchor.json ]]; then
        [[ -z $PUBKEY ]] || args+=(--public-key "$PUBKEY")
    else
        echo "restore: note: the $what has no signed checkpoint or anchor yet; its chain is authenticated by the backup's MAC only" >&2
    fi
    # The chain must end at the manifest's head: the manifest is authenticated by the MAC.
    if [[ -n ${EXPECT_HEAD:-} ]]; then
        args+=(--expect-head "$EXPECT_HEAD")
    fi
    # audit-verify prints one line: OK (seq, head, checkpoint) or INVALID at seq N: reason.
    if ! out=$(python3 "$VERIFY" "${args[@]}" "$WORK/audit.jsonl" 2>"$WORK/verify.err"); then
        die "audit chain of the $what: ${out:-$(head -c 500 "$WORK/verify.err")}"
    fi
    step "audit chain of the $what: $out"
    read -r HEAD_SEQ HEAD_HASH < <(python3 -c 'import json, sys
a = json.load(sys.stdin)["audit"] or {}
print(a.get("headSeq") or 0, a.get("headHash") or "-")' < <(python3 "$DBTOOL" facts "$file"))
}

EXPECT_HEAD=
if [[ -n $(manifest audit.headSeq) ]]; then EXPECT_HEAD="$(manifest audit.headSeq):$(manifest audit.headHash)"; fi
check_db "$STAGE/ltc-secrets.db" "backup's database"
[[ $HEAD_SEQ == "$(manifest audit.headSeq)" || ( $HEAD_SEQ == 0 && -z $(manifest audit.headSeq) ) ]] \
    || die "audit head seq $HEAD_SEQ differs from the manifest's $(manifest audit.headSeq)"
[[ $HEAD_HASH == "$(manifest audit.headHash)" || ( $HEAD_HASH == - && -z $(manifest audit.headHash) ) ]] \
    || die "audit head hash differs from the manifest's"
step "audit head matches the manifest (seq $HEAD_SEQ)"
verify_archives

# ---- 4b. the live database must not be newer than the backup ------------------------------------

# Restoring an older backup silently undoes everything after it: an emergency's revocation (the leaked
# key is CURRENT again and the service would write it into the env file), revoked tokens and grants,
# disabled principals. So the live store's audit head is read BEFORE it is moved aside.
BACKUP_HEAD=${HEAD_SEQ:-0}
HOLD_WHY=
LIVE_HEAD=
if [[ -f $DB ]]; then
    if live=$(python3 "$DBTOOL" facts "$DB" 2>"$WORK/live.err"); then
        read -r LIVE_HEAD LIVE_HASH < <(python3 -c 'import json, sys
a = json.load(sys.stdin)["audit"] or {}
print(a.get("headSeq") or 0, a.get("headHash") or "-")' <<<"$live")
        # Another history than the backup's (the live chain has the backup's head seq with another hash).
        live_at=$(python3 "$DBTOOL" hash-at "$DB" "$BACKUP_HEAD" 2>/dev/null || true)
        diverged=0
        if [[ $BACKUP_HEAD -gt 0 && -n $live_at && $live_at != "$HEAD_HASH" ]]; then diverged=1; fi
        if [[ $LIVE_HEAD -gt $BACKUP_HEAD || $diverged -eq 1 ]]; then
            python3 "$DBTOOL" security-events "$DB" --after "$BACKUP_HEAD" >"$WORK/lost.json" 2>/dev/null || echo '[]' >"$WORK/lost.json"
            lost=$(python3 -c 'import json, sys
for e in json.load(open(sys.argv[1])):
    print("  seq %s  %s  %-20s %s %s  by %s  %s" % (e["seq"], e["time"], e["action"], e["environment"] or "-",
          e["target"] or "-", e["actor"] or "-", e["outcome"]))' "$WORK/lost.json")
            echo "restore: the LIVE database is NEWER than the backup: its audit head is seq $LIVE_HEAD, the backup's seq $BACKUP_HEAD$([[ $diverged -eq 1 ]] && echo ', and its chain is another history than the backup'"'"'s')." >&2
            if [[ -n $lost ]]; then
                echo "restore: security events after the backup, which this restore would UNDO (revoked keys, tokens and grants work again, disabled principals are enabled, denied requests for approval are pending again):" >&2
                printf '%s\n' "$lost" >&2
            else
                echo "restore: no emergency, revocation, disable or rotation after the backup; $((LIVE_HEAD - BACKUP_HEAD)) other event(s) would be lost" >&2
            fi
            if [[ $ACCEPT_ROLLBACK -ne 1 ]]; then
                die "refusing to roll the live database back (seq $LIVE_HEAD -> $BACKUP_HEAD): export its audit trail, then restore a newer backup, or pass --accept-rollback and repeat every event above"
            fi
            loud "--accept-rollback: rolling back from seq $LIVE_HEAD to $BACKUP_HEAD. REPEAT every emergency, revocation, disable and denial listed above before releasing the env-file hold"
            HOLD_WHY=rollback-accepted
        elif [[ $LIVE_HEAD == "$BACKUP_HEAD" && $LIVE_HASH == "$HEAD_HASH" ]]; then
            step "live database is at the backup's audit head (seq $LIVE_HEAD): nothing after the backup is lost"
        else
            # Older than the backup, or another installation's: it says nothing about what happened after
            # the backup, so the env files stay held as if there were no live database.
            loud "the live database (audit head seq $LIVE_HEAD) is OLDER than the backup (seq $BACKUP_HEAD) or another history: it cannot tell what happened after the backup"
            HOLD_WHY='no-live-store'
        fi
    else
        loud "the live database cannot be read ($(head -c 300 "$WORK/live.err")): nobody can tell what happened after the backup"
        HOLD_WHY='live-store-unreadable'
    fi
else
    HOLD_WHY=no-live-store
fi
if [[ $HOLD_WHY == no-live-store || $HOLD_WHY == live-store-unreadable ]]; then
    loud "no live database to compare with: ANY EMERGENCY ROTATION, TOKEN OR GRANT REVOCATION OR PRINCIPAL DISABLE AFTER $(manifest createdAt) (the backup's time) IS UNDONE AND MUST BE REPEATED. Check the alerts, tickets and audit exports since then."
fi

# ---- 5a. the env-file hold, before anything is replaced ----------------------------------------
# Written first: a restore that stops anywhere after this point (a failed check, an interrupted script)
# must not leave a restored database that the next start would render into env files unheld.

HOLD=$DATA/env-file-hold
if [[ -n $HOLD_WHY ]]; then
    write_hold "$BACKUP_HEAD" "$LIVE_HEAD" "$HOLD_WHY"
elif [[ -e $HOLD ]]; then
    # Only the audited release removes a hold: this one may belong to an earlier restore not yet caught up.
    loud "an earlier env-file hold (${HOLD#"$R"}) stays in force until an admin releases it"
fi

# ---- 5. put it in place -------------------------------------------------------------------

chown "$LTCS_UID:$LTCS_GID" "$STAGE/ltc-secrets.db"
chmod 0600 "$STAGE/ltc-secrets.db"
rm -f "$STAGE/ltc-secrets.db-wal" "$STAGE/ltc-secrets.db-shm"
ASIDE=
for f in "$DB" "$DB-wal" "$DB-shm" "$DB-journal" "$DATA/bootstrap-admin.token"; do
    [[ -e $f ]] || continue
    [[ -n $ASIDE ]] || ASIDE=$(mktemp -d "$DATA/pre-restore-$(date -u +%Y%m%dT%H%M%SZ)-XXXX")
    # The old database with its WAL, and the token file that belongs to it, stay together.
    mv "$f" "$ASIDE/"
done
[[ -z $ASIDE ]] || step "previous database moved aside to ${ASIDE#"$R"}"
restore_archives
mv "$STAGE/ltc-secrets.db" "$DB"
rm -f "$DB-wal" "$DB-shm" "$DB-journal"
sync "$DB" "$DATA" 2>/dev/null || true
step "database restored to ${DB#"$R"} ($(stat -c '%u:%g %a' "$DB"))"

# ---- 6. check what is in place --------------------------------------------------------------

want=$(awk '$2 == "ltc-secrets.db" { print $1 }' "$BACKUP/SHA256SUMS")
[[ $(sha256sum <"$DB" | cut -d' ' -f1) == "$want" ]] || die "the restored file's checksum differs from the backup's"
out=$(sqlite3 -readonly -bail "$DB" 'PRAGMA integrity_check')
[[ $out == ok ]] || die "PRAGMA integrity_check of the restored database: $(head -c 500 <<<"$out")"
# A read-only open of a rollback-journal database leaves nothing behind; make sure of it.
rm -f "$DB-wal" "$DB-shm"
[[ $(stat -c '%u:%g %a' "$DB") == "$LTCS_UID:$LTCS_GID 600" ]] || die "owner/mode of $DB is not ltc-secrets 0600"
step "restored database verified (checksum, integrity_check, owner ltc-secrets, mode 0600)"

# ---- policies -------------------------------------------------------------------------------

restore_policies

secrets=$(python3 -c 'import json, sys
print(", ".join("%s/%s v%s" % (s["environment"], s["secret"], s["currentVersion"]) for s in json.load(sys.stdin)["secrets"]))' \
    < <(python3 "$DBTOOL" facts "$DB"))
rm -f "$DB-wal" "$DB-shm"
step "done. CURRENT versions: ${secrets:-none}"
if [[ -n $HOLD_WHY ]]; then
    step "next: start the service${R:+ (root $PREFIX)}; it writes no env file while held; repeat emergencies/revocations since the backup, then release the hold (runbooks/restore-from-backup.md); check GET /api/v1/audit/verify"
else
    step "next: start the service${R:+ (root $PREFIX)}; it rewrites the env files from the restored versions; then check GET /api/v1/audit/verify"
fi
