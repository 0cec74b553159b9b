#!/usr/bin/env bash
# fetch.sh — only the env-file fetch against nginx and /health (rotation-fetch.sh without the rotations).
# Knobs as rotation-fetch.sh: APP, RUNS, DURATION, WARMUP, NGINX_PORT, JAVA_EXTRA, KEEP.
exec env ROTATIONS=0 "$(dirname "$0")/rotation-fetch.sh" "$@"
