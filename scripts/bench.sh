#!/usr/bin/env bash
# Benchmarks of the service against baselines measured in the same run (every figure is a ratio,
# because the machine may be shared and absolute figures are noisy).
#
#   scripts/bench.sh [--quick] [--only serving,zipf,ingest,memory,fanout,purge,s3,events,micro]
#     quick: < 5 min, shorter runs and fewer sizes; full: adds N=10,000 fan-out, the 100k purge, the 10k S3 purge and
#     micro benchmarks, and prints its total time.
#     --only runs just the named sections, for working on one goal; by default all of them run.
#
# Starts a private PostgreSQL (through tests/ImagePictures.Benchmarks, which calls PrivatePostgres),
# the service, BareHub and nginx as child processes on free loopback ports with a temporary storage
# root (and, for the s3 rows, a private Ceph S3 gateway and a second service on it), prints a table and writes bench-results.md (git-ignored). Everything it started is stopped
# on exit, also on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

quick=0
only=serving,zipf,ingest,memory,fanout,purge,s3,events,micro
while (( $# )); do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=${2:?--only needs a list}; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--only serving,zipf,ingest,memory,fanout,purge,s3,events,micro]" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ",$only," == *",$1,"* ]]; }
if (( quick )); then
  ingest_s=8; warmup_s=5; wrk_s=4; zipf_s=6; serve_warm_s=8; fan_ns=(1000); fan_rounds=30; purge_ns=(1000 10000); s3_purge_ns=(1000); fs_n=5000; mode=quick; events_n=5000; webhook_n=500
else
  ingest_s=30; warmup_s=10; wrk_s=15; zipf_s=20; serve_warm_s=30; fan_ns=(1000 10000); fan_rounds=100; purge_ns=(1000 10000 100000); s3_purge_ns=(1000 10000); fs_n=10000; mode=full; events_n=20000; webhook_n=2000
fi
zipf_users=1000000; zipf_pictures=20000
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
  if [[ -d "$work/ceph/run" ]]; then
    "${driver[@]}" s3-stop "$work/ceph" >/dev/null 2>&1 || log "could not stop the Ceph gateway in $work/ceph"
  fi
  # The events section's private RabbitMQ broker, then its epmd.
  if [[ -f "$work/rabbit/rabbit.pid" ]]; then
    rpid=$(cat "$work/rabbit/rabbit.pid"); kill -TERM "$rpid" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
  fi
  [[ -f "$work/rabbit/epmd.pid" ]] && kill "$(cat "$work/rabbit/epmd.pid")" 2>/dev/null
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
# Request logging (one console line per request) is turned down, as nginx runs with access_log off.
# The fan-out's watchers all share one token, so the per-user hub caps (connections, watches) are lifted.
start_service() {
  log "starting the service on $svc"
  env ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$svc" \
    ConnectionStrings__Pictures="$conn" Storage__Root="$work/storage" \
    RateLimits__UploadsPerMinute=1000000 Pictures__MaxPicturesPerUser=1000000 Trash__RetentionDays=0 \
    Realtime__MaxConnectionsPerUser=100000 Realtime__MaxWatchedUsers=100000 \
    Logging__LogLevel__Default=Warning \
    dotnet "$service_dll" >>"$work/service.log" 2>&1 &
  svc_pid=$!
  child_pids+=("$svc_pid")
  wait_http "$svc/health/ready" 90 || { tail -50 "$work/service.log" >&2; exit 1; }
}
stop_service() {
  kill "$svc_pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$svc_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$svc_pid" 2>/dev/null || true
}
start_service
rss_mb() { awk -v k="$2:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# The avatar that serving and the million-user run use: a 64 px WebP, also given to nginx as a static file.
seed=$("${driver[@]}" seed-avatar "$svc" "$work/small.jpg" "$work/avatar64" | result_of)
etag=$(get "$seed" etag)

wrk_run() { # url [header...] -> "rps p50 p99 non2xx requests"
  local url=$1 out args=(-t2 -c64 --latency -H "Accept: image/webp")
  shift
  for h in "$@"; do args+=(-H "$h"); done
  wrk "${args[@]}" -d2s "$url" >/dev/null # warm-up
  out=$(wrk "${args[@]}" -d"${wrk_s}s" "$url")
  awk '/Requests\/sec:/ { rps = $2 }
       /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
       /Non-2xx or 3xx/ { bad = $NF }
       / requests in / { n = $1 }
       END { printf "%s %s %s %s %s\n", rps, p50, p99, bad + 0, n }' <<<"$out"
}
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a + b) / 2 }'; }

# ------------------------------------------------------------------ serving
check_service "start"
if want serving; then
  mkdir -p "$work/www" "$work/nginx"
  cp "$work/avatar64" "$work/www/avatar64.webp"
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
    location / { add_header Cache-Control "public, max-age=60"; add_header Vary Accept; }
  }
}
EOF
  nginx -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  child_pids+=("$!")
  nginx_url="http://127.0.0.1:$nginx_port/avatar64.webp"
  ours_url="$svc$(get "$seed" path)"
  variant_url="$svc$(get "$seed" variant)"
  wait_http "$nginx_url" 10
  for u in "$ours_url" "$variant_url"; do
    cmp -s <(curl -sf "$nginx_url") <(curl -sf -H 'Accept: image/webp' "$u") || { echo "bench: nginx and $u serve different bytes" >&2; exit 1; }
  done
  nginx_etag=$(curl -sfI "$nginx_url" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  bytes=$(stat -c %s "$work/avatar64")
  # A freshly started service compiles its hot paths for the first 20-40 s (tiered JIT; a profile
  # showed a third of a core in the JIT 30 s in): that is start-up, not serving, so it is not measured.
  log "serving: warming the service up for ${serve_warm_s}s"
  wrk -t2 -c64 -d"$((serve_warm_s / 2))s" -H "Accept: image/webp" "$ours_url" >/dev/null
  wrk -t2 -c64 -d"$((serve_warm_s / 4))s" -H "Accept: image/webp" "$variant_url" >/dev/null
  wrk -t2 -c64 -d"$((serve_warm_s / 4))s" -H "Accept: image/webp" -H "If-None-Match: $etag" "$ours_url" >/dev/null

  # nginx is measured before and after the service's runs; its mean is the baseline (the machine drifts).
  log "serving: wrk -t2 -c64 -d${wrk_s}s, 200 path (nginx, avatar, variant, nginx)"
  read -r n1_rps n_p50 n_p99 _ _ < <(wrk_run "$nginx_url")
  read -r o_rps o_p50 o_p99 o_bad _ < <(wrk_run "$ours_url")
  read -r v_rps v_p50 v_p99 v_bad _ < <(wrk_run "$variant_url")
  read -r n2_rps _ _ _ _ < <(wrk_run "$nginx_url")
  n_rps=$(mean "$n1_rps" "$n2_rps")
  r=$(ratio "$o_rps" "$n_rps")
  row "serving 200 (GET /avatars/{id}?size=64, ${bytes} B WebP)" \
    "$(fmt "$o_rps" %.0f) req/s; p50 $o_p50, p99 $o_p99; $o_bad non-2xx" \
    "nginx static $n_rps req/s (runs: $(fmt "$n1_rps" %.0f), $(fmt "$n2_rps" %.0f)); p50 $n_p50, p99 $n_p99" "${r}×" "≥ 0.75×" \
    "$(ge "$r" 0.75 && (( o_bad == 0 )) && echo met || echo MISSED)"
  r=$(ratio "$v_rps" "$n_rps")
  row "serving 200 (GET /pictures/{id}/64, immutable)" \
    "$(fmt "$v_rps" %.0f) req/s; p50 $v_p50, p99 $v_p99; $v_bad non-2xx" \
    "nginx static $n_rps req/s" "${r}×" "≥ 0.75×" "$(ge "$r" 0.75 && (( v_bad == 0 )) && echo met || echo MISSED)"

  log "serving: 304 path (If-None-Match; nginx, avatar, nginx)"
  read -r n1_rps n_p50 n_p99 _ _ < <(wrk_run "$nginx_url" "If-None-Match: $nginx_etag")
  read -r o_rps o_p50 o_p99 _ _ < <(wrk_run "$ours_url" "If-None-Match: $etag")
  read -r n2_rps _ _ _ _ < <(wrk_run "$nginx_url" "If-None-Match: $nginx_etag")
  n_rps=$(mean "$n1_rps" "$n2_rps")
  # wrk counts 304 as a success (3xx); check once that both really answer 304.
  o_code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: image/webp' -H "If-None-Match: $etag" "$ours_url")
  n_code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "$nginx_url")
  r=$(ratio "$o_rps" "$n_rps")
  row "serving 304 (If-None-Match, /avatars)" \
    "$(fmt "$o_rps" %.0f) req/s; p50 $o_p50, p99 $o_p99 (status $o_code)" \
    "nginx static $n_rps req/s (runs: $(fmt "$n1_rps" %.0f), $(fmt "$n2_rps" %.0f)); p50 $n_p50, p99 $n_p99 (status $n_code)" "${r}×" "≥ 0.75×" \
    "$(ge "$r" 0.75 && [[ $o_code == 304 && $n_code == 304 ]] && echo met || echo MISSED)"
