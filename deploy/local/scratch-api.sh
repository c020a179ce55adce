# Sourced by the checks that need a running order-api of their own (`just fuzz`, `just clients`):
# `start_scratch_api NAME OUT` builds order-api and the simulator, makes a fresh database NAME on
# the servers of deploy/local/services.sh, starts the simulator and the API on free loopback ports
# (their logs in OUT) and stops both when the calling script exits. It sets BASE (the API's URL),
# TENANT (the local shop) and `token USER ROLES`, which prints a JWT for that caller.
# shellcheck shell=bash

start_scratch_api() {
    local name="$1" out="$2"
    deploy/local/services.sh up
    log "building order-api and order-simulator"
    cargo build --quiet -p order-api -p order-simulator

    set -a
    # shellcheck source=local.env
    source deploy/local/local.env
    set +a
    local pg_port="${LOCAL_PG_PORT:-55432}" api_port sim_port
    api_port="$(free_port)"
    sim_port="$(free_port)"
    local psql="/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p $pg_port -U postgres -d postgres -qtA"
    log "fresh database $name"
    $psql -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
    $psql -c "CREATE DATABASE $name" >/dev/null
    export DATABASE_URL="postgres://order_api@127.0.0.1:$pg_port/$name"
    export DATABASE_ADMIN_URL="postgres://postgres@127.0.0.1:$pg_port/$name"
    target/debug/order-api migrate >/dev/null

    mkdir -p "$out"
    export SIMULATOR_ADDR="127.0.0.1:$sim_port"
    export SIMULATOR_SEED_FILE="$PWD/deploy/local/simulator-seed.json"
    unset SIMULATOR_AMQP_URL
    for service in TICKET PAYMENT EVENT PRODUCT INVENTORY SHIPPING; do
        export "${service}_SERVICE_URL=http://$SIMULATOR_ADDR"
    done
    export PORT="$api_port" RUN_JOBS=false LOG_LEVEL=warn
    target/debug/order-simulator >"$out/simulator.log" 2>&1 &
    SCRATCH_SIM_PID=$!
    target/debug/order-api serve >"$out/api.log" 2>&1 &
    SCRATCH_API_PID=$!
    trap stop_scratch_api EXIT

    BASE="http://127.0.0.1:$api_port"
    for _ in $(seq 1 100); do
        curl -fsS "$BASE/health/readiness" >/dev/null 2>&1 && break
        kill -0 "$SCRATCH_API_PID" 2>/dev/null || {
            echo "error: order-api exited; see $out/api.log" >&2
            tail -20 "$out/api.log" >&2
            exit 1
        }
        sleep 0.1
    done
    TENANT=00000000-0000-4000-8000-00000000000a
}

stop_scratch_api() {
    kill "$SCRATCH_API_PID" "$SCRATCH_SIM_PID" 2>/dev/null || true
    wait "$SCRATCH_API_PID" "$SCRATCH_SIM_PID" 2>/dev/null || true
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

token() { target/debug/order-api dev-token --tenant "$TENANT" --user "$1" --roles "$2"; }
