#!/usr/bin/env bash
# The control plane's cost as a function of the number of services: for each N, a manifest of N tiny services (one
# `python3 -m http.server` instance each, readiness probed every 2 s, rolling strategy), a `gantry server` of its own
# on a fresh data directory, then:
# The executable is published for linux-x64 as `dotnet pack -r linux-x64` packs the tool: the native client in front of
# the full program (ReadyToRun), so the CLI's figures are those of the client users install.
#   - CPU of the server and its router at rest (N declared, nothing deployed), sampled from /proc twice: REST seconds
#     from SETTLE seconds after the change (the first minute: the runtime still compiles what just ran), and STEADY_REST
#     seconds from STEADY seconds after it (steady state, the figure the at-rest goal is about); printed "first / steady";
#   - RUNNING of them deployed through the API at once (32 in flight): accepted in, all Succeeded in;
#   - CPU at rest again with RUNNING instances, RSS of the server (and of the router), MB per instance;
#   - the server stopped and started again (its instances and router run on, and are adopted): CPU at rest again;
#   - 100 deploys of a new version through the API at once (accepted in, all on the new version in),
#     then 100 `gantry deploy` commands at once (accepted in);
#   - API latency p50/p99 of GET /api/v1/services and GET /api/v1/services/NAME/rollout (200 each, keep-alive);
#   - `gantry --version` and `gantry status NAME --output json` wall time (median of 10).
# Usage: bench/scale.sh [N...]   (default: 100 200 500 1000; RUNNING = min(N, 200); SETTLE=20 s, REST=15 s; SETTLE_ADOPTED=60 s;
# STEADY=120 s, STEADY_REST=60 s; BASE_PORT=21000: ports
# BASE_PORT..BASE_PORT+N-1 must be free, one listener per service)
# PEER=GIT_REF (or the path of a gantry executable published from it) measures that commit too, in the same run, before this tree at each N (a row each): the figures move a lot
# between days on a shared machine, so a change is judged against its peer from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 200 500 1000)
rest=${REST:-15}
steady=${STEADY:-120}; steady_rest=${STEADY_REST:-60}
base=${BASE_PORT:-21000}   # service N listens on BASE_PORT + N
root=$(pwd)
work=$(mktemp -d /tmp/gantry-scale-XXXXXX)
# The executable as installed: published for this machine's runtime (src/Gantry/Gantry.csproj).
dotnet publish src/Gantry -c Release -r linux-x64 --self-contained false -o "$work/bin" -nologo -v q >/dev/null
builds=("this tree=$work/bin/gantry")
if [ -n "${PEER:-}" ] && [ -x "$PEER" ]; then
  builds=("$PEER (peer)=$PEER" "${builds[@]}")   # an executable published earlier
elif [ -n "${PEER:-}" ]; then
  git worktree add -q --detach "$work/peer-src" "$PEER"
  dotnet publish "$work/peer-src/src/Gantry" -c Release -r linux-x64 --self-contained false -o "$work/peer-bin" -nologo -v q >/dev/null
  git worktree remove --force "$work/peer-src"
  builds=("$PEER (peer)=$work/peer-bin/gantry" "${builds[@]}")
