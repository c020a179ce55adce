#!/usr/bin/env bash
# `just run`: the whole system on this machine — PostgreSQL, Redis and RabbitMQ, migrations, the
# upstream simulator with demo data, and order-api in the foreground. Ctrl-C stops the API and
# the simulator; `just services-down` stops the servers.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
STATE_DIR="${STATE_DIR:-$ROOT/.state}"
log() { printf '==> %s\n' "$*" >&2; }

deploy/local/services.sh up

set -a
# shellcheck source=local.env
source deploy/local/local.env
set +a
export SIMULATOR_SEED_FILE="$ROOT/deploy/local/simulator-seed.json"
# The simulator announces payment.* and ticket.* on the same broker the API consumes from.
export SIMULATOR_AMQP_URL="${SIMULATOR_AMQP_URL:-$RABBITMQ_URL}"

log "building order-api and order-simulator"
cargo build --quiet -p order-api -p order-simulator

PSQL="/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p ${LOCAL_PG_PORT:-55432} -U postgres -d postgres -qtA"
if [ "$($PSQL -c "SELECT 1 FROM pg_database WHERE datname = 'orders'")" != "1" ]; then
    log "creating database orders"
    $PSQL -c "CREATE DATABASE orders"
fi
target/debug/order-api migrate

SIM_PID_FILE="$STATE_DIR/simulator.pid"
if [ -f "$SIM_PID_FILE" ] && kill -0 "$(cat "$SIM_PID_FILE")" 2>/dev/null; then
    kill "$(cat "$SIM_PID_FILE")" 2>/dev/null || true
fi
log "starting the upstream simulator on $SIMULATOR_ADDR (demo catalog: deploy/local/simulator-seed.json)"
target/debug/order-simulator >"$STATE_DIR/simulator.log" 2>&1 &
echo $! >"$SIM_PID_FILE"
stop_simulator() {
    kill "$(cat "$SIM_PID_FILE" 2>/dev/null)" 2>/dev/null || true
    rm -f "$SIM_PID_FILE"
}
trap stop_simulator EXIT
trap 'stop_simulator; exit 130' INT TERM

TENANT=00000000-0000-4000-8000-00000000000a
BUYER=00000000-0000-4000-8000-0000000000b1
ADMIN=00000000-0000-4000-8000-0000000000ad
cat >&2 <<MSG

==> order-api on http://127.0.0.1:$PORT   (API docs: http://127.0.0.1:$PORT/docs)
    A buyer's token:  target/debug/order-api dev-token --tenant $TENANT --user $BUYER --roles customer
    An admin's token: target/debug/order-api dev-token --tenant $TENANT --user $ADMIN --roles admin
    (run them with the variables of deploy/local/local.env, e.g. \`set -a; source deploy/local/local.env\`)
    Try:
      TOKEN=\$(set -a; source deploy/local/local.env; target/debug/order-api dev-token --tenant $TENANT --user $BUYER --roles customer)
      curl -s -X POST http://127.0.0.1:$PORT/api/v1/orders -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
        -d '{"eventId":"00000000-0000-4000-8000-0000000000e1","items":[{"ticketTypeId":"00000000-0000-4000-8000-000000000071","ticketPricingId":"00000000-0000-4000-8000-000000000072","quantity":2}]}'

MSG
# In the background plus `wait`, so that a signal to this script runs the traps at once.
target/debug/order-api &
API_PID=$!
trap 'kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null; stop_simulator; exit 130' INT TERM

# The demo shop's promo code (10 % off), once the API answers; an existing code is fine.
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/health/readiness" >/dev/null 2>&1 && break
    sleep 0.2
done
ADMIN_TOKEN="$(target/debug/order-api dev-token --tenant $TENANT --user $ADMIN --roles admin)"
curl -sS -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/admin/promo-codes" \
    -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"code":"DEMO10","percentOffBps":1000}' || log "could not create the demo promo code DEMO10"
log "demo promo code: DEMO10 (10 % off)"
# The console signs in with a token: an admin's for 8 hours, to paste at the sign-in page.
CONSOLE_TOKEN="$(target/debug/order-api dev-token --tenant $TENANT --user $ADMIN --roles admin --minutes 480)"
log "operator console: http://127.0.0.1:$PORT/console/sign-in — paste this admin token:"
printf '    %s\n' "$CONSOLE_TOKEN" >&2
wait "$API_PID"
