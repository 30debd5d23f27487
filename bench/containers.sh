#!/usr/bin/env bash
# Container operations at scale, berthd vs Debian's dockerd side by side with the same docker CLI:
# the create+start+stop+rm loop over COUNT containers (--network none), `ps -a` with PS_COUNT
# created containers, one-shot `stats --no-stream` of a running container, and memory with RUNNING
# running containers (berthd's RSS, conmon's per-container cost vs containerd's shim). Then berthd
# once more under `node --cpu-prof` over the same operations, for where its CPU goes.
# Writes its section of bench/RESULTS.md (between <!-- containers:begin/end -->, through
# bench/containers-report.ts). Everything it creates lives under one mktemp dir, removed at exit
# with every daemon and container it started (daemons stopped by PID), even on failure or Ctrl-C.
# Usage: bench/containers.sh [-n ROUNDS] [--count N] [--api-count N] [--ps-count N] [--ps-runs N]
#                            [--stats-runs N] [--running N] [--nice N] [--quiet-wait SECONDS] [--out FILE]
#                            [--install-peers] [--no-dockerd] [--no-profile] [--no-build] [--keep]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3
COUNT=100
PS_COUNT=1000
PS_RUNS=20
STATS_RUNS=10
RUNNING=100
API_COUNT=20
NICE=-10
QUIET_WAIT=120
OUT=$ROOT/bench/RESULTS.md
INSTALL_PEERS=0
USE_DOCKERD=1
PROFILE=1
BUILD=1
KEEP=0
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    -n) ROUNDS=${2:?}; shift ;;
    --count) COUNT=${2:?}; shift ;;
    --ps-count) PS_COUNT=${2:?}; shift ;;
    --ps-runs) PS_RUNS=${2:?}; shift ;;
    --stats-runs) STATS_RUNS=${2:?}; shift ;;
    --running) RUNNING=${2:?}; shift ;;
    --api-count) API_COUNT=${2:?}; shift ;;
    --nice) NICE=${2:?}; shift ;;
    --quiet-wait) QUIET_WAIT=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --install-peers) INSTALL_PEERS=1 ;;
    --no-dockerd) USE_DOCKERD=0 ;;
    --no-profile) PROFILE=0 ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "containers.sh must run as root (containers need it)" >&2; exit 1; }
# A shared 2-CPU host: a higher priority for this script and all it starts keeps some noise out.
if [ "$NICE" != 0 ] && [ -z "${BERTH_BENCH_NICED:-}" ]; then
  export BERTH_BENCH_NICED=1
  exec nice -n "$NICE" bash "$0" "${ORIG_ARGS[@]}"
fi
for c in runc conmon curl node xargs; do
  command -v "$c" >/dev/null || { echo "missing: $c" >&2; exit 1; }
done
# The docker CLI 28 at /usr/local/bin; Debian's docker.io puts an older one at /usr/bin/docker.
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || { echo "missing: docker CLI" >&2; exit 1; }

