#!/usr/bin/env bash
# Builds one addon, native/NAME/build/Release/NAME.node, with the node-gyp that ships inside npm,
# against the installed Node's own headers when they are there (no download needed).
# Usage: native/build.sh NAME
set -euo pipefail
cd "$(dirname "$0")/${1:?usage: native/build.sh NAME}"
gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
args=(rebuild)
[ -f "$prefix/include/node/node_api.h" ] && args+=("--nodedir=$prefix")
node "$gyp" "${args[@]}" --loglevel=warn >/dev/null
