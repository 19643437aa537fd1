#!/usr/bin/env bash
# Containers against processes, in one run on a Docker engine of its own: time from start to ready,
# and a rollback timed from the API call to the rollback's success (all traffic on the earlier
# release, as the router has it in force): processes (the earlier release started again),
# containers kept stopped (`retain`, started again), and containers kept warm (only a switch).
#
#   bench/containers.sh [RUNS]      (needs dockerd and docker: apt-get install docker.io)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
for bin in dockerd docker python3; do
  command -v "$bin" >/dev/null || { echo "bench/containers.sh: $bin is missing (apt-get install docker.io)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/gantry-bench-XXXX)
chmod 755 "$work"   # instances run as their own user when the server is root: the manifest folder must be open to them
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -f "$work/docker.pid" ] && kill "$(cat "$work/docker.pid")" 2>/dev/null && sleep 2
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

echo "building Release binaries and the image ..."
dotnet build src/Gantry -c Release -nologo -v q >/dev/null
dotnet build examples/shop -c Release -nologo -v q >/dev/null
dockerd --data-root="$work/data" --exec-root="$work/exec" --pidfile="$work/docker.pid" --host="unix://$work/docker.sock" \
  --bridge=none --iptables=false --ip6tables=false --log-level=error >"$work/dockerd.log" 2>&1 &
export DOCKER_HOST="unix://$work/docker.sock"
for _ in $(seq 1 100); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
examples/shop/docker/build-image.sh 1.0 release >/dev/null
docker tag gantry-shop:1.0 gantry-shop:2.0

# Start to ready: `docker run` (create and start) or a process, to the first 200 of /health/ready.
python3 - "$runs" <<'PY'
import subprocess, sys, time, urllib.request, socket, statistics
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def ready(port, t0):
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
                if r.status == 200: return (time.monotonic() - t0) * 1000
        except Exception: time.sleep(0.005)
rows = {"container": [], "process": []}
for i in range(int(sys.argv[1])):
    port = free(); t0 = time.monotonic()
    subprocess.run(["docker", "run", "-d", "--name", f"b{i}", "--network", "host", "--user", "65534:65534", "gantry-shop:1.0", "--urls", f"http://127.0.0.1:{port}"], check=True, capture_output=True)
    rows["container"].append(ready(port, t0)); subprocess.run(["docker", "rm", "-f", f"b{i}"], capture_output=True)
    port = free(); t0 = time.monotonic()
    p = subprocess.Popen(["dotnet", "artifacts/bin/Shop/release/Shop.dll", "--urls", f"http://127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows["process"].append(ready(port, t0)); p.kill(); p.wait()
print("\nstart to ready (ms)")
for k, v in rows.items(): print(f"  {k:<10} runs {', '.join(f'{x:.0f}' for x in v)}  median {statistics.median(v):.0f}")
PY

# Rollbacks: shop 1.0 then 2.0 deployed; each rollback goes back to the release the last one left.
manifest() { # $1 runtime section
  cat <<YAML
version: 1
services:
  shop:
$1
    listen: 127.0.0.1:$(free_port)
    replicas: 2
    drain: 1s
    health:
      startup:   { path: /health, interval: 50ms, failureThreshold: 100 }
      readiness: { path: /health/ready, interval: 100ms, failureThreshold: 2 }
    strategy:
      rolling: { maxSurge: 2, maxUnavailable: 0 }
YAML
}
process=$(printf '    process:\n      command: dotnet\n      args: [%s/artifacts/bin/Shop/release/Shop.dll, --urls, "http://127.0.0.1:{port}"]\n      env: { APP_VERSION: "{version}" }' "$PWD")
docker_section() { printf '    docker:\n      image: "gantry-shop:{version}"\n      args: [--urls, "http://127.0.0.1:{port}"]\n      env: { APP_VERSION: "{version}" }\n      retain: { releases: 2%s }' "$1"; }

echo
echo "rollback, from the API call to all traffic on the earlier release (ms)"
for mode in process stopped warm; do
  dir="$work/$mode"; mkdir -p "$dir"
  case $mode in
    process) manifest "$process" >"$dir/gantry.yaml" ;;
    stopped) manifest "$(docker_section '')" >"$dir/gantry.yaml" ;;
    warm)    manifest "$(docker_section ', warm: true')" >"$dir/gantry.yaml" ;;
  esac
  api=$(free_port)
  dotnet artifacts/bin/Gantry/release/gantry.dll server -f "$dir/gantry.yaml" --data "$dir/data" --listen "127.0.0.1:$api" --data-plane attached >"$work/$mode.log" 2>&1 &
  pids+=($!)
  python3 - "$api" "$dir/data/admin.token" "$runs" "$mode" <<'PY'
import json, sys, time, urllib.request, statistics, os
api, token_file, runs, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(200):
    if os.path.exists(token_file): break
    time.sleep(0.1)
time.sleep(0.5)
token = open(token_file).read().strip()
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{api}/api/v1{path}", method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r: return json.load(r)
def finish(rid):
    while True:
        state = call("GET", f"/rollouts/{rid}")["rollout"]
        phase = state["phase"].lower()
        if phase == "succeeded": return
        if phase in ("failed", "aborted") or phase.startswith("rolled"): sys.exit(f"{mode}: {phase}: {state['message']}")
        time.sleep(0.01)
for version in ("1.0", "2.0"):
    finish(call("POST", "/rollouts", {"service": "shop", "version": version})["rollout"]["id"])
times = []
for _ in range(runs):
    time.sleep(3)  # the release that left traffic is drained and stopped (or kept warm)
    t0 = time.monotonic()
    finish(call("POST", "/services/shop/rollback", {"reason": "bench"})["rollout"]["id"])
    times.append((time.monotonic() - t0) * 1000)
print(f"  {mode:<10} runs {', '.join(f'{x:.0f}' for x in times)}  median {statistics.median(times):.0f}")
PY
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  docker ps -aq | xargs -r docker rm -f >/dev/null
done
