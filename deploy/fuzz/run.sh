#!/usr/bin/env bash
# `just fuzz`: schemathesis against a running order-api, from its own /openapi.json, once per
# role (buyer, admin, service), each for FUZZ_SECONDS (60). Fails on any finding of the checks
# not_a_server_error, status_code_conformance, content_type_conformance and
# response_schema_conformance.
#
# Everything is local: the servers of deploy/local/services.sh, a fresh database `order_fuzz`, the
# upstream simulator and order-api on free loopback ports, schemathesis in .state/fuzz-venv
# (installed from PyPI on first use). Reports go to .state/fuzz/.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
STATE_DIR="${STATE_DIR:-$ROOT/.state}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
VENV="$STATE_DIR/fuzz-venv"
OUT="$STATE_DIR/fuzz"
log() { printf '==> %s\n' "$*" >&2; }

wanted="$(sed -n 's/^schemathesis==//p' deploy/fuzz/requirements.txt)"
if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "version $wanted"; then
    log "installing schemathesis $wanted into $VENV (PyPI, about a minute)"
    python3 -m venv "$VENV" || {
        echo "error: python3 -m venv failed; install Debian's python3-venv" >&2
        exit 1
    }
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r deploy/fuzz/requirements.txt
fi

deploy/local/services.sh up
log "building order-api and order-simulator"
cargo build --quiet -p order-api -p order-simulator

set -a
# shellcheck source=../local/local.env
source deploy/local/local.env
set +a
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API_PORT="$(free_port)"
SIM_PORT="$(free_port)"
PG_PORT="${LOCAL_PG_PORT:-55432}"
PSQL="/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p $PG_PORT -U postgres -d postgres -qtA"
log "fresh database order_fuzz"
$PSQL -c "DROP DATABASE IF EXISTS order_fuzz WITH (FORCE)" >/dev/null
$PSQL -c "CREATE DATABASE order_fuzz" >/dev/null
export DATABASE_URL="postgres://order_api@127.0.0.1:$PG_PORT/order_fuzz"
export DATABASE_ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/order_fuzz"
target/debug/order-api migrate >/dev/null

mkdir -p "$OUT"
export SIMULATOR_ADDR="127.0.0.1:$SIM_PORT"
export SIMULATOR_SEED_FILE="$ROOT/deploy/local/simulator-seed.json"
unset SIMULATOR_AMQP_URL
for service in TICKET PAYMENT EVENT PRODUCT INVENTORY SHIPPING; do
    export "${service}_SERVICE_URL=http://$SIMULATOR_ADDR"
done
export PORT="$API_PORT" RUN_JOBS=false LOG_LEVEL=warn
target/debug/order-simulator >"$OUT/simulator.log" 2>&1 &
SIM_PID=$!
target/debug/order-api serve >"$OUT/api.log" 2>&1 &
API_PID=$!
stop() {
    kill "$API_PID" "$SIM_PID" 2>/dev/null || true
    wait "$API_PID" "$SIM_PID" 2>/dev/null || true
}
trap stop EXIT

BASE="http://127.0.0.1:$API_PORT"
for _ in $(seq 1 100); do
    curl -fsS "$BASE/health/readiness" >/dev/null 2>&1 && break
    kill -0 "$API_PID" 2>/dev/null || { echo "error: order-api exited; see $OUT/api.log" >&2; tail -20 "$OUT/api.log" >&2; exit 1; }
    sleep 0.1
done

TENANT=00000000-0000-4000-8000-00000000000a
token() { target/debug/order-api dev-token --tenant "$TENANT" --user "$1" --roles "$2"; }
BUYER_TOKEN="$(token 00000000-0000-4000-8000-0000000000b1 customer)"
ADMIN_TOKEN="$(token 00000000-0000-4000-8000-0000000000ad admin)"
SERVICE_KEY="${SERVICE_API_KEYS#*scheduler:}"
SERVICE_KEY="${SERVICE_KEY%%,*}"

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
failed=0
fuzz() {
    local role="$1"
    shift
    log "fuzzing as $role for ${FUZZ_SECONDS}s"
    if ! "$VENV/bin/st" run "$BASE/openapi.json" \
        --checks "$CHECKS" \
        --max-time "$FUZZ_SECONDS" \
        --request-timeout 10 \
        --report junit --report-junit-path "$OUT/$role.xml" \
        --warnings off \
        "$@"; then
        echo "error: schemathesis found problems as $role (report: $OUT/$role.xml, API log: $OUT/api.log)" >&2
        failed=1
    fi
}
fuzz buyer --include-tag orders --include-tag cart --include-tag operations -H "Authorization: Bearer $BUYER_TOKEN"
fuzz admin --include-tag admin --include-tag fulfillment -H "Authorization: Bearer $ADMIN_TOKEN"
fuzz service --include-tag internal -H "Authorization: Service-Key $SERVICE_KEY" -H "X-Tenant-Id: $TENANT"

if [ "$failed" -ne 0 ]; then
    exit 1
fi
log "fuzzing found nothing"
