#!/usr/bin/env bash
# Registry benchmark: berth registry vs Debian's docker-registry (distribution 2.8), side by side in
# one run, same client (skopeo) and the same ~200 MB image (4 random-data layers). Measures push and
# pull time (skopeo copy oci: <-> docker://), manifest GET and HEAD requests/second with 32
# concurrent keep-alive clients (bench/registry-load.ts), and each server's peak RSS (VmHWM).
# Everything listens on 127.0.0.1; each server gets its own temp root and is stopped by PID.
# Push/pull times are the median of ROUNDS rounds, each on fresh servers and roots (skopeo would
# otherwise find the blobs already there), alternating which server goes first.
# Usage: bash bench/registry.sh [SIZE_MB] [SECONDS] [ROUNDS]   → prints a markdown section on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-200}
SECS=${2:-10}
ROUNDS=${3:-3}
CONC=32

command -v skopeo >/dev/null || { echo "bench/registry.sh: skopeo is missing (apt-get install -y skopeo)" >&2; exit 1; }
command -v docker-registry >/dev/null || { echo "bench/registry.sh: docker-registry is missing (apt-get install -y docker-registry)" >&2; exit 1; }
[ -f dist/src/cli/main.js ] || npx tsc -p tsconfig.json

work=$(mktemp -d /tmp/berth-regbench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
now() { date +%s.%N; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
wait_up() { for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://$1/v2/" 2>/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; return 1; }

LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
echo "building a ${SIZE_MB} MB image..." >&2
read -r digest total < <(node --import tsx bench/registry-image.ts "$work/image" bench "$SIZE_MB" 4)

start_servers() { # round → sets berth_host/pid, dist_host/pid (fresh roots and ports every round)
  local r=$1 bp dp
  bp=$(free_port)
  node bin/berth registry serve --addr "127.0.0.1:$bp" --root "$work/berth-root$r" >"$work/berth$r.log" 2>&1 &
  berth_pid=$!; pids+=("$berth_pid"); berth_host=127.0.0.1:$bp
  dp=$(free_port)
  cat >"$work/distribution$r.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/dist-root$r
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$dp
YML
  docker-registry serve "$work/distribution$r.yml" >"$work/dist$r.log" 2>&1 &
  dist_pid=$!; pids+=("$dist_pid"); dist_host=127.0.0.1:$dp
  wait_up "$berth_host"
  wait_up "$dist_host"
}
stop_servers() {
  kill "$berth_pid" "$dist_pid"; wait "$berth_pid" "$dist_pid" 2>/dev/null || true
  rm -rf "$work"/berth-root* "$work"/dist-root* "$work"/out-*
}

declare -A R
copy_one() { # name host round
  local name=$1 host=$2 r=$3 t0 t1 got
  t0=$(now)
  skopeo copy -q --dest-tls-verify=false "oci:$work/image:bench" "docker://$host/bench/img:v1"
  t1=$(now); R[$name.push]+="$(echo "$t1 - $t0" | bc) "
  t0=$(now)
  skopeo copy -q --src-tls-verify=false "docker://$host/bench/img:v1" "oci:$work/out-$name$r:v1"
  t1=$(now); R[$name.pull]+="$(echo "$t1 - $t0" | bc) "
  got=$(jq -r '.manifests[0].digest' "$work/out-$name$r/index.json")
  [ "$got" = "$digest" ] || { echo "$name: pulled digest $got != pushed $digest" >&2; exit 1; }
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Fresh servers each round; the order alternates so neither always goes first.
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS..." >&2
  start_servers "$r"
  if [ $((r % 2)) -eq 1 ]; then
    copy_one berth "$berth_host" "$r"; copy_one dist "$dist_host" "$r"
  else
    copy_one dist "$dist_host" "$r"; copy_one berth "$berth_host" "$r"
  fi
  R[berth.rss_copy]=$(peak_rss_mb "$berth_pid"); R[dist.rss_copy]=$(peak_rss_mb "$dist_pid")
  if [ "$r" -lt "$ROUNDS" ]; then stop_servers; fi
done
echo "manifest load..." >&2
for name in berth dist; do
  host=$berth_host; pid=$berth_pid
  if [ "$name" = dist ]; then host=$dist_host; pid=$dist_pid; fi
  R[$name.get]=$(node --import tsx bench/registry-load.ts "http://$host/v2/bench/img/manifests/v1" GET "$CONC" "$SECS")
  R[$name.head]=$(node --import tsx bench/registry-load.ts "http://$host/v2/bench/img/manifests/v1" HEAD "$CONC" "$SECS")
  R[$name.rss]=$(peak_rss_mb "$pid")
done
for k in berth.push berth.pull dist.push dist.pull; do
  R[$k.all]=$(for v in ${R[$k]}; do printf '%.2f ' "$v"; done)
  R[$k]=$(echo "${R[$k]}" | median)
done

field() { echo "$1" | jq -r ".$2"; }
printf '\n## Registry: berth registry vs distribution %s\n\n' "$(docker-registry --version | awk '{print $3}')"
printf 'Run of `bash bench/registry.sh %s %s %s` on %s (%s cores, Node %s, load average before: %s). Image: %s MB in 4 random-data tar+gzip layers (%s bytes, manifest %s). ' \
  "$SIZE_MB" "$SECS" "$ROUNDS" "$(date -u +%Y-%m-%d)" "$(nproc)" "$(node --version)" "$LOAD_BEFORE" "$SIZE_MB" "$total" "${digest:7:12}"
printf 'Client: skopeo %s, `copy oci: <-> docker://` over loopback; manifest load: %s keep-alive clients for %s s each (bench/registry-load.ts, node:http), `GET`/`HEAD /v2/bench/img/manifests/v1`. RSS is the server'"'"'s peak (VmHWM). Digests in and out compared.\n\n' \
  "$(skopeo --version | awk '{print $3}')" "$CONC" "$SECS"
printf '| | berth registry | docker-registry |\n|---|---|---|\n'
printf '| push (skopeo copy, s; median of %s: all) | %.2f (%s) | %.2f (%s) |\n' "$ROUNDS" "${R[berth.push]}" "${R[berth.push.all]% }" "${R[dist.push]}" "${R[dist.push.all]% }"
printf '| pull (skopeo copy, s; median of %s: all) | %.2f (%s) | %.2f (%s) |\n' "$ROUNDS" "${R[berth.pull]}" "${R[berth.pull.all]% }" "${R[dist.pull]}" "${R[dist.pull.all]% }"
printf '| manifest GET req/s (p50 / p99 ms) | %s (%s / %s) | %s (%s / %s) |\n' \
  "$(field "${R[berth.get]}" rps)" "$(field "${R[berth.get]}" p50ms)" "$(field "${R[berth.get]}" p99ms)" \
  "$(field "${R[dist.get]}" rps)" "$(field "${R[dist.get]}" p50ms)" "$(field "${R[dist.get]}" p99ms)"
printf '| manifest HEAD req/s (p50 / p99 ms) | %s (%s / %s) | %s (%s / %s) |\n' \
  "$(field "${R[berth.head]}" rps)" "$(field "${R[berth.head]}" p50ms)" "$(field "${R[berth.head]}" p99ms)" \
  "$(field "${R[dist.head]}" rps)" "$(field "${R[dist.head]}" p50ms)" "$(field "${R[dist.head]}" p99ms)"
printf '| load errors (non-200) | %s | %s |\n' \
  "$(( $(field "${R[berth.get]}" errors) + $(field "${R[berth.head]}" errors) ))" "$(( $(field "${R[dist.get]}" errors) + $(field "${R[dist.head]}" errors) ))"
printf '| peak RSS after push+pull (MB) | %s | %s |\n' "${R[berth.rss_copy]}" "${R[dist.rss_copy]}"
printf '| peak RSS after the load (MB) | %s | %s |\n' "${R[berth.rss]}" "${R[dist.rss]}"