fi

# ------------------------------------------------------------------ a million users, Zipf-distributed
check_service "serving"
if want zipf; then
  log "zipf: seeding $zipf_users users ($zipf_pictures with a picture) and a Zipf(s=1.0) request list"
  z=$("${driver[@]}" zipf-seed "$conn" "$work/storage" "$work/avatar64" "$zipf_users" "$zipf_pictures" "$work/zipf-paths" 500000 1.0 | result_of)
  echo "/avatars/$(get "$z" hot_user)?size=64" >"$work/hot-path"
  # The rows were written behind the service's back: a restart makes it load them as a fresh instance would.
  log "zipf: restarting the service"
  stop_service
  start_service
  metric_lookups() { { curl -sf "$svc/metrics" 2>/dev/null || true; } | awk '/^imagepictures_avatar_cache_lookups_total/ && /result="'"$1"'"/ { s += $NF } END { printf "%d", s }'; }
  zipf_wrk() { WRK_PATHS=$1 wrk -t2 -c64 -d"$2" -s "$repo/tests/ImagePictures.Benchmarks/wrk-paths.lua" -H "Accept: image/webp" "$svc/" ; }
  # Warm-up after the restart (JIT, connection pool, the index load, the first lookups); not measured.
  zipf_wrk "$work/zipf-paths" "$((serve_warm_s / 2))s" >/dev/null
  zipf_wrk "$work/hot-path" "$((serve_warm_s / 2))s" >/dev/null
  # The hot-avatar reference runs before and after the million-user run; its mean is the baseline.
  log "zipf: hot-avatar reference (same wrk script, one path), ${zipf_s}s"
  hot1=$(zipf_wrk "$work/hot-path" "${zipf_s}s" | awk '/Requests\/sec:/ { print $2 }')
  before=$("${driver[@]}" pg-counters "$conn" | result_of)
  hits0=$(metric_lookups hit); misses0=$(metric_lookups miss)
  log "zipf: $zipf_users users, ${zipf_s}s"
  out=$(zipf_wrk "$work/zipf-paths" "${zipf_s}s")
  after=$("${driver[@]}" pg-counters "$conn" | result_of)
  hits=$(( $(metric_lookups hit) - hits0 )); misses=$(( $(metric_lookups miss) - misses0 ))
  log "zipf: hot-avatar reference again, ${zipf_s}s"
  hot2=$(zipf_wrk "$work/hot-path" "${zipf_s}s" | awk '/Requests\/sec:/ { print $2 }')
  hot_rps=$(mean "$hot1" "$hot2")
  z_rps=$(awk '/Requests\/sec:/ { print $2 }' <<<"$out")
  z_n=$(awk '/ requests in / { print $1 }' <<<"$out")
  z_bad=$(awk '/Non-2xx or 3xx/ { print $NF }' <<<"$out"); z_bad=${z_bad:-0}
  xacts=$(( $(get "$after" xact_commit) - $(get "$before" xact_commit) ))
  qpr=$(awk -v x="$xacts" -v n="$z_n" 'BEGIN { printf "%.4f", x / n }')
  statements="n/a (pg_stat_statements not loaded)"
  [[ $(get "$after" statements) != n/a ]] && statements=$(( $(get "$after" statements) - $(get "$before" statements) ))
  if (( hits + misses > 0 )); then hit_ratio="cache hit ratio $(awk -v h="$hits" -v m="$misses" 'BEGIN { printf "%.4f", h / (h + m) }') (metrics)"
  else hit_ratio="hit ratio ≥ $(awk -v q="$qpr" 'BEGIN { printf "%.4f", 1 - q }') (1 − queries/request; no cache metric)"; fi
  rss=$(rss_mb "$svc_pid" VmRSS); hwm=$(rss_mb "$svc_pid" VmHWM)
  r=$(ratio "$z_rps" "$hot_rps")
  met=$(ge "$r" 0.6 && le "$qpr" 0.1 && le "$rss" 400 && (( z_bad == 0 )) && echo met || echo MISSED)
  row "avatars over $zipf_users users, Zipf s=1.0 ($(get "$z" pictures) with pictures; $(get "$z" distinct) distinct users in the list, $(fmt "$(get "$z" picture_share)" %.3f) of requests to users with a picture)" \
    "$(fmt "$z_rps" %.0f) req/s, $z_bad non-2xx; PostgreSQL $qpr queries/request ($xacts commits / $z_n requests; statements: $statements); $hit_ratio; service RSS $rss MB (peak since restart $hwm MB)" \
    "hot avatar, same wrk script: $hot_rps req/s (runs: $(fmt "$hot1" %.0f), $(fmt "$hot2" %.0f))" "${r}×" "≥ 0.6×; ≤ 0.1 queries/request; RSS ≤ 400 MB" "$met"
