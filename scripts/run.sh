#!/usr/bin/env bash
# Runs the service on http://localhost:5080 (ASPNETCORE_URLS overrides), in Development unless
# ASPNETCORE_ENVIRONMENT says otherwise. Without ConnectionStrings:Pictures it starts a private
# PostgreSQL under .data/ and stops it again on Ctrl-C or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://localhost:5080}"
dotnet build src/ImagePictures.Api -c Release -nologo -v quiet -clp:ErrorsOnly
exec dotnet src/ImagePictures.Api/bin/Release/net10.0/ImagePictures.Api.dll "$@"
