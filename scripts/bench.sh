#!/usr/bin/env bash
# Benchmarks of the service against baselines measured in the same run (every figure is a ratio,
# because the machine may be shared and absolute figures are noisy).
#
#   scripts/bench.sh [--quick] [--only ingest,memory,serving,fanout,purge,micro]
#     quick: < 3 min, fewer sizes; full: < 20 min, adds micro benchmarks.
#     --only runs just the named sections, for working on one goal; by default all of them run.
#
# Starts a private PostgreSQL (through tests/ImagePictures.Benchmarks, which calls PrivatePostgres),
# the service, BareHub and nginx as child processes on free loopback ports with a temporary storage
# root, prints a table and writes bench-results.md (git-ignored). Everything it started is stopped
# on exit, also on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

quick=0
only=ingest,memory,serving,fanout,purge,micro
while (( $# )); do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=${2:?--only needs a list}; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--only ingest,memory,serving,fanout,purge,micro]" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ",$only," == *",$1,"* ]]; }
if (( quick )); then
  ingest_s=10; warmup_s=8; wrk_s=5; fan_ns=(1000); fan_rounds=50; purge_ns=(1000 10000); mode=quick
else
  ingest_s=30; warmup_s=10; wrk_s=15; fan_ns=(1000 10000); fan_rounds=100; purge_ns=(1000 10000 100000); mode=full
fi
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t_start=$SECONDS
log() { printf '[bench %4ds] %s\n' $((SECONDS - t_start)) "$*" >&2; }

# ------------------------------------------------------------------ prerequisites and build
scripts/setup.sh bench
log "building (Release)"
dotnet build tests/ImagePictures.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
dotnet build tests/BareHub -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
if [[ ! -d tests/bench-node/node_modules ]]; then
  (cd tests/bench-node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
driver=(dotnet "$repo/tests/ImagePictures.Benchmarks/bin/Release/net10.0/ImagePictures.Benchmarks.dll")
service_dll="$repo/src/ImagePictures.Api/bin/Release/net10.0/ImagePictures.Api.dll"
barehub_dll="$repo/tests/BareHub/bin/Release/net10.0/BareHub.dll"

# ------------------------------------------------------------------ cleanup of everything we start
work=$(mktemp -d /tmp/imagepictures-bench.XXXXXX)
chmod 755 "$work"
child_pids=()
pg_dir="$work/pg"
cleanup() {
  local rc=$?
  set +e
  for pid in "${child_pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${child_pids[@]}"; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [[ -f "$pg_dir/postmaster.pid" ]]; then
    "${driver[@]}" pg-stop "$pg_dir" >/dev/null 2>&1 || log "could not stop PostgreSQL in $pg_dir"
  fi
  if [[ -n "${BENCH_KEEP:-}" ]]; then log "kept $work"; else rm -rf "$work"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# get KEY from a "RESULT k=v k=v" line
get() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }
result_of() { grep '^RESULT ' | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
fmt() { awk -v a="$1" "BEGIN { printf \"$2\", a }"; }
wait_http() { # url seconds
  for _ in $(seq $(( $2 * 10 ))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "bench: $1 did not answer within $2 s" >&2; return 1
}

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); log "$1: $2 | $3 | $4 | $5 | $6"; }
# The service must live through every section; if it died, say so rather than blame the benchmark.
check_service() {
  kill -0 "$svc_pid" 2>/dev/null && return 0
  wait "$svc_pid"; local rc=$?
  echo "bench: the service exited (status $rc) during '$1'; its log:" >&2
  tail -30 "$work/service.log" >&2
  exit 1
}

# ------------------------------------------------------------------ PostgreSQL, test images, service
log "starting a private PostgreSQL"
conn=$(get "$("${driver[@]}" pg-start "$pg_dir" | result_of)" conn)
"${driver[@]}" gen-jpeg "$work/12mp.jpg" "$work/small.jpg" >/dev/null
jpeg_mb=$(awk -v b="$(stat -c %s "$work/12mp.jpg")" 'BEGIN { printf "%.1f", b / 1048576 }')

mkdir -p "$work/storage"
cp -r images/default "$work/storage/default"
svc_port=$(free_port)
svc="http://127.0.0.1:$svc_port"
log "starting the service on $svc"
# Request logging (one console line per request) is turned down, as nginx runs with access_log off.
# The fan-out's watchers all share one token, so the per-user hub caps (connections, watches) are lifted.
env ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$svc" \
  ConnectionStrings__Pictures="$conn" Storage__Root="$work/storage" \
  RateLimits__UploadsPerMinute=1000000 Pictures__MaxPicturesPerUser=1000000 Trash__RetentionDays=0 \
  Realtime__MaxConnectionsPerUser=100000 Realtime__MaxWatchedUsers=100000 \
  Logging__LogLevel__Default=Warning \
  dotnet "$service_dll" >"$work/service.log" 2>&1 &
svc_pid=$!
child_pids+=("$svc_pid")
wait_http "$svc/health/ready" 90 || { tail -50 "$work/service.log" >&2; exit 1; }

# ------------------------------------------------------------------ ingest
if want ingest; then
  log "ingest: baseline (ImagePipeline in-process, 2 threads, ${warmup_s}s warm-up, ${ingest_s}s)"
  base=$("${driver[@]}" ingest-baseline "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" | result_of)
  log "ingest: service (HTTP, 2 clients, ${warmup_s}s warm-up, ${ingest_s}s)"
  ours=$("${driver[@]}" ingest "$svc" "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" | result_of) || true
  if [[ -n "$ours" ]]; then
    r=$(ratio "$(get "$ours" rate)" "$(get "$base" rate)")
    met=$(ge "$r" 0.75 && [[ $(get "$ours" errors) == 0 ]] && echo met || echo MISSED)
    row "ingest (${jpeg_mb} MB 12 MP JPEG, 2 clients)" \
      "$(get "$ours" rate) uploads/s; p50 $(fmt "$(get "$ours" p50_ms)" %.0f) ms, p99 $(fmt "$(get "$ours" p99_ms)" %.0f) ms; $(get "$ours" errors) errors" \
      "$(get "$base" rate) normalisations/s; p50 $(fmt "$(get "$base" p50_ms)" %.0f) ms, p99 $(fmt "$(get "$base" p99_ms)" %.0f) ms" \
      "${r}×" "≥ 0.75×" "$met"
  else
    row "ingest" "failed (see service log)" "$(get "$base" rate)/s" "—" "≥ 0.75×" "MISSED"
  fi
fi

check_service "ingest"
if want memory; then
  log "ingest memory: 16 concurrent uploads"
  mem=$("${driver[@]}" ingest-mem "$svc" "$work/12mp.jpg" "$svc_pid" 16 | result_of)
  peak=$(fmt "$(get "$mem" peak_mb)" %.0f)
  met=$(le "$peak" 512 && [[ $(get "$mem" failed) == 0 ]] && echo met || echo MISSED)
  row "ingest memory (16 concurrent uploads)" \
    "peak RSS ${peak} MB (VmHWM$([[ $(get "$mem" peak_reset) == True ]] && echo ", reset before the burst"); $(get "$mem" ok) ok, $(get "$mem" failed) failed)" \
    "—" "—" "≤ 512 MB" "$met"
fi

# ------------------------------------------------------------------ serving
check_service "ingest memory"
if want serving; then
  log "serving: seeding an avatar"
  seed=$("${driver[@]}" seed-avatar "$svc" "$work/small.jpg" "$work/avatar64" | result_of)
  etag=$(get "$seed" etag)
  ext=jpg; [[ $(get "$seed" type) == image/png ]] && ext=png
  mkdir -p "$work/www" "$work/nginx"
  cp "$work/avatar64" "$work/www/avatar64.$ext"
  chmod -R a+rX "$work/www"
  nginx_port=$(free_port)
  nginx_user=root; id www-data >/dev/null 2>&1 && nginx_user=www-data
  cat >"$work/nginx/nginx.conf" <<EOF
user $nginx_user;
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  types { image/jpeg jpg; image/png png; image/webp webp; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location / { add_header Cache-Control "public, max-age=60"; }
  }
}
EOF
  nginx -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  child_pids+=("$!")
  nginx_url="http://127.0.0.1:$nginx_port/avatar64.$ext"
  ours_url="$svc$(get "$seed" path)"
  wait_http "$nginx_url" 10
  cmp -s <(curl -sf "$nginx_url") <(curl -sf "$ours_url") || { echo "bench: nginx and the service serve different bytes" >&2; exit 1; }
  nginx_etag=$(curl -sfI "$nginx_url" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')

  wrk_run() { # url [header] -> "rps p50 p99 non2xx"
    local out args=(-t2 -c64 --latency)
    [[ -n "${2:-}" ]] && args+=(-H "$2")
    wrk "${args[@]}" -d2s "$1" >/dev/null # warm-up
    out=$(wrk "${args[@]}" -d"${wrk_s}s" "$1")
    awk '/Requests\/sec:/ { rps = $2 }
         /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
         /Non-2xx or 3xx/ { bad = $NF }
         END { printf "%s %s %s %s\n", rps, p50, p99, bad + 0 }' <<<"$out"
  }
  log "serving: wrk -t2 -c64 -d${wrk_s}s, 200 path"
  read -r n_rps n_p50 n_p99 n_bad < <(wrk_run "$nginx_url")
  read -r o_rps o_p50 o_p99 o_bad < <(wrk_run "$ours_url")
  r=$(ratio "$o_rps" "$n_rps")
  met=$(ge "$r" 0.5 && (( o_bad == 0 )) && echo met || echo MISSED)
  row "serving 200 (GET /avatars/{id}?size=64, $(stat -c %s "$work/avatar64") B)" \
    "$(fmt "$o_rps" %.0f) req/s; p50 $o_p50, p99 $o_p99; $o_bad non-2xx" \
    "nginx $(fmt "$n_rps" %.0f) req/s; p50 $n_p50, p99 $n_p99" "${r}×" "≥ 0.5×" "$met"
  log "serving: 304 path (If-None-Match)"
  read -r n_rps n_p50 n_p99 n_bad < <(wrk_run "$nginx_url" "If-None-Match: $nginx_etag")
  read -r o_rps o_p50 o_p99 o_bad < <(wrk_run "$ours_url" "If-None-Match: $etag")
  # wrk counts 304 as a success (3xx); check once that both really answer 304.
  o_code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$ours_url")
  n_code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "$nginx_url")
  row "serving 304 (If-None-Match)" \
    "$(fmt "$o_rps" %.0f) req/s; p50 $o_p50, p99 $o_p99 (status $o_code)" \
    "nginx $(fmt "$n_rps" %.0f) req/s; p50 $n_p50, p99 $n_p99 (status $n_code)" "$(ratio "$o_rps" "$n_rps")×" "— (informative)" \
    "$([[ $o_code == 304 ]] && echo ok || echo "not 304")"
fi

# ------------------------------------------------------------------ fan-out
check_service "serving"
if want fanout; then
  bare_port=$(free_port)
  ASPNETCORE_URLS="http://127.0.0.1:$bare_port" Logging__LogLevel__Default=Warning dotnet "$barehub_dll" >"$work/barehub.log" 2>&1 &
  child_pids+=("$!")
  wait_http "http://127.0.0.1:$bare_port/" 60
  fan=$("${driver[@]}" seed-fanout "$svc" "$work/small.jpg" bench-fan | result_of)
  # BareHub sends the service's own picture JSON, so both sides broadcast events of the same size.
  for k in a b; do
    curl -sf -H "Authorization: Bearer $(get "$fan" token)" "$svc/api/users/bench-fan/pictures/$(get "$fan" $k)" >"$work/picture-$k.json"
  done
  watcher_token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"userId":"bench-watcher"}' "$svc/dev/token" | jq -r .accessToken)
  for n in "${fan_ns[@]}"; do
    log "fan-out: N=$n watchers on each side, rounds alternating between the service and BareHub"
    f=$(cd tests/bench-node && node fanout.js --ours "$svc" --bare "http://127.0.0.1:$bare_port" --n "$n" --rounds "$fan_rounds" \
          --per-process 500 --target bench-fan --token "$(get "$fan" token)" --watcher-token "$watcher_token" \
          --a "$(get "$fan" a)" --b "$(get "$fan" b)" --picture-a "$work/picture-a.json" --picture-b "$work/picture-b.json" | result_of) || true
    if [[ -z "$f" ]]; then
      row "fan-out N=$n" "failed" "failed" "—" "p99 ≤ 1.5×, all delivered" "MISSED"
      continue
    fi
    r=$(ratio "$(get "$f" ours_p99_ms)" "$(get "$f" bare_p99_ms)")
    met=$(le "$r" 1.5 && [[ $(get "$f" ours_delivered) == "$(get "$f" expected)" ]] && echo met || echo MISSED)
    row "fan-out N=$n (${fan_rounds} changes per side, $(get "$f" procs) client processes)" \
      "p50 $(get "$f" ours_p50_ms) ms, p99 $(get "$f" ours_p99_ms) ms; delivered $(get "$f" ours_delivered)/$(get "$f" expected)" \
      "BareHub p50 $(get "$f" bare_p50_ms) ms, p99 $(get "$f" bare_p99_ms) ms; delivered $(get "$f" bare_delivered)/$(get "$f" expected)" \
      "p99 ${r}×" "p99 ≤ 1.5×, all delivered" "$met"
  done
fi

# ------------------------------------------------------------------ purge
check_service "fan-out"
if want purge; then
  admin_token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"userId":"bench-admin","roles":["admin"]}' "$svc/dev/token" | jq -r .accessToken)
  # The disk's own deletion rate for this layout, so the purge's rate can be read against it.
  fsb=$("${driver[@]}" purge-fs-baseline "$work/storage" 10000 | result_of)
  fs_rate=$(get "$fsb" rate)
  first_rate=""; first_n=""
  for n in "${purge_ns[@]}"; do
    log "purge: seeding and purging $n pictures"
    p=$("${driver[@]}" purge "$svc" "$conn" "$work/storage" "$n" | result_of) || true
    if [[ -z "$p" || $(get "$p" status) == timeout ]]; then
      row "purge $n" "failed: ${p:-no result}" "—" "—" "100k ≤ 60 s; roughly linear" "MISSED"; continue
    fi
    rate=$(get "$p" rate); s=$(get "$p" job_s)
    [[ -z "$first_rate" ]] && { first_rate=$rate; first_n=$n; }
    complete=$([[ $(get "$p" rows_left) == 0 && $(get "$p" folders_left) == 0 ]] && echo yes || echo no)
    if (( n >= 100000 )); then goal="≤ 60 s"; met=$(le "$s" 60 && [[ $complete == yes ]] && echo met || echo MISSED)
    else goal="all purged"; met=$([[ $complete == yes ]] && echo met || echo MISSED); fi
    row "purge $n expired trashed pictures" \
      "$(fmt "$rate" %.0f) pictures/s ($(ratio "$rate" "$first_rate")× the rate at ${first_n}); job $(fmt "$s" %.1f) s (wall $(fmt "$(get "$p" wall_s)" %.1f) s); deleted $(get "$p" deleted), failed $(get "$p" failed); left: $(get "$p" rows_left) rows, $(get "$p" folders_left) folders" \
      "bare Directory.Delete of 10k such folders, 4 threads: $(fmt "$fs_rate" %.0f) folders/s" "$(ratio "$rate" "$fs_rate")× of the disk" "$goal" "$met"
  done
