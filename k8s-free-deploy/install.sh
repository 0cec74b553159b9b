#!/usr/bin/env bash
# install.sh — installs ltc-secrets and prepares the LifeTimeCircle directories on one host, or into a
# root prefix (CI, image builds). Idempotent: a second run finds everything in place, changes nothing
# and succeeds, so it is also the way to upgrade the app and the policies.
#
# What it sets up (paths below are under PREFIX):
#   users/groups   ltc-secrets (the service), lifetimecircle (the LTC API), lifetimecircle-staging (the
#                  staging API: never prod's uid, or it could read prod's /proc/<pid>/environ); accounts without
#                  login, each with uid = gid where free. With a PREFIX they go into PREFIX/etc/passwd
#                  and PREFIX/etc/group (useradd/groupadd --prefix) and every chown uses those ids,
#                  because that is the passwd ltc-secrets' preflight reads under its file-root.
#   /var/lib/lifetimecircle{,-staging}/{data,storage}   lifetimecircle{,-staging} 0750 (the app
#                  writes there; preflight checks that its user can); the parents root 0755.
#   /var/lib/ltc-secrets            ltc-secrets 0700: SQLite database, bootstrap token.
#   /etc/lifetimecircle             ltc-secrets 0750: the service writes <env>.env there (0600);
#                                   systemd reads them as root for the API's EnvironmentFile=.
#   /etc/ltc-secrets/policies       root 0755/0644: a copy of the reviewed policies (mirrored: a
#                                   policy removed from the source is removed here).
#   /etc/ltc-secrets/master.key     root:root 0400, `openssl rand -base64 32`, created only if missing
#                                   and never printed. systemd hands it to the service (LoadCredential=).
#                                   BACK IT UP OFFLINE: backups of the database are useless without it.
#   /opt/ltc-secrets/quarkus-app    the packaged app (root 0755/0644; replaced as a whole when it differs).
#   /opt/ltc-secrets/jvm            the start-up cache for this host's newest JDK 25+ (a JDK AOT cache) or
#                                   /usr/bin/java (an AppCDS archive), with `java` and `flags` for the unit's
#                                   launcher /opt/ltc-secrets/bin/ltc-secrets-java (aot-cache.sh; start-up in
#                                   about a third of the time). With --root it names the jar under PREFIX:
#                                   make it again on the target host (run install.sh there) or the JVM ignores it.
#   /opt/ltc-secrets/tools/{audit-verify,ltcs}, /opt/ltc-secrets/bin/{ltc-secrets-java,backup.sh,restore.sh,ltc-secrets-db}
#   /usr/local/bin/ltcs             a link to /opt/ltc-secrets/tools/ltcs (the command-line client)
#   units, polkit rules, nginx site from k8s-free-deploy/{systemd,polkit,nginx} if present. Units
#   are installed, not enabled or started; the nginx site goes to sites-available, not enabled.
# `systemctl daemon-reload` runs only for PREFIX / with systemd running, and only if a unit changed.
#
# Run as root. Needs: bash, coreutils, findutils, diffutils, passwd (useradd/groupadd), openssl.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: install.sh [--root PREFIX] [--app DIR] [--policies DIR]

