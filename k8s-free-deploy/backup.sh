#!/usr/bin/env bash
# backup.sh — a consistent online backup of ltc-secrets, taken while the service runs.
#
# The database is copied with SQLite's `VACUUM INTO` through a read-only connection: one read
# snapshot (WAL lets the service keep writing meanwhile), written as a compact single file that
# needs no -wal beside it. The backup directory (mode 0700, files 0600) holds:
#   ltc-secrets.db   the snapshot: secret versions (ciphertext only), rotations, principals, token and
#                    grant records (token HASHES only), the hash-chained audit trail, checkpoints
#   policies/        the policies installed at /etc/ltc-secrets/policies when the backup was taken
#   audit-archive/   signed audit archives, if the service has made any
#   manifest.json    when, from which host, schema version (flyway_schema_history), audit head
#                    seq/hash and latest checkpoint, the master key id(s) the ciphertexts need, and each
#                    secret's CURRENT version
#   SHA256SUMS       of every other file; restore.sh refuses a backup that does not match it
#   SHA256SUMS.hmac  authenticates SHA256SUMS (and so every file): HMAC-SHA256 under a key derived from the
#                    master key, HMAC-SHA256(master key, "ltc-secrets backup manifest v1"), with the key's id.
#                    Checksums alone are only self-consistent: whoever can write the backup (a token row
#                    added to the database) could recompute them. The MAC needs the master key, which a
#                    restore needs anyway; restore.sh refuses a backup whose MAC does not verify.
#
# What is NEVER in a backup: the master key, the env files (they hold the plaintext secrets), the
# bootstrap-admin token file, or any other token or value. The database holds only ciphertext under
# the master key, so THE MASTER KEY IS BACKED UP SEPARATELY AND OFFLINE (e.g. printed or on a token
# in a safe, once, at install; again after every master-key rotation). A backup without its master
# key cannot be decrypted and is useless; the master key without a backup is only a key. Keeping them
# apart is the point: whoever steals a backup has ciphertext. manifest.json names the key by its id
# (mk-…, a one-way hash) so the right offline copy can be found; restore.sh checks it.
#
# A PostgreSQL store (ltc-secrets.store=postgresql: the unit's LTC_SECRETS_STORE*, or --store postgresql with
# --store-url/--store-user/--store-password-file) is backed up the same way, with one difference: in place of
# ltc-secrets.db the backup holds ltc-secrets.pgdump, `pg_dump -Fc --no-owner --no-privileges` of the database,
# taken from one exported snapshot from which manifest.json's facts are read too (ltc-secrets-db
# dump-postgresql), so the manifest describes exactly what was dumped; `pg_restore --list` must read it back.
# manifest.json then says "store": "postgresql". The database's roles and passwords are not in it.
#
# Run as root (the database is ltc-secrets' own 0600 file). Needs: sqlite3 (or for PostgreSQL: pg_dump,
# pg_restore and psql of at least the server's major version), python3, coreutils.
# Typical: nightly from a systemd timer or cron, then copy the directory off the host.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: backup.sh [--root PREFIX] [--out DIR] [--master-key FILE]
                 [--store sqlite|postgresql] [--store-url URL] [--store-user ROLE] [--store-password-file FILE]

