#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: install, build, start berthd in
# the background, make the offline base image busybox:latest, run a container.
# Run it again and it only does what is still missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

SOCK=${BERTH_SOCK:-/run/berth.sock}
export BERTH_HOST="unix://$SOCK"
if ! berth version >/dev/null 2>&1; then
  echo "quickstart: starting berthd (log: /var/log/berthd.log)"
  setsid berthd -H "$BERTH_HOST" >>/var/log/berthd.log 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
  berth version >/dev/null || { echo "berthd did not start; see /var/log/berthd.log" >&2; tail -5 /var/log/berthd.log >&2; exit 1; }
fi

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
  echo "quickstart: creating busybox:latest from the host's busybox-static"
  tar=$(mktemp --suffix=.tar)
  bash scripts/make-busybox-rootfs.sh "$tar"
  berth import -c 'CMD ["sh"]' "$tar" busybox:latest >/dev/null
  rm -f "$tar"
fi

berth run --rm busybox echo "Hello from berth: a container ran in its own namespaces on $(uname -r)"
