# The order service's tasks. `just --list` shows them all.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Run every check CI runs: formatting, lints, all tests (unit, property, doc), docs, purity.
test: fmt-check lint
    @echo "==> cargo test --workspace (unit, property and doc tests)"
    cargo test --workspace --all-targets
    cargo test --workspace --doc
    just doc
    just domain-deps

# Clippy over every target; any warning fails.
lint:
    @echo "==> cargo clippy --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings

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

# Show that order-domain's normal dependencies hold no I/O crate.
domain-deps:
    #!/usr/bin/env bash
    set -euo pipefail
    tree="$(cargo tree -p order-domain -e normal --prefix none)"
    if grep -E '^(tokio|sqlx|redis|deadpool|lapin|reqwest|actix)' <<<"$tree"; then
        echo "order-domain must stay pure: remove the I/O crates listed above" >&2
        exit 1
    fi
    echo "order-domain depends on no I/O crate"
