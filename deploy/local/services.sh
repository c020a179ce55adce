#!/usr/bin/env bash
# Starts (or stops) PostgreSQL, Redis and RabbitMQ as real servers on loopback for local runs and
# tests. Installs the Debian packages when missing. Idempotent: a second `up` finds them running.
# Data, logs and pid files live in $STATE_DIR (default: <repo>/.state, git-ignored).
#
#   deploy/local/services.sh up     # install if needed, start, wait until each answers
#   deploy/local/services.sh down   # stop what this script started (by pid files)
#   deploy/local/services.sh env    # print the connection variables
#   deploy/local/services.sh restart-rabbitmq | stop-redis | start-redis   # outage tests
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STATE_DIR="${STATE_DIR:-$ROOT/.state}"
PG_PORT="${LOCAL_PG_PORT:-55432}"
REDIS_PORT="${LOCAL_REDIS_PORT:-56379}"
AMQP_PORT="${LOCAL_AMQP_PORT:-56720}"
AMQP_DIST_PORT="${LOCAL_AMQP_DIST_PORT:-56721}"
EPMD_PORT="${LOCAL_EPMD_PORT:-56369}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
RABBIT_BIN="/usr/lib/rabbitmq/bin"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
    local packages=()
    [ -x "$PG_BIN/postgres" ] || packages+=(postgresql-15)
    command -v redis-server >/dev/null || packages+=(redis-server)
    [ -x "$RABBIT_BIN/rabbitmq-server" ] || packages+=(rabbitmq-server)
    # The invoice tests read generated PDFs back with pdftotext.
    command -v pdftotext >/dev/null || packages+=(poppler-utils)
    # The metrics test lints a fresh instance's /metrics with promtool.
    command -v promtool >/dev/null || packages+=(prometheus)
    # The console's browser tests drive Debian's Chromium headless through chromedriver.
    command -v chromedriver >/dev/null || packages+=(chromium chromium-driver)
    # ... and inject axe-core, from the npm registry, into every page they see.
    command -v npm >/dev/null || packages+=(nodejs npm)
    if [ "${#packages[@]}" -gt 0 ]; then
        log "installing ${packages[*]} from Debian's packages (about a minute)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    fi
    # Debian's package starts nothing here (no systemd); we start our own servers below.
}

# The accessibility checker the browser tests run in each page, pinned in deploy/browser.
browser_checks() {
    local dir="$ROOT/deploy/browser"
    [ -f "$dir/node_modules/axe-core/axe.min.js" ] && return
    log "installing axe-core into $dir/node_modules (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
        || die "npm ci failed in $dir; check that the npm registry answers"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

postgres_up() {
    local dir="$STATE_DIR/postgres"
    local data="$dir/data"
    mkdir -p "$dir"
    if pid_alive "$data/postmaster.pid"; then
        log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
        return
    fi
    port_free "$PG_PORT" || die "port $PG_PORT is taken; set LOCAL_PG_PORT to a free port"
    id postgres >/dev/null 2>&1 || as_root useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
    chown postgres "$dir"
    if [ ! -f "$data/PG_VERSION" ]; then
        log "initialising PostgreSQL data in $data"
        runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir'
max_connections = 200
# Local and test servers only: durability is not needed here (benchmarks use their own server).
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    fi
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
        || die "PostgreSQL did not start; see $dir/postgres.log"
}

postgres_down() {
    local data="$STATE_DIR/postgres/data"
    if pid_alive "$data/postmaster.pid"; then
        log "stopping PostgreSQL"
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
}

redis_up() {
    local dir="$STATE_DIR/redis"
    mkdir -p "$dir"
    if pid_alive "$dir/redis.pid"; then
        log "Redis already running on 127.0.0.1:$REDIS_PORT"
        return
    fi
    port_free "$REDIS_PORT" || die "port $REDIS_PORT is taken; set LOCAL_REDIS_PORT to a free port"
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
    for _ in $(seq 1 100); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return
        sleep 0.1
    done
    die "Redis did not answer; see $dir/redis.log"
}

redis_down() {
    local pidfile="$STATE_DIR/redis/redis.pid"
    if pid_alive "$pidfile"; then
        log "stopping Redis"
        local pid
        pid="$(cat "$pidfile")"
        kill "$pid"
        # Wait until it is gone so that a start right after finds the port free.
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        rm -f "$pidfile"
    fi
}

rabbit_env() {
    local dir="$STATE_DIR/rabbitmq"
    export HOME="$dir"
    export RABBITMQ_NODENAME="order-local@localhost"
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT="$AMQP_PORT"
    export RABBITMQ_DIST_PORT="$AMQP_DIST_PORT"
    export ERL_EPMD_PORT="$EPMD_PORT"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia"
    export RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
    export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

rabbit_up() {
    local dir="$STATE_DIR/rabbitmq"
    mkdir -p "$dir/mnesia" "$dir/log"
    (
        rabbit_env
        if pid_alive "$RABBITMQ_PID_FILE"; then
            log "RabbitMQ already running on 127.0.0.1:$AMQP_PORT"
            exit 0
        fi
        port_free "$AMQP_PORT" || die "port $AMQP_PORT is taken; set LOCAL_AMQP_PORT to a free port"
        if [ ! -f "$HOME/.erlang.cookie" ]; then
            head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$HOME/.erlang.cookie"
            chmod 400 "$HOME/.erlang.cookie"
        fi
        [ -f "$dir/enabled_plugins" ] || echo '[].' >"$dir/enabled_plugins"
        [ -f "$dir/rabbitmq.conf" ] || echo 'loopback_users = none' >"$dir/rabbitmq.conf"
        log "starting RabbitMQ on 127.0.0.1:$AMQP_PORT (boot takes 10-30 s)"
        "$RABBIT_BIN/rabbitmq-server" -detached >"$dir/log/start.out" 2>&1
        "$RABBIT_BIN/rabbitmqctl" wait --timeout 180 "$RABBITMQ_PID_FILE" >/dev/null \
            || die "RabbitMQ did not start; see $dir/log"
    )
}

rabbit_down() {
    (
        rabbit_env
        if pid_alive "$RABBITMQ_PID_FILE"; then
            log "stopping RabbitMQ"
            "$RABBIT_BIN/rabbitmqctl" shutdown >/dev/null 2>&1 || true
        fi
        # epmd outlives the node; stop the one on our own port only.
        epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true
    )
}

print_env() {
    cat <<ENV
DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f
ENV
}

case "${1:-up}" in
    up)
        install_missing
        browser_checks
        postgres_up
        redis_up
        rabbit_up
        log "services are up:"
        print_env >&2
        ;;
    down)
        rabbit_down
        redis_down
        postgres_down
        ;;
    env) print_env ;;
    # For the outage tests: a real stop and start of one server.
    restart-rabbitmq)
        rabbit_down
        rabbit_up
        ;;
    stop-redis) redis_down ;;
    start-redis) redis_up ;;
    *) die "usage: $0 up|down|env|restart-rabbitmq|stop-redis|start-redis" ;;
esac
