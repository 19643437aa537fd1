#!/usr/bin/env bash
# SQLite against PostgreSQL on the same data in the same run: gantry dora over 1M rollouts and the audit
# chain's verification over 100k events (bench/Gantry.Benchmarks/Stores). Starts a PostgreSQL 15 of its own
# (apt-get install postgresql-15) in a temp dir on a free port, as the tests' fixture does, and removes it.
# Usage: bench/store.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/gantry-bench-pg-XXXXXX)
chown postgres:postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U gantry --locale=C -E UTF8 >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
trap 'runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null; rm -rf "$dir"' EXIT
for db in dora audit; do "$bin/psql" -h 127.0.0.1 -p "$port" -U gantry -d postgres -qc "CREATE DATABASE $db"; done
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (default settings, fsync on)"
dotnet run -c Release --project bench/Gantry.Benchmarks -- store-kinds "postgres://gantry@127.0.0.1:$port/dora" "postgres://gantry@127.0.0.1:$port/audit" "$rounds"
