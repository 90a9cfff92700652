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
# The generated 'initials' avatars render real text through libvips/Pango: DejaVu for Latin, Greek and
# Cyrillic, Noto for most other scripts.
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]] || missing+=(fonts-dejavu-core)
compgen -G "/usr/share/fonts/truetype/noto/NotoSans-*.ttf" >/dev/null || missing+=(fonts-noto-core)
if [[ "$mode" == test ]]; then
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # The events tests run a private RabbitMQ broker (never the system one).
  [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || missing+=(rabbitmq-server)
  # The Gravatar route's tests fetch through a real Gravatar client: Perl's Gravatar::URL.
  perl -MGravatar::URL -e1 2>/dev/null || missing+=(libgravatar-url-perl)
  # The shipped nginx site is tested with nginx itself (NginxSiteTests).
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  # The documentation's commands run in the tests (DocsExamplesTests) with curl and jq, as a reader would.
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
fi
# Ceph's S3 gateway (radosgw) with a monitor and an OSD: the real S3 server of the S3 storage tests and benchmark rows.
if [[ "$mode" == test || "$mode" == bench ]]; then
  [[ -x /usr/bin/radosgw && -x /usr/bin/ceph-mon && -x /usr/bin/ceph-osd ]] || missing+=(ceph-mon ceph-osd radosgw)
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
  global_epmd_before=no; command -v epmd >/dev/null && epmd -port 4369 -names >/dev/null 2>&1 && global_epmd_before=yes
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's postgresql package starts its own cluster on 5432; we run private clusters instead.
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $sudo_cmd service postgresql stop >/dev/null 2>&1 || true
  fi
  # Debian's rabbitmq-server package may start its own broker (and a global epmd on 4369). Stop
  # exactly those, by the pid files and port it uses; never through `service rabbitmq-server`, whose
  # status call alone starts an epmd.
  if [[ " ${missing[*]} " == *" rabbitmq-server "* ]]; then
    for pidfile in /var/lib/rabbitmq/mnesia/rabbit@*.pid /run/rabbitmq/pid; do
      [[ -f "$pidfile" ]] && $sudo_cmd kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [[ $global_epmd_before == no ]] && epmd -port 4369 -names >/dev/null 2>&1; then
      $sudo_cmd epmd -port 4369 -kill >/dev/null 2>&1 || true
    fi
  fi
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is required (https://dot.net); it is not in Debian's archive." >&2
  exit 1
fi

# The SignalR clients bundled into /client/live-avatar.js and /client/avatar-editor.js (with Cropper.js and
# esbuild) come from npm; so do, for tests, the axe-core of the browser tests and the OpenAPI checks
# (tests/openapi: Redocly, Spectral, openapi-typescript, tsc).
dirs=(src/ImagePictures.Api/LiveAvatar src/ImagePictures.Api/AvatarEditor)
[[ "$mode" == test ]] && dirs+=(tests/ImagePictures.Api.Tests/Browser/axe tests/openapi)
for dir in "${dirs[@]}"; do
  if [[ -f $dir/package-lock.json && ! -d $dir/node_modules ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
