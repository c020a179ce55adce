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

# shellcheck source=../local/scratch-api.sh
source deploy/local/scratch-api.sh
start_scratch_api order_fuzz "$OUT"

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