fi

# ------------------------------------------------------------------ ingest
check_service "zipf"
if want ingest; then
  log "ingest: bare libvips loop (ImagePipeline in-process, 2 threads, ${warmup_s}s warm-up, ${ingest_s}s)"
  base=$("${driver[@]}" ingest-baseline "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" | result_of)
  log "ingest: bare ImageSharp 2.1 loop (2 threads, ${warmup_s}s warm-up, ${ingest_s}s)"
  sharp=$("${driver[@]}" ingest-imagesharp "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" | result_of)
  log "ingest: service (HTTP, 2 clients, ${warmup_s}s warm-up, ${ingest_s}s)"
  ours=$("${driver[@]}" ingest "$svc" "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" | result_of) || true
  if [[ -n "$ours" ]]; then
    ours_text="$(get "$ours" rate) uploads/s; p50 $(fmt "$(get "$ours" p50_ms)" %.0f) ms, p99 $(fmt "$(get "$ours" p99_ms)" %.0f) ms; $(get "$ours" errors) errors"
    r=$(ratio "$(get "$ours" rate)" "$(get "$base" rate)")
    met=$(ge "$r" 0.9 && [[ $(get "$ours" errors) == 0 ]] && echo met || echo MISSED)
    row "ingest vs libvips (${jpeg_mb} MB 12 MP JPEG, 2 clients)" "$ours_text" \
      "bare libvips loop $(get "$base" rate) normalisations/s; p50 $(fmt "$(get "$base" p50_ms)" %.0f) ms, p99 $(fmt "$(get "$base" p99_ms)" %.0f) ms" \
      "${r}×" "≥ 0.9×" "$met"
    r=$(ratio "$(get "$ours" rate)" "$(get "$sharp" rate)")
    met=$(ge "$r" 1.5 && [[ $(get "$ours" errors) == 0 ]] && echo met || echo MISSED)
    row "ingest vs ImageSharp (same image, 2 clients)" "$ours_text" \
      "bare ImageSharp 2.1.13 loop $(get "$sharp" rate) normalisations/s; p50 $(fmt "$(get "$sharp" p50_ms)" %.0f) ms, p99 $(fmt "$(get "$sharp" p99_ms)" %.0f) ms" \
      "${r}×" "≥ 1.5×" "$met"
  else
    row "ingest" "failed (see service log)" "libvips $(get "$base" rate)/s, ImageSharp $(get "$sharp" rate)/s" "—" "≥ 0.9× libvips, ≥ 1.5× ImageSharp" "MISSED"
  fi
