#!/usr/bin/env bash
# Failover of the control plane: two `gantry server` replicas on one PostgreSQL store and one data directory,
# the sample service behind the router under a curl loop; the leading replica is killed with SIGKILL KILLS times
# (each time brought back as a standby before the next kill), and the time until the other replica leads is
# measured from the kill (polling GET /api/v1/cluster every 20 ms). Prints every figure, the median, the maximum,
# and the client requests that failed. Starts a PostgreSQL of its own (apt-get install postgresql-15).
# Usage: bench/failover.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-10}
root=$(pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d /tmp/gantry-failover-XXXXXX)
chown postgres:postgres "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg=$(free_port); api_a=$(free_port); api_b=$(free_port); svc=$(free_port)
runuser -u postgres -- "$bin/initdb" -D "$work/pg" -A trust -U gantry --locale=C -E UTF8 >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pg -k $work -c listen_addresses=127.0.0.1" start >/dev/null
for project in src/Gantry examples/shop; do dotnet build "$project" -c Release -nologo -v q >/dev/null; done
gantry="$root/artifacts/bin/Gantry/release/gantry.dll"
loadpid=
cleanup() {
  [ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null || true
  pkill -f "gantry.dll server -f $work" 2>/dev/null || true
  sleep 1
  dotnet "$gantry" down --data "$work/data" >/dev/null 2>&1 || true
  runuser -u postgres -- "$bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cat > "$work/gantry.yaml" <<YAML
version: 1
services:
  shop:
    process:
      command: dotnet
      args: [$root/artifacts/bin/Shop/release/Shop.dll, --urls, "http://127.0.0.1:{port}"]
    listen: 127.0.0.1:$svc
    replicas: 2
    health:
      readiness: { path: /health/ready, interval: 200ms }
YAML
store="postgres://gantry@127.0.0.1:$pg/postgres"
start() { # NAME PORT
  dotnet "$gantry" server -f "$work/gantry.yaml" --data "$work/data" --store "$store" --replica "$1" --listen "127.0.0.1:$2" >>"$work/$1.log" 2>&1 &
  disown $!
  until curl -sf "http://127.0.0.1:$2/health/ready" >/dev/null; do sleep 0.1; done
}
leads() { curl -sf -H "Authorization: Bearer $(cat "$work/data/admin.token")" "http://127.0.0.1:$1/api/v1/cluster" | grep -q '"leading":true'; }
start a "$api_a"; start b "$api_b"
dotnet "$gantry" deploy shop --version 1.0 --wait --server "http://127.0.0.1:$api_a" --data "$work/data" >/dev/null
( ok=0; bad=0; while :; do if curl -sf -o /dev/null "http://127.0.0.1:$svc/"; then ok=$((ok+1)); else bad=$((bad+1)); fi; echo "$ok $bad" >"$work/load"; done ) &
loadpid=$!
times=()
for i in $(seq "$kills"); do
  if leads "$api_a"; then leader=a; lport=$api_a; other=$api_b; else leader=b; lport=$api_b; other=$api_a; fi
  pid=$(pgrep -f "gantry.dll server -f $work/gantry.yaml --data $work/data --store $store --replica $leader ")
  t0=$(date +%s%N); kill -9 "$pid"
  until leads "$other"; do sleep 0.02; done
  ms=$(( ($(date +%s%N) - t0) / 1000000 )); times+=("$ms")
  echo "kill $i: replica $leader killed; the other leads after $ms ms"
  start "$leader" "$lport"
done
sleep 1
kill "$loadpid"; wait "$loadpid" 2>/dev/null || true; loadpid=
read -r ok bad <"$work/load"
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "takeover over $kills kills: median $(echo "$sorted" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}') ms, max $(echo "$sorted" | tail -1) ms, min $(echo "$sorted" | head -1) ms"
echo "client requests meanwhile: $ok answered, $bad failed"
