#!/usr/bin/env bash
# Starts the built service (Development, its own private PostgreSQL and storage under a temporary
# folder) on a free port, runs hub-check.mjs against it with the real @microsoft/signalr client,
# and stops the service. Used by scripts/test.sh after the solution was built. Anonymous watching is
# switched off here so that the check of a refused token-less connection holds (anonymous watching
# itself is tested in AnonymousWatchTests and the live-avatar browser tests).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
config="${CONFIGURATION:-Release}"
dll="$repo/src/ImagePictures.Api/bin/$config/net10.0/ImagePictures.Api.dll"
[[ -f "$dll" ]] || { echo "node-signalr: $dll is missing; build first" >&2; exit 1; }
[[ -d "$here/node_modules" ]] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

root="$(mktemp -d "${IMAGEPICTURES_TEST_ROOT:-/tmp}/node-signalr.XXXXXX")"
chmod 755 "$root"
mkdir -p "$root/storage/default"
cp "$repo/images/default/default.png" "$root/storage/default/default.png"
port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"

ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" \
  ConnectionStrings__Pictures="" PrivatePostgres__DataDirectory="$root/pg" Storage__Root="$root/storage" \
  Realtime__AnonymousWatch=false \
  dotnet "$dll" >"$root/service.log" 2>&1 &
service=$!
stop() {
  kill "$service" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$service" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$service" 2>/dev/null || true
  rm -rf "$root"
}
trap stop EXIT

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break
  kill -0 "$service" 2>/dev/null || { echo "node-signalr: the service did not start:" >&2; tail -30 "$root/service.log" >&2; exit 1; }
  sleep 0.2
done
echo "node-signalr: service up after ${SECONDS}s"; cd "$here" && BASE="http://127.0.0.1:$port" timeout 30 node hub-check.mjs || { echo "--- service log ---" >&2; tail -30 "$root/service.log" >&2; exit 1; }
