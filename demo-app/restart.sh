#!/usr/bin/env bash
# The demo app's restart command, what `systemctl restart lifetimecircle-api` is on a host:
# stops the running instance (pid file), starts a new one detached that reads ENV_FILE at start,
# and exits 0 once it listens on PORT, or 1 (with the app's last words) if it did not come up.
#
#   demo-app/restart.sh ENV_FILE PORT [STATE_DIR]     STATE_DIR (pid and log files): ./data/demo-app
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then echo "usage: restart.sh ENV_FILE PORT [STATE_DIR]" >&2; exit 64; fi
env_file=$1 port=$2 state=${3:-data/demo-app}
[[ $port =~ ^[0-9]{1,5}$ ]] || { echo "restart.sh: PORT must be a number: $port" >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$env_file" .env)
mkdir -p "$state"
pid_file=$state/$name.pid log=$state/$name.log

ours() { # the pid is alive and is our app.py, not a recycled pid of something else
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF "$here/app.py"
}

if [ -s "$pid_file" ]; then
  old=$(cat "$pid_file")
  if ours "$old"; then
    kill "$old"
    for _ in $(seq 100); do ours "$old" || break; sleep 0.1; done
    if ours "$old"; then kill -9 "$old"; fi
  fi
  rm -f "$pid_file"
fi

# Something else on the port would answer the health check in the new instance's place.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "demo-app $name not started: port $port is in use by another process"
  exit 1
fi
# setsid + nohup: the app outlives this script and the rotation that ran it; no terminal, no inherited pipes.
setsid nohup python3 "$here/app.py" "$env_file" "$port" >> "$log" 2>&1 < /dev/null &
pid=$!
echo "$pid" > "$pid_file"
for _ in $(seq 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo-app $name did not start: $(tail -n 1 "$log")"
    rm -f "$pid_file"
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo-app $name restarted (pid $pid, port $port)"
    exit 0
  fi
  sleep 0.1
done
echo "demo-app $name (pid $pid) not listening on port $port after 10 s"
exit 1