fi

check_service "ingest"
if want memory; then
  log "ingest memory: 16 concurrent uploads, then the ImageSharp loop on the same 16 images"
  mem=$("${driver[@]}" ingest-mem "$svc" "$work/12mp.jpg" "$svc_pid" 16 | result_of)
  sharp_mem=$("${driver[@]}" ingest-imagesharp-mem "$work/12mp.jpg" 16 | result_of)
  peak=$(fmt "$(get "$mem" peak_mb)" %.0f)
  met=$(le "$peak" 400 && [[ $(get "$mem" failed) == 0 ]] && echo met || echo MISSED)
  row "ingest memory (16 concurrent 12 MP uploads)" \
    "peak RSS ${peak} MB (VmHWM$([[ $(get "$mem" peak_reset) == True ]] && echo ", reset before the burst"); $(get "$mem" ok) ok, $(get "$mem" failed) failed)" \
    "bare ImageSharp loop, the same 16 images at once: peak RSS $(fmt "$(get "$sharp_mem" peak_mb)" %.0f) MB" \
    "$(ratio "$peak" "$(get "$sharp_mem" peak_mb)")×" "≤ 400 MB" "$met"
fi

# ------------------------------------------------------------------ fan-out
check_service "ingest memory"
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
      row "fan-out N=$n" "failed" "failed" "—" "p99 ≤ 1.2×, all delivered" "MISSED"
      continue
    fi
    r=$(ratio "$(get "$f" ours_p99_ms)" "$(get "$f" bare_p99_ms)")
    met=$(le "$r" 1.2 && [[ $(get "$f" ours_delivered) == "$(get "$f" expected)" ]] && echo met || echo MISSED)
    row "fan-out N=$n (${fan_rounds} changes per side, $(get "$f" procs) client processes)" \
      "p50 $(get "$f" ours_p50_ms) ms, p99 $(get "$f" ours_p99_ms) ms; delivered $(get "$f" ours_delivered)/$(get "$f" expected)" \
      "BareHub p50 $(get "$f" bare_p50_ms) ms, p99 $(get "$f" bare_p99_ms) ms; delivered $(get "$f" bare_delivered)/$(get "$f" expected)" \
      "p99 ${r}×" "p99 ≤ 1.2×, all delivered" "$met"
  done
