#!/usr/bin/env bash
# The one test command (npm test): prepares the machine, then type-check, the build (dist/, what the
# image runs; the pod contract tests run it), lint, format check and every test under test/ with
# node's test runner (the tests themselves run transpile-only through tsx).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-machine.sh

echo "== type-check (tsc --noEmit)"
npx --no-install tsc --noEmit
echo "== build (npm run build)"
bash scripts/build.sh
echo "== lint (eslint, prettier)"
npx --no-install eslint --max-warnings 0 .
npx --no-install prettier --check --log-level warn .

echo "== tests (node --test)"
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