Install ltc-secrets (users, directories and modes, master key, app, policies, tools, units).
Idempotent: run it again to upgrade; it changes only what differs.

  --root PREFIX    install into PREFIX instead of / (users go into PREFIX/etc/passwd)
  --app DIR        packaged app to install (default: <repo>/target/quarkus-app)
  --policies DIR   policies to install, holding environments/*.yaml (default: <repo>/policies)
  -h, --help       this text
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PREFIX=/
APP_SRC=$REPO/target/quarkus-app
POLICIES_SRC=$REPO/policies
while [[ $# -gt 0 ]]; do
    case $1 in
        --root) PREFIX=${2:?--root needs a directory}; shift 2 ;;
        --app) APP_SRC=${2:?--app needs a directory}; shift 2 ;;
        --policies) POLICIES_SRC=${2:?--policies needs a directory}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

die() { echo "install.sh: error: $*" >&2; exit 1; }
step() { echo "install: $*"; }

[[ $EUID -eq 0 ]] || die "run as root (it creates users and sets owners)"
[[ -d $PREFIX ]] || die "root prefix $PREFIX is not a directory"
PREFIX=$(cd "$PREFIX" && pwd -P)
R=${PREFIX%/}          # "" for /, so "$R/etc" is /etc
[[ -f $APP_SRC/quarkus-run.jar ]] || die "$APP_SRC/quarkus-run.jar not found: build with ./mvnw package -DskipTests or pass --app"
ls "$POLICIES_SRC"/environments/*.yaml >/dev/null 2>&1 || die "no $POLICIES_SRC/environments/*.yaml: pass --policies"
for tool in useradd groupadd openssl diff cmp install; do
    command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install passwd openssl diffutils coreutils)"
done
# Parents we create are plain 0755; every sensitive path gets its mode set explicitly below.
umask 022

# ---- users and groups ------------------------------------------------------------------------

PFX=()
if [[ -n $R ]]; then
    PFX=(--prefix "$PREFIX")
    # A fresh prefix needs the account files to exist (useradd --prefix otherwise writes odd modes),
    # with root in them so files owned by 0 resolve to a name there too.
    mkdir -p "$R/etc"
    [[ -e $R/etc/passwd ]] || { echo 'root:x:0:0:root:/root:/bin/bash' >"$R/etc/passwd"; step "created $R/etc/passwd"; }
    [[ -e $R/etc/group ]] || { echo 'root:x:0:' >"$R/etc/group"; step "created $R/etc/group"; }
    for f in shadow gshadow; do
        [[ -e $R/etc/$f ]] || { install -m 0600 /dev/null "$R/etc/$f"; step "created $R/etc/$f"; }
    done
fi

# account DB NAME FIELD: a field of NAME's entry in the passwd or group database the install
# targets (getent for /, so NSS accounts count; the prefix's own files otherwise).
account() {
    local db=$1 name=$2 field=$3
    if [[ -z $R ]]; then
        { getent "$db" "$name" || true; } | cut -d: -f"$field"
    else
        awk -F: -v n="$name" -v f="$field" '$1 == n { print $f; exit }' "$R/etc/$db"
    fi
}
id_taken() { # db id
    if [[ -z $R ]]; then getent "$1" "$2" >/dev/null; else awk -F: -v i="$2" '$3 == i { found = 1 } END { exit !found }' "$R/etc/$1"; fi
}

ensure_account() { # name home comment
    local name=$1 home=$2 comment=$3 gid uid
    gid=$(account group "$name" 3)
    if [[ -z $gid ]]; then
        groupadd "${PFX[@]}" --system "$name"
        gid=$(account group "$name" 3)
        step "created group $name (gid $gid)"
    fi
    uid=$(account passwd "$name" 3)
    if [[ -z $uid ]]; then
        # uid = gid (where that uid is free) keeps numeric listings readable and ids predictable.
        local want=()
        id_taken passwd "$gid" || want=(--uid "$gid")
        useradd "${PFX[@]}" --system "${want[@]}" --gid "$name" --home-dir "$home" --no-create-home \
            --shell /usr/sbin/nologin --comment "$comment" "$name"
        uid=$(account passwd "$name" 3)
        step "created user $name (uid $uid, gid $gid)"
    else
        step "user $name exists (uid $uid, gid $(account passwd "$name" 4))"
    fi
}
ensure_account ltc-secrets /var/lib/ltc-secrets "ltc-secrets secrets lifecycle service"
ensure_account lifetimecircle /var/lib/lifetimecircle "LifeTimeCircle API"
# Staging's own account: with prod's uid, staging code could read prod's /proc/<pid>/environ (its key).
ensure_account lifetimecircle-staging /var/lib/lifetimecircle-staging "LifeTimeCircle API (staging)"
LTCS_UID=$(account passwd ltc-secrets 3); LTCS_GID=$(account passwd ltc-secrets 4)
LTC_UID=$(account passwd lifetimecircle 3); LTC_GID=$(account passwd lifetimecircle 4)
STG_UID=$(account passwd lifetimecircle-staging 3); STG_GID=$(account passwd lifetimecircle-staging 4)

# ---- directories -----------------------------------------------------------------------------

# ensure_dir PATH UID GID MODE: create it, or correct owner and mode; never through a symlink.
# ensure_dir DIR UID GID MODE [with-contents]: with-contents, a change of owner also moves what the directory
# holds (staging's app moved from prod's user to its own: its database must follow it, or it cannot open it).
ensure_dir() {
    local path=$R$1 uid=$2 gid=$3 mode=$4 contents=${5:-} have
    if [[ -L $path ]]; then die "$path is a symbolic link; expected a directory"; fi
    if [[ -e $path && ! -d $path ]]; then die "$path exists and is not a directory"; fi
    if [[ ! -d $path ]]; then
        mkdir -p "$path"
        chown "$uid:$gid" "$path"; chmod "$mode" "$path"
        step "created $1 ($uid:$gid $mode)"
        return
    fi
    have=$(stat -c '%u:%g %a' "$path")
    if [[ $have != "$uid:$gid $(printf '%o' "$((8#$mode))")" ]]; then
        if [[ -n $contents && ${have%% *} != "$uid:$gid" ]]; then
            chown -hR "$uid:$gid" "$path"
        fi
        chown "$uid:$gid" "$path"; chmod "$mode" "$path"
        step "fixed $1 (was $have, now $uid:$gid $mode${contents:+, contents too})"
    fi
}

for base in /var/lib/lifetimecircle:$LTC_UID:$LTC_GID /var/lib/lifetimecircle-staging:$STG_UID:$STG_GID; do
    IFS=: read -r dir uid gid <<<"$base"
    ensure_dir "$dir" 0 0 0755
    ensure_dir "$dir/data" "$uid" "$gid" 0750 with-contents
    ensure_dir "$dir/storage" "$uid" "$gid" 0750 with-contents
done
ensure_dir /var/lib/ltc-secrets "$LTCS_UID" "$LTCS_GID" 0700
ensure_dir /etc/lifetimecircle "$LTCS_UID" "$LTCS_GID" 0750
ensure_dir /etc/ltc-secrets 0 0 0755
ensure_dir /opt/ltc-secrets 0 0 0755
ensure_dir /opt/ltc-secrets/bin 0 0 0755
ensure_dir /opt/ltc-secrets/tools 0 0 0755
step "directories in place"

# ---- files -----------------------------------------------------------------------------------

# install_file SRC DST MODE: root-owned copy, replaced atomically and only when content or mode
# differ; sets INSTALLED=1 when it wrote something.
INSTALLED=0
install_file() {
    local src=$1 dst=$R$2 mode=$3
    if [[ -f $dst && ! -L $dst ]] && cmp -s "$src" "$dst" \
        && [[ $(stat -c '%u:%g %a' "$dst") == "0:0 $(printf '%o' "$((8#$mode))")" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "$dst")"
    install -m "$mode" -o 0 -g 0 "$src" "$dst.install-tmp"
    mv -f "$dst.install-tmp" "$dst"
    INSTALLED=1
    step "installed $2"
}

# sync_tree SRC DST: DST becomes an exact root-owned copy of SRC (dirs 0755, files 0644), swapped in
# as a whole when anything differs, so a half-copied app or policy set is never in place.
sync_tree() {
    local src=$1 dst=$R$2
    if [[ -d $dst ]] && diff -r -q "$src" "$dst" >/dev/null 2>&1 \
        && [[ -z $(find "$dst" \( -type d ! -perm 0755 \) -o \( -type f ! -perm 0644 \) -o ! -user 0 -o ! -group 0 -o \( ! -type d ! -type f \) | head -1) ]]; then
        step "$2 unchanged"
        return
    fi
    local tmp="$dst.install-new" old="$dst.install-old"
    rm -rf "$tmp" "$old"
    cp -R --no-preserve=mode,ownership "$src" "$tmp"
    find "$tmp" -type l -delete   # a link in the source could point anywhere on the target host
    chown -R 0:0 "$tmp"
    find "$tmp" -type d -exec chmod 0755 {} +
    find "$tmp" -type f -exec chmod 0644 {} +
    if [[ -e $dst ]]; then mv "$dst" "$old"; fi
    mv "$tmp" "$dst"
    rm -rf "$old"
    INSTALLED=1
    step "installed $2 (from $src)"
}

INSTALLED=0
sync_tree "$APP_SRC" /opt/ltc-secrets/quarkus-app
APP_CHANGED=$INSTALLED
sync_tree "$POLICIES_SRC" /etc/ltc-secrets/policies
# The unit's launcher (its ExecStart=): java with the start-up cache below, or /usr/bin/java without one.
install_file "$HERE/ltc-secrets-java" /opt/ltc-secrets/bin/ltc-secrets-java 0755
# A running service keeps the app, policies and launcher it started with.
RESTART_NEEDED=$INSTALLED

# The start-up cache the launcher uses (/opt/ltc-secrets/jvm: the cache, `java`, `flags`): made here, for the java
# aot-cache.sh chooses on this host (the newest JDK 25+, else /usr/bin/java) and the installed jar, because it is
# valid only for both. Outside the app tree, so that tree stays an exact copy of the build. Made again when the app
# changed, the cache is missing, or the chosen java is another build than the one that made it. Without it the
# service still starts, only slower: a failure here is a warning, not an error.
rm -f "$R/opt/ltc-secrets/app-cds.jsa" "$R/opt/ltc-secrets/app-cds.jsa.stamp"   # appcds.sh's, before the launcher
JAVA_BIN=$("$HERE/aot-cache.sh" --java || true)
if [[ -z $JAVA_BIN ]]; then
    step "WARNING: no java found; start-up cache not made (install a JDK 17+, then run install.sh again)"
else
    JVM_DIR=$R/opt/ltc-secrets/jvm
    cache_stamp="$JAVA_BIN $("$JAVA_BIN" -version 2>&1 | tr '\n' ' ') $R/opt/ltc-secrets/quarkus-app/quarkus-run.jar $(sha256sum <"$HERE/aot-cache.sh")"
    if [[ $APP_CHANGED -eq 1 || ! -s $JVM_DIR/flags || $(cat "$JVM_DIR/stamp" 2>/dev/null) != "$cache_stamp" ]]; then
        if "$HERE/aot-cache.sh" "$R/opt/ltc-secrets/quarkus-app/quarkus-run.jar" "$JVM_DIR" "$R/etc/ltc-secrets/policies" "$JAVA_BIN" >/dev/null; then
            printf '%s\n' "$cache_stamp" >"$JVM_DIR/stamp"
            chmod 0644 "$JVM_DIR/stamp"
            chmod 0755 "$JVM_DIR"
            step "made the start-up cache /opt/ltc-secrets/jvm ($(head -n 1 "$JVM_DIR/flags")) for $("$JAVA_BIN" -version 2>&1 | head -1)"
            RESTART_NEEDED=1
        else
            rm -rf "$JVM_DIR"
            step "WARNING: start-up cache not made; ltc-secrets starts without it (slower)"
        fi
    else
        step "start-up cache up to date"
    fi
fi

install_file "$REPO/tools/audit-verify" /opt/ltc-secrets/tools/audit-verify 0755
# The command-line client; it loads audit-verify from beside its real path, so the two stay together.
install_file "$REPO/tools/ltcs" /opt/ltc-secrets/tools/ltcs 0755
if [[ $(readlink "$R/usr/local/bin/ltcs" 2>/dev/null) != /opt/ltc-secrets/tools/ltcs ]]; then
    if [[ -e $R/usr/local/bin/ltcs && ! -L $R/usr/local/bin/ltcs ]]; then
        die "/usr/local/bin/ltcs exists and is not our link; move it away and run install.sh again"
    fi
    mkdir -p "$R/usr/local/bin"
    ln -sfn /opt/ltc-secrets/tools/ltcs "$R/usr/local/bin/ltcs"
    step "linked /usr/local/bin/ltcs -> /opt/ltc-secrets/tools/ltcs"
fi
for f in backup.sh restore.sh ltc-secrets-db; do
    install_file "$HERE/$f" "/opt/ltc-secrets/bin/$f" 0755
done

# ---- master key ------------------------------------------------------------------------------

KEY=$R/etc/ltc-secrets/master.key
if [[ -L $KEY ]]; then die "$KEY is a symbolic link; the service refuses links: put the key file itself there"; fi
if [[ -e $KEY ]]; then
    [[ -f $KEY ]] || die "$KEY exists and is not a regular file"
    # Checked without printing: 44 characters of standard base64 for 32 bytes, optional newline.
    size=$(stat -c %s "$KEY")
    if [[ $size -ne 44 && $size -ne 45 ]] || [[ $(base64 -d <"$KEY" 2>/dev/null | wc -c) -ne 32 ]]; then
        die "$KEY is not the base64 of 32 bytes (openssl rand -base64 32); not touching it"
    fi
    have=$(stat -c '%u:%g %a' "$KEY")
    if [[ $have != "0:0 400" ]]; then
        if (( (8#${have##* }) & 8#077 )); then
            echo "install: WARNING: $KEY was readable by group or others ($have): treat the key as exposed (key-compromise runbook)" >&2
        fi
        chown 0:0 "$KEY"; chmod 0400 "$KEY"
        step "fixed master key owner/mode (was $have, now root:root 0400)"
    else
        step "master key present (root:root 0400), left as it is"
    fi
else
    # Created beside its final name with the final mode, then linked in: never a partial or
    # world-readable key, and an existing key (a concurrent run) is never replaced.
    tmp=$(umask 077 && mktemp "$R/etc/ltc-secrets/.master.key.XXXXXX")
    (umask 077 && openssl rand -base64 32 >"$tmp")
    chown 0:0 "$tmp"; chmod 0400 "$tmp"
    sync "$tmp" 2>/dev/null || true
    if ln "$tmp" "$KEY" 2>/dev/null; then
        step "created master key /etc/ltc-secrets/master.key (root:root 0400) - back it up OFFLINE now"
    else
        echo "install: master key appeared meanwhile; kept the existing one" >&2
    fi
    rm -f "$tmp"
fi
if command -v python3 >/dev/null; then
    # The id is a one-way, non-secret name of the key; it is what backup manifests record.
    step "master key id $(python3 "$HERE/ltc-secrets-db" key-id "$KEY")"
fi

# ---- units, polkit, nginx (written by their own tasks; installed if present) -------------------

shopt -s nullglob
INSTALLED=0
for f in "$HERE"/systemd/*.service "$HERE"/systemd/*.timer "$HERE"/systemd/*.socket "$HERE"/systemd/*.path; do
    install_file "$f" "/etc/systemd/system/$(basename "$f")" 0644
done
for d in "$HERE"/systemd/*.d; do   # drop-ins, e.g. ltc-secrets.service.d/override.conf
    for f in "$d"/*.conf; do
        install_file "$f" "/etc/systemd/system/$(basename "$d")/$(basename "$f")" 0644
    done
done
CHANGED_UNITS=$INSTALLED
for f in "$HERE"/polkit/*.rules; do
    # polkitd reads rules.d as its own user: the file must be world-readable (0644).
    install_file "$f" "/etc/polkit-1/rules.d/$(basename "$f")" 0644
done
for f in "$HERE"/nginx/*; do
    [[ -f $f ]] || continue
    case $f in *.md|*.sh|*.txt) continue ;; esac
    install_file "$f" "/etc/nginx/sites-available/$(basename "$f")" 0644
done
shopt -u nullglob

if [[ -z $R && $CHANGED_UNITS -eq 1 && -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl daemon-reload
    step "systemctl daemon-reload"
fi

step "done (root $PREFIX; users ltc-secrets $LTCS_UID:$LTCS_GID, lifetimecircle $LTC_UID:$LTC_GID, lifetimecircle-staging $STG_UID:$STG_GID)"
if [[ -z $R && $RESTART_NEEDED -eq 1 && -d /run/systemd/system ]] && systemctl is-active --quiet ltc-secrets.service 2>/dev/null; then
    echo "note: ltc-secrets is running the previous app or policies: systemctl restart ltc-secrets"
fi
if [[ -z $R ]]; then
    echo "next: back up /etc/ltc-secrets/master.key offline; systemctl enable --now ltc-secrets"
    echo "      (the bootstrap token appears in /var/lib/ltc-secrets/bootstrap-admin.token);"
    echo "      enable the nginx site from /etc/nginx/sites-available once its TLS certificate is in place"
fi
