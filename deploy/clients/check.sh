#!/usr/bin/env bash
# `just clients`: the OpenAPI document works with the client generators front-end teams use.
# Starts order-api on a scratch database, fetches its /openapi.json, then
#   - generates a TypeScript client (openapi-typescript + openapi-fetch, from the npm registry,
#     pinned in package-lock.json, installed into deploy/clients/node_modules), type-checks
#     walk.ts (create -> get -> list) against it with tsc --strict and runs it against the API;
#   - generates a Python client (openapi-python-client from PyPI, in .state/clients-venv) and fails
#     on any warning (a schema the generator had to skip), then imports the generated package.
# Output goes to .state/clients/.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
STATE_DIR="${STATE_DIR:-$ROOT/.state}"
OUT="$STATE_DIR/clients"
VENV="$STATE_DIR/clients-venv"
HERE=deploy/clients
log() { printf '==> %s\n' "$*" >&2; }

if ! command -v npm >/dev/null 2>&1; then
    log "installing Node.js and npm (Debian's nodejs and npm)"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
if ! (cd "$HERE" && npm ls --depth=0 >/dev/null 2>&1); then
    log "installing the TypeScript generator and compiler into $HERE/node_modules (npm ci)"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
wanted="$(sed -n 's/^openapi-python-client==//p' "$HERE/requirements.txt")"
if ! "$VENV/bin/openapi-python-client" --version 2>/dev/null | grep -q "$wanted"; then
    log "installing openapi-python-client $wanted into $VENV (PyPI)"
    python3 -m venv "$VENV" || {
        echo "error: python3 -m venv failed; install Debian's python3-venv" >&2
        exit 1
    }
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
fi

# shellcheck source=../local/scratch-api.sh
source deploy/local/scratch-api.sh
start_scratch_api order_clients "$OUT"
curl -fsS "$BASE/openapi.json" -o "$OUT/openapi.json"

log "TypeScript: openapi-typescript, then tsc --strict over walk.ts"
rm -rf "$HERE/generated" "$HERE/build"
(cd "$HERE" && npx --no-install openapi-typescript "$OUT/openapi.json" -o generated/schema.d.ts) >"$OUT/typescript.log" 2>&1 || {
    cat "$OUT/typescript.log" >&2
    echo "error: openapi-typescript refused the document (above)" >&2
    exit 1
}
(cd "$HERE" && npx --no-install tsc -p .) || {
    echo "error: walk.ts does not type-check against the generated client: the document and the walk disagree (above)" >&2
    exit 1
}
log "TypeScript: the walk against the running API"
ORDER_API_URL="$BASE" \
    BUYER_TOKEN="$(token 00000000-0000-4000-8000-0000000000c1 customer)" \
    EVENT_ID=00000000-0000-4000-8000-0000000000e1 \
    TICKET_TYPE_ID=00000000-0000-4000-8000-000000000071 \
    TICKET_PRICING_ID=00000000-0000-4000-8000-000000000072 \
    node "$HERE/build/walk.js"

log "Python: openapi-python-client"
rm -rf "$OUT/python"
"$VENV/bin/openapi-python-client" generate --path "$OUT/openapi.json" --output-path "$OUT/python" \
    --config "$HERE/python-client.yaml" >"$OUT/python.log" 2>&1 || {
    cat "$OUT/python.log" >&2
    echo "error: openapi-python-client failed (above)" >&2
    exit 1
}
if grep -qi 'warning' "$OUT/python.log"; then
    cat "$OUT/python.log" >&2
    echo "error: openapi-python-client skipped parts of the document (warnings above); make those schemas plain objects, enums or oneOf of named schemas" >&2
    exit 1
fi
(cd "$OUT/python" && "$VENV/bin/python" -c 'import order_service_client.api.orders.create_order, order_service_client.models.order')
log "both generated clients take the document"
