#!/usr/bin/env bash
# Installs the reference Standard Webhooks library (PyPI `standardwebhooks`) into
# .state/webhooks-venv when missing, for the webhook tests' independent signature checks.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${STATE_DIR:-$PWD/.state}/webhooks-venv"
wanted="$(sed -n 's/^standardwebhooks==//p' deploy/webhooks/requirements.txt)"
if "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('standardwebhooks') != '$wanted')" 2>/dev/null; then
    exit 0
fi
echo "==> installing standardwebhooks $wanted into $VENV (PyPI, a few seconds)"
python3 -m venv "$VENV" || {
    echo "error: python3 -m venv failed; install Debian's python3-venv" >&2
    exit 1
}
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r deploy/webhooks/requirements.txt
