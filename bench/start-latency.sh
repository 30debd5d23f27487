#!/usr/bin/env bash
# Container start latency, side by side in one run: `berth run --rm busybox true` and
# `docker run --rm --network none busybox true` against berthd, the raw `runc run` floor of the
# same busybox rootfs, the same docker command against dockerd and `podman run` (when installed),
# plus berthd's idle RSS and CLI start-up (`berth version` vs `docker version`).
# Then one traced pass (strace -f on berthd) that says where a run's time goes.
# Writes its section of bench/RESULTS.md (through bench/report.ts). All it creates lives under one mktemp
# dir, removed at the end with every daemon it started (by PID), even on failure.
# Usage: bench/start-latency.sh [--install-peers] [-n RUNS] [-w WARMUPS] [--trace-runs N] [--gap SECONDS]
#                               [--nice N] [--quiet-wait SECONDS] [--out FILE] [--no-build] [--keep]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=30
WARM=3
TRACE_RUNS=7
OUT=$ROOT/bench/RESULTS.md
ORIG_ARGS=("$@")
INSTALL_PEERS=0
GAP=0.1
NICE=-10
QUIET_WAIT=180
BUILD=1
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --install-peers) INSTALL_PEERS=1 ;;
    -n) N=${2:?}; shift ;;
    -w) WARM=${2:?}; shift ;;
    --trace-runs) TRACE_RUNS=${2:?}; shift ;;
    --gap) GAP=${2:?}; shift ;;
    --quiet-wait) QUIET_WAIT=${2:?}; shift ;;
    --nice) NICE=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "start-latency.sh must run as root (containers need it)" >&2; exit 1; }
# Other work on a small shared host (test suites, linters) lands in the samples as noise; a higher
# scheduling priority for this script and all it starts (daemons included) keeps most of it out.
if [ "$NICE" != 0 ] && [ -z "${BERTH_BENCH_NICED:-}" ]; then
  export BERTH_BENCH_NICED=1
  exec nice -n "$NICE" bash "$0" "${ORIG_ARGS[@]}"
fi
for c in runc conmon jq curl strace node; do
  command -v "$c" >/dev/null || { echo "missing: $c" >&2; exit 1; }
done
# The docker CLI is the one from the brief (28.2 at /usr/local/bin); Debian's docker.io puts an
# older one at /usr/bin/docker, which must not be picked by accident.
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || { echo "missing: docker CLI" >&2; exit 1; }

