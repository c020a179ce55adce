#!/usr/bin/env bash
# The compile-time checked queries' offline data (`.sqlx/`):
#   deploy/local/sqlx.sh prepare   regenerate it (after changing a query or a migration)
#   deploy/local/sqlx.sh check     fail when it no longer matches the queries and the schema
# Both migrate a scratch database on the local server (`just services-up`) and run
# `cargo sqlx prepare` against it; sqlx-cli is installed when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode="${1:-}"
case "$mode" in
    prepare | check) ;;
    *) echo "usage: $0 prepare|check" >&2; exit 2 ;;
esac

export PATH="$HOME/.cargo/bin:$PATH"
SQLX_CLI_VERSION=0.9.0
if ! cargo sqlx --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION"; then
    echo "==> installing sqlx-cli $SQLX_CLI_VERSION (about 4 minutes, once per machine)"
    cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features \
        --features postgres,rustls --locked
fi

port="${LOCAL_PG_PORT:-55432}"
database=order_sqlx_offline
psql=(/usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtA -v ON_ERROR_STOP=1)
if ! "${psql[@]}" -c "SELECT 1" >/dev/null 2>&1; then
    echo "PostgreSQL is not reachable on 127.0.0.1:$port: run \`just services-up\` first" >&2
    exit 1
fi
echo "==> migrating a scratch database ($database)"
"${psql[@]}" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$database"
sqlx migrate run --source migrations --database-url "$DATABASE_URL" >/dev/null

if [[ "$mode" == prepare ]]; then
    echo "==> cargo sqlx prepare --workspace (writes .sqlx/)"
    cargo sqlx prepare --workspace
else
    echo "==> cargo sqlx prepare --workspace --check"
    if ! cargo sqlx prepare --workspace --check; then
        echo "the query data in .sqlx/ is out of date: run \`just sqlx-prepare\` and commit .sqlx/" >&2
        exit 1
    fi
fi
"${psql[@]}" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
