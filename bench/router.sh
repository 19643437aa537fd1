#!/usr/bin/env bash
# Gantry's built-in router against nginx, haproxy and a direct connection, in one run: forwarding on
# YARP (the default) and on the hand-written forwarder it replaced (GANTRY_FORWARDER=handwritten).
# Each target serves the same 90/10 split between two instances of the sample service (Release
# builds) and is driven by wrk with the same threads, connections and duration, after a warm-up.
# Prints requests/s, p50, p99, CPU time per request of the proxy, errors, and Gantry's ratios to
# nginx; then changes Gantry's weights 100 times under load by rewriting its routing-table file.
#
#   bench/router.sh [DURATION_SECONDS] [CONNECTIONS]
#   VARIANT="NAME=VALUE ..." bench/router.sh ...   the hand-written column becomes the YARP router run with
#                                                  those environment settings (a runtime setting against the default)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-64}
threads=2

for bin in nginx haproxy wrk; do
  command -v "$bin" >/dev/null || { echo "bench/router.sh: $bin is missing (apt-get install nginx haproxy wrk)" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; tail -5 "$work"/*.out "$work"/*.err 2>/dev/null >&2; exit 1; }

echo "building Release binaries ..."
dotnet build src/Gantry -c Release -nologo -v q >/dev/null
shop=artifacts/bin/Shop/release/Shop.dll
gantry=artifacts/bin/Gantry/release/gantry.dll

b1=$(free_port); b2=$(free_port)
APP_VERSION=v1 dotnet "$shop" --urls "http://127.0.0.1:$b1" >/dev/null 2>&1 & pids+=($!)
APP_VERSION=v2 dotnet "$shop" --urls "http://127.0.0.1:$b2" >/dev/null 2>&1 & pids+=($!)
wait_port "$b1"; wait_port "$b2"

p_nginx=$(free_port); p_haproxy=$(free_port); p_gantry=$(free_port); p_handwritten=$(free_port)
cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream shop { server 127.0.0.1:$b1 weight=9; server 127.0.0.1:$b2 weight=1; keepalive 128; }
  server {
    listen 127.0.0.1:$p_nginx;
    location / { proxy_pass http://shop; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)

cat > "$work/haproxy.cfg" <<HAPROXY
global
  nbthread 2
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend front
  bind 127.0.0.1:$p_haproxy
  default_backend shop
backend shop
  balance roundrobin
  http-reuse always
  server v1 127.0.0.1:$b1 weight 90
  server v2 127.0.0.1:$b2 weight 10
HAPROXY
haproxy -f "$work/haproxy.cfg" -db >/dev/null 2>&1 & pids+=($!)

table() {
  local file=${3:-routes.yaml} port=${4:-$p_gantry}
  cat > "$work/$file.tmp" <<ROUTES
routes:
  - name: shop
    listen: 127.0.0.1:$port
    groups:
      stable: { weight: $1, instances: [127.0.0.1:$b1] }
      canary: { weight: $2, instances: [127.0.0.1:$b2] }
ROUTES
  mv "$work/$file.tmp" "$work/$file"
}
table 90 10
table 90 10 handwritten.yaml "$p_handwritten"
dotnet "$gantry" router --config "$work/routes.yaml" >"$work/gantry.out" 2>&1 & gantry_pid=$!; pids+=($gantry_pid)
if [ -n "${VARIANT:-}" ]; then
  # The second column is the same router (YARP) with runtime settings of its own, e.g.
  # VARIANT="DOTNET_GCgen0size=0x4000000": a setting judged against the default in one run.
  env $VARIANT dotnet "$gantry" router --config "$work/handwritten.yaml" >"$work/handwritten.out" 2>&1 & handwritten_pid=$!; pids+=($handwritten_pid)
else
  GANTRY_FORWARDER=handwritten dotnet "$gantry" router --config "$work/handwritten.yaml" >"$work/handwritten.out" 2>&1 & handwritten_pid=$!; pids+=($handwritten_pid)
fi
wait_port "$p_nginx"; wait_port "$p_haproxy"; wait_port "$p_gantry"; wait_port "$p_handwritten"

# CPU seconds (user + system) used so far by a process and its threads, from /proc.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
nginx_pids() { pgrep -f "nginx: worker process" | tr '\n' ' '; }
cpu_of() { local total=0; for p in $1; do total=$(echo "$total + $(cpu "$p")" | bc -l); done; echo "$total"; }

declare -A rps p50 p99 cpureq errs
# One measured run of a target: requests/s, p50, p99 (in us), proxy CPU per request, non-2xx, socket errors.
measure() {
  local port=$1 procs=$2
  local before; before=$(cpu_of "$procs")
  local out; out=$(wrk -t$threads -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port/")
  local after; after=$(cpu_of "$procs")
  local requests; requests=$(echo "$out" | awk '/requests in/ { print $1 }')
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ { print $5 }')
  local sockerr; sockerr=$(echo "$out" | awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }')
  local cpu_us="-"
  [ -n "$procs" ] && cpu_us=$(echo "($after - $before) * 1000000 / $requests" | bc -l)
  echo "$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }') $(to_us "$(echo "$out" | awk '$1 == "50%" { print $2 }')") $(to_us "$(echo "$out" | awk '$1 == "99%" { print $2 }')") $cpu_us ${non2xx:-0} ${sockerr:-0}"
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

to_us() { # wrk prints 1.23ms / 456.00us / 1.2s
  echo "$1" | awk '/us$/ { sub("us",""); print $1; next } /ms$/ { sub("ms",""); print $1 * 1000; next } /s$/ { sub("s",""); print $1 * 1000000 }'
}

targets=(direct nginx haproxy gantry handwritten)
declare -A port_of=([direct]=$b1 [nginx]=$p_nginx [haproxy]=$p_haproxy [gantry]=$p_gantry [handwritten]=$p_handwritten)
declare -A procs_of=([direct]="" [nginx]="$(nginx_pids)" [haproxy]="$(pgrep -x haproxy | tr '\n' ' ')" [gantry]="$gantry_pid" [handwritten]="$handwritten_pid")

# Warm every target the same way: 30 s, because the JIT-compiled router keeps promoting hot methods
# (tiered compilation with profile-guided optimisation) for about that long under load.
for t in "${targets[@]}"; do wrk -t$threads -c"$connections" -d30s "http://127.0.0.1:${port_of[$t]}/" >/dev/null 2>&1; done

# Three rounds, the targets interleaved in each, so that a slow moment of the machine hits all of them.
echo "running: wrk -t$threads -c$connections -d${duration}s, 3 interleaved rounds, medians reported ..."
declare -A runs
for round in 1 2 3; do
  for t in "${targets[@]}"; do runs[$t]+="$(measure "${port_of[$t]}" "${procs_of[$t]}")"$'\n'; done
done
for t in "${targets[@]}"; do
  col() { echo -n "${runs[$t]}" | awk -v c="$1" 'NF { print $c }' | median; }
  rps[$t]=$(col 1); p50[$t]=$(col 2); p99[$t]=$(col 3); cpureq[$t]=$(col 4)
  errs[$t]="$(echo -n "${runs[$t]}" | awk 'NF { n += $5; s += $6 } END { print n "/" s }')"
  echo "  $t rounds (req/s): $(echo -n "${runs[$t]}" | awk 'NF { printf "%s ", $1 }')"
done

fmt_us() { awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.2fms", v / 1000; else printf "%.0fus", v }'; }
fmt_cpu() { [ "$1" = "-" ] && echo "-" || printf "%.1f" "$1"; }
printf '\n| target | requests/s | p50 | p99 | proxy CPU per request (us) | non-2xx / socket errors |\n|---|---:|---:|---:|---:|---:|\n'
for t in "${targets[@]}"; do
  printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "${rps[$t]}" "$(fmt_us "${p50[$t]}")" "$(fmt_us "${p99[$t]}")" "$(fmt_cpu "${cpureq[$t]}")" "${errs[$t]}"
done
printf '\ngantry / nginx: throughput %.2fx, p99 %.2fx, CPU per request %.2fx\n' \
  "$(echo "${rps[gantry]} / ${rps[nginx]}" | bc -l)" \
  "$(echo "${p99[gantry]} / ${p99[nginx]}" | bc -l)" \
  "$(echo "${cpureq[gantry]} / ${cpureq[nginx]}" | bc -l)"
printf 'gantry / haproxy: throughput %.2fx, p99 %.2fx\n' \
  "$(echo "${rps[gantry]} / ${rps[haproxy]}" | bc -l)" \
  "$(echo "${p99[gantry]} / ${p99[haproxy]}" | bc -l)"
printf "YARP / ${VARIANT:+the variant (}${VARIANT:-hand-written forwarder}${VARIANT:+)}: throughput %.2fx, p99 %.2fx, CPU per request %.2fx\n" \
  "$(echo "${rps[gantry]} / ${rps[handwritten]}" | bc -l)" \
  "$(echo "${p99[gantry]} / ${p99[handwritten]}" | bc -l)" \
  "$(echo "${cpureq[gantry]} / ${cpureq[handwritten]}" | bc -l)"
printf 'latency the router adds to a direct connection under this load: p50 +%s, p99 +%s\n' \
  "$(fmt_us "$(echo "${p50[gantry]} - ${p50[direct]}" | bc -l)")" "$(fmt_us "$(echo "${p99[gantry]} - ${p99[direct]}" | bc -l)")"

# 100 weight changes under full load: every one by rewriting the routing-table file.
echo
echo "100 weight changes under load (file rewrites) ..."
wrk -t$threads -c"$connections" -d12s "http://127.0.0.1:$p_gantry/" > "$work/changes.wrk" 2>&1 &
wrk_pid=$!
sleep 1
start=$(date +%s%N)
for i in $(seq 1 100); do
  w=$(( (i * 7) % 101 )); table $((100 - w)) $w; sleep 0.05
done
changes_ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $wrk_pid
reloads=$(grep -c "reloaded" "$work/gantry.out" || true)
non2xx=$(awk '/Non-2xx/ { print $5 }' "$work/changes.wrk"); non2xx=${non2xx:-0}
sockerr=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$work/changes.wrk"); sockerr=${sockerr:-0}
total=$(awk '/requests in/ { print $1 }' "$work/changes.wrk")
echo "100 rewrites in ${changes_ms} ms; reloads applied: $reloads; requests: $total; non-2xx: $non2xx; socket errors: $sockerr"

# Time from a rewrite to the first request served by the new table, polled over one keep-alive
# connection so that the figure is the router's, not a client's start-up.
table 100 0; sleep 0.5
python3 - "$work/routes.yaml" "$p_gantry" "$b1" "$b2" <<'PY'
import http.client, os, sys, time
path, port, b1, b2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def table(w1, w2):
    text = f"""routes:
  - name: shop
    listen: 127.0.0.1:{port}
    groups:
      stable: {{ weight: {w1}, instances: [127.0.0.1:{b1}] }}
      canary: {{ weight: {w2}, instances: [127.0.0.1:{b2}] }}
"""
    with open(path + ".tmp", "w") as f: f.write(text)
    os.replace(path + ".tmp", path)
conn = http.client.HTTPConnection("127.0.0.1", port)
def version():
    conn.request("GET", "/version"); return conn.getresponse().read().decode().strip()
samples = []
for i in range(20):
    want = "v2" if i % 2 == 0 else "v1"
    start = time.perf_counter()
    table(0, 100) if want == "v2" else table(100, 0)
    polls = 0
    while version() != want: polls += 1
    samples.append((time.perf_counter() - start) * 1000)
samples.sort()
print("rewrite-to-effect over 20 changes (ms): median %.1f, p90 %.1f, max %.1f" % (samples[10], samples[18], samples[19]))
PY