fi

# ------------------------------------------------------------------ purge
check_service "fan-out"
if want purge; then
  admin_token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"userId":"bench-admin","roles":["admin"]}' "$svc/dev/token" | jq -r .accessToken)
  # The disk's own deletion rate for this layout, so the purge's rate can be read against it.
  fsb=$("${driver[@]}" purge-fs-baseline "$work/storage" "$fs_n" | result_of)
  fs_rate=$(get "$fsb" rate)
  first_rate=""; first_n=""
  for n in "${purge_ns[@]}"; do
    log "purge: seeding and purging $n pictures"
    p=$("${driver[@]}" purge "$svc" "$conn" "$work/storage" "$n" | result_of) || true
    if [[ -z "$p" || $(get "$p" status) == timeout ]]; then
      row "purge $n" "failed: ${p:-no result}" "—" "—" "all purged; 100k ≥ 0.8× the disk" "MISSED"; continue
    fi
    rate=$(get "$p" rate); s=$(get "$p" job_s)
    [[ -z "$first_rate" ]] && { first_rate=$rate; first_n=$n; }
    complete=$([[ $(get "$p" rows_left) == 0 && $(get "$p" folders_left) == 0 ]] && echo yes || echo no)
    disk=$(ratio "$rate" "$fs_rate")
    if (( n >= 100000 )); then goal="≥ 0.8× the disk, all purged"; met=$(ge "$disk" 0.8 && [[ $complete == yes ]] && echo met || echo MISSED)
    else goal="all purged"; met=$([[ $complete == yes ]] && echo met || echo MISSED); fi
    row "purge $n expired trashed pictures" \
      "$(fmt "$rate" %.0f) pictures/s ($(ratio "$rate" "$first_rate")× the rate at ${first_n}); job $(fmt "$s" %.1f) s (wall $(fmt "$(get "$p" wall_s)" %.1f) s); deleted $(get "$p" deleted), failed $(get "$p" failed); left: $(get "$p" rows_left) rows, $(get "$p" folders_left) folders" \
      "bare Directory.Delete of $fs_n such folders, 4 threads: $(fmt "$fs_rate" %.0f) folders/s" "${disk}× of the disk" "$goal" "$met"
  done
fi

