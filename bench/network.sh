#!/usr/bin/env bash
# Networking benchmark (bench/network.ts): container start on the default bridge vs --network none,
# and container-to-container TCP throughput over the bridge vs the host's loopback, side by side in
# one run against one test berthd (its own bridge and subnets; all removed at the end). Writes its
# section of bench/RESULTS.md. Usage: bench/network.sh [--no-build] [-n ROUNDS] [-w WARMUP]
#                                                        [--tput-rounds N] [--mib N] [--iperf-secs N] [--out FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ "$(id -u)" = 0 ] || { echo "bench/network.sh must run as root" >&2; exit 1; }
if [ "${1:-}" = --no-build ]; then shift; else npx tsc -p tsconfig.json >/dev/null || true; fi
# iperf3 measures the bulk throughput (its binary and libraries are copied into a test image).
command -v iperf3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q iperf3 >/dev/null || echo "iperf3 not installed: its rows are left out" >&2
exec nice -n -10 node --import tsx bench/network.ts "$@"