fi

check_service "purge"
# ------------------------------------------------------------------ micro (full mode only)
micro_md=""
if (( ! quick )) && want micro; then
  log "micro: BenchmarkDotNet ShortRun (imaging pipeline)"
  if BENCH_ARTIFACTS="$work/bdn" "${driver[@]}" micro --filter '*' >"$work/micro.log" 2>&1; then
    micro_md=$(cat "$work"/bdn/results/*-report-github.md 2>/dev/null || true)
    row "micro (imaging pipeline)" "see the BenchmarkDotNet table below" "—" "—" "for profiling" "done"
  else
    row "micro (imaging pipeline)" "failed: $(tail -3 "$work/micro.log" | tr '\n|' ' /')" "—" "—" "for profiling" "failed"
  fi
fi

# ------------------------------------------------------------------ report
cores=$(nproc)
mem_mb=$(awk '/MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "# ImagePictures benchmarks ($mode)"
  echo
  echo "- date: $started_at (took $((SECONDS - t_start)) s)"
  echo "- machine: $cores cores ($cpu), $mem_mb MB memory; load average at the end: $load"
  echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests scripts || echo ' (with local changes)')"
  echo "- every baseline was measured in the same run on the same machine"
  echo
  echo "| benchmark | ours | baseline (same run) | ratio | goal | result |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  if [[ -n "$micro_md" ]]; then
    echo
    echo "## Micro benchmarks (BenchmarkDotNet, ShortRun, in-process)"
    echo
    echo "$micro_md"
  fi
} >bench-results.md
echo
cat bench-results.md