check_service "purge"
# ------------------------------------------------------------------ S3: ingest and purge on a private Ceph gateway
# A second service stores its pictures in a bucket (its own database, so that the two services are not
# one job cluster); each row's baseline is the bare AWS SDK doing the same puts or deletes in this run.
if want s3; then
  log "s3: starting a private Ceph S3 gateway"
  s3=$("${driver[@]}" s3-start "$work/ceph" | result_of)
  s3_url=$(get "$s3" url)
  "${driver[@]}" s3-bucket "$s3_url" bench-service >/dev/null
  "${driver[@]}" s3-bucket "$s3_url" bench-bare >/dev/null
  s3_conn=$(get "$("${driver[@]}" pg-db "$pg_dir" imagepictures_s3 | result_of)" conn)
  s3_port=$(free_port)
  s3_svc="http://127.0.0.1:$s3_port"
  log "s3: starting the service on $s3_svc with Storage:Provider=S3"
  env ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$s3_svc" \
    ConnectionStrings__Pictures="$s3_conn" Storage__Provider=S3 Storage__S3__ServiceUrl="$s3_url" Storage__S3__Bucket=bench-service \
    Storage__S3__AccessKey="$(get "$s3" access_key)" Storage__S3__SecretKey="$(get "$s3" secret_key)" Storage__S3__ForcePathStyle=true \
    Storage__S3__Prefix=bench/ \
    RateLimits__UploadsPerMinute=1000000 Pictures__MaxPicturesPerUser=1000000 Trash__RetentionDays=0 \
    Logging__LogLevel__Default=Warning \
    dotnet "$service_dll" >"$work/service-s3.log" 2>&1 &
  s3_pid=$!
  child_pids+=("$s3_pid")
  wait_http "$s3_svc/health/ready" 90 || { tail -50 "$work/service-s3.log" >&2; exit 1; }

  log "s3 ingest: baseline (ImagePipeline in-process + bare SDK puts, 2 threads)"
  base=$("${driver[@]}" ingest-s3-baseline "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" "$s3_url" bench-bare | result_of)
  log "s3 ingest: service on S3 (HTTP, 2 clients)"
  ours=$("${driver[@]}" ingest "$s3_svc" "$work/12mp.jpg" "$ingest_s" 2 "$warmup_s" | result_of) || true
  if [[ -n "$ours" ]]; then
    r=$(ratio "$(get "$ours" rate)" "$(get "$base" rate)")
    met=$(ge "$r" 0.75 && [[ $(get "$ours" errors) == 0 ]] && echo met || echo MISSED)
    row "S3 ingest (${jpeg_mb} MB 12 MP JPEG, 2 clients, Ceph)" \
      "$(get "$ours" rate) uploads/s; p50 $(fmt "$(get "$ours" p50_ms)" %.0f) ms, p99 $(fmt "$(get "$ours" p99_ms)" %.0f) ms; $(get "$ours" errors) errors" \
      "$(get "$base" rate) normalisations + 11 puts/s; p50 $(fmt "$(get "$base" p50_ms)" %.0f) ms" \
      "${r}×" "≥ 0.75× (as on disk)" "$met"
  else
    row "S3 ingest" "failed (see service-s3.log)" "$(get "$base" rate)/s" "—" "≥ 0.75×" "MISSED"
  fi

  for n in "${s3_purge_ns[@]}"; do
    log "s3 purge: bare SDK deleting $n pictures' keys"
    bare=$("${driver[@]}" purge-s3-baseline "$s3_url" bench-bare "$n" 32,64,128,256,512 | result_of)
    log "s3 purge: seeding and purging $n pictures"
    p=$("${driver[@]}" purge-s3 "$s3_svc" "$s3_conn" "$s3_url" bench-service "$n" | result_of) || true
    if [[ -z "$p" || $(get "$p" status) == timeout ]]; then
      row "S3 purge $n" "failed: ${p:-no result}" "—" "—" "all purged" "MISSED"; continue
    fi
    complete=$([[ $(get "$p" rows_left) == 0 && $(get "$p" folders_left) == 0 && $(get "$p" failed) == 0 ]] && echo yes || echo no)
    row "S3 purge $n expired trashed pictures (Ceph)" \
      "$(fmt "$(get "$p" job_s)" %.2f) s ($(fmt "$(get "$p" rate)" %.0f) pictures/s), status $(get "$p" status), rows left $(get "$p" rows_left), objects left $(get "$p" folders_left)" \
      "bare DeleteObjects of the same keys: $(fmt "$(get "$bare" rate)" %.0f) pictures/s" \
      "$(ratio "$(get "$p" rate)" "$(get "$bare" rate)")×" "all purged" "$([[ $complete == yes ]] && echo met || echo MISSED)"
  done
  kill -0 "$s3_pid" 2>/dev/null || { echo "bench: the S3 service exited; its log:" >&2; tail -30 "$work/service-s3.log" >&2; exit 1; }
fi