fi
gantry="$work/bin/gantry"
mkdir "$work/www" && echo ok > "$work/www/index.html" && chmod 755 "$work" "$work/www" && chmod 644 "$work/www/index.html"
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  for d in "$work"/data-*; do [ -d "$d" ] && "$gantry" down --data "$d" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ticks() { # total user+system clock ticks of the given pids
  local t=0; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"
}
rss_mb() { local k=0; for p in "$@"; do [ -r "/proc/$p/status" ] && k=$((k + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $((k / 1024)); }
cpu_over() { # SECONDS PID...: percent of one core over SECONDS
  local secs=$1 before after hz; shift; hz=$(getconf CLK_TCK); before=$(ticks "$@"); sleep "$secs"; after=$(ticks "$@")
  python3 -c "print(f'{($after - $before) / $hz / $secs * 100:.2f}')"
}
at_rest() { # SINCE (a `date +%s` of the change) PID...: "FIRST% / STEADY%", the short window now and the steady one from STEADY s after SINCE
  local since=$1 first; shift
  first=$(cpu_over "$rest" "$@")
  local wait=$(( since + steady - $(date +%s) )); [ "$wait" -le 0 ] || sleep "$wait"
  echo "$first% / $(cpu_over "$steady_rest" "$@")%"
}
printf '| build | N declared | running | CPU at rest, none running (first / steady) | CPU at rest, running (first / steady) | CPU at rest, running, adopted by a restarted server (first / steady) | RSS server+router (MB) | MB per instance | API deploys accepted / all done | 100 redeploys accepted / done | 100 CLI deploys accepted | list p50/p99 (ms) | status p50/p99 (ms) | `--version` | `status --output json` |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|---|---:|---:|\n'
for n in "${sizes[@]}"; do
for build in "${builds[@]}"; do
  label=${build%%=*}; gantry=${build#*=}
  running=$(( n < 200 ? n : 200 ))
  data="$work/data-$n"; api=$(free_port); manifest="$work/gantry-$n.yaml"
  python3 - "$n" "$base" "$work/www" > "$manifest" <<'PY'
import sys
n, base, www = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print("version: 1\nservices:")
for i in range(n):
    print(f"""  s{i:04d}:
    process: {{ command: /usr/bin/python3, args: [-m, http.server, "{{port}}", --bind, 127.0.0.1, --directory, {www}] }}
    listen: 127.0.0.1:{base + i}
    health: {{ readiness: {{ path: /, interval: 2s }} }}
    strategy: {{ rolling: {{ maxSurge: 1, maxUnavailable: 0 }} }}""")
PY
  "$gantry" server -f "$manifest" --data "$data" --listen "127.0.0.1:$api" >"$work/server-$n.log" 2>&1 &
  server=$!
  url="http://127.0.0.1:$api"
  until curl -sf "$url/health/ready" >/dev/null; do kill -0 "$server" 2>/dev/null || { tail -5 "$work/server-$n.log" >&2; exit 1; }; sleep 0.1; done
  since=$(date +%s)
  sleep "${SETTLE:-20}"   # past the start-up and first resync, not yet past the compilation of what ran
  pids() { echo "$server" $(pgrep -f "router --data $data" || true); }
  idle=$(at_rest "$since" $(pids))
  token=$(cat "$data/admin.token")
  drive() { # MODE COUNT VERSION: deploys through the API, prints "accepted_s done_s"
    python3 "$root/bench/scale_drive.py" "$url" "$token" "$1" "$2" "$3" "$gantry" "$data"
  }
  first=$(drive api "$running" 1)
  since=$(date +%s)
  sleep "${SETTLE:-20}"
  busy=$(at_rest "$since" $(pids))
  rss=$(rss_mb $(pids))
  # A restarted control plane: the data plane ran on; its instances are adopted, known by pid only.
  kill "$server"; wait "$server" 2>/dev/null || true
  "$gantry" server -f "$manifest" --data "$data" --listen "127.0.0.1:$api" >>"$work/server-$n.log" 2>&1 &
  server=$!
  until curl -sf "$url/health/ready" >/dev/null; do kill -0 "$server" 2>/dev/null || { tail -5 "$work/server-$n.log" >&2; exit 1; }; sleep 0.1; done
  since=$(date +%s)
  sleep "${SETTLE_ADOPTED:-60}"   # past the restarted server's adoption checks
  adopted=$(at_rest "$since" $(pids))
  again=$(drive api 100 2)
  cli=$(drive cli 100 3 | cut -d' ' -f1)
  lat=$(python3 "$root/bench/scale_drive.py" "$url" "$token" latency 200 0 "$gantry" "$data")
  wall=$(python3 "$root/bench/scale_drive.py" "$url" "$token" cli-wall 10 0 "$gantry" "$data")
  per=$(python3 -c "print(f'{$rss / $running:.1f}')")
  read -r list status <<<"$lat"; read -r version statusjson <<<"$wall"
  read -r a1 d1 <<<"$first"; read -r a2 d2 <<<"$again"
  printf '| %s | %d | %d | %s | %s | %s | %d | %s | %s s / %s s | %s s / %s s | %s s | %s | %s | %s ms | %s ms |\n' \
    "$label" "$n" "$running" "$idle" "$busy" "$adopted" "$rss" "$per" "$a1" "$d1" "$a2" "$d2" "$cli" "$list" "$status" "$version" "$statusjson"
  kill "$server"; wait "$server" 2>/dev/null || true; server=
  "$gantry" down --data "$data" >/dev/null 2>&1 || true
  rm -rf "$data"
done
done
