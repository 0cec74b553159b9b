#!/usr/bin/env bash
# Static checks of the k8s-free deployment files; CI runs it from .ci/run. Exits non-zero on any problem.
#   bash k8s-free-deploy/check.sh
# Installs nothing and touches nothing outside a temporary directory. It needs these Debian packages:
#   systemd (systemd-analyze), nginx, openssl, shellcheck, duktape (duk)
# What it checks:
#   1. every unit in systemd/: `systemd-analyze verify` in a throwaway root (see below), any warning fails
#   2. every service: `systemd-analyze security --offline=true`, exposure at most 2.0
#   3. nginx/*.conf: `nginx -t` with a throwaway self-signed certificate; ltc-secrets (:8300) never proxied
#   4. every *.sh under k8s-free-deploy/ and the unit's launcher ltc-secrets-java: `bash -n` and `shellcheck`
#   5. polkit/*.rules: compiled by Duktape (polkitd's own engine) and, for the restart rule, decided
#      against the cases in polkit/rule-test.js plus each unit that a policy's restartCommand restarts
#   6. every service has LimitCORE=0 (a core dump would hold keys); each policy's app.user is the User=
#      and Group= of the unit it restarts, install.sh creates it, and no two app units share a user
#      (staging code could read prod's /proc/<pid>/environ, i.e. its key)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

missing=()
for tool in systemd-analyze nginx openssl shellcheck duk; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "check.sh: missing tools: ${missing[*]} (Debian: systemd nginx openssl shellcheck duktape)" >&2
    exit 2
fi

# The installed layout's programs under /opt, as install.sh lays them out. verify is run with --root,
# so it resolves every Exec*= path inside the throwaway root: a unit naming anything other than these
# (or than a program that exists on this host, for /usr/bin/java and the like) fails verification.
layout=(
    /opt/ltc-secrets/bin/ltc-secrets-java
    /opt/lifetimecircle/venv/bin/uvicorn
    /opt/lifetimecircle-staging/venv/bin/uvicorn
)

# --- 1. systemd-analyze verify --------------------------------------------------------------------
# Without --root, verify checks Exec*= paths on this machine, where /opt/... does not exist; with
# --root it looks inside the root, which therefore needs the targets the units refer to (copied from
# the host), the units themselves in etc/systemd/system, and stub programs. verify exits 0 even on
# unknown keys or unparsable values, so any output counts as a failure.
root="$work/root"
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
stub() {
    mkdir -p "$root$(dirname "$1")"
    printf '#!/bin/sh\nexit 0\n' >"$root$1"
    chmod 0755 "$root$1"
}
for path in "${layout[@]}"; do stub "$path"; done
units=()
for unit in "$here"/systemd/*.service "$here"/systemd/*.timer "$here"/systemd/*.socket "$here"/systemd/*.path; do
    [ -e "$unit" ] || continue
    cp "$unit" "$root/etc/systemd/system/"
    units+=("$unit")
    # OS programs (java, bash, ...) must exist on this host; the stub stands for them in the root.
    while read -r prog; do
        if [ -x "$prog" ] && [ ! -e "$root$prog" ]; then stub "$prog"; fi
    done < <(sed -n 's/^Exec[A-Za-z]*=[-@:+!|]*\(\/[^ ]*\).*/\1/p' "$unit")