# ------------------------------------------------------------------ events to other services
# A private RabbitMQ broker (own epmd, free ports, run as the rabbitmq user) and a second service
# on its own database that publishes to it; events are written into the log in batches and timed
# until the sink's cursor reaches the last one.
if want events; then
  if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
    row "events to RabbitMQ / a webhook" "skipped: rabbitmq-server is not installed (scripts/setup.sh test)" "—" "—" "for reference" "skipped"
  else
    rdir="$work/rabbit"; mkdir -p "$rdir/home" "$rdir/mnesia" "$rdir/log"; echo '[].' >"$rdir/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$rdir"
    epmd_port=$(free_port); amqp_port=$(free_port); dist_port=$(free_port); ctl_port=$(free_port)
    epmd -port "$epmd_port" -address 127.0.0.1 & echo $! >"$rdir/epmd.pid"
    log "events: starting a private RabbitMQ on 127.0.0.1:$amqp_port"
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$rdir/home" RABBITMQ_NODENAME="bench-$$@localhost" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$amqp_port" RABBITMQ_DIST_PORT="$dist_port" \
      ERL_EPMD_PORT="$epmd_port" RABBITMQ_CTL_DIST_PORT_MIN="$ctl_port" RABBITMQ_CTL_DIST_PORT_MAX="$ctl_port" \
      RABBITMQ_MNESIA_BASE="$rdir/mnesia" RABBITMQ_LOG_BASE="$rdir/log" RABBITMQ_PID_FILE="$rdir/rabbit.pid" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$rdir/enabled_plugins" \
      setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server >"$rdir/server.log" 2>&1 &
    for _ in $(seq 600); do (echo >"/dev/tcp/127.0.0.1/$amqp_port") 2>/dev/null && break; sleep 0.1; done
    sleep 1
    ev_conn=$(get "$("${driver[@]}" pg-db "$pg_dir" imagepictures_events | result_of)" conn)
    mkdir -p "$work/storage-events"; cp -r images/default "$work/storage-events/default"
    ev_port=$(free_port); ev_svc="http://127.0.0.1:$ev_port"
    env ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$ev_svc" \
      ConnectionStrings__Pictures="$ev_conn" Storage__Root="$work/storage-events" \
      Events__RabbitMq__Uri="amqp://guest:guest@127.0.0.1:$amqp_port/" Events__RabbitMq__Exchange=bench.events \
      Events__PollSeconds=0.5 Logging__LogLevel__Default=Warning \
      dotnet "$service_dll" >"$work/service-events.log" 2>&1 &
    ev_pid=$!
    child_pids+=("$ev_pid")
    wait_http "$ev_svc/health/ready" 90 || { tail -50 "$work/service-events.log" >&2; exit 1; }
    log "events: $events_n events to RabbitMQ, $webhook_n to one webhook, each against a bare loop"
    e=$("${driver[@]}" events "$ev_svc" "$ev_conn" "amqp://guest:guest@127.0.0.1:$amqp_port/" bench.events "$events_n" "$webhook_n" | result_of) || true
    if [[ -z "$e" ]]; then
      row "events to RabbitMQ / a webhook" "failed: no result (see $work/service-events.log)" "—" "—" "for reference" "failed"
    else
      rmq_ok=$([[ $(get "$e" rmq_caught_up) == True && $(get "$e" rmq_received) -ge $(get "$e" rmq_n) ]] && echo done || echo INCOMPLETE)
      wh_ok=$([[ $(get "$e" wh_caught_up) == True && $(get "$e" wh_received) -ge $(get "$e" wh_n) ]] && echo done || echo INCOMPLETE)
      row "events to RabbitMQ ($(get "$e" rmq_n) events, confirms)" "$(fmt "$(get "$e" rmq_rate)" %.0f) events/s; $(get "$e" rmq_received) in the queue" \
        "bare publisher, confirms in batches of 500: $(fmt "$(get "$e" rmq_bare_rate)" %.0f) messages/s" "$(ratio "$(get "$e" rmq_rate)" "$(get "$e" rmq_bare_rate)")×" "for reference" "$rmq_ok"
      row "events to one webhook ($(get "$e" wh_n) events, signed, in order)" "$(fmt "$(get "$e" wh_rate)" %.0f) events/s; $(get "$e" wh_received) received" \
        "bare sequential POST loop to the same receiver: $(fmt "$(get "$e" wh_bare_rate)" %.0f) requests/s" "$(ratio "$(get "$e" wh_rate)" "$(get "$e" wh_bare_rate)")×" "for reference" "$wh_ok"
    fi
    kill "$ev_pid" 2>/dev/null || true
  fi
fi

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
echo
echo "total time: $((SECONDS - t_start)) s ($mode)"
