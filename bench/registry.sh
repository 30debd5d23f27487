#!/usr/bin/env bash
# Registry benchmark: `berth registry serve` vs Debian's docker-registry (distribution 2.8, with its
# packaged default of an in-memory blob descriptor cache), side by side in one run, same client
# (skopeo) and the same image (~SIZE MB in 4 random-data layers). Optionally a second berth build
# (--baseline DIR: a checkout or copy with dist/ and bin/, named by its .bench-label file or git
# revision) runs beside them, for before/after.
#  - push and pull: `skopeo copy oci: -> docker://` and back, wall time and the server's own CPU
#    time (utime+stime of all its threads), median of ROUNDS rounds; every round starts every
#    server afresh on an empty root, and the order of the servers rotates from round to round;
#  - manifest GET and HEAD with 32 concurrent keep-alive clients (bench/registry-load.ts) for SECS
#    seconds each: requests/s, p50/p99 latency, and requests per second of server CPU;
#  - memory: RSS when idle (1 s after start), peak RSS (VmHWM) after push+pull and after the load,
#    and at those points the private memory (smaps_rollup Private_*: RSS without the pages shared
#    with other processes, which for a Node server is mostly the node binary's code).
# The machine is shared, so the load average and how busy the CPUs were during the run are recorded
# with the figures; read ratios between columns of one run, and server CPU time, more than absolute
# times. Everything listens on 127.0.0.1, lives under one mktemp dir, and is stopped by PID.
# Writes its section of bench/RESULTS.md between <!-- registry:begin/end --> (bench/registry-report.ts;
# the hand-written analysis between <!-- registry-analysis:begin/end --> is kept).
# Usage: bash bench/registry.sh [--size MB] [--secs S] [--rounds N] [--baseline DIR] [--nice N]
#                               [--out FILE] [--no-build]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE_MB=200
SECS=10
ROUNDS=5
BASELINE=''
NICE=-10
OUT=$ROOT/bench/RESULTS.md
BUILD=1
CONC=32
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --size) SIZE_MB=${2:?}; shift ;;
    --secs) SECS=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --baseline) BASELINE=$(cd "${2:?}" && pwd); shift ;;
    --nice) NICE=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
# A shared 2-CPU host: a higher priority for this script and all it starts keeps some noise out.
if [ "$NICE" != 0 ] && [ -z "${BERTH_BENCH_NICED:-}" ] && [ "$(id -u)" = 0 ]; then
  export BERTH_BENCH_NICED=1
  exec nice -n "$NICE" bash "$0" "${ORIG_ARGS[@]}"
fi
for c in skopeo docker-registry node jq curl; do
  command -v "$c" >/dev/null || { echo "bench/registry.sh: $c is missing (apt-get install -y skopeo docker-registry jq curl)" >&2; exit 1; }
done
cd "$ROOT"
if [ "$BUILD" = 1 ]; then npx tsc -p tsconfig.json >/dev/null || echo "bench/registry.sh: tsc reported errors (dist/ was still written)" >&2; fi
[ -z "$BASELINE" ] || [ -f "$BASELINE/bin/berth" ] || { echo "bench/registry.sh: --baseline $BASELINE has no bin/berth" >&2; exit 1; }

