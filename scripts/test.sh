#!/usr/bin/env bash
# The whole test suite: set-up, lint, typecheck, unit tests, integration tests (as root,
# against the real kernel, runc and conmon). `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== lint"
npx eslint .
echo "== typecheck"
# Its own build-info file: rewriting dist/.tsbuildinfo would make both bundles look older than
# tsc's output, and bin/berth and bin/berthd would then run dist/src instead of the bundles that
# set-up just built — the suite would not test what users run (B89).
npx tsc -p tsconfig.json --noEmit --tsBuildInfoFile dist/.tsbuildinfo-typecheck

unit=$(find src -name '*.test.ts' | sort)
integration=$(find test/integration -name '*.test.ts' | sort)
echo "== tests: $(echo "$unit" | wc -w) unit files, $(echo "$integration" | wc -w) integration files"
# Unit and integration files in one run, so the runner prints one summary. Integration files
# each start their own berthd, so they may run side by side.
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=2 --test-timeout=600000 $unit $integration