Consistent online backup of ltc-secrets (database snapshot, policies, manifest, SHA256SUMS).
Never includes the master key, env files or tokens: back the master key up offline, separately.

  --root PREFIX   installation root (default /): reads PREFIX/var/lib/ltc-secrets
  --out DIR       new backup directory (must not exist or be empty; default
                  PREFIX/var/backups/ltc-secrets/ltc-secrets-<UTC time>)
  --master-key FILE  the master key that authenticates the backup (SHA256SUMS.hmac; default
                  PREFIX/etc/ltc-secrets/master.key); read only to derive the MAC key, never copied
  --store KIND    sqlite or postgresql (default: the service's ltc-secrets.store, from LTC_SECRETS_STORE or
                  the installed unit PREFIX/etc/systemd/system/ltc-secrets.service and its drop-ins)
  --store-url URL, --store-user ROLE, --store-password-file FILE
                  the PostgreSQL store (defaults: LTC_SECRETS_STORE_URL, _USERNAME, _PASSWORD_FILE, else the
                  unit's; a credential %d/NAME is read from its LoadCredential= source)
  -h, --help      this text
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=/
OUT=
KEY=
STORE=
PGOPTS=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --root) PREFIX=${2:?--root needs a directory}; shift 2 ;;
        --out) OUT=${2:?--out needs a directory}; shift 2 ;;
        --master-key) KEY=${2:?--master-key needs a file}; shift 2 ;;
        --store) STORE=${2:?--store needs sqlite or postgresql}; shift 2 ;;
        --store-url) PGOPTS+=(--store-url "${2:?--store-url needs a URL}"); shift 2 ;;
        --store-user) PGOPTS+=(--username "${2:?--store-user needs a role}"); shift 2 ;;
        --store-password-file) PGOPTS+=(--password-file "${2:?--store-password-file needs a file}"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "backup.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

die() { echo "backup.sh: error: $*" >&2; exit 1; }
step() { echo "backup: $*"; }

[[ -d $PREFIX ]] || die "root prefix $PREFIX is not a directory"
PREFIX=$(cd "$PREFIX" && pwd -P)
R=${PREFIX%/}
DATA=$R/var/lib/ltc-secrets
DB=$DATA/ltc-secrets.db
POLICIES=$R/etc/ltc-secrets/policies
DBTOOL=$HERE/ltc-secrets-db
KEY=${KEY:-$R/etc/ltc-secrets/master.key}
command -v python3 >/dev/null || die "python3 not found (Debian: apt-get install python3)"
# Which store: as given, else as the service is configured (environment, else the installed unit).
PGOPTS+=(--service-root "$PREFIX")
if [[ -z $STORE ]]; then
    STORE=$(python3 "$DBTOOL" store-kind "${PGOPTS[@]}") || die "cannot tell the service's store; pass --store"
fi
case $STORE in
    sqlite) tools=(sqlite3 sha256sum) ;;
    postgresql) tools=(pg_dump pg_restore psql sha256sum) ;;
    *) die "--store is sqlite or postgresql, not $STORE" ;;
esac
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install sqlite3 postgresql-client coreutils)"
done
if [[ $STORE == sqlite ]]; then
    [[ -f $DB ]] || die "no database at $DB (is ltc-secrets installed and started once?)"
    [[ -r $DB ]] || die "cannot read $DB: run as root"
fi
[[ -f $KEY && -r $KEY ]] || die "cannot read the master key $KEY, which authenticates the backup: run as root, or pass --master-key"
KEY_ID=$(python3 "$DBTOOL" key-id "$KEY") || die "the master key at $KEY is malformed"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$R/var/backups/ltc-secrets/ltc-secrets-$STAMP}
if [[ -e $OUT ]]; then
    [[ -d $OUT && -z $(ls -A "$OUT") ]] || die "$OUT exists and is not an empty directory"
fi