W=$(mktemp -d /tmp/berth-regbench-XXXXXX)
RAW=$W/raw.jsonl
declare -A PID=() HOST=()
cleanup() {
  for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
log() { printf '[registry-bench %s] %s\n' "$(date +%T)" "$*" >&2; }

SERVERS=(berth)
[ -n "$BASELINE" ] && SERVERS+=(baseline)
SERVERS+=(distribution)

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
now() { date +%s.%N; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_mb() { awk -v k="$2" '$1 == k":" {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# Memory only this process holds (RSS less pages shared with others, such as the node binary's code).
priv_mb() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {printf "%.1f", s/1024}' "/proc/$1/smaps_rollup"; }
cpu_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
wait_up() { for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://$1/v2/" 2>/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; return 1; }
emit() { echo "$1" >>"$RAW"; }
num() { printf '%.3f' "$(echo "$1" | bc -l)"; }   # a JSON-safe number from a bc expression

start_server() { # name round
  local name=$1 r=$2 port
  port=$(free_port)
  case $name in
    berth) node bin/berth registry serve --addr "127.0.0.1:$port" --root "$W/$name-root$r" >"$W/$name$r.log" 2>&1 & ;;
    baseline) node "$BASELINE/bin/berth" registry serve --addr "127.0.0.1:$port" --root "$W/$name-root$r" >"$W/$name$r.log" 2>&1 & ;;
    distribution)
      cat >"$W/distribution$r.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $W/$name-root$r
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
      docker-registry serve "$W/distribution$r.yml" >"$W/$name$r.log" 2>&1 & ;;
  esac
  PID[$name]=$!
  HOST[$name]=127.0.0.1:$port
}
stop_servers() {
  for n in "${SERVERS[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; wait "${PID[$n]}" 2>/dev/null || true; unset "PID[$n]"; done
  rm -rf "$W"/*-root* "$W"/out-*
}

read -r LOAD_BEFORE < <(cut -d' ' -f1-3 /proc/loadavg)
read -r BUSY0 TOTAL0 < <(cpu_busy)
T0=$(now)
log "building a $SIZE_MB MB image"
read -r DIGEST TOTAL < <(node --import tsx bench/registry-image.ts "$W/image" bench "$SIZE_MB" 4)

for r in $(seq 1 "$ROUNDS"); do
  # Rotate which server goes first.
  order=()
  for i in "${!SERVERS[@]}"; do order+=("${SERVERS[$(((i + r - 1) % ${#SERVERS[@]}))]}"); done
  log "round $r/$ROUNDS: ${order[*]}"
  for n in "${SERVERS[@]}"; do start_server "$n" "$r"; done
  for n in "${SERVERS[@]}"; do wait_up "${HOST[$n]}"; done
  sleep 1
  for n in "${SERVERS[@]}"; do emit "{\"kind\":\"idle\",\"server\":\"$n\",\"rssMb\":$(rss_mb "${PID[$n]}" VmRSS),\"privMb\":$(priv_mb "${PID[$n]}")}"; done
  for n in "${order[@]}"; do
    h=${HOST[$n]}; p=${PID[$n]}
    c0=$(ticks "$p"); t0=$(now)
    skopeo copy -q --dest-tls-verify=false "oci:$W/image:bench" "docker://$h/bench/img:v1"
    t1=$(now); c1=$(ticks "$p")
    emit "{\"kind\":\"push\",\"server\":\"$n\",\"round\":$r,\"s\":$(num "$t1 - $t0"),\"cpuS\":$(num "($c1 - $c0) / 100")}"
    c0=$(ticks "$p"); t0=$(now)
    skopeo copy -q --src-tls-verify=false "docker://$h/bench/img:v1" "oci:$W/out-$n$r:v1"
    t1=$(now); c1=$(ticks "$p")
    emit "{\"kind\":\"pull\",\"server\":\"$n\",\"round\":$r,\"s\":$(num "$t1 - $t0"),\"cpuS\":$(num "($c1 - $c0) / 100")}"
    got=$(jq -r '.manifests[0].digest' "$W/out-$n$r/index.json")
    [ "$got" = "$DIGEST" ] || { echo "$n: pulled digest $got != pushed $DIGEST" >&2; exit 1; }
    rm -rf "$W/out-$n$r"
  done
  for n in "${SERVERS[@]}"; do emit "{\"kind\":\"copyPeak\",\"server\":\"$n\",\"round\":$r,\"rssMb\":$(rss_mb "${PID[$n]}" VmHWM),\"privMb\":$(priv_mb "${PID[$n]}")}"; done
  if [ "$r" -lt "$ROUNDS" ]; then stop_servers; fi
done

log "manifest load: $CONC clients, ${SECS}s per method and server"
for m in GET HEAD; do
  for n in "${SERVERS[@]}"; do
    p=${PID[$n]}
    c0=$(ticks "$p")
    res=$(node --import tsx bench/registry-load.ts "http://${HOST[$n]}/v2/bench/img/manifests/v1" "$m" "$CONC" "$SECS")
    c1=$(ticks "$p")
    emit "{\"kind\":\"load\",\"server\":\"$n\",\"method\":\"$m\",\"cpuS\":$(num "($c1 - $c0) / 100"),\"result\":$res}"
  done
done
for n in "${SERVERS[@]}"; do emit "{\"kind\":\"loadPeak\",\"server\":\"$n\",\"rssMb\":$(rss_mb "${PID[$n]}" VmHWM),\"privMb\":$(priv_mb "${PID[$n]}")}"; done
stop_servers

read -r BUSY1 TOTAL1 < <(cpu_busy)
read -r LOAD_AFTER < <(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(num "$(now) - $T0")
BUSY_PCT=$(num "100 * ($BUSY1 - $BUSY0) / ($TOTAL1 - $TOTAL0)")
baseline_rev=''
# The baseline's name: its .bench-label file (a copied dist/ has no git), else its git revision.
[ -n "$BASELINE" ] && baseline_rev=$(cat "$BASELINE/.bench-label" 2>/dev/null || git -C "$BASELINE" rev-parse --short HEAD 2>/dev/null || echo "copy at $BASELINE")
jq -nc \
  --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg cpu "$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)" \
  --arg cores "$(nproc)" --arg memGb "$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)" --arg kernel "$(uname -r)" \
  --arg node "$(node --version)" --arg skopeo "$(skopeo --version | awk '{print $3}')" \
  --arg distribution "$(docker-registry --version | awk '{print $3}')" --arg rev "$(git rev-parse --short HEAD)$(git diff --quiet -- src/registry 2>/dev/null || echo '+changes')" \
  --arg baseline "$baseline_rev" --arg loadBefore "$LOAD_BEFORE" --arg loadAfter "$LOAD_AFTER" \
  --argjson busy "$BUSY_PCT" --argjson elapsed "$ELAPSED" --argjson size "$SIZE_MB" --argjson bytes "$TOTAL" \
  --arg digest "$DIGEST" --argjson rounds "$ROUNDS" --argjson secs "$SECS" --argjson conc "$CONC" \
  --arg cmd "bash bench/registry.sh ${ORIG_ARGS[*]}" \
  '{kind:"run", date:$date, cpu:$cpu, cores:$cores, memGb:$memGb, kernel:$kernel, node:$node, skopeo:$skopeo,
    distribution:$distribution, rev:$rev, baseline:$baseline, loadBefore:$loadBefore, loadAfter:$loadAfter,
    busyPct:$busy, elapsedS:$elapsed, sizeMb:$size, bytes:$bytes, digest:$digest, rounds:$rounds, secs:$secs,
    concurrency:$conc, command:$cmd}' >>"$RAW"
node --import tsx bench/registry-report.ts --raw "$RAW" --out "$OUT"
log "wrote the registry section of $OUT"