W=$(mktemp -d /tmp/berth-bench.XXXXXX)
TAG=berth-bench-${W##*.}            # unique name for cgroups and runc ids
RAW=$W/raw
mkdir -p "$RAW"/{times,err,trace} "$W"/logs
# Shared helpers (timing, stopping by PID, quiet-machine wait, dockerd on its own roots, the host
# paths dockerd/podman write outside their roots): bench/lib.sh.
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BERTHD_PID='' TRACE_PID=''
BH=unix://$W/berthd.sock
note_side_paths
declare -A CG_EXISTED=()
for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/*/docker; do [ -e "$d" ] && CG_EXISTED[$d]=1; done

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$BERTHD_PID" ]; then remove_containers "$BH"; stop_pid "$BERTHD_PID" 20; fi
  # berthd leaves its bridge and iptables chains behind on purpose (as dockerd its docker0); this
  # bench's are removed with the tests' own clean-up (tagged with the bridge name, nothing else).
  if [ -d "$W/berthd/data" ]; then
    node --import tsx -e "import('./test/fixtures/networkCleanup.ts').then((m) => m.cleanNetworking({ tag: process.argv[1], dataRoot: process.argv[2], root: process.argv[3] }))" \
      "bb${W##*.}" "$W/berthd/data" "$W/berthd" >/dev/null 2>&1
  fi
  if [ -n "$TRACE_PID" ]; then stop_pid "$TRACE_PID" 5; fi
  if [ -n "$DOCKERD_PID" ]; then remove_containers "$DH"; stop_pid "$DOCKERD_PID" 30; fi
  if [ -d "$W/runc/state" ]; then
    for id in $(runc --root "$W/runc/state" list -q 2>/dev/null); do
      runc --root "$W/runc/state" delete -f "$id" >/dev/null 2>&1
    done
  fi
  # Whatever is still mounted under the work dir (dockerd's or podman's overlay homes), deepest first.
  umount_under "$W"
  # Cgroups this run made (all named after $TAG), plus peers' defaults if they appeared now.
  for d in /sys/fs/cgroup/*/"$TAG"* /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/*/docker; do
    [ -d "$d" ] && [ -z "${CG_EXISTED[$d]:-}" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  # Unless someone else's dockerd/podman (another benchmark, a test) may be using them right now.
  clean_side_paths
  if [ "$KEEP" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- set-up
cd "$ROOT"
BUILD_NOTE='not rebuilt (--no-build)'
if [ "$BUILD" = 1 ]; then
  log "building (tsc)"
  BUILD_NOTE=$(build_berth)
  log "$BUILD_NOTE"
fi

{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'memory\t%s\n' "$(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
  printf 'free\t%s\n' "$(free -h | tr '\n' '|' )"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf 'cgroup\t%s\n' "$( [ -d /sys/fs/cgroup/unified ] && echo 'v1 hybrid' || { [ -f /sys/fs/cgroup/cgroup.controllers ] && echo v2 || echo v1; })"
  printf 'node\t%s\n' "$(node --version)"
  printf 'runc\t%s\n' "$(runc --version | head -1)"
  printf 'conmon\t%s\n' "$(conmon --version | head -1)"
  printf 'docker_cli\t%s\n' "$("$DOCKER" --version)"
  printf 'runs\t%s\n' "$N"
  printf 'warmups\t%s\n' "$WARM"
  printf 'nice\t%s\n' "$(nice)"
  printf 'gap\t%s\n' "$GAP"
  printf 'build\t%s\n' "$BUILD_NOTE"
  printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RAW/machine.tsv"

log "making the busybox rootfs tar"
bash scripts/make-busybox-rootfs.sh "$W/busybox.tar"

log "starting berthd"
# Its own bridge, address and pool: other daemons (tests) on this host use the defaults or theirs.
# No row uses them (every run is --network none), but berthd makes its default bridge at start.
BERTHD_ARGS=(--data-root "$W/berthd/data" --exec-root "$W/berthd/exec" -H "$BH" --cgroup-parent "/$TAG"
  --bridge "bb${W##*.}" --bip "10.$((RANDOM % 50 + 150)).$((RANDOM % 250)).1/24"
  --default-address-pool "base=10.$((RANDOM % 40 + 210)).0.0/16,size=24")
bin/berthd "${BERTHD_ARGS[@]}" >"$W/logs/berthd.log" 2>&1 </dev/null &
BERTHD_PID=$!
wait_sock "$W/berthd.sock" 30 "$W/logs/berthd.log"
sleep 2
printf 'berthd\tafter start, before any image or container\t%s\n' "$(vmrss_kb "$BERTHD_PID")" >>"$RAW/rss.tsv"
if ! bin/berth -H "$BH" import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null 2>"$W/logs/berth-import.err"; then
  log "berth import failed ($(tail -1 "$W/logs/berth-import.err")); importing with the docker CLI"
  DOCKER_HOST=$BH "$DOCKER" import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null
fi

log "making the runc bundle"
mkdir -p "$W/runc/bundle/rootfs" "$W/runc/state"
tar -xf "$W/busybox.tar" -C "$W/runc/bundle/rootfs"
runc spec --bundle "$W/runc/bundle"
jq --arg cg "/$TAG-runc/floor" \
  '.process.terminal = false | .process.args = ["/bin/true"] | .linux.cgroupsPath = $cg' \
  "$W/runc/bundle/config.json" >"$W/runc/config.json" && mv "$W/runc/config.json" "$W/runc/bundle/config.json"
RUNC_SEQ=0
runc_floor() { RUNC_SEQ=$((RUNC_SEQ + 1)); runc --root "$W/runc/state" run --bundle "$W/runc/bundle" "$TAG-$RUNC_SEQ"; }

# ---------------------------------------------------------------- peers: dockerd, podman
install_peers() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v podman >/dev/null || need+=(podman)
  install_docker_io "${need[@]}"
}
[ "$INSTALL_PEERS" = 1 ] && install_peers

declare -A SKIP=()   # case -> reason it is not measured
if command -v dockerd >/dev/null; then
  log "starting dockerd on its own socket and roots"
  if start_dockerd "/$TAG-dockerd"; then
    DOCKER_HOST=$DH "$DOCKER" import -c 'CMD ["sh"]' "$W/busybox.tar" busybox:latest >/dev/null
    printf 'dockerd\t%s\n' "$(dockerd --version)" >>"$RAW/machine.tsv"
  else
    SKIP[docker_dockerd]="dockerd did not start: $(tail -1 "$W/logs/dockerd.log")"
  fi
else
  SKIP[docker_dockerd]='dockerd is not installed (rerun with --install-peers)'
fi

PODMAN_GLOBAL=()
if command -v podman >/dev/null; then
  mkdir -p "$W/podman"/{root,run,tmp,net}
  # runc, not podman's default crun: crun refuses cgroup v1 hybrid hosts. Explicit ulimits:
  # podman raises nofile/nproc to 1048576/4194304 by default, which needs CAP_SYS_RESOURCE.
  PODMAN_GLOBAL=(--root "$W/podman/root" --runroot "$W/podman/run" --tmpdir "$W/podman/tmp"
    --network-config-dir "$W/podman/net" --cgroup-manager cgroupfs --runtime runc)
  if podman "${PODMAN_GLOBAL[@]}" import -q -c 'CMD ["sh"]' "$W/busybox.tar" localhost/busybox:latest \
    >/dev/null 2>"$W/logs/podman-import.err"; then
    printf 'podman\t%s\n' "$(podman --version)" >>"$RAW/machine.tsv"
  else
    SKIP[podman]="podman import failed: $(tail -1 "$W/logs/podman-import.err")"
  fi
else
  SKIP[podman]='podman is not installed (rerun with --install-peers)'
fi

# ---------------------------------------------------------------- the cases
# Order = table order. Each: id, label, command (a bash function name + args via eval-free arrays).
CASES=(berth_run docker_berthd runc_floor docker_dockerd podman berth_version docker_version_berthd node_floor)
declare -A LABEL=(
  [berth_run]='berth run --rm --network none busybox true → berthd'
  [docker_berthd]='docker run --rm --network none busybox true → berthd'
  [runc_floor]='runc run (same rootfs, /bin/true) — floor'
  [docker_dockerd]='docker run --rm --network none busybox true → dockerd'
  [podman]='podman run --rm --network none busybox true'
  [berth_version]='berth version → berthd'
  [docker_version_berthd]='docker version → berthd'
  [node_floor]='node -e 0 (Node start-up floor, reference)'
)
# --network none as the docker rows: berthd's default bridge (berth0) is shared by every berthd on the host.
case_berth_run() { bin/berth -H "$BH" run --rm --network none busybox true; }
case_docker_berthd() { DOCKER_HOST=$BH "$DOCKER" run --rm --network none busybox true; }
case_runc_floor() { runc_floor; }
case_docker_dockerd() { DOCKER_HOST=$DH "$DOCKER" run --rm --network none busybox true; }
case_podman() {
  podman "${PODMAN_GLOBAL[@]}" run --rm --network none --cgroup-parent "/$TAG-podman" \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/busybox:latest true
}
case_berth_version() { bin/berth -H "$BH" version; }
case_docker_version_berthd() { DOCKER_HOST=$BH "$DOCKER" version; }
case_node_floor() { node -e 0; }

# A case that fails its first try is reported with its error and left out of the loop.
ACTIVE=()
for c in "${CASES[@]}"; do
  [ -n "${SKIP[$c]:-}" ] && continue
  if "case_$c" >/dev/null 2>"$W/logs/probe.$c" </dev/null; then ACTIVE+=("$c")
  else SKIP[$c]="failed: $(grep -v '^\s*$' "$W/logs/probe.$c" | tail -1)"; log "$c ${SKIP[$c]}"; fi
done
for c in "${CASES[@]}"; do
  printf '%s\t%s\t%s\n' "$c" "${LABEL[$c]}" "${SKIP[$c]:-}" >>"$RAW/cases.tsv"
done

# Rounds: every active case once per round, the starting case rotating, so slow drift and
# after-effects of one case (a daemon's background clean-up) spread over all of them.
rounds() { # rounds COUNT RECORD(0|1)
  local r i k=${#ACTIVE[@]} c
  for ((r = 0; r < $1; r++)); do
    for ((i = 0; i < k; i++)); do
      c=${ACTIVE[$(((r + i) % k))]}
      if [ "$2" = 1 ]; then timeit "$c" "case_$c"; else "case_$c" >/dev/null 2>&1 </dev/null || true; fi
      sleep "$GAP"   # let the last case's stragglers (exiting monitors, async clean-up) finish
    done
    [ "$2" = 1 ] && cut -d' ' -f1 /proc/loadavg >>"$RAW/load.txt"
  done
  return 0
}
QUIET_NOTE=$(wait_quiet "$QUIET_WAIT")
printf 'quiet\t%s\n' "$QUIET_NOTE" >>"$RAW/machine.tsv"
log "quiet check: $QUIET_NOTE"

log "warm-up: $WARM rounds of ${#ACTIVE[@]} cases"
rounds "$WARM" 0
sleep 2
printf 'berthd\tidle after start, import and warm-up\t%s\n' "$(vmrss_kb "$BERTHD_PID")" >>"$RAW/rss.tsv"
if [ -n "$DOCKERD_PID" ] && [ -z "${SKIP[docker_dockerd]:-}" ]; then
  CTR_PID=$(pgrep -P "$DOCKERD_PID" containerd | head -1 || true)
  printf 'dockerd\tidle after start, import and warm-up\t%s\n' "$(vmrss_kb "$DOCKERD_PID")" >>"$RAW/rss.tsv"
  [ -n "$CTR_PID" ] && printf 'containerd (child of dockerd)\tidle after start, import and warm-up\t%s\n' "$(vmrss_kb "$CTR_PID")" >>"$RAW/rss.tsv"
fi

log "measuring: $N rounds"
T_START=$(now_us)
rounds "$N" 1
log "measured in $(( ($(now_us) - T_START) / 1000000 )) s"
printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/machine.tsv"
sleep 2
printf 'berthd\tidle after the measured rounds\t%s\n' "$(vmrss_kb "$BERTHD_PID")" >>"$RAW/rss.tsv"
printf 'berthd\tpeak (VmHWM) so far\t%s\n' "$(awk '/^VmHWM:/ {print $2}' "/proc/$BERTHD_PID/status")" >>"$RAW/rss.tsv"

# The helper commands berthd runs per container, each timed alone (no daemon, no strace), so the
# trace's shares can be read against untraced costs: runc create/start/delete on the floor bundle,
# and the overlay mount/umount of that rootfs.
log "helper commands alone: $N rounds"
mkdir -p "$W/ovl"/{upper,work,merged}
comp_round() {
  local id="$TAG-c$1" i
  timeit comp_runc_create runc --root "$W/runc/state" create --bundle "$W/runc/bundle" "$id"
  timeit comp_runc_start runc --root "$W/runc/state" start "$id"
  for ((i = 0; i < 100; i++)); do   # untimed: until /bin/true has exited
    runc --root "$W/runc/state" state "$id" 2>/dev/null | grep -q '"status": "stopped"' && break
    sleep 0.02
  done
  timeit comp_runc_delete runc --root "$W/runc/state" delete "$id"
  timeit comp_mount mount -t overlay overlay \
    -o "lowerdir=$W/runc/bundle/rootfs,upperdir=$W/ovl/upper,workdir=$W/ovl/work" "$W/ovl/merged"
  timeit comp_umount umount "$W/ovl/merged"
  timeit comp_conmon_version conmon --version
}
for ((r = 0; r < N; r++)); do comp_round "$r"; sleep "$GAP"; done
for c in comp_runc_create comp_runc_start comp_runc_delete comp_mount comp_umount comp_conmon_version; do
  printf '%s\t%s\t\n' "$c" "$c" >>"$RAW/cases.tsv"
done

# berthd's own CPU per container run (user+sys of the node process) and that of the children it
# waited for (mount, umount, runc start/delete, …), over 10 plain runs in a row.
read -r own0 kids0 < <(cpu_ticks "$BERTHD_PID")
for _ in $(seq 10); do case_docker_berthd >/dev/null 2>&1 </dev/null || true; done
sleep 1   # the last run's `runc delete` is spawned a moment after its removal (runtime/conmonRuntime)
read -r own1 kids1 < <(cpu_ticks "$BERTHD_PID")
printf 'berthd\t%s\t%s\t10\t%s\n' "$((own1 - own0))" "$((kids1 - kids0))" "$(getconf CLK_TCK)" >"$RAW/cpu.tsv"
if [ -n "$DOCKERD_PID" ] && [ -z "${SKIP[docker_dockerd]:-}" ]; then
  read -r d0 _ < <(cpu_ticks "$DOCKERD_PID")
  c0=0; [ -n "${CTR_PID:-}" ] && read -r c0 _ < <(cpu_ticks "$CTR_PID")
  for _ in $(seq 10); do case_docker_dockerd >/dev/null 2>&1 </dev/null || true; done
  read -r d1 _ < <(cpu_ticks "$DOCKERD_PID")
  c1=0; [ -n "${CTR_PID:-}" ] && read -r c1 _ < <(cpu_ticks "$CTR_PID")
  printf 'dockerd\t%s\t-\t10\t%s\n' "$((d1 - d0))" "$(getconf CLK_TCK)" >>"$RAW/cpu.tsv"
  printf 'containerd\t%s\t-\t10\t%s\n' "$((c1 - c0))" "$(getconf CLK_TCK)" >>"$RAW/cpu.tsv"
fi

# ---------------------------------------------------------------- traced pass
# berthd again on the same roots, under strace -f with seccomp-bpf (only the traced syscalls
# stop the tracee): execve/exit_group/clone give each helper process's life, read/write the
# HTTP requests and responses. The CLI's own start and end come from this script's clock, which
# is the same realtime clock strace -ttt prints.
log "traced pass: $TRACE_RUNS runs per CLI under strace; quiet check: $(wait_quiet $((QUIET_WAIT / 3)))"
remove_containers "$BH"
stop_pid "$BERTHD_PID" 20
BERTHD_PID=''
strace -f --seccomp-bpf -ttt -q -s 100 -e trace=execve,exit_group,clone,clone3,fork,vfork,read,write,writev \
  -e signal=none \
  -o "$RAW/trace/strace.txt" \
  bin/berthd "${BERTHD_ARGS[@]}" >"$W/logs/berthd-traced.log" 2>&1 </dev/null &
TRACE_PID=$!
if wait_sock "$W/berthd.sock" 30 "$W/logs/berthd-traced.log"; then
  # strace's child: bin/berthd's `env -S node …` shebang, which execs node under the same PID.
  BERTHD_PID=$(pgrep -P "$TRACE_PID" | head -1)
  TRACED=()
  for c in docker_berthd berth_run; do [[ " ${ACTIVE[*]} " == *" $c "* ]] && TRACED+=("$c"); done
  for c in "${TRACED[@]}"; do "case_$c" >/dev/null 2>&1 </dev/null || true; done   # warm the traced daemon
  for ((r = 0; r < TRACE_RUNS; r++)); do
    for c in "${TRACED[@]}"; do
      sleep 0.3   # a quiet gap, so one run's trailing work cannot fall into the next window
      t0=$(now_us); "case_$c" >/dev/null 2>&1 </dev/null || true; t1=$(now_us)
      printf '%s\t%s\t%s\n' "$c" "$t0" "$t1" >>"$RAW/trace/runs.tsv"
    done
  done
  sleep 0.5
  remove_containers "$BH"
  stop_pid "$BERTHD_PID" 20
  BERTHD_PID=''
  stop_pid "$TRACE_PID" 10   # strace ends with its last tracee (conmon monitors exit with their containers)
  TRACE_PID=''
else
  log "traced berthd did not start; no trace analysis"
fi

# ---------------------------------------------------------------- CPU profile
# berthd once more, under node --cpu-prof (written when it exits on SIGTERM): where its own
# CPU goes per `docker run`, by module and function. And one profiled `berth version`.
log "profiled pass: 10 runs against berthd under node --cpu-prof; quiet check: $(wait_quiet $((QUIET_WAIT / 3)))"
mkdir -p "$RAW/prof/berthd" "$RAW/prof/cli"
# With the node flags of bin/berthd's shebang (`node file` skips the shebang).
env -S "$(berthd_launcher)" --cpu-prof --cpu-prof-dir="$RAW/prof/berthd" bin/berthd \
  "${BERTHD_ARGS[@]}" >"$W/logs/berthd-prof.log" 2>&1 </dev/null &
BERTHD_PID=$!
if wait_sock "$W/berthd.sock" 30 "$W/logs/berthd-prof.log"; then
  # The profile covers berthd's whole life; the report keeps only the samples between these two
  # CLOCK_MONOTONIC readings (V8 stamps samples with the same clock), i.e. the 10 measured runs.
  case_docker_berthd >/dev/null 2>&1 </dev/null || true   # warm-up: lazily loaded modules
  mono_us >"$RAW/prof/berthd/window"
  for _ in $(seq 10); do case_docker_berthd >/dev/null 2>&1 </dev/null || true; done
  mono_us >>"$RAW/prof/berthd/window"
  if [[ " ${ACTIVE[*]} " == *" berth_version "* ]]; then
    node --cpu-prof --cpu-prof-dir="$RAW/prof/cli" bin/berth -H "$BH" version >/dev/null 2>&1 </dev/null || true
  fi
  remove_containers "$BH"
  stop_pid "$BERTHD_PID" 20
fi
BERTHD_PID=''

# ---------------------------------------------------------------- report
log "writing $OUT"
node --import tsx "$ROOT/bench/report.ts" --raw "$RAW" --out "$OUT"
log "done"
