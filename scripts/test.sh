#!/usr/bin/env bash
# `npm test`: installs what is missing (npm packages, the Python venv, PostgreSQL), then runs lint,
# the type check, and the unit, CDK and integration tests (the integration tests start the local
# services themselves). Ends with one summary line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash localstack/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node --version), $(python3 --version 2>&1)"

echo "== lint and format (biome)"
biome ci --colors=off .

echo "== type check (tsc)"
tsc --noEmit

echo "== tests (vitest: unit, cdk, integration)"
mkdir -p .local
status=0
vitest run --reporter=default --reporter=json --outputFile.json=.local/vitest-results.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".local/vitest-results.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' || true
exit "$status"
