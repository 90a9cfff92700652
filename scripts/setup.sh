#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, and only that. Usage: scripts/setup.sh [run|test|bench]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

missing=()
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || missing+=(postgresql)
ldconfig -p | grep -q 'libvips.so.42' || missing+=(libvips42)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v runuser >/dev/null || missing+=(util-linux)
if [[ "$mode" == test ]]; then
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
fi
if [[ "$mode" == bench ]]; then
  command -v nginx >/dev/null || missing+=(nginx)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v jq >/dev/null || missing+=(jq)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
fi

if (( ${#missing[@]} > 0 )); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's postgresql package starts its own cluster on 5432; we run private clusters instead.
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $sudo_cmd service postgresql stop >/dev/null 2>&1 || true
  fi
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is required (https://dot.net); it is not in Debian's archive." >&2
  exit 1
fi

# The browser sample's SignalR client, and the one bundled into /client/live-avatar.js, come from npm.
for dir in wwwroot-sample src/ImagePictures.Api/LiveAvatar; do
  if [[ -f $dir/package-lock.json && ! -d $dir/node_modules ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