W=$(mktemp -d /tmp/berth-ctrbench.XXXXXX)
TAG=berth-ctrbench-${W##*.}          # container names and cgroup parents
RAW=$W/raw
mkdir -p "$RAW"/{times,err,prof} "$W"/logs
LOG_TAG=containers
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BERTHD_PID=''
BH=unix://$W/berthd.sock
note_side_paths

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$BERTHD_PID" ]; then remove_containers "$BH"; stop_pid "$BERTHD_PID" 20; fi
  if [ -n "$DOCKERD_PID" ]; then remove_containers "$DH"; stop_pid "$DOCKERD_PID" 30; fi
  umount_under "$W"
  # Cgroups this run made (all named after $TAG).
  for d in /sys/fs/cgroup/*/"$TAG"* /sys/fs/cgroup/*/*/"$TAG"*; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  clean_side_paths
  if [ "$KEEP" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The container every loop makes: exits at once on SIGTERM (a plain `sleep` as PID 1 ignores it,
# and stop would wait its 10 s timeout), so stop measures the engine, not a grace period.
CMD=(sh -c 'trap "exit 0" TERM; sleep 1000 & wait')

start_berthd() { # start_berthd [node flags…]: berthd on its own socket and roots, with bin/berthd's own flags too → BERTHD_PID
  env -S "$(berthd_launcher)" "$@" bin/berthd --data-root "$W/berthd/data" --exec-root "$W/berthd/exec" -H "$BH" \
    --cgroup-parent "/$TAG" >>"$W/logs/berthd.log" 2>&1 </dev/null &
  BERTHD_PID=$!
  wait_sock "$W/berthd.sock" 30 "$W/logs/berthd.log"
}

# ---------------------------------------------------------------- set-up
cd "$ROOT"
BUILD_NOTE='not rebuilt (--no-build)'
if [ "$BUILD" = 1 ]; then
  log "building (tsc)"
  BUILD_NOTE=$(build_berth)
fi
{
  machine_facts
  printf 'build\t%s\n' "$BUILD_NOTE"
  printf 'rounds\t%s\n' "$ROUNDS"
  printf 'count\t%s\n' "$COUNT"
  printf 'api_count\t%s\n' "$API_COUNT"
  printf 'ps_count\t%s\n' "$PS_COUNT"
  printf 'running\t%s\n' "$RUNNING"
  printf 'command\t%s\n' "bench/containers.sh ${ORIG_ARGS[*]}"
} >"$RAW/machine.tsv"

log "making the busybox rootfs tar"
bash scripts/make-busybox-rootfs.sh "$W/busybox.tar"

log "starting berthd"
start_berthd
DOCKER_HOST=$BH "$DOCKER" import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null

DAEMONS=(berthd)
declare -A HOST=([berthd]=$BH)
if [ "$USE_DOCKERD" = 1 ]; then
  if ! command -v dockerd >/dev/null && [ "$INSTALL_PEERS" = 1 ]; then install_docker_io docker.io; fi
  if command -v dockerd >/dev/null; then
    log "starting dockerd on its own socket and roots"
    if start_dockerd "/$TAG-dockerd"; then
      DOCKER_HOST=$DH "$DOCKER" import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null
      printf 'dockerd\t%s\n' "$(dockerd --version)" >>"$RAW/machine.tsv"
      DAEMONS+=(dockerd)
      HOST[dockerd]=$DH
    else
      printf 'dockerd_skip\tdockerd did not start: %s\n' "$(tail -1 "$W/logs/dockerd.log")" >>"$RAW/machine.tsv"
    fi
  else
    printf 'dockerd_skip\tdockerd is not installed (rerun with --install-peers)\n' >>"$RAW/machine.tsv"
  fi
else
  printf 'dockerd_skip\tleft out (--no-dockerd)\n' >>"$RAW/machine.tsv"
fi

dk() { local d=$1; shift; DOCKER_HOST=${HOST[$d]} "$DOCKER" "$@"; }
sock_of() { if [ "$1" = berthd ]; then echo "$W/berthd.sock"; else echo "$W/dockerd/docker.sock"; fi; }
# api DAEMON PATH: one Engine API GET with curl (no CLI start-up), body discarded.
api() { curl -fsS -o /dev/null --unix-socket "$(sock_of "$1")" "http://x$2"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

QUIET_NOTE=$(wait_quiet "$QUIET_WAIT")
printf 'quiet\t%s\n' "$QUIET_NOTE" >>"$RAW/machine.tsv"
log "quiet check: $QUIET_NOTE"

# ---------------------------------------------------------------- 1. lifecycle loop
# One round = COUNT × (create, start, stop, rm) through the docker CLI on each daemon, the daemon
# order alternating between rounds; each step is timed, and the whole loop too.
lifecycle() { # lifecycle DAEMON ROUND COUNT RECORD(0|1)
  local d=$1 r=$2 n=$3 rec=$4 i name t0
  t0=$(now_us)
  for ((i = 0; i < n; i++)); do
    name=$TAG-lc-$r-$i
    if [ "$rec" = 1 ]; then
      timeit "lc_${d}_create" dk "$d" create --network none --name "$name" busybox "${CMD[@]}"
      timeit "lc_${d}_start" dk "$d" start "$name"
      timeit "lc_${d}_stop" dk "$d" stop "$name"
      timeit "lc_${d}_rm" dk "$d" rm "$name"
    else
      { dk "$d" create --network none --name "$name" busybox "${CMD[@]}" && dk "$d" start "$name" &&
        dk "$d" stop "$name" && dk "$d" rm "$name"; } >/dev/null 2>&1 || true
    fi
  done
  [ "$rec" = 1 ] && printf '%s\t%s\t%s\t%s\n' "$d" "$r" "$(( $(now_us) - t0 ))" "$(load1)" >>"$RAW/lifecycle.tsv"
  return 0
}
log "lifecycle: warm-up"
for d in "${DAEMONS[@]}"; do lifecycle "$d" w 3 0; done
for ((r = 0; r < ROUNDS; r++)); do
  order=("${DAEMONS[@]}")
  [ $((r % 2)) = 1 ] && [ ${#order[@]} = 2 ] && order=("${order[1]}" "${order[0]}")
  for d in "${order[@]}"; do
    log "lifecycle round $((r + 1))/$ROUNDS: $COUNT containers on $d"
    lifecycle "$d" "$r" "$COUNT" 1
  done
done

# The same loop through the Engine API alone (curl: a few ms a call instead of a CLI process),
# API_COUNT containers a round: the daemons' own share, without the client both pay alike.
lifecycle_api() { # lifecycle_api DAEMON ROUND COUNT
  local d=$1 r=$2 n=$3 i name sock t0
  sock=$(sock_of "$d")
  t0=$(now_us)
  for ((i = 0; i < n; i++)); do
    name=$TAG-api-$r-$i
    timeit "lcapi_${d}_create" curl -fsS -o /dev/null --unix-socket "$sock" -H 'Content-Type: application/json' \
      -d '{"Image":"busybox","Cmd":["sh","-c","trap \"exit 0\" TERM; sleep 1000 & wait"],"HostConfig":{"NetworkMode":"none"}}' \
      "http://x/containers/create?name=$name"
    timeit "lcapi_${d}_start" curl -fsS -o /dev/null --unix-socket "$sock" -X POST "http://x/containers/$name/start"
    timeit "lcapi_${d}_stop" curl -fsS -o /dev/null --unix-socket "$sock" -X POST "http://x/containers/$name/stop"
    timeit "lcapi_${d}_rm" curl -fsS -o /dev/null --unix-socket "$sock" -X DELETE "http://x/containers/$name"
  done
  printf '%s\t%s\t%s\t%s\n' "$d" "$r" "$(( $(now_us) - t0 ))" "$(load1)" >>"$RAW/lifecycle_api.tsv"
}
for ((r = 0; r < ROUNDS; r++)); do
  order=("${DAEMONS[@]}")
  [ $((r % 2)) = 1 ] && [ ${#order[@]} = 2 ] && order=("${order[1]}" "${order[0]}")
  for d in "${order[@]}"; do
    log "lifecycle through the API, round $((r + 1))/$ROUNDS: $API_COUNT containers on $d"
    lifecycle_api "$d" "$r" "$API_COUNT"
  done
done

# What every docker CLI call costs whichever daemon answers (process start-up, _ping, one GET),
# and one runc start-up: the floor under each lifecycle step.
FLOOR_CASES=()
declare -A FLOOR_CMD=()
for d in "${DAEMONS[@]}"; do
  FLOOR_CASES+=("floor_version_$d")
  FLOOR_CMD[floor_version_$d]="dk $d version"
done
FLOOR_CASES+=(floor_runc)
FLOOR_CMD[floor_runc]="runc --version"
log "floor: docker version and runc --version, 20 rounds"

# ---------------------------------------------------------------- 2. ps -a with PS_COUNT containers
log "ps: creating $PS_COUNT containers on each daemon"
for d in "${DAEMONS[@]}"; do
  t0=$(now_us)
  seq 1 "$PS_COUNT" | xargs -P 4 -I{} env DOCKER_HOST="${HOST[$d]}" "$DOCKER" create --network none \
    --name "$TAG-ps-{}" --label "bench=$TAG" busybox true >/dev/null 2>>"$RAW/err/ps_create_$d"
  printf 'create_%s\t%s\n' "$d" "$(( $(now_us) - t0 ))" >>"$RAW/ps_setup.tsv"
  printf 'count_%s\t%s\n' "$d" "$(dk "$d" ps -aq | wc -l)" >>"$RAW/ps_setup.tsv"
done
PS_CASES=()
declare -A PS_CMD=()
for d in "${DAEMONS[@]}"; do
  PS_CASES+=("ps_docker_$d" "ps_api_$d")
  PS_CMD[ps_docker_$d]="dk $d ps -a"
  PS_CMD[ps_api_$d]="api $d /containers/json?all=1"
done
PS_CASES+=(ps_berth_berthd)
PS_CMD[ps_berth_berthd]="bin/berth -H $BH ps -a"
# rounds CASES… (from the named array): each once per round, the first rotating.
interleave() { # interleave RUNS ARRAY_NAME CMD_ARRAY_NAME
  local runs=$1 r i k c
  local -n cases=$2 cmds=$3
  local -
  set -f   # API paths hold "?": no globbing of the command words
  k=${#cases[@]}
  for ((r = 0; r < runs; r++)); do
    for ((i = 0; i < k; i++)); do
      c=${cases[$(((r + i) % k))]}
      # shellcheck disable=SC2086 # the command is a word list
      timeit "$c" ${cmds[$c]}
    done
    load1 >>"$RAW/load.txt"
  done
}
interleave 20 FLOOR_CASES FLOOR_CMD
for c in "${PS_CASES[@]}"; do eval "${PS_CMD[$c]}" >/dev/null 2>&1 || true; done   # warm-up
log "ps: $PS_RUNS rounds"
interleave "$PS_RUNS" PS_CASES PS_CMD

# ---------------------------------------------------------------- 3. one-shot stats
log "stats: one running container on each daemon"
STATS_CASES=()
declare -A STATS_CMD=()
for d in "${DAEMONS[@]}"; do
  dk "$d" run -d --network none --name "$TAG-st" busybox "${CMD[@]}" >/dev/null
  STATS_CASES+=("stats_docker_$d" "stats_api_$d" "stats_oneshot_$d")
  STATS_CMD[stats_docker_$d]="dk $d stats --no-stream $TAG-st"
  STATS_CMD[stats_api_$d]="api $d /containers/$TAG-st/stats?stream=false"
  STATS_CMD[stats_oneshot_$d]="api $d /containers/$TAG-st/stats?stream=false&one-shot=true"
done
STATS_CASES+=(stats_berth_berthd)
STATS_CMD[stats_berth_berthd]="bin/berth -H $BH stats --no-stream $TAG-st"
sleep 2
for c in "${STATS_CASES[@]}"; do eval "${STATS_CMD[$c]}" >/dev/null 2>&1 || true; done   # warm-up
log "stats: $STATS_RUNS rounds"
interleave "$STATS_RUNS" STATS_CASES STATS_CMD

# ---------------------------------------------------------------- 4. CPU profile of berthd
# berthd restarted under node --cpu-prof on the same roots (containers keep running: conmon holds
# them); the report keeps the samples between CLOCK_MONOTONIC marks, one window per operation.
if [ "$PROFILE" = 1 ]; then
  log "profile: berthd under node --cpu-prof"
  stop_pid "$BERTHD_PID" 20
  BERTHD_PID=''
  start_berthd --cpu-prof --cpu-prof-dir="$RAW/prof"
  dk berthd ps -a >/dev/null; dk berthd stats --no-stream "$TAG-st" >/dev/null   # lazily loaded modules
  lifecycle berthd pw 2 0
  { printf 'ps\t%s\t' "$(mono_us)"; for _ in $(seq 20); do dk berthd ps -a >/dev/null; done; mono_us; } >>"$RAW/prof/windows.tsv"
  { printf 'stats\t%s\t' "$(mono_us)"; for _ in $(seq 20); do dk berthd stats --no-stream "$TAG-st" >/dev/null; done; mono_us; } >>"$RAW/prof/windows.tsv"
  { printf 'lifecycle\t%s\t' "$(mono_us)"; lifecycle berthd p 20 0; mono_us; } >>"$RAW/prof/windows.tsv"
  printf 'runs\tps=20 stats=20 lifecycle=20\n' >>"$RAW/prof/windows.tsv"
  stop_pid "$BERTHD_PID" 20   # the profile is written on exit
  BERTHD_PID=''
  start_berthd
fi

# ---------------------------------------------------------------- 5. memory with RUNNING containers
log "memory: removing the ps containers; both daemons restarted, so the baseline is an idle daemon"
for d in "${DAEMONS[@]}"; do remove_containers "${HOST[$d]}"; done
stop_pid "$BERTHD_PID" 20
BERTHD_PID=''
start_berthd
if [ -n "$DOCKERD_PID" ]; then
  stop_pid "$DOCKERD_PID" 30
  DOCKERD_PID=''
  start_dockerd "/$TAG-dockerd" || { log "dockerd did not come back"; DAEMONS=(berthd); }
fi
dk berthd ps -a >/dev/null
[ -n "$DOCKERD_PID" ] && dk dockerd ps -a >/dev/null
sleep 5
rss_row() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$(vmrss_kb "$3")" "$(pss_kb "$3")" >>"$RAW/rss.tsv"; }
CTR_PID=''
[ -n "$DOCKERD_PID" ] && CTR_PID=$(pgrep -P "$DOCKERD_PID" -x containerd | head -1 || true)
rss_row berthd "no containers" "$BERTHD_PID"
[ -n "$DOCKERD_PID" ] && rss_row dockerd "no containers" "$DOCKERD_PID"
[ -n "$CTR_PID" ] && rss_row containerd "no containers" "$CTR_PID"
for d in "${DAEMONS[@]}"; do
  log "memory: $RUNNING running containers on $d"
  t0=$(now_us)
  for ((i = 0; i < RUNNING; i++)); do
    dk "$d" run -d --network none --name "$TAG-run-$i" busybox "${CMD[@]}" >/dev/null 2>>"$RAW/err/run_$d"
  done
  printf 'run_%s\t%s\t%s\n' "$d" "$(( $(now_us) - t0 ))" "$(dk "$d" ps -q | wc -l)" >>"$RAW/run_setup.tsv"
done
sleep 5
rss_row berthd "$RUNNING running" "$BERTHD_PID"
printf 'berthd\tpeak (VmHWM)\t%s\t\n' "$(awk '/^VmHWM:/ {print $2}' "/proc/$BERTHD_PID/status")" >>"$RAW/rss.tsv"
[ -n "$DOCKERD_PID" ] && rss_row dockerd "$RUNNING running" "$DOCKERD_PID"
[ -n "$CTR_PID" ] && rss_row containerd "$RUNNING running" "$CTR_PID"
# The per-container monitors: conmon (one per berthd container, found by its bundle path under
# our data root) and containerd-shim-runc-v2 (one per dockerd container, by its containerd address).
for pid in $(pgrep -x conmon); do
  grep -qF "$W/berthd/" "/proc/$pid/cmdline" 2>/dev/null || continue
  printf 'conmon\t%s\t%s\t%s\n' "$pid" "$(vmrss_kb "$pid")" "$(pss_kb "$pid")" >>"$RAW/monitors.tsv"
done
for pid in $(pgrep -f containerd-shim); do
  grep -qF "$W/dockerd/" "/proc/$pid/cmdline" 2>/dev/null || continue
  printf 'shim\t%s\t%s\t%s\n' "$pid" "$(vmrss_kb "$pid")" "$(pss_kb "$pid")" >>"$RAW/monitors.tsv"
done
printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/machine.tsv"

# ---------------------------------------------------------------- report
log "writing $OUT"
node --import tsx "$ROOT/bench/containers-report.ts" --raw "$RAW" --out "$OUT"
log "done"
