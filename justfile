# The order service's tasks. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run the whole system: servers, migrations, the upstream simulator with demo data, order-api.
run:
    deploy/local/run.sh

# Run every check CI runs: services up, formatting, lints, the supply chain, all tests (unit,
# property, doc, integration against the real servers), the fuzz run, docs, domain purity.
test: services-up fmt-check lint supply-chain sqlx-check webhooks-venv
    @echo "==> cargo test --workspace (unit, property, integration and doc tests)"
    cargo test --workspace --all-targets
    cargo test --workspace --doc
    @echo "==> order-domain doctests with every feature (mocks, system, memory, contract-tests)"
    cargo test -p order-domain --doc --all-features
    just drop-test-databases
    just another-service
    just fuzz
    just clients
    just doc
    just domain-deps
    just deploy-check

# Build and test examples/another-service, a crate outside the workspace that uses order-domain as
# its README says: a change that breaks the library's contract fails here.
another-service:
    @echo "==> examples/another-service (order-domain used from outside the workspace)"
    cargo fmt --manifest-path examples/another-service/Cargo.toml --check
    cargo clippy --manifest-path examples/another-service/Cargo.toml --target-dir target --locked --all-targets -- -D warnings
    cargo test --manifest-path examples/another-service/Cargo.toml --target-dir target --locked

# Fuzz the running API from its own /openapi.json with schemathesis, about a minute per role
# (buyer, admin, service); fails on a 5xx or an answer the document does not describe.
# FUZZ_SECONDS changes the minute.
fuzz:
    deploy/fuzz/run.sh

# Generate a TypeScript and a Python client from the running service's /openapi.json: the
# TypeScript one must type-check and run a create -> get -> list walk, the Python one must come
# without a warning (tools from npm and PyPI, installed on first use).
clients:
    deploy/clients/check.sh

# Measure the order path end to end against a durable PostgreSQL of its own and write
# docs/benchmarks.md (about 10 minutes after the release build). `just bench --smoke`: a quick run
# that only proves the harness works. `just bench --faults [scenario…]`: the proof suite (crashes,
# restarts, a flash sale), each scenario checking its invariants.
bench *args:
    deploy/bench/run.sh {{args}}

# Validate the Dockerfile, compose stack, Kubernetes manifests, dashboard and alert rules offline.
deploy-check:
    deploy/check.sh

# The reference Standard Webhooks library the webhook tests verify signatures with (PyPI).
webhooks-venv:
    deploy/webhooks/venv.sh

# Install (when missing) and start PostgreSQL, Redis and RabbitMQ on loopback; idempotent.
services-up:
    @echo "==> deploy/local/services.sh up"
    deploy/local/services.sh up

# Fail when the compile-time query data in .sqlx/ no longer matches the queries and migrations.
# Licenses, duplicate versions and sources of every dependency (deny.toml says why each
# exception stays); offline, without the advisory database. Installs cargo-deny when missing.
supply-chain:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v cargo-deny >/dev/null 2>&1; then
        echo "==> installing cargo-deny 0.20.2 (cargo install --locked, about 6 minutes)"
        cargo install cargo-deny --version 0.20.2 --locked
    fi
    echo "==> cargo deny check bans licenses sources"
    cargo deny --offline check bans licenses sources

sqlx-check: services-up
    deploy/local/sqlx.sh check

# Regenerate .sqlx/ after changing a query or a migration (then commit it).
sqlx-prepare: services-up
    deploy/local/sqlx.sh prepare

# Stop the servers `services-up` started (by their pid files).
services-down:
    deploy/local/services.sh down

# Drop the per-test databases the integration tests created.
drop-test-databases:
    #!/usr/bin/env bash
    set -euo pipefail
    psql="/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p ${LOCAL_PG_PORT:-55432} -U postgres -d postgres -qtA"
    for db in $($psql -c "SELECT datname FROM pg_database WHERE datname LIKE 'order\_test\_%'"); do
        $psql -c "DROP DATABASE \"$db\" WITH (FORCE)"
    done

# Clippy over every target; any warning fails.
lint:
    @echo "==> cargo clippy --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings
    @echo "==> an order's stored form stays with the storage adapters"
    @! grep -rnE --exclude-dir=tests '\.(into_)?record\(\)' crates/order-api/src crates/order-amqp/src crates/order-http-clients/src crates/order-redis/src crates/order-domain/src/use_cases crates/order-domain/src/policy crates/order-domain/src/ports || { echo "error: read an order through its getters (order-domain/src/order/read.rs), not Order::record()" >&2; exit 1; }

# Format the code in place.
fmt:
    cargo fmt --all

# Fail when the code is not formatted (run `just fmt` to fix).
fmt-check:
    @echo "==> cargo fmt --check"
    cargo fmt --all -- --check

# Build the API docs; any rustdoc warning fails.
doc:
    @echo "==> cargo doc --workspace --no-deps (warnings are errors)"
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
    @echo "==> cargo doc -p order-domain --all-features (as docs.rs builds it)"
    RUSTDOCFLAGS="-D warnings" cargo doc -p order-domain --no-deps --all-features
    @echo "==> every decision is in docs/decisions/README.md"
    @for f in docs/decisions/[0-9]*.md; do grep -q "($(basename "$f"))" docs/decisions/README.md || { echo "error: $f is missing from docs/decisions/README.md; add a line for it" >&2; exit 1; }; done
    @echo "==> every Markdown link leads somewhere; nothing points outside the repository"
    python3 deploy/local/check-doc-links.py

# Show that order-domain's normal dependencies hold no I/O crate.
domain-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    tree="$(cargo tree -p order-domain -e normal --all-features --prefix none)"
    if grep -E '^(tokio|sqlx|redis|deadpool|lapin|reqwest|actix)' <<<"$tree"; then
        echo "order-domain must stay pure: remove the I/O crates listed above" >&2
        exit 1
    fi
    echo "order-domain depends on no I/O crate"
