"""The load side of bench/scale.sh: deploys through the API or the CLI, API latency, CLI wall time."""
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection

url, token, mode, count, version, gantry, data = sys.argv[1:8]
count = int(count)
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def call(method, path, body=None):
    request = urllib.request.Request(url + path, method=method, headers=headers, data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


def services(n):
    return [f"s{i:04d}" for i in range(n)]


def all_on(names, version, deadline):
    """True once every named service's newest rollout Succeeded with the version (polling the service list)."""
    want = set(names)
    while time.monotonic() < deadline:
        for service in call("GET", "/api/v1/services"):
            environment = service["environments"][0]
            if environment.get("phase") == "Succeeded" and environment.get("stable") == version:
                want.discard(service["name"])
        if not want:
            return True
        time.sleep(0.2)
    return False


def deploy_api(names):
    def one(name):
        call("POST", "/api/v1/rollouts", {"service": name, "version": version})
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, names))


def deploy_cli(names):
    procs = [subprocess.Popen([gantry, "deploy", name, "--version", version, "--server", url, "--data", data], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for name in names]
    failed = [p.stderr.read().decode().strip() for p in procs if p.wait() != 0]
    for reason in sorted(set(failed)):
        print(f"gantry deploy failed ({failed.count(reason)} of {len(procs)}): {reason}", file=sys.stderr)
    return len(failed)


def percentiles(samples):
    samples = sorted(samples)
    return f"{statistics.median(samples) * 1000:.1f}/{samples[int(len(samples) * 0.99) - 1] * 1000:.1f}"


def latency(path):
    connection = HTTPConnection(url.split("//")[1])
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        connection.request("GET", path, headers=headers)
        connection.getresponse().read()
        samples.append(time.perf_counter() - t0)
    return percentiles(samples)


def wall(args):
    samples = []
    for _ in range(count):
        t0 = time.perf_counter()
        subprocess.run([gantry, *args], check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - t0)
    return f"{statistics.median(samples) * 1000:.0f}"


if mode in ("api", "cli"):
    names = services(count)
    t0 = time.monotonic()
    failed = (deploy_api if mode == "api" else deploy_cli)(names) or 0
    accepted = time.monotonic() - t0
    # A command that failed (its reason on stderr) is counted beside the time, so one timeout does not lose the run's figures.
    shown = f"{accepted:.2f}" + (f"({failed}-failed)" if failed else "")
    if failed:
        print(f"{shown} -")   # not all were accepted: no time until all are on the version
    else:
        print(f"{shown} {time.monotonic() - t0:.1f}" if all_on(names, version, t0 + 300) else f"{shown} >300")
elif mode == "latency":
    print(latency("/api/v1/services"), latency("/api/v1/services/s0000/rollout"))
elif mode == "cli-wall":
    print(wall(["--version"]), wall(["status", "s0000", "--output", "json", "--server", url, "--data", data]))
