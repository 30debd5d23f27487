# bench/lib.sh — shell helpers the benchmark scripts share (sourced, never run): timing, waiting
# for a daemon or a quiet machine, stopping processes by PID, machine facts, and Debian's dockerd
# on its own socket and roots for side-by-side runs. Needs W (the script's mktemp work dir), RAW
# (its raw-results dir) and DOCKER (the docker CLI) set by the caller before the functions are
# used (W before sourcing: DH is derived from it). Starts nothing on its own; never touches
# /var/lib/docker or the default docker socket.

LOG_TAG=${LOG_TAG:-bench}
log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%T)" "$*" >&2; }

stop_pid() { # stop_pid PID SECONDS: SIGTERM, wait, then SIGKILL
  local pid=$1 t=${2:-20} i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "PID $pid did not stop on SIGTERM; SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

remove_containers() { # remove_containers HOST: every container of that daemon
  local ids
  ids=$(DOCKER_HOST=$1 timeout 60 "$DOCKER" ps -aq 2>/dev/null) || return 0
  # shellcheck disable=SC2086 # one argument per ID
  [ -z "$ids" ] || DOCKER_HOST=$1 timeout 300 "$DOCKER" rm -f $ids >/dev/null 2>&1 || true
}

# now_us: wall clock in microseconds (bash's EPOCHREALTIME: no fork, µs resolution).
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# mono_us: CLOCK_MONOTONIC in µs, the clock of V8's CPU profile samples.
mono_us() { node -e 'process.stdout.write(String(process.hrtime.bigint() / 1000n) + "\n")'; }

# timeit CASE CMD…: run once, append the wall time in µs to RAW/times/CASE (or count a failure
# in RAW/fails.CASE, with the command's stderr in RAW/err/CASE).
timeit() {
  local case=$1 t0 t1 rc=0
  shift
  t0=$EPOCHREALTIME
  "$@" >/dev/null 2>>"$RAW/err/$case" </dev/null || rc=$?
  t1=$EPOCHREALTIME
  if [ $rc = 0 ]; then echo $(( ${t1/./} - ${t0/./} )) >>"$RAW/times/$case"
  else echo "exit $rc" >>"$RAW/err/$case"; echo 1 >>"$RAW/fails.$case"; fi
  return 0
}

wait_sock() { # wait_sock SOCKPATH SECONDS LOGFILE
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fsS --unix-socket "$1" http://x/_ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "daemon on $1 did not answer /_ping in $2 s; last log lines:" >&2
  tail -5 "$3" >&2
  return 1
}

# What bin/berthd's `#!/usr/bin/env -S …` line runs (its environment and node flags), for a pass
# that adds node flags of its own: `env -S "$(berthd_launcher)" --cpu-prof … bin/berthd` (`node FILE`
# would skip the shebang's variables and flags).
berthd_launcher() { sed -n '1s/^#!.*env -S //p' "$ROOT/bin/berthd"; }
vmrss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# pss_kb PID: proportional set size (shared pages split between the processes mapping them).
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat"; } # own (user+sys), waited children

# cpu_busy_pct SECONDS: share of all CPUs busy (anyone's work) over that many seconds.
cpu_busy_pct() {
  local a b
  # shellcheck disable=SC2207 # word-split /proc/stat's counters on purpose
  a=($(head -1 /proc/stat)); sleep "$1"; b=($(head -1 /proc/stat))
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

# Other sessions' test suites on a shared 2-CPU machine swamp the samples; start when the machine
# has been mostly idle for 3 s (our daemons idle), or give up waiting after MAX_SECONDS.
# wait_quiet MAX_SECONDS: prints what happened. Polls until the CPUs were ≤ 15 % busy over 3 s.
wait_quiet() {
  local waited=0 busy
  [ "$1" -gt 0 ] || { echo "did not wait"; return 0; }
  while :; do
    busy=$(cpu_busy_pct 3); waited=$((waited + 3))
    if [ "$busy" -le 15 ]; then echo "started after ${waited} s, CPUs ${busy} % busy"; return 0; fi
    if [ "$waited" -ge "$1" ]; then echo "machine still ${busy} % busy after ${waited} s; started anyway"; return 0; fi
    [ $((waited % 30)) -lt 3 ] && log "waiting for a quiet machine (CPUs ${busy} % busy)"
  done
}

# machine_facts: the facts every report starts with, as "key<TAB>value" lines on stdout.
machine_facts() {
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'memory\t%s\n' "$(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf 'cgroup\t%s\n' "$( [ -d /sys/fs/cgroup/unified ] && echo 'v1 hybrid' || { [ -f /sys/fs/cgroup/cgroup.controllers ] && echo v2 || echo v1; })"
  printf 'node\t%s\n' "$(node --version)"
  printf 'runc\t%s\n' "$(runc --version | head -1)"
  printf 'conmon\t%s\n' "$(conmon --version | head -1)"
  printf 'docker_cli\t%s\n' "$("$DOCKER" --version)"
  printf 'nice\t%s\n' "$(nice)"
  printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# build_berth: tsc into dist/, then the CLI bundle (bin/berth runs it only while it is newer than
# tsc's output); prints what happened (other people's half-written files may not type-check; tsc
# emits JavaScript anyway, and what is measured is berthd, so go on and say so).
build_berth() {
  local note
  if npx tsc -p tsconfig.json >"$W/logs/tsc.log" 2>&1; then note='tsc: clean'
  else
    note="tsc reported $(grep -c 'error TS' "$W/logs/tsc.log") type error(s) in $(grep -o '^[^(]*\.ts' "$W/logs/tsc.log" | sort -u | tr '\n' ' ')(JavaScript emitted anyway)"
  fi
  if node scripts/build-cli.mjs >>"$W/logs/tsc.log" 2>&1; then note="$note; CLI bundle built"
  else note="$note; CLI bundle failed (bin/berth runs dist/src)"; fi
  if node scripts/build-daemon.mjs >>"$W/logs/tsc.log" 2>&1; then note="$note; daemon bundle built"
  else note="$note; daemon bundle failed (bin/berthd runs dist/src)"; fi
  echo "$note"
}

# install_docker_io: apt-get install Debian's docker.io when dockerd is missing. The package scripts
# must not start the system dockerd (it would take /var/lib/docker and the default socket):
# policy-rc.d exit 101 forbids that; if there is none, one is put in place for the install.
install_docker_io() {
  local need=("$@")
  [ ${#need[@]} = 0 ] && return 0
  log "apt-get install ${need[*]}"
  local made_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; } \
    >"$W/logs/apt.log" 2>&1 || rc=$?
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc = 0 ] || log "apt-get install failed (exit $rc): $(tail -2 "$W/logs/apt.log" | tr '\n' ' ')"
}

# start_dockerd CGROUP_PARENT: Debian's dockerd on its own socket, data-root, exec-root and pidfile
# under $W/dockerd (its own managed containerd), no bridge and no iptables rules. Sets DOCKERD_PID
# and DH (its DOCKER_HOST); returns non-zero (with the log's last line on stderr) if it does not
# answer within 60 s.
DOCKERD_PID=''
DH=unix://$W/dockerd/docker.sock
start_dockerd() {
  mkdir -p "$W/dockerd" "$W/logs"
  echo '{}' >"$W/dockerd/daemon.json"
  dockerd --config-file "$W/dockerd/daemon.json" --data-root "$W/dockerd/data" --exec-root "$W/dockerd/exec" \
    --pidfile "$W/dockerd/dockerd.pid" -H "$DH" --bridge=none --iptables=false --ip6tables=false \
    --cgroup-parent "$1" >"$W/logs/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  wait_sock "$W/dockerd/docker.sock" 60 "$W/logs/dockerd.log"
}

# Host paths that dockerd/podman create outside their roots (hard-coded in them). Call
# note_side_paths before starting any of them, and clean_side_paths at the end: it removes the
# ones that did not exist before, unless another dockerd/containerd/podman runs (someone else's).
SIDE_PATHS=(/etc/docker/key.json /run/docker /run/containerd /etc/containers/networks /run/containers
  /var/lib/containers /run/libpod)
declare -A SIDE_EXISTED=()
note_side_paths() {
  local p
  for p in "${SIDE_PATHS[@]}"; do [ -e "$p" ] && SIDE_EXISTED[$p]=1; done
  return 0
}
clean_side_paths() {
  local others p
  # One pgrep per name: procps 4 refuses a pattern longer than a process name (15 characters).
  others=$( { pgrep -x dockerd; pgrep -x containerd; pgrep -x podman; } | tr '\n' ' ')
  if [ -n "$others" ]; then
    log "left ${SIDE_PATHS[*]} alone: other dockerd/containerd/podman processes run (PIDs $others)"
  else
    for p in "${SIDE_PATHS[@]}"; do [ -z "${SIDE_EXISTED[$p]:-}" ] && rm -rf "$p"; done
  fi
  return 0
}

# umount_under DIR: whatever is still mounted under DIR (daemons' overlay homes), deepest first.
umount_under() {
  findmnt -rn -o TARGET | grep -F "$1/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  return 0
}
