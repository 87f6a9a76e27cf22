#!/usr/bin/env bash
# Measures the web shell from outside the process: start-up time to a ready /readyz on an
# existing SQLite database, idle resident memory, and /healthz throughput with wrk.
#   bench/http.sh            # uses target/release/haven (built if missing)
# Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench/http.sh needs wrk: apt-get install wrk" >&2; exit 1; }
[ -x target/release/haven ] || cargo build --release -q
bin=target/release/haven
dir=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
url="sqlite://$dir/haven.db"
port=18765
HAVEN_LOG=warn "$bin" migrate --database-url "$url" >/dev/null 2>&1
"$bin" keys init --key-file "$dir/haven.key" >/dev/null
# One start binds the key file to the database, as on a real deployment.
HAVEN_LOG=warn timeout 2 "$bin" serve --database-url "$url" --key-file "$dir/haven.key" --listen "127.0.0.1:$port" >/dev/null 2>&1 || true

start_ns=$(date +%s%N)
HAVEN_LOG=warn "$bin" serve --database-url "$url" --key-file "$dir/haven.key" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.005; done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
sleep 2
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

echo "start-up to /readyz OK (existing SQLite database): ${ready_ms} ms"
echo "idle resident memory after start-up:              $(( rss_kb / 1024 )) MB (${rss_kb} kB)"
echo "/healthz throughput (wrk, 2 threads, 64 connections, 10 s):"
wrk -t2 -c64 -d10s "http://127.0.0.1:$port/healthz" | sed 's/^/    /'
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "resident memory after the load:                   $(( rss_kb / 1024 )) MB"
