#!/usr/bin/env bash
# `just bench [--smoke]`: builds the release binaries (debug ones for --smoke), makes sure wrk and
# the local Redis and RabbitMQ are there, then runs deploy/bench/bench.py, which starts its own
# durable PostgreSQL, the simulator and order-api, and writes docs/benchmarks.md.
# `just bench --faults [scenario…]`: the proof suite (deploy/bench/faults.py) on the same stack.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v wrk >/dev/null; then
    log "installing wrk from Debian's packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
deploy/local/services.sh up

if [ "${1:-}" = "--smoke" ]; then
    log "building order-api and order-simulator (debug, for the smoke run)"
    cargo build --quiet -p order-api -p order-simulator
    exec python3 deploy/bench/bench.py --smoke --bin "$ROOT/target/debug"
fi
log "building order-api and order-simulator (release; about 10 minutes from clean)"
cargo build --release -p order-api -p order-simulator
if [ "${1:-}" = "--faults" ]; then
    shift
    # 5 000 buyers at once are 5 000 sockets of this process.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    exec python3 deploy/bench/faults.py "$@"
fi
exec python3 deploy/bench/bench.py "$@"
