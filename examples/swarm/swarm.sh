#!/usr/bin/env bash
# A real two-node Docker Swarm on one machine, for trying Gantry's swarm runtime (and for its tests):
# two network namespaces joined by a veth pair (10.231.0.1 and 10.231.0.2), one dockerd in each, the first
# the manager. This machine reaches both nodes through a third link into the first namespace (10.231.1.1 here,
# 10.231.1.2 there, which forwards). Nothing else of the machine's network is touched. Needs root and docker.io.
# A registry this machine serves on 10.231.1.1 (plain HTTP) is one both nodes may pull from.
#
#   examples/swarm/swarm.sh up DIR        builds it; DIR holds the engines' files and sockets (short path)
#   examples/swarm/swarm.sh load DIR IMAGE...  copies images from this machine's engine ($DOCKER_HOST) to both nodes
#   examples/swarm/swarm.sh kill DIR 2    kills node 2's engine (kill -9), as if the machine were lost
#   examples/swarm/swarm.sh down DIR      removes it all
#
# Afterwards: DOCKER_HOST=unix://DIR/n1/docker.sock docker node ls
set -euo pipefail
command=${1:?usage: swarm.sh up|load|kill|down DIR}
dir=${2:?usage: swarm.sh up|load|kill|down DIR}
prefix=${GANTRY_SWARM_PREFIX:-gsw}
ns() { echo "$prefix-n$1"; }
engine() { DOCKER_HOST="unix://$dir/n$1/docker.sock" docker "${@:2}"; }

start_engine() {
  local n=$1
  mkdir -p "$dir/n$n"
  nsenter --net="/var/run/netns/$(ns "$n")" setsid dockerd \
    --data-root="$dir/n$n/data" --exec-root="$dir/n$n/exec" --pidfile="$dir/n$n/docker.pid" \
    --host="unix://$dir/n$n/docker.sock" --bridge=none --iptables=false --ip6tables=false --log-level=warn \
    --insecure-registry=10.231.1.0/24 \
    >"$dir/n$n/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 300); do
    engine "$n" version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "swarm.sh: node $n's dockerd did not start: $(tail -5 "$dir/n$n/dockerd.log")" >&2
  return 1
}

case "$command" in
  up)
    mkdir -p "$dir"
    ip netns add "$(ns 1)"
    ip netns add "$(ns 2)"
    ip link add "$prefix-a" type veth peer name "$prefix-b"
    ip link set "$prefix-a" netns "$(ns 1)"
    ip link set "$prefix-b" netns "$(ns 2)"
    ip link add "$prefix-h" type veth peer name "$prefix-g"
    ip link set "$prefix-g" netns "$(ns 1)"
    ip -n "$(ns 1)" addr add 10.231.0.1/24 dev "$prefix-a"
    ip -n "$(ns 2)" addr add 10.231.0.2/24 dev "$prefix-b"
    ip -n "$(ns 1)" addr add 10.231.1.2/24 dev "$prefix-g"
    ip addr add 10.231.1.1/24 dev "$prefix-h"
    for n in 1 2; do ip -n "$(ns "$n")" link set lo up; done
    ip -n "$(ns 1)" link set "$prefix-a" up
    ip -n "$(ns 1)" link set "$prefix-g" up
    ip -n "$(ns 2)" link set "$prefix-b" up
    ip link set "$prefix-h" up
    ip route add 10.231.0.0/24 via 10.231.1.2
    ip -n "$(ns 2)" route add 10.231.1.0/24 via 10.231.0.1
    ip netns exec "$(ns 1)" sysctl -qw net.ipv4.ip_forward=1
    start_engine 1
    start_engine 2
    engine 1 swarm init --advertise-addr 10.231.0.1 --listen-addr 10.231.0.1:2377 >/dev/null
    engine 1 node update --label-add zone=a "$(engine 1 info --format '{{.Swarm.NodeID}}')" >/dev/null
    engine 2 swarm join --token "$(engine 1 swarm join-token -q worker)" --advertise-addr 10.231.0.2 --listen-addr 10.231.0.2:2377 10.231.0.1:2377 >/dev/null
    engine 1 node update --label-add zone=b "$(engine 2 info --format '{{.Swarm.NodeID}}')" >/dev/null
    engine 1 node ls
    ;;
  load)
    for image in "${@:3}"; do
      for n in 1 2; do docker save "$image" | engine "$n" load -q >/dev/null; done
    done
    ;;
  kill)
    kill -9 "$(cat "$dir/n$3/docker.pid")"
    ;;
  down)
    for n in 2 1; do
      if [ -f "$dir/n$n/docker.pid" ] && kill -0 "$(cat "$dir/n$n/docker.pid")" 2>/dev/null; then
        engine "$n" swarm leave --force >/dev/null 2>&1 || true
        ids=$(engine "$n" ps -aq 2>/dev/null || true)
        [ -z "$ids" ] || engine "$n" rm -f $ids >/dev/null 2>&1 || true
        pid=$(cat "$dir/n$n/docker.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      fi
      # The engine's containerd and shims may outlive a killed engine: they go with the namespace's processes.
      for pid in $(ip netns pids "$(ns "$n")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    done
    ip route del 10.231.0.0/24 2>/dev/null || true
    ip link del "$prefix-h" 2>/dev/null || true
    ip netns del "$(ns 1)" 2>/dev/null || true
    ip netns del "$(ns 2)" 2>/dev/null || true
    for n in 1 2; do
      [ -d "$dir/n$n" ] && { grep -o " $dir/n$n[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true; }
    done
    rm -rf "$dir"
    ;;
  *) echo "swarm.sh: unknown command '$command' (up, load, kill, down)" >&2; exit 2 ;;
esac