done
[ ${#units[@]} -gt 0 ] || bad "no units found in $here/systemd"
for unit in "${units[@]}"; do
    name=$(basename "$unit")
    if out=$(systemd-analyze verify --root="$root" "$name" 2>&1) && [ -z "$out" ]; then
        ok "verify $name"
    else
        bad "verify $name"
        printf '%s\n' "$out" | sed 's/^/     /'
    fi
done

# --- 2. systemd-analyze security ------------------------------------------------------------------
# --threshold is in tenths on systemd 252 ("2.0" does not parse): 20 means exposure at most 2.0.
for unit in "$here"/systemd/*.service; do
    [ -e "$unit" ] || continue
    name=$(basename "$unit")
    out=$(systemd-analyze security --offline=true --threshold=20 --no-pager "$unit" 2>&1) && rc=0 || rc=$?
    score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ "$rc" -eq 0 ] && [ -n "$score" ]; then
        ok "security $name: exposure $score"
    else
        bad "security $name: exposure ${score:-unknown} (at most 2.0 allowed)"
        printf '%s\n' "$out" | grep -E '✗|Overall|rror' | sed 's/^/     /'
    fi
done

# --- 3. nginx -t ----------------------------------------------------------------------------------
# A temporary prefix with its own main config, pid, logs and temp paths; the site is included with its
# certificate paths pointed at a throwaway self-signed pair. /etc/nginx is only read (proxy_params).
ng="$work/nginx"
mkdir -p "$ng"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lifetimecircle.test \
    -keyout "$ng/privkey.pem" -out "$ng/fullchain.pem" 2>/dev/null
for site in "$here"/nginx/*.conf; do
    [ -e "$site" ] || continue
    name=$(basename "$site")
    sed "s#/etc/ssl/lifetimecircle/#$ng/#g" "$site" >"$ng/site.conf"
    cat >"$ng/nginx.conf" <<EOF
pid $ng/nginx.pid;
error_log $ng/error.log;
events {}
http {
    include /etc/nginx/mime.types;
    access_log $ng/access.log;
    client_body_temp_path $ng/body;
    proxy_temp_path $ng/proxy;
    fastcgi_temp_path $ng/fastcgi;
    uwsgi_temp_path $ng/uwsgi;
    scgi_temp_path $ng/scgi;
    include $ng/site.conf;
}
EOF
    # nginx -t reports warnings but still exits 0: a warning fails here too.
    if out=$(nginx -t -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" 2>&1) && ! grep -q '\[warn\]' <<<"$out"; then
        ok "nginx -t $name"
    else
        bad "nginx -t $name"
        printf '%s\n' "$out" | sed 's/^/     /'
    fi
    # ltc-secrets holds every key: no proxy of any kind may point at its port.
    if grep -nE '^[^#]*(_pass|server)[[:space:]][^;]*:8300\b' "$site"; then
        bad "$name proxies ltc-secrets (port 8300)"
    else
        ok "$name does not expose ltc-secrets"
    fi
done

# --- 4. shell scripts -----------------------------------------------------------------------------
while IFS= read -r -d '' script; do
    rel=${script#"$repo"/}
    if bash -n "$script" 2>"$work/bash-n.txt"; then ok "bash -n $rel"; else bad "bash -n $rel"; sed 's/^/     /' "$work/bash-n.txt"; fi
    if out=$(shellcheck -x -P SCRIPTDIR "$script" 2>&1); then ok "shellcheck $rel"; else bad "shellcheck $rel"; printf '%s\n' "$out" | sed 's/^/     /'; fi
done < <(find "$here" \( -name '*.sh' -o -name ltc-secrets-java \) -type f -print0 | sort -z)

# --- 5. polkit ------------------------------------------------------------------------------------
# The units the policies restart must be exactly what the rule allows, and must exist as unit files.
allow=()
for policy in "$repo"/policies/environments/*.yaml; do
    [ -e "$policy" ] || continue
    line=$(grep -E '^[[:space:]]*restartCommand:' "$policy" || true)
    [ -n "$line" ] || continue
    target=$(sed -n 's/^[[:space:]]*restartCommand:[[:space:]]*\[[[:space:]]*"systemctl",[[:space:]]*"restart",[[:space:]]*"\([A-Za-z0-9@_.-]*\)"[[:space:]]*\].*/\1/p' <<<"$line")
    if [ -z "$target" ]; then
        bad "$(basename "$policy"): restartCommand must be [\"systemctl\", \"restart\", \"<unit>\"], the only restart the polkit rule allows"
        continue
    fi
    case "$target" in *.service) ;; *) target="$target.service" ;; esac
    if [ -e "$here/systemd/$target" ]; then ok "$(basename "$policy") restarts $target, which is shipped"; else bad "$(basename "$policy") restarts $target, not in systemd/"; fi
    allow+=("\"$target\"")
done
for rules in "$here"/polkit/*.rules; do
    [ -e "$rules" ] || continue
    name=$(basename "$rules")
    if [ "$name" = 50-ltc-secrets-restart-api.rules ]; then
        js="runRuleTests([$(IFS=,; echo "${allow[*]}")])"
    else
        js='if (rules.length < 1) { throw new Error("no polkit.addRule"); }'
    fi
    if out=$(cd "$here/polkit" && duk rule-test.js "$rules" -e "$js" 2>&1); then
        ok "polkit $name${out:+ (${out%%$'\n'*})}"
    else
        bad "polkit $name"
        printf '%s\n' "$out" | sed 's/^/     /'
    fi
done

# --- 6. core dumps and users ------------------------------------------------------------------------
# unit_value UNIT KEY: the last assignment of KEY= in UNIT (later lines win, as in systemd).
unit_value() { sed -n "s/^$2=[[:space:]]*//p" "$1" | tail -n 1; }
for unit in "$here"/systemd/*.service; do
    [ -e "$unit" ] || continue
    name=$(basename "$unit")
    if [ "$(unit_value "$unit" LimitCORE)" = 0 ]; then ok "$name: LimitCORE=0"; else bad "$name: no LimitCORE=0 (a core dump would hold its keys)"; fi
done
declare -A app_user_of=()
for policy in "$repo"/policies/environments/*.yaml; do
    [ -e "$policy" ] || continue
    pname=$(basename "$policy")
    target=$(sed -n 's/^[[:space:]]*restartCommand:.*"restart",[[:space:]]*"\([A-Za-z0-9@_.-]*\)".*/\1/p' "$policy")
    [ -n "$target" ] || continue
    case "$target" in *.service) ;; *) target="$target.service" ;; esac
    unit="$here/systemd/$target"
    [ -e "$unit" ] || continue
    user=$(sed -n 's/^[[:space:]]*user:[[:space:]]*\([a-z_][a-z0-9_-]*\).*/\1/p' "$policy" | head -n 1)
    unit_user=$(unit_value "$unit" User)
    if [ -n "$user" ] && [ "$user" = "$unit_user" ] && [ "$(unit_value "$unit" Group)" = "$user" ]; then
        ok "$pname: app.user $user is User=/Group= of $target"
    else
        bad "$pname: app.user '${user:-none}' is not User=/Group= '$unit_user' of $target"
    fi
    if grep -qE "^ensure_account $unit_user " "$here/install.sh"; then ok "install.sh creates $unit_user"; else bad "install.sh does not create $unit_user"; fi
    app_user_of[$target]=$unit_user
done
for a in "${!app_user_of[@]}"; do
    for b in "${!app_user_of[@]}"; do
        if [[ $a < $b ]] && [ "${app_user_of[$a]}" = "${app_user_of[$b]}" ]; then
            bad "$a and $b run as the same user ${app_user_of[$a]}: one could read the other's /proc/<pid>/environ"
        fi
    done
done
[ ${#app_user_of[@]} -lt 2 ] || ok "app units run as distinct users: $(for a in "${!app_user_of[@]}"; do printf '%s=%s ' "$a" "${app_user_of[$a]}"; done)"

echo "deploy-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
