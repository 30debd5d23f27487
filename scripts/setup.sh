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

# Install from the lock file only when it changed since the last install.
# `npm install`, not `npm ci`: node-unix-socket lists optional per-platform packages that the
# registry reachable here does not serve (404), so they cannot be in the lock, and `npm ci`
# refuses a lock without them. `npm install` installs exactly the locked versions and skips the
# missing optional ones (docs/decisions.md B21).
stamp=node_modules/.berth-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
fi

# SO_PEERCRED for the audit log: a tiny N-API addon, built with the node-gyp inside npm against the
# installed Node's headers (docs/decisions.md, the peer-credentials row).
if [ ! -f native/peercred/build/Release/peercred.node ] || [ native/peercred/peercred.c -nt native/peercred/build/Release/peercred.node ]; then
  echo "setup: building native/peercred (node-gyp)"
  bash native/build.sh peercred
fi

# mount(2)/umount2(2) and malloc_trim(3) for berthd: a second small addon, built the same way
# (docs/decisions.md B53). Without it berthd runs mount(8)/umount(8) and trims nothing.
if [ ! -f native/engine/build/Release/engine.node ] || [ native/engine/engine.c -nt native/engine/build/Release/engine.node ]; then
  echo "setup: building native/engine (node-gyp)"
  bash native/build.sh engine
fi

# gzip with ISA-L, inflate for layer unpacks and level-1 deflate for pushes of plain layers
# (docs/decisions.md B91, B97): optional; without it (no libisal-dev) Node's zlib does both.
if [ -f /usr/include/isa-l/igzip_lib.h ] && { [ ! -f native/isal/build/Release/isal.node ] || [ native/isal/isal.c -nt native/isal/build/Release/isal.node ]; }; then
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
