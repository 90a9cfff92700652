#!/usr/bin/env bash
# Installs what a fresh machine lacks and runs the tests; exits non-zero on any failure.
#   scripts/test.sh        every test: the lanes Unit, Api, Browser, Fault and Slow, then the Node hub check
#   scripts/test.sh fast   the lanes Unit and Api only (what a change to a handler or a query needs)
# Lanes are the tests' Category traits; docs/testing.md says which to run when.
# Each test run starts its own PostgreSQL clusters under a temporary folder; the trap stops any
# that a crashed test left running.
set -euo pipefail
cd "$(dirname "$0")/.."
lane="${1:-all}"
# The fast lane builds and runs only the projects that hold Unit and Api tests (tests/fast-lane.slnf).
case "$lane" in
  all) filter="" projects=ImagePictures.sln ;;
  fast) filter="Category=Unit|Category=Api" projects=tests/fast-lane.slnf ;;
  *) echo "usage: scripts/test.sh [fast]" >&2; exit 2 ;;
esac
scripts/setup.sh test

export IMAGEPICTURES_TEST_ROOT="$(mktemp -d /tmp/imagepictures-tests.XXXXXX)"
chmod 755 "$IMAGEPICTURES_TEST_ROOT"
cleanup() {
  for pid in $(find "$IMAGEPICTURES_TEST_ROOT" -name postmaster.pid 2>/dev/null); do
    dir="$(dirname "$pid")"
    runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
  done
  # A private RabbitMQ broker and its epmd (tests/ImagePictures.Testing/TestBroker.cs).
  for pid in $(find "$IMAGEPICTURES_TEST_ROOT" -name rabbit.pid -o -name epmd.pid 2>/dev/null); do
    kill -TERM "$(cat "$pid")" 2>/dev/null || true
  done
  pkill -f "$IMAGEPICTURES_TEST_ROOT" 2>/dev/null || true
  rm -rf "$IMAGEPICTURES_TEST_ROOT"
}
trap cleanup EXIT INT TERM

dotnet build "$projects" -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet test "$projects" -c Release --no-build -nologo --logger "console;verbosity=normal" \
  ${filter:+--filter "$filter"} -- RunConfiguration.TestSessionTimeout=1800000
[[ "$lane" == fast ]] && exit 0

# The hub with the real @microsoft/signalr client (Node), against the Release build started above.
CONFIGURATION=Release tests/node-signalr/run.sh