# Everything created from here on is private to root.
umask 077
PARENT=$(dirname "$OUT")
mkdir -p "$PARENT"
# Built beside its final name and renamed at the end: a backup directory that exists is complete.
WORK=$(mktemp -d "$PARENT/.ltc-secrets-backup.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }

HOST=$(hostname -f 2>/dev/null || hostname)
if [[ $STORE == postgresql ]]; then
    # pg_dump and the manifest's facts from one exported snapshot; the service keeps writing meanwhile.
    python3 "$DBTOOL" dump-postgresql "$WORK" "${PGOPTS[@]}" --host "$HOST" --root "$PREFIX" \
        || die "the PostgreSQL backup failed"
    step "database dumped with pg_dump -Fc from one snapshot ($(stat -c %s "$WORK/ltc-secrets.pgdump") bytes), manifest from the same snapshot"
    pg_restore --list "$WORK/ltc-secrets.pgdump" >/dev/null || die "pg_restore cannot read the dump back"
    step "pg_restore --list reads the dump: ok"
else
    # -readonly: the live database is never written, whatever happens here. VACUUM INTO reads one
    # snapshot and writes a new, compact file in rollback-journal mode (no -wal needed to read it).
    sqlite3 -readonly -bail -cmd '.timeout 10000' "$DB" "VACUUM INTO $(sql_quote "$WORK/ltc-secrets.db")" >/dev/null
    step "database snapshot taken with VACUUM INTO ($(stat -c %s "$WORK/ltc-secrets.db") bytes)"

    check=$(sqlite3 -readonly -bail "$WORK/ltc-secrets.db" 'PRAGMA integrity_check')
    [[ $check == ok ]] || die "integrity_check of the snapshot failed: $(head -c 500 <<<"$check")"
    step "integrity_check of the snapshot: ok"
fi

if [[ -d $POLICIES ]]; then
    cp -R --no-preserve=mode,ownership "$POLICIES" "$WORK/policies"
    step "policies copied from ${POLICIES#"$R"}"
else
    echo "backup: WARNING: no policies at $POLICIES; the backup has none" >&2
fi
if [[ -d $DATA/audit-archive ]]; then
    cp -R --no-preserve=mode,ownership "$DATA/audit-archive" "$WORK/audit-archive"
    step "audit archives copied"
fi

# Facts come from the snapshot, not the live file, so they describe exactly what was backed up.
if [[ $STORE == sqlite ]]; then
    python3 "$DBTOOL" manifest "$WORK/ltc-secrets.db" --host "$HOST" --root "$PREFIX" --source "$DB" >"$WORK/manifest.json"
fi
step "manifest written (schema $(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); a=m["audit"] or {}; print("%s, audit head seq %s, master key %s" % (m["schemaVersion"], a.get("headSeq"), ",".join(m["masterKeyIds"]) or "-"))' "$WORK/manifest.json"))"

# Nothing that must stay out may have slipped in (defence in depth: the copies above are explicit).
if find "$WORK" \( -name 'master.key*' -o -name '*.token' -o -name '*.env' -o -name '*.request' \) | grep -q .; then
    die "refusing: a key, token or env file ended up in the backup"
fi

find "$WORK" -type d -exec chmod 0700 {} +
find "$WORK" -type f -exec chmod 0600 {} +
sums=$(cd "$WORK" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -r -d '\n' sha256sum --)
printf '%s\n' "$sums" >"$WORK/SHA256SUMS"
chmod 0600 "$WORK/SHA256SUMS"
step "SHA256SUMS written ($(wc -l <"$WORK/SHA256SUMS") files)"
# The MAC over SHA256SUMS authenticates every file it lists; the key id says which master key restores it.
read -r mac_key_id mac < <(python3 "$DBTOOL" manifest-mac "$KEY" "$WORK/SHA256SUMS") || die "cannot compute the manifest MAC"
[[ $mac_key_id == "$KEY_ID" && $mac =~ ^[0-9a-f]{64}$ ]] || die "cannot compute the manifest MAC"
printf 'ltc-secrets backup manifest v1\nkey-id %s\nhmac-sha256 %s\n' "$KEY_ID" "$mac" >"$WORK/SHA256SUMS.hmac"
chmod 0600 "$WORK/SHA256SUMS.hmac"
step "SHA256SUMS authenticated (SHA256SUMS.hmac, HMAC-SHA256 under a key derived from master key $KEY_ID)"

if [[ -d $OUT ]]; then rmdir "$OUT"; fi
mv "$WORK" "$OUT"
chmod 0700 "$OUT"
trap - EXIT
step "done: $OUT (mode 0700). The master key is NOT in it: keep its offline copy; without it this backup is useless."
