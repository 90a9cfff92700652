#!/usr/bin/env bash
# Checks the service's OpenAPI document as an adopting team's tools would:
#   1. Redocly lint with its recommended rules, as shipped;
#   2. Spectral with spectral:oas, as shipped (.spectral.yaml only extends it);
#   3. openapi-typescript generates types, and tsc --strict type-checks scenario.ts, the whole user
#      scenario written with openapi-fetch against them.
# Usage: tests/openapi/check.sh [URL or file]   (default: http://localhost:5080/openapi/v1.json,
# the Development service of scripts/run.sh). Exits non-zero when a linter reports an error or the
# scenario does not type-check. The packages are pinned in package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "$0")"
source="${1:-http://localhost:5080/openapi/v1.json}"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
mkdir -p generated
if [[ "$source" == http* ]]; then
  curl -sSf "$source" -o generated/openapi.json
elif [ "$(realpath "$source")" != "$(realpath generated/openapi.json)" ]; then
  cp "$source" generated/openapi.json
fi
status=0
echo "== redocly lint (recommended)"
npx --no-install redocly lint generated/openapi.json --extends=recommended --format=stylish || status=1
echo "== spectral lint (spectral:oas)"
npx --no-install spectral lint generated/openapi.json --ruleset .spectral.yaml --fail-severity=error || status=1
echo "== openapi-typescript + tsc --strict"
npx --no-install openapi-typescript generated/openapi.json -o generated/schema.d.ts --silent || status=1
npx --no-install tsc -p tsconfig.json && echo "scenario.ts type-checks" || status=1
exit $status
