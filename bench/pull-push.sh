#!/usr/bin/env bash
# Image pull and push, side by side in one run, over loopback against Debian's docker-registry on
# 127.0.0.1: berthd (through the real docker CLI), skopeo, and Debian's dockerd (when installed),
# with the floor beside them: each stage alone on the same bytes (curl download, sha256sum of the
# compressed layers, gzip -dc, GNU tar -x of the plain layers), and berth's layer unpack alone vs
# GNU tar. Then per-phase timings from the daemons' progress messages and a CPU profile of berthd.
# Every pull (and every unpack row) takes a variant of the image never pulled before in the run
# (same files and sizes, other bytes and digests), and nothing a pull or unpack made is deleted
# before the end: on ext4 without a journal (this kind of VM's root) the kernel steps over every
# inode freed in the last 1-6 minutes on each file it creates, so a pull right after an rmi of
# the same image paid ~1 s of kernel time for the previous sample's removal (decisions B87).
# Writes its section of bench/RESULTS.md (between <!-- pull-push:begin/end -->, through
# bench/pull-push-report.ts). Everything it creates lives under one mktemp dir, removed at exit
# with every daemon it started (stopped by PID), even on failure or Ctrl-C.
# Usage: bench/pull-push.sh [-n RUNS] [-w WARMUPS] [--size MB] [--layers N] [--nice N]
#                           [--quiet-wait SECONDS] [--out FILE] [--no-dockerd] [--no-build] [--keep]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=7
WARM=1
SIZE_MB=200
LAYERS=5
NICE=-10
QUIET_WAIT=60
OUT=$ROOT/bench/RESULTS.md
USE_DOCKERD=1
BUILD=1
KEEP=0
PHASE_RUNS=3
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    -n) N=${2:?}; shift ;;
    -w) WARM=${2:?}; shift ;;
    --size) SIZE_MB=${2:?}; shift ;;
    --layers) LAYERS=${2:?}; shift ;;
    --nice) NICE=${2:?}; shift ;;
    --quiet-wait) QUIET_WAIT=${2:?}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --no-dockerd) USE_DOCKERD=0 ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "pull-push.sh must run as root (layers are unpacked with their owners)" >&2; exit 1; }
# A shared 2-CPU host: a higher priority for this script and all it starts keeps some noise out.
if [ "$NICE" != 0 ] && [ -z "${BERTH_BENCH_NICED:-}" ]; then
  export BERTH_BENCH_NICED=1
  exec nice -n "$NICE" bash "$0" "${ORIG_ARGS[@]}"
fi
for c in docker-registry skopeo node curl jq gzip sha256sum tar; do
  command -v "$c" >/dev/null || { echo "missing: $c (apt-get install -y docker-registry skopeo jq curl)" >&2; exit 1; }
done
# The docker CLI 28 at /usr/local/bin; Debian's docker.io puts an older one at /usr/bin/docker.
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || { echo "missing: docker CLI" >&2; exit 1; }

W=$(mktemp -d /tmp/berth-pullpush.XXXXXX)
RAW=$W/raw
mkdir -p "$RAW"/{times,cpu,err,unpack,prof/berthd} "$W"/logs "$W"/reg
LOG_TAG=pull-push
# log, stop_pid, wait_sock, wait_quiet, berthd_launcher, mono_us (its timeit is replaced below: this
# one also counts the daemons' CPU).
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
BERTHD_PID='' DOCKERD_PID='' CTR_PID=''
# berthd's own default bridge, address and pool (as start-latency.sh's): without them it takes
# berth0, or a bridge named after its data root when another berthd holds berth0, and a daemon
# leaves its default bridge behind when it stops (as dockerd its docker0); cleanup removes it.
BERTHD_BRIDGE="bp${W##*.}"
BERTHD_NET=(--bridge "$BERTHD_BRIDGE" --bip "10.$((RANDOM % 50 + 150)).$((RANDOM % 250)).1/24"
  --default-address-pool "base=10.$((RANDOM % 40 + 210)).0.0/16,size=24")
