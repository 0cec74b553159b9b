#!/usr/bin/env python3
"""A stand-in for the LifeTimeCircle API on a laptop: the app whose env file ltc-secrets writes.

It does what matters to a rotation and nothing else: it reads its env file once, at start (as the
real API gets it from systemd's EnvironmentFile=), refuses to start without an LTC_SECRET_KEY of at
least 32 characters, and answers GET /health with 200 once it is up. A rotation restarts it with
demo-app/restart.sh and polls /health. Python 3 standard library only.

    python3 demo-app/app.py ENV_FILE PORT
"""
import hashlib
import http.server
import json
import sys

MIN_KEY_LENGTH = 32


def read_env_file(path):
    """NAME=value lines; '#' comments and blank lines skipped; a value in single quotes is taken literally."""
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise ValueError("a line without '=' in " + path)
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            values[name.strip()] = value
    return values


def main(argv):
    if len(argv) != 3:
        print("usage: app.py ENV_FILE PORT", file=sys.stderr)
        return 64
    env_file, port = argv[1], int(argv[2])
    try:
        env = read_env_file(env_file)
    except (OSError, ValueError) as e:
        print("demo-app: cannot read the env file: %s" % e, file=sys.stderr)
        return 78
    key = env.get("LTC_SECRET_KEY", "")
    if len(key) < MIN_KEY_LENGTH:
        # The length, never the value: a log is no place for a key, even a short one.
        print("demo-app: refusing to start: LTC_SECRET_KEY in %s has %d characters, at least %d are required"
              % (env_file, len(key), MIN_KEY_LENGTH), file=sys.stderr)
        return 78
    # What /health shows of the key: a short fingerprint, so a rotation can be seen from outside.
    fingerprint = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    body = json.dumps({"status": "UP", "env": env.get("LTC_ENV"), "keyFingerprint": fingerprint}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/health":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass  # one line per health poll would drown the log

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    print("demo-app: %s up on 127.0.0.1:%d, LTC_SECRET_KEY sha256 %s..." % (env.get("LTC_ENV"), port, fingerprint),
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
