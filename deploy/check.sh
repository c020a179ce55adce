#!/usr/bin/env bash
# `just deploy-check`: validates the deployment files offline (there is no container engine or
# cluster here): the Dockerfile with hadolint, the compose stack, dashboard and alert metrics with
# deploy/tests/test_deploy.py, the Kubernetes base and production overlay rendered by kustomize
# (kubectl) and validated against the Kubernetes schemas, and the alert rules with promtool and
# their unit tests. Installs its Python tools into .state/deploy-venv and Debian's prometheus
# package (for promtool) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR="${STATE_DIR:-$PWD/.state}"
VENV="$STATE_DIR/deploy-venv"
log() { printf '==> %s\n' "$*" >&2; }

if ! "$VENV/bin/python" -c "import yaml" 2>/dev/null \
    || ! cmp -s deploy/requirements.txt "$VENV/requirements.txt"; then
    log "installing hadolint, kubernetes-validate and PyYAML into $VENV (PyPI, about 20 s)"
    python3 -m venv "$VENV" || {
        echo "error: python3 -m venv failed; install Debian's python3-venv" >&2
        exit 1
    }
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r deploy/requirements.txt
    cp deploy/requirements.txt "$VENV/requirements.txt"
fi
if ! command -v promtool >/dev/null 2>&1; then
    log "installing promtool (Debian's prometheus package)"
    apt-get install -y --no-install-recommends prometheus >/dev/null || {
        apt-get update -qq && apt-get install -y --no-install-recommends prometheus >/dev/null
    }
fi
if ! command -v kubectl >/dev/null 2>&1; then
    echo "error: kubectl (with its built-in kustomize) is needed to render deploy/k8s; install it" >&2
    exit 1
fi

log "hadolint Dockerfile"
"$VENV/bin/hadolint" Dockerfile

log "compose, dashboard and alert metrics (deploy/tests/test_deploy.py)"
"$VENV/bin/python" deploy/tests/test_deploy.py

out="$STATE_DIR/k8s"
mkdir -p "$out"
for target in base overlays/production; do
    name="${target//\//-}"
    log "kustomize deploy/k8s/$target + kubernetes-validate"
    kubectl kustomize "deploy/k8s/$target" > "$out/$name.yaml"
    "$VENV/bin/kubernetes-validate" --strict --quiet -k 1.30.0 "$out/$name.yaml"
done
grep -q "secretRef" "$out/overlays-production.yaml"
if grep -qE "^kind: Secret$" "$out/overlays-production.yaml"; then
    echo "error: the manifests must reference the Secret, never carry one" >&2
    exit 1
fi

log "promtool check rules + test rules"
promtool check rules deploy/alerts/order-service.rules.yml >/dev/null
promtool test rules deploy/alerts/order-service.test.yml