declare -A REG_PIDS=()   # registry PID -> its dir
BSOCK=$W/berthd.sock
DSOCK=$W/dockerd/docker.sock
# Paths dockerd and skopeo create outside their roots by themselves; removed at the end only if
# they did not exist before this run and no other dockerd or podman (another session's) runs.
SIDE_PATHS=(/etc/docker/key.json /run/docker /run/containerd /var/lib/containers)
declare -A SIDE_EXISTED=()
for p in "${SIDE_PATHS[@]}"; do [ -e "$p" ] && SIDE_EXISTED[$p]=1; done

cleanup() {
  local rc=$? p
  set +e
  trap - EXIT INT TERM
  for p in "${!REG_PIDS[@]}"; do stop_pid "$p" 10; done
  [ -n "$BERTHD_PID" ] && stop_pid "$BERTHD_PID" 20
  # Its bridge and iptables chains, with the tests' own clean-up (tagged with the bridge name, nothing else).
  if [ -d "$W/berthd/data" ]; then
    node --import tsx -e "import('./test/fixtures/networkCleanup.ts').then((m) => m.cleanNetworking({ tag: process.argv[1], dataRoot: process.argv[2], root: process.argv[3] }))" \
      "$BERTHD_BRIDGE" "$W/berthd/data" "$W/berthd" >/dev/null 2>&1
  fi
  [ -n "$DOCKERD_PID" ] && stop_pid "$DOCKERD_PID" 30
  # Whatever is still mounted under the work dir (dockerd's overlay homes), deepest first.
  findmnt -rn -o TARGET | grep -F "$W/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  if pgrep -x dockerd >/dev/null || pgrep -x podman >/dev/null; then
    log "another dockerd/podman is running: leaving ${SIDE_PATHS[*]} as they are"
  else
    for p in "${SIDE_PATHS[@]}"; do [ -z "${SIDE_EXISTED[$p]:-}" ] && rm -rf "$p"; done
  fi
  if [ "$KEEP" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- registries
declare -A USED_PORTS=()
free_port() { # a loopback port no registry of this run has had (clients remember blobs per host:port)
  local p
  while :; do
    p=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    [ -z "${USED_PORTS[$p]:-}" ] && { USED_PORTS[$p]=1; echo "$p"; return; }
  done
}
REG_PID='' REG_HOST='' REG_DIR=''
start_registry() { # start_registry NAME: docker-registry with its own root and port → REG_PID, REG_HOST, REG_DIR
  local port i
  port=$(free_port)
  REG_DIR=$W/reg/$1
  mkdir -p "$REG_DIR/data"
  cat >"$REG_DIR/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 </dev/null &
  REG_PID=$!
  REG_PIDS[$REG_PID]=$REG_DIR
  REG_HOST=127.0.0.1:$port
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "http://$REG_HOST/v2/" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "docker-registry $1 did not start: $(tail -2 "$REG_DIR/log")" >&2
  return 1
}
stop_registry() { # stop_registry PID: stop it and delete its root
  local dir=${REG_PIDS[$1]:-}
  stop_pid "$1" 10
  unset "REG_PIDS[$1]"
  [ -n "$dir" ] && rm -rf "$dir"
}

# ---------------------------------------------------------------- timing
# CPU ticks: of this shell's waited-for children (clients: docker CLI, skopeo, gzip, tar, node),
# and of a daemon (its threads and waited-for children) when one serves the case.
TICK_MS=$((1000 / $(getconf CLK_TCK)))
children_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
proc_ticks() { # proc_ticks PID…: utime+stime+cutime+cstime summed
  local t=0 p
  for p in "$@"; do [ -n "$p" ] && [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat"))); done
  echo "$t"
}
daemon_pids_for() { # the daemon processes whose CPU a case uses
  case $1 in
    *berthd*) echo "$BERTHD_PID" ;;
    *dockerd*) echo "$DOCKERD_PID $CTR_PID" ;;
  esac
}
# timeit CASE CMD…: run once; append wall µs to times/CASE and CPU ms (client + daemon) to cpu/CASE.
timeit() {
  local case=$1 t0 t1 rc=0 c0 c1 d0 d1 pids
  shift
  pids=$(daemon_pids_for "$case")
  c0=$(children_ticks); d0=$(proc_ticks $pids)
  t0=$EPOCHREALTIME
  "$@" >/dev/null 2>>"$RAW/err/$case" </dev/null || rc=$?
  t1=$EPOCHREALTIME
  c1=$(children_ticks); d1=$(proc_ticks $pids)
  if [ $rc = 0 ]; then
    echo $(( ${t1/./} - ${t0/./} )) >>"$RAW/times/$case"
    echo $(( (c1 - c0 + d1 - d0) * TICK_MS )) >>"$RAW/cpu/$case"
  else echo "exit $rc" >>"$RAW/err/$case"; echo 1 >>"$RAW/fails.$case"; fi
  return 0
}

# ---------------------------------------------------------------- set-up
cd "$ROOT"
BUILD_NOTE='not rebuilt (--no-build)'
if [ "$BUILD" = 1 ]; then
  log "building (tsc)"
  # Others' half-written files may not type-check; tsc emits JavaScript anyway.
  if npx tsc -p tsconfig.json >"$W/logs/tsc.log" 2>&1; then BUILD_NOTE='tsc: clean'
  else BUILD_NOTE="tsc reported $(grep -c 'error TS' "$W/logs/tsc.log") type error(s) (JavaScript emitted anyway)"; log "$BUILD_NOTE"; fi
  # tsc makes the bundles older than its output, and bin/berthd would then run dist/src.
  if node scripts/build-cli.mjs >>"$W/logs/tsc.log" 2>&1 && node scripts/build-daemon.mjs >>"$W/logs/tsc.log" 2>&1; then
    BUILD_NOTE="$BUILD_NOTE; CLI and daemon bundles built"
  else BUILD_NOTE="$BUILD_NOTE; a bundle failed to build (bin/berthd runs dist/src)"; log "$BUILD_NOTE"; fi
fi

{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf 'command\t%s\n' "bench/pull-push.sh ${ORIG_ARGS[*]}"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf 'memory\t%s\n' "$(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'filesystem\t%s\n' "$(findmnt -n -o FSTYPE,SOURCE --target "$W" | tr -s ' ')"
  printf 'node\t%s\n' "$(node --version)"
  printf 'docker_cli\t%s\n' "$("$DOCKER" --version)"
  printf 'skopeo\t%s\n' "$(skopeo --version)"
  printf 'registry\t%s\n' "$(dpkg-query -W -f '${Package} ${Version}' docker-registry 2>/dev/null || echo docker-registry)"
  printf 'tar\t%s\n' "$(tar --version | head -1)"
  printf 'gzip\t%s\n' "$(gzip --version | head -1)"
  printf 'unpigz\t%s\n' "$(command -v unpigz || echo 'not installed (dockerd decompresses in Go)')"
  printf 'runs\t%s\n' "$N"
  printf 'warmups\t%s\n' "$WARM"
  printf 'nice\t%s\n' "$(nice)"
  printf 'build\t%s\n' "$BUILD_NOTE"
  printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RAW/machine.tsv"

# One variant per pull-group round (probe + warm-ups + measured), one per phase run, three for
# the profiled pass; two made at a time.
ROUNDS_ALL=$((1 + (WARM > 1 ? WARM - 1 : 0) + N))
VARIANTS=$((ROUNDS_ALL + PHASE_RUNS + 3))
log "making $VARIANTS variants of the ${SIZE_MB} MB, ${LAYERS}-layer image"
for ((v = 0; v < VARIANTS; v++)); do
  # --keep-trees: deleting the variants' file trees just before the pulls is what this run avoids (above).
  node --import tsx bench/pull-push-image.ts "$W/img/$v" "$SIZE_MB" "$LAYERS" "--variant=$v" --keep-trees >"$RAW/image.$v.json" &
  if (( v % 2 == 1 || v == VARIANTS - 1 )); then wait; fi
done
for ((v = 0; v < VARIANTS; v++)); do [ -s "$RAW/image.$v.json" ] || { echo "making variant $v failed" >&2; exit 1; }; done
IMG=$W/img/0
cp "$RAW/image.0.json" "$RAW/image.json"

log "starting the pull registry and pushing the variants into it with skopeo"
start_registry pull
PULL_REG_PID=$REG_PID PULL_HOST=$REG_HOST
for ((v = 0; v < VARIANTS; v++)); do
  # Docker schema 2 (what Docker Hub serves most), blobs unchanged.
  skopeo copy --quiet --dest-tls-verify=false --format v2s2 "oci:$W/img/$v/oci:bench" "docker://$PULL_HOST/bench/img:v$v"
done
# use_variant V: the image ref, its layer files and blob URLs, and the directory its outputs go to.
SRC='' RD='' GZ=() PLAIN=() BLOB_URLS=()
use_variant() {
  SRC=$PULL_HOST/bench/img:v$1
  RD=$W/out/$1
  mkdir -p "$RD"
  mapfile -t GZ < <(jq -r '.layers[].gz' "$RAW/image.$1.json")
  mapfile -t PLAIN < <(jq -r '.layers[].plain' "$RAW/image.$1.json")
  mapfile -t BLOB_URLS < <(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$PULL_HOST/v2/bench/img/manifests/v$1" | jq -r --arg h "$PULL_HOST" '.layers[].digest | "http://\($h)/v2/bench/img/blobs/\(.)"')
}
use_variant 0

log "starting berthd"
bin/berthd --data-root "$W/berthd/data" --exec-root "$W/berthd/exec" -H "unix://$BSOCK" \
  --cgroup-parent "/berth-pullpush-${W##*.}" "${BERTHD_NET[@]}" >"$W/logs/berthd.log" 2>&1 </dev/null &
BERTHD_PID=$!
wait_sock "$BSOCK" 30 "$W/logs/berthd.log"
bdocker() { DOCKER_HOST=unix://$BSOCK "$DOCKER" "$@"; }
ddocker() { DOCKER_HOST=unix://$DSOCK "$DOCKER" "$@"; }

declare -A SKIP=()
if [ "$USE_DOCKERD" = 0 ]; then SKIP[dockerd]='left out (--no-dockerd)'
elif ! command -v dockerd >/dev/null; then SKIP[dockerd]='dockerd is not installed (apt-get install docker.io)'
else
  log "starting dockerd on its own socket and roots"
  mkdir -p "$W/dockerd"
  echo '{}' >"$W/dockerd/daemon.json"
  # Every registry of this run is on 127.0.0.1 with a fresh port: the /8 covers them all.
  dockerd --config-file "$W/dockerd/daemon.json" --data-root "$W/dockerd/data" --exec-root "$W/dockerd/exec" \
    --pidfile "$W/dockerd/dockerd.pid" -H "unix://$DSOCK" --bridge=none --iptables=false --ip6tables=false \
    --insecure-registry 127.0.0.0/8 >"$W/logs/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  if wait_sock "$DSOCK" 60 "$W/logs/dockerd.log"; then
    CTR_PID=$(pgrep -P "$DOCKERD_PID" containerd | head -1 || true)
    printf 'dockerd\t%s (storage driver %s)\n' "$(dockerd --version)" "$(ddocker info -f '{{.Driver}}' 2>/dev/null)" >>"$RAW/machine.tsv"
  else
    SKIP[dockerd]="dockerd did not start: $(tail -1 "$W/logs/dockerd.log")"
  fi
fi

# ---------------------------------------------------------------- the cases
# pre_CASE runs untimed before each sample; case_CASE is timed.
N_PUSH=0
# The pull group deletes nothing: each round pulls its own variant into outputs of its own ($RD),
# all kept until the end of the run.
pre_pull_berthd() { # the variant must be new to berthd (else the pull would be partial)
  if bdocker image inspect "$SRC" >/dev/null 2>&1; then echo "berthd already has $SRC" >>"$RAW/err/pull_berthd"; fi
}
case_pull_berthd() { bdocker pull -q "$SRC"; }
case_pull_dockerd() { ddocker pull -q "$SRC"; }
case_pull_skopeo_oci() { skopeo copy --quiet --src-tls-verify=false "docker://$SRC" "oci:$RD/sk-oci:latest"; }
case_pull_skopeo_dir() { skopeo copy --quiet --src-tls-verify=false "docker://$SRC" "dir:$RD/sk-dir"; }
# skopeo into containers/storage (overlay driver, a private root): it unpacks the layers, as
# `podman pull` does; the like-for-like skopeo. c/storage keeps a private bind mount of its
# overlay dir: unmounted at the end of the run.
case_pull_skopeo_cs() {
  skopeo copy --quiet --src-tls-verify=false "docker://$SRC" "containers-storage:[overlay@$RD/sk-cs/root+$RD/sk-cs/run]bench/img:latest"
}

# Push: every sample goes to a fresh, empty registry (its own root and port), so no client can
# skip or cross-mount a blob: what is timed is a full upload.
PUSH_REF=''
push_pre() { # push_pre LOCALIMAGE TAGGER: fresh registry, the image tagged for it
  N_PUSH=$((N_PUSH + 1))
  start_registry "push$N_PUSH"
  PUSH_REF=$REG_HOST/bench/push$N_PUSH:latest
  [ -z "$1" ] || "$2" tag "$1" "$PUSH_REF"
}
push_post() { # push_post CASE TAGGER: the registry must have the manifest (else an error is noted)
  local repo=${PUSH_REF#*/}
  if ! curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
    "http://${PUSH_REF%%/*}/v2/${repo%:*}/manifests/latest"; then
    echo "manifest missing after push to $PUSH_REF" >>"$RAW/err/$1"
  fi
  local tagger=$2
  [ -z "$tagger" ] || "$tagger" rmi "$PUSH_REF" >/dev/null 2>&1 || true
  stop_registry "$REG_PID"
}
pre_push_berthd() { push_pre "$SRC" bdocker; }
case_push_berthd() { bdocker push -q "$PUSH_REF"; }
post_push_berthd() { push_post push_berthd bdocker; }
pre_push_berthd_plain() { push_pre bench/plain:latest bdocker; }
case_push_berthd_plain() { bdocker push -q "$PUSH_REF"; }
post_push_berthd_plain() { push_post push_berthd_plain bdocker; }
pre_push_dockerd() { push_pre "$SRC" ddocker; }
case_push_dockerd() { ddocker push -q "$PUSH_REF"; }
post_push_dockerd() { push_post push_dockerd ddocker; }
pre_push_skopeo() { push_pre '' ''; }
case_push_skopeo() { skopeo copy --quiet --dest-tls-verify=false "oci:$IMG/oci:bench" "docker://$PUSH_REF"; }
post_push_skopeo() { push_post push_skopeo ''; }

# The floor, one stage at a time over all layers, one layer after the other.
case_floor_download() { curl -fsS $(printf -- '-o /dev/null %s ' "${BLOB_URLS[@]}"); }
case_floor_sha256() { sha256sum "${GZ[@]}"; }
case_floor_gunzip() { gzip -dc "${GZ[@]}"; }
case_floor_untar() { local i; for i in "${!PLAIN[@]}"; do mkdir -p "$RD/untar/$i"; tar -xf "${PLAIN[$i]}" -C "$RD/untar/$i"; done; }
# References: gunzip and untar in one pipe (GNU tar -xzf), and every stage in one pipe per layer.
case_ref_untar_gz() { local i; for i in "${!GZ[@]}"; do mkdir -p "$RD/untar-gz/$i"; tar -xzf "${GZ[$i]}" -C "$RD/untar-gz/$i"; done; }
case_ref_pipeline() {
  local i
  for i in "${!BLOB_URLS[@]}"; do
    mkdir -p "$RD/untar-pipe/$i"
    curl -fsS "${BLOB_URLS[$i]}" | tee >(sha256sum >/dev/null) | gzip -dc | tee >(sha256sum >/dev/null) | tar -xf - -C "$RD/untar-pipe/$i"
  done
}
# berth's unpack alone, in one Node process (tsx), timed inside it; the process wall is kept too.
unpack_node() { # unpack_node CASE MODE FILE…
  local case=$1 mode=$2
  shift 2
  local out=/dev/null
  [ "$RECORDING" = 1 ] && out=$RAW/unpack/$case.jsonl
  node --import tsx bench/pull-push-unpack.ts "$mode" "$RD/$case" "$@" >>"$out"
}
case_unpack_berth_apply() { unpack_node unpack_berth_apply apply "${PLAIN[@]}"; }
case_unpack_berth_apply_cached() { unpack_node unpack_berth_apply_cached apply-cached "${PLAIN[@]}"; }
case_unpack_berth_file() { unpack_node unpack_berth_file file "${GZ[@]}"; }

PULL_CASES=(pull_berthd pull_dockerd pull_skopeo_oci pull_skopeo_dir pull_skopeo_cs)
PUSH_CASES=(push_berthd push_berthd_plain push_dockerd push_skopeo)
FLOOR_CASES=(floor_download floor_sha256 floor_gunzip floor_untar ref_untar_gz ref_pipeline unpack_berth_apply unpack_berth_apply_cached unpack_berth_file)
declare -A LABEL=(
  [pull_berthd]='docker pull → berthd'
  [pull_dockerd]='docker pull → dockerd'
  [pull_skopeo_oci]='skopeo copy docker:// → oci:DIR'
  [pull_skopeo_dir]='skopeo copy docker:// → dir:DIR'
  [pull_skopeo_cs]='skopeo copy docker:// → containers-storage: (overlay, private root: unpacks, as podman pull)'
  [push_berthd]='docker push → berthd (pulled image: stored gzip blobs sent as they are)'
  [push_berthd_plain]='docker push → berthd (loaded image: plain layers, gzip -1 while sending)'
  [push_dockerd]='docker push → dockerd (pulled image; dockerd keeps no compressed blobs and gzips while sending)'
  [push_skopeo]='skopeo copy oci:DIR → docker://'
  [floor_download]='download: curl of the compressed layers → /dev/null'
  [floor_sha256]='sha256sum of the compressed layers'
  [floor_gunzip]='gzip -dc of the compressed layers → /dev/null'
  [floor_untar]='GNU tar -x of the plain layers, each into a fresh dir'
  [ref_untar_gz]='GNU tar -xzf of the compressed layers (gunzip | untar, one layer after the other)'
  [ref_pipeline]='curl | tee sha256sum | gzip -dc | tee sha256sum | tar -x, one layer after the other'
  [unpack_berth_apply]='berth applyLayer of the plain layers, read with O_DIRECT as berthd reads a stored layer (in-process time)'
  [unpack_berth_apply_cached]='berth applyLayer of the plain layers, read through the page cache as tar -x reads them (in-process time)'
  [unpack_berth_file]='berth unpackLayerFile of the compressed layers: gunzip + diff-ID hash + applyLayer (in-process time)'
)
for c in pull_dockerd push_dockerd; do if [ -n "${SKIP[dockerd]:-}" ]; then SKIP[$c]=${SKIP[dockerd]}; fi; done

run_case() { # run_case CASE RECORD(0|1)
  local c=$1
  if declare -F "pre_$c" >/dev/null; then "pre_$c" >>"$W/logs/pre.log" 2>&1 || true; fi
  sync   # the previous sample's dirty pages must not be written back inside this one
  if [ "$2" = 1 ]; then timeit "$c" "case_$c"; else "case_$c" >/dev/null 2>>"$W/logs/warmup.err" </dev/null || true; fi
  if declare -F "post_$c" >/dev/null; then "post_$c" >>"$W/logs/post.log" 2>&1 || true; fi
  sleep 0.2
}

# A case that fails its probe (first try) is reported with its error and left out.
# In the pull group (VARIANT_ROUNDS=1) every round, the probe included, pulls a fresh variant.
VARIANT_ROUNDS=0 NEXT_VARIANT=0
next_variant() { use_variant "$NEXT_VARIANT"; NEXT_VARIANT=$((NEXT_VARIANT + 1)); }
round_begin() { [ "$VARIANT_ROUNDS" = 1 ] || return 0; next_variant; }
probe() { # probe CASE…: sets ACTIVE
  ACTIVE=()
  local c
  round_begin
  for c in "$@"; do
    [ -n "${SKIP[$c]:-}" ] && continue
    if declare -F "pre_$c" >/dev/null; then "pre_$c" >>"$W/logs/pre.log" 2>&1 || true; fi
    if "case_$c" >/dev/null 2>"$W/logs/probe.$c" </dev/null; then ACTIVE+=("$c")
    else SKIP[$c]="failed: $(grep -v '^\s*$' "$W/logs/probe.$c" | tail -1)"; log "$c ${SKIP[$c]}"; fi
    if declare -F "post_$c" >/dev/null; then "post_$c" >>"$W/logs/post.log" 2>&1 || true; fi
  done
}
# Rounds: every active case once per round, the first case rotating, so slow drift of a shared
# machine spreads over all rows. The probe counts as the first warm-up round.
RECORDING=0
rounds() { # rounds COUNT RECORD
  local r i k=${#ACTIVE[@]}
  RECORDING=$2
  for ((r = 0; r < $1; r++)); do
    round_begin
    for ((i = 0; i < k; i++)); do run_case "${ACTIVE[$(((r + i) % k))]}" "$2"; done
    if [ "$2" = 1 ]; then cut -d' ' -f1 /proc/loadavg >>"$RAW/load.txt"; fi
  done
  RECORDING=0
  return 0
}
group() { # group NAME CASE…
  local name=$1
  shift
  log "$name: probe + $((WARM > 1 ? WARM - 1 : 0)) warm-up round(s), then $N measured rounds ($*)"
  probe "$@"
  rounds $((WARM > 1 ? WARM - 1 : 0)) 0
  rounds "$N" 1
}

QUIET_NOTE=$(wait_quiet "$QUIET_WAIT")
printf 'quiet\t%s\n' "$QUIET_NOTE" >>"$RAW/machine.tsv"
log "quiet check: $QUIET_NOTE"
T_START=$EPOCHREALTIME
# Pulls, the floor stages and the unpack rows in the same rounds: the targets compare them with
# each other, and a shared machine's load changes from minute to minute.
VARIANT_ROUNDS=1
group 'pull, floor and unpack' "${PULL_CASES[@]}" "${FLOOR_CASES[@]}"
VARIANT_ROUNDS=0
use_variant 0
# Push sources: the pulled image in both daemons (the last pull rounds may have left it removed),
# and in berthd the same layers loaded from plain tars (`docker load` keeps layers as the archive
# has them). It shares its layers' snapshots with the pulled image, so it is removed again after
# the push group: a pull must find nothing of the image.
bdocker pull -q "$SRC" >/dev/null
bdocker load -q -i "$IMG/save.tar" >/dev/null
if [ -z "${SKIP[push_dockerd]:-}" ]; then ddocker pull -q "$SRC" >/dev/null || SKIP[push_dockerd]='pull into dockerd failed'; fi
group push "${PUSH_CASES[@]}"
bdocker rmi -f bench/plain:latest >/dev/null
printf 'measured_s\t%s\n' "$(( (${EPOCHREALTIME/./} - ${T_START/./}) / 1000000 ))" >>"$RAW/machine.tsv"
printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/machine.tsv"
for c in "${PULL_CASES[@]}" "${PUSH_CASES[@]}" "${FLOOR_CASES[@]}"; do
  printf '%s\t%s\t%s\n' "$c" "${LABEL[$c]}" "${SKIP[$c]:-}" >>"$RAW/cases.tsv"
done

# ---------------------------------------------------------------- phases
# Pulls and pushes through the Engine API with time-stamped progress messages: when each
# layer's download and extraction started and ended, in berthd and in dockerd.
log "phases: $PHASE_RUNS pulls and pushes per daemon with time-stamped progress"
phase_pull() { # phase_pull DAEMON SOCK: the current variant, not in the daemon
  sync
  node --import tsx bench/pull-push-phases.ts "$2" pull "$SRC" | jq -c --arg d "$1" '. + {daemon: $d}' >>"$RAW/phases.jsonl" || true
}
phase_push() { # phase_push DAEMON SOCK TAGGER
  push_pre "$SRC" "$3"
  sync
  node --import tsx bench/pull-push-phases.ts "$2" push "$PUSH_REF" | jq -c --arg d "$1" '. + {daemon: $d}' >>"$RAW/phases.jsonl" || true
  push_post "phase_push_$1" "$3"
}
# A new variant for each phase run.
for ((r = 0; r < PHASE_RUNS; r++)); do
  next_variant
  phase_pull berthd "$BSOCK"
  if [ -z "${SKIP[pull_dockerd]:-}" ]; then phase_pull dockerd "$DSOCK"; fi
  phase_push berthd "$BSOCK" bdocker
  if [ -z "${SKIP[push_dockerd]:-}" ]; then phase_push dockerd "$DSOCK" ddocker; fi
done

# ---------------------------------------------------------------- CPU profile
# berthd again on the same roots under node --cpu-prof (the unpack worker threads inherit the
# flag and write their own profiles when they end): one warm-up pull, then 2 profiled pulls,
# samples kept between two CLOCK_MONOTONIC readings (V8's sample clock). The unpack threads
# stay for 60 s after their last layer and then end by themselves, writing their profiles:
# berthd is stopped only after that (its SIGTERM exit would kill them without a profile).
log "profiled pass: berthd under node --cpu-prof, 2 pulls"
stop_pid "$BERTHD_PID" 20
env -S "$(berthd_launcher)" --cpu-prof --cpu-prof-dir="$RAW/prof/berthd" bin/berthd --data-root "$W/berthd/data" --exec-root "$W/berthd/exec" \
  -H "unix://$BSOCK" --cgroup-parent "/berth-pullpush-${W##*.}" "${BERTHD_NET[@]}" >"$W/logs/berthd-prof.log" 2>&1 </dev/null &
BERTHD_PID=$!
if wait_sock "$BSOCK" 30 "$W/logs/berthd-prof.log"; then
  THREADS_IDLE=$(ls "/proc/$BERTHD_PID/task" | wc -l)
  # Three new variants: one warm-up, two profiled.
  next_variant; case_pull_berthd >/dev/null 2>&1 || true
  mono_us >"$RAW/prof/berthd/window"
  for _ in 1 2; do next_variant; sync; case_pull_berthd >/dev/null 2>&1 || true; done
  mono_us >>"$RAW/prof/berthd/window"
  log "waiting (at most 90 s) for the idle unpack threads to end and write their profiles"
  for ((i = 0; i < 900; i++)); do
    [ "$(ls "/proc/$BERTHD_PID/task" 2>/dev/null | wc -l)" -le "$THREADS_IDLE" ] && break
    sleep 0.1
  done
  stop_pid "$BERTHD_PID" 20
fi
BERTHD_PID=''

# What an unpack thread runs (unpackLayerFile), also profiled in-process on the same layers, one
# after the other: a cold start, as in a daemon's first pull.
log "profiled pass: berth's unpackLayerFile in-process under node --cpu-prof"
mkdir -p "$RAW/prof/unpack"
sync
node --cpu-prof --cpu-prof-dir="$RAW/prof/unpack" --import tsx bench/pull-push-unpack.ts file "$RD/unpack-prof" "${GZ[@]}" \
  >"$RAW/prof/unpack/result.json" 2>"$W/logs/unpack-prof.err" || log "profiled unpack failed: $(tail -1 "$W/logs/unpack-prof.err")"

# ---------------------------------------------------------------- report
log "writing the pull-push section of $OUT"
node --import tsx bench/pull-push-report.ts --raw "$RAW" --out "$OUT"
log "done"
