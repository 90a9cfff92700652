#!/usr/bin/env bash
# The benchmark: the service against baselines measured in the same run (every figure is a ratio, because
# the machine may be shared and absolute figures are noisy). The work is done by tests/ImagePictures.Benchmarks;
# docs/performance.md ("Running the benchmark") describes the options and the report.
#
#   scripts/bench.sh [--quick] [--only serving,gravatar,zipf,ingest,memory,imaging,fanout,hub,purge,s3,events,micro] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_T0=$(date +%s)
scripts/setup.sh bench
echo "[bench] building (Release)" >&2
dotnet build tests/ImagePictures.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build tests/BareHub -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
[[ -d tests/bench-node/node_modules ]] || (cd tests/bench-node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
exec dotnet tests/ImagePictures.Benchmarks/bin/Release/net10.0/ImagePictures.Benchmarks.dll "$@"
