#!/usr/bin/env bash
# Installs everything berth needs on a Debian 12 machine, as root, and builds it.
# Idempotent: each step runs only when its result is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(runc conmon tar util-linux skopeo docker-registry apache2-utils openssl podman containernetworking-plugins iptables busybox-static attr uidmap zstd xz-utils bzip2 tini docker-compose g++ make python3 git libisal-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Install from the lock file only when it changed since the last install: `npm ci`, exactly the
# locked versions (docs/decisions.md B21).
stamp=node_modules/.berth-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
fi

# berth's N-API addons, built with the node-gyp inside npm against the installed Node's headers.
# An addon is rebuilt when any of its sources is newer than its build.
addon_stale() { # addon_stale NAME
  local out=native/$1/build/Release/$1.node
  [ ! -f "$out" ] || [ -n "$(find "native/$1" -path "native/$1/build" -prune -o -type f -newer "$out" -print -quit)" ]
}

# SO_PEERCRED for the audit log (docs/decisions.md, the peer-credentials row).
if addon_stale peercred; then
  echo "setup: building native/peercred (node-gyp)"
  bash native/build.sh peercred
fi

# mount(2)/umount2(2), malloc_trim(3) and V8's memory-pressure call for berthd (docs/decisions.md
# B53, B99). Without it berthd runs mount(8)/umount(8) and trims nothing.
if addon_stale engine; then
  echo "setup: building native/engine (node-gyp)"
  bash native/build.sh engine
fi

# conmon's attach socket is SOCK_SEQPACKET, which node:net cannot open (docs/decisions.md B99):
# required, as attaching to a container needs it.
if addon_stale seqpacket; then
  echo "setup: building native/seqpacket (node-gyp)"
  bash native/build.sh seqpacket
fi

# gzip with ISA-L, inflate for layer unpacks and level-1 deflate for pushes of plain layers
# (docs/decisions.md B91, B97): optional; without it (no libisal-dev) Node's zlib does both.
if [ -f /usr/include/isa-l/igzip_lib.h ] && addon_stale isal; then
  echo "setup: building native/isal (node-gyp)"
  bash native/build.sh isal || echo "setup: native/isal did not build; zlib gzips and gunzips layers" >&2
fi

# The group whose members may use the API socket (berthd --group, default berth): root:berth 0660.
getent group berth >/dev/null || { echo "setup: creating group berth"; groupadd --system berth; }

echo "setup: building (tsc)"
npx tsc -p tsconfig.json
# The CLI as one CommonJS esbuild bundle (docs/decisions.md B55, B85); bin/berth uses it
# while it is newer than tsc's output.
echo "setup: bundling the CLI (esbuild)"
node scripts/build-cli.mjs
# berthd as one esbuild bundle (B80): ~10 MB less resident than ~270 modules; bin/berthd uses it
# while it is newer than tsc's output.
echo "setup: bundling the daemon (esbuild)"
node scripts/build-daemon.mjs

for b in berth berthd; do
  ln -sf "$PWD/bin/$b" "/usr/local/bin/$b"
done
