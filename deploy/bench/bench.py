#!/usr/bin/env python3
"""`just bench`: the order path measured end to end against a durable PostgreSQL of its own.

Starts a durable PostgreSQL (fsync and synchronous commit on, pg_stat_statements loaded), the
upstream simulator and the release order-api with its jobs (the outbox relay runs during the
load), next to the Redis and RabbitMQ of `just services-up`. wrk drives the load (every request
another buyer's token and a fresh Idempotency-Key). pgbench measures the same rows and a point
read in the same run, and every figure is also printed as a ratio to them. The table goes to
docs/benchmarks.md. Standard library only; run through deploy/bench/run.sh.
"""

import base64
import concurrent.futures
import datetime
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH_DIR = os.path.join(ROOT, "deploy", "bench")
STATE = os.environ.get("STATE_DIR", os.path.join(ROOT, ".state"))
WORK = os.path.join(STATE, "bench")
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "55533"))
API_PORT = int(os.environ.get("BENCH_API_PORT", "3104"))
SIM_PORT = int(os.environ.get("BENCH_SIMULATOR_PORT", "3110"))
REDIS_PORT = int(os.environ.get("LOCAL_REDIS_PORT", "56379"))
AMQP_PORT = int(os.environ.get("LOCAL_AMQP_PORT", "56720"))
CLK_TCK = os.sysconf("SC_CLK_TCK")

SECRET = "bench-secret-0123456789abcdef0123456789"
UPSTREAM_KEY = "bench-upstream-key-0123456789"
TENANT = "00000000-0000-4000-8000-00000000b001"
LIST_TENANT = "00000000-0000-4000-8000-00000000b002"
EVENT = "00000000-0000-4000-8000-0000000000e1"
TICKET_TYPE = "00000000-0000-4000-8000-000000000071"
PRICING = "00000000-0000-4000-8000-000000000072"
# The proof suite's flash sale (deploy/bench/faults.py): an event of 100 tickets.
FLASH_EVENT = "00000000-0000-4000-8000-0000000000f1"
FLASH_TICKET_TYPE = "00000000-0000-4000-8000-0000000000f7"
FLASH_PRICING = "00000000-0000-4000-8000-0000000000f8"
FLASH_QUOTA = 100
ORDER_BODY = json.dumps({
    "eventId": EVENT,
    "items": [{"ticketTypeId": TICKET_TYPE, "ticketPricingId": PRICING, "quantity": 2}],
})

FULL = dict(creation_s=20, get_s=15, list_s=10, pgbench_s=15, event_fill=100_000,
            list_sizes=[10_000, 100_000, 1_000_000], expiry=100_000, archive=100_000,
            clients=[8, 32])
SMOKE = dict(creation_s=3, get_s=2, list_s=2, pgbench_s=2, event_fill=1_000,
             list_sizes=[1_000, 2_000, 4_000], expiry=500, archive=500, clients=[8])

started_at = time.time()


def log(message):
    print(f"==> [{time.time() - started_at:5.0f} s] {message}", flush=True)


def die(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


# --- PostgreSQL -------------------------------------------------------------------------------

def psql(sql, db="orders"):
    out = subprocess.run(
        [f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", db,
         "-qtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True)
    if out.returncode != 0:
        die(f"psql failed: {out.stderr.strip()} (SQL: {sql[:200]})")
    return out.stdout.strip()


def start_postgres():
    pg_dir = os.path.join(WORK, "postgres")
    data = os.path.join(pg_dir, "data")
    stop_postgres()
    shutil.rmtree(pg_dir, ignore_errors=True)
    os.makedirs(pg_dir)
    shutil.chown(pg_dir, "postgres")
    log(f"initialising a durable PostgreSQL in {data} (port {PG_PORT})")
    run_as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                     "--locale=C.UTF-8"])
    with open(os.path.join(data, "postgresql.conf"), "a") as conf:
        conf.write(f"""
listen_addresses = '127.0.0.1'
port = {PG_PORT}
unix_socket_directories = '{pg_dir}'
max_connections = 200
shared_buffers = '2GB'
shared_preload_libraries = 'pg_stat_statements'
# Fewer checkpoints while a million orders are copied in; durability is unchanged.
max_wal_size = '16GB'
checkpoint_timeout = '30min'
pg_stat_statements.track = top
pg_stat_statements.track_utility = on
pg_stat_statements.track_planning = on
# Durable: fsync, synchronous_commit and full_page_writes keep their defaults (on).
""")
    run_as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(pg_dir, "postgres.log"),
                     "-w", "-t", "60", "start"])
    psql("CREATE DATABASE orders", db="postgres")
    psql("CREATE EXTENSION pg_stat_statements")


def stop_postgres():
    data = os.path.join(WORK, "postgres", "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", data, "-m",
                        "fast", "-w", "stop"], capture_output=True)


def run_as_postgres(command):
    out = subprocess.run(["runuser", "-u", "postgres", "--"] + command, capture_output=True,
                         text=True)
    if out.returncode != 0:
        die(f"{command[0]} failed: {out.stderr.strip() or out.stdout.strip()}")


def postmaster_pid():
    with open(os.path.join(WORK, "postgres", "data", "postmaster.pid")) as f:
        return int(f.readline())


# --- processes and CPU ------------------------------------------------------------------------

def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # After the command: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
        return int(fields[1]), [int(x) for x in fields[11:15]]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None, [0, 0, 0, 0]


def cpu_ticks(pid, with_children=False):
    """CPU ticks of `pid` (with its direct children, live and reaped, for PostgreSQL)."""
    _, (utime, stime, cutime, cstime) = proc_stat(pid)
    total = utime + stime
    if with_children:
        total += cutime + cstime
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                ppid, (u, s, _, _) = proc_stat(int(entry))
                if ppid == pid:
                    total += u + s
    return total


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pid_from_file(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


class Stack:
    """The simulator and order-api this run started (stopped by their pids at the end)."""

    def __init__(self, binaries):
        self.binaries = binaries
        self.children = []
        self.env = {
            **os.environ,
            "PORT": str(API_PORT),
            "DATABASE_URL": f"postgres://order_api@127.0.0.1:{PG_PORT}/orders",
            "DATABASE_ADMIN_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/orders",
            "DATABASE_MAX_CONNECTIONS": "40",
            "JWT_SECRET": SECRET,
            # A fresh key each run: addresses sealed here are never read elsewhere.
            "ADDRESS_ENCRYPTION_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
            "SERVICE_API_KEYS": "bench:bench-service-key-0123456789",
            "SERVICE_KEY_SCOPES": "bench=confirm,expire,expiring,bulk_cancel,jobs,health",
            "TICKET_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "PAYMENT_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "EVENT_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "PRODUCT_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "INVENTORY_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "SHIPPING_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "NOTIFICATION_SERVICE_URL": f"http://127.0.0.1:{SIM_PORT}",
            "UPSTREAM_SERVICE_KEY": UPSTREAM_KEY,
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}",
            "REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
            "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/%2f",
            "AMQP_QUEUE_PREFIX": "order-bench",
            "RUN_JOBS": "true",
            # The measured expiry pass runs alone (`order-api expire-due`), not inside the API.
            "EXPIRATION_CHECK_INTERVAL_MINUTES": "60",
            "RATE_LIMIT_ORDERS_PER_MINUTE": "100000000",
            "LOG_LEVEL": "warn",
            "SIMULATOR_ADDR": f"127.0.0.1:{SIM_PORT}",
            "SIMULATOR_SERVICE_KEY": UPSTREAM_KEY,
            "SIMULATOR_SEED_FILE": os.path.join(WORK, "seed.json"),
        }
        self.env.pop("SIMULATOR_AMQP_URL", None)

    def run(self, *args):
        out = subprocess.run([os.path.join(self.binaries, "order-api"), *args], env=self.env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            die(f"order-api {' '.join(args)} failed: {out.stderr.strip() or out.stdout.strip()}")
        return out.stdout.strip()

    def start(self):
        seed = {"events": [{
            "tenantId": TENANT, "id": EVENT, "name": "Benchmark", "startsAt": "2030-06-01T20:00:00Z",
            "status": "SCHEDULED", "currency": "USD",
            "ticketTypes": [{"id": TICKET_TYPE, "name": "GA", "quota": 100_000_000,
                             "prices": [{"id": PRICING, "name": "Standard", "amount": 10_000}]}],
        }, {
            "tenantId": TENANT, "id": FLASH_EVENT, "name": "Flash sale",
            "startsAt": "2030-06-02T20:00:00Z", "status": "SCHEDULED", "currency": "USD",
            "ticketTypes": [{"id": FLASH_TICKET_TYPE, "name": "GA", "quota": FLASH_QUOTA,
                             "prices": [{"id": FLASH_PRICING, "name": "Standard", "amount": 10_000}]}],
        }]}
        with open(self.env["SIMULATOR_SEED_FILE"], "w") as f:
            json.dump(seed, f)
        log("migrating the benchmark database")
        self.run("migrate")
        for port in (SIM_PORT, API_PORT):
            if port_open(port):
                die(f"port {port} is taken; set BENCH_API_PORT / BENCH_SIMULATOR_PORT")
        self.simulator = self.spawn("order-simulator", "simulator.log")
        wait_for(f"http://127.0.0.1:{SIM_PORT}/_admin/state", "the simulator")
        self.api = self.spawn("order-api", "api.log")
        wait_for(f"http://127.0.0.1:{API_PORT}/health/readiness", "order-api")

    def spawn(self, name, logfile):
        log(f"starting {name}")
        out = open(os.path.join(WORK, logfile), "w")
        child = subprocess.Popen([os.path.join(self.binaries, name)], env=self.env, stdout=out,
                                 stderr=subprocess.STDOUT)
        self.children.append(child)
        return child

    def stop(self):
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def port_open(port):
    import socket
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(url, what, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    die(f"{what} did not answer at {url} within {seconds} s; see {WORK}/*.log")


# --- tokens -----------------------------------------------------------------------------------

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(tenant, user, roles=("customer",)):
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": user, "tenant_id": tenant, "roles": list(roles), "vip": False,
                             "exp": int(time.time()) + 6 * 3600}).encode())
    signature = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def token_file(count, name):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        for _ in range(count):
            f.write(token(TENANT, str(uuid.uuid4())) + "\n")
    return path


# --- measuring --------------------------------------------------------------------------------

# Statements of the background work that runs during the load (the outbox relay and the jobs'
# cross-tenant functions): counted apart, since they are no part of an order's transaction.
BACKGROUND = "outbox_claim|outbox_mark_published|orders_expiring|tenants_with_orders_since|refunds_due|prune_expired"


def statements():
    """Statements run so far (all, and background work's), and the milliseconds spent planning."""
    calls, planning, background = psql(
        "SELECT coalesce(sum(calls), 0), coalesce(sum(total_plan_time), 0), "
        f"coalesce(sum(calls) FILTER (WHERE query ~ '{BACKGROUND}'), 0) "
        "FROM pg_stat_statements").split("|")
    return int(calls), float(planning), int(background)


class Snapshot:
    def __init__(self, stack):
        self.at = time.time()
        self.cpu = {
            "order-api": cpu_ticks(stack.api.pid),
            "simulator": cpu_ticks(stack.simulator.pid),
            "PostgreSQL": cpu_ticks(postmaster_pid(), with_children=True),
            "Redis": cpu_ticks(pid_from_file(os.path.join(STATE, "redis", "redis.pid")) or 0),
            "RabbitMQ": cpu_ticks(pid_from_file(os.path.join(STATE, "rabbitmq", "rabbitmq.pid")) or 0),
        }
        self.all_statements, self.planning_ms, self.background = statements()
        # The request path's own statements.
        self.statements = self.all_statements - self.background


def wrk(script, connections, seconds, args):
    """Runs wrk; returns its result line and its own CPU seconds."""
    # wrk needs a connection per thread.
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", os.path.join(BENCH_DIR, script), f"http://127.0.0.1:{API_PORT}", "--", *args]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, "BENCH_DIR": BENCH_DIR})
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = status
    for line in output.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:]), usage.ru_utime + usage.ru_stime
    die(f"wrk gave no result:\n{output}")


def outbox_backlog():
    row = psql("SELECT count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0) "
               "FROM outbox WHERE published_at IS NULL")
    count, age = row.split("|")
    return int(count), float(age)


def outbox_drain_seconds(limit=120):
    start = time.time()
    while time.time() - start < limit:
        if outbox_backlog()[0] == 0:
            return time.time() - start
        time.sleep(0.25)
    return float("nan")


def creation(stack, clients, seconds, label):
    tokens = token_file(max(4_000, clients * seconds * 250), f"tokens-{label}.txt")
    in_event = int(psql(f"SELECT count(*) FROM orders WHERE event_id = '{EVENT}'"))
    log(f"creation at {clients} clients for {seconds} s, {in_event} orders already in the event")
    before = Snapshot(stack)
    result, wrk_cpu = wrk("create.lua", clients, seconds, [tokens, label, "2", ORDER_BODY])
    after = Snapshot(stack)
    backlog, lag = outbox_backlog()
    drain = outbox_drain_seconds()
    created = result["statuses"].get("201", 0)
    elapsed = result["duration_us"] / 1e6
    cpu = {name: (after.cpu[name] - before.cpu[name]) / CLK_TCK for name in before.cpu}
    cpu["wrk"] = wrk_cpu
    others = {k: v for k, v in result["statuses"].items() if k != "201"}
    row = {
        "label": label, "clients": clients, "in_event": in_event, "created": created,
        "rate": created / elapsed, "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
        "statements_per_order": (after.statements - before.statements - 1) / max(created, 1),
        "background_per_order": (after.background - before.background) / max(created, 1),
        "planning_ms_per_order": (after.planning_ms - before.planning_ms) / max(created, 1),
        "cpu_ms_per_order": {k: 1000 * v / max(created, 1) for k, v in cpu.items()},
        "other_statuses": others, "socket_errors": result["socket_errors"],
        "api_rss_mib": rss_mib(stack.api.pid), "outbox_backlog": backlog, "outbox_lag_s": lag,
        "outbox_drain_s": drain,
    }
    log(f"  {row['rate']:.0f} orders/s, p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
        f"{row['statements_per_order']:.2f} statements/order "
        f"(+ {row['background_per_order']:.2f} of the relay) "
        f"({row['planning_ms_per_order']:.3f} ms planning), other answers {others}")
    if created == 0:
        die(f"no order was created (answers {others}); see {WORK}/api.log")
    return row


def template_order():
    return psql(f"SELECT id FROM orders WHERE tenant_id = '{TENANT}' AND status = 'RESERVED' "
                "ORDER BY created_at LIMIT 1")


def columns(table):
    return psql(f"SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                f"information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}'"
                ).split(",")


def copy_orders(template, count, tenant, status=None, due=False, finished_long_ago=False,
                chunk=100_000):
    """Copies the template order (and its items) `count` times as other buyers' orders."""
    base = int(psql("SELECT coalesce(max(n), 0) FROM pgb.copies"))
    created = "o.created_at - make_interval(secs => g / 1000.0)"
    overrides = {
        "id": "md5('copy-' || g)::uuid", "tenant_id": f"'{tenant}'::uuid",
        "user_id": "md5('buyer-' || g)::uuid",
        "order_number": "'ORD-20200101-' || upper(lpad(to_hex(g), 6, '0'))",
        "created_at": created,
        # A sealed value opens for its own order only: copies carry no contact.
        "contact_email": "NULL",
        "contact_email_index": "NULL",
    }
    if status:
        # The copy reached its status within the template's lifetime (restored orders are checked).
        overrides["status"] = f"'{status}'"
        overrides[f"{status.lower()}_at"] = "o.updated_at"
    if finished_long_ago:
        # Finished eight years ago: past the default retention of seven.
        overrides["updated_at"] = "now() - interval '8 years'"
        overrides[f"{status.lower()}_at"] = "now() - interval '8 years'"
    if due:
        overrides.update({"expires_at": "now() - interval '1 hour'",
                          "hold_id": "'hold_bench_' || g", "payment_intent_id": "'pi_bench_' || g"})
    order_columns = columns("orders")
    item_columns = columns("order_items")
    order_select = ", ".join(overrides.get(c, f"o.{c}") for c in order_columns)
    item_select = ", ".join({"id": "md5('item-' || g || '-' || i.position)::uuid",
                             "order_id": "md5('copy-' || g)::uuid",
                             "tenant_id": f"'{tenant}'::uuid"}.get(c, f"i.{c}") for c in item_columns)
    def copy(first, n):
        series = f"generate_series({first + 1}, {first + n}) g"
        psql(f"BEGIN; INSERT INTO orders ({', '.join(order_columns)}) SELECT {order_select} "
             f"FROM orders o, {series} WHERE o.id = '{template}'; "
             f"INSERT INTO order_items ({', '.join(item_columns)}) SELECT {item_select} "
             f"FROM order_items i, {series} WHERE i.order_id = '{template}'; COMMIT")

    # Two chunks at a time: one per core.
    chunks = [(base + start, min(chunk, count - start)) for start in range(0, count, chunk)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for done, _ in enumerate(pool.map(lambda c: copy(*c), chunks), start=1):
            if len(chunks) > 1:
                log(f"  {min(done * chunk, count)}/{count} orders copied")
    psql(f"INSERT INTO pgb.copies VALUES ({base + count})")
    # A bulk copy leaves autovacuum work that would run during the next measurement: do it now,
    # so that each phase measures the order service, not the cleanup after our own copying.
    # (The first creation phase runs on fresh tables that have no statistics at all.)
    psql("VACUUM (ANALYZE) orders, order_items")


def get_phase(stack, seconds):
    pairs = psql(f"SELECT user_id || ' ' || id FROM orders WHERE tenant_id = '{TENANT}' "
                 "AND order_number NOT LIKE 'ORD-20200101-%' LIMIT 2000").splitlines()
    path = os.path.join(WORK, "get.txt")
    with open(path, "w") as f:
        for pair in pairs:
            user, order = pair.split()
            f.write(f"{token(TENANT, user)} /api/v1/orders/{order}\n")
    log(f"GET of one order at 8 clients for {seconds} s")
    before = Snapshot(stack)
    result, _ = wrk("get.lua", 8, seconds, [path, "2"])
    after = Snapshot(stack)
    ok = result["statuses"].get("200", 0)
    cpu = {name: (after.cpu[name] - before.cpu[name]) / CLK_TCK for name in before.cpu}
    row = {"rate": ok / (result["duration_us"] / 1e6), "p50_ms": result["p50_us"] / 1000,
           "p99_ms": result["p99_us"] / 1000,
           "statements_per_read": (after.statements - before.statements - 1) / max(ok, 1),
           "cpu_ms_per_read": {k: 1000 * v / max(ok, 1) for k, v in cpu.items()},
           "other_statuses": {k: v for k, v in result["statuses"].items() if k != "200"}}
    log(f"  {row['rate']:.0f} reads/s, p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms")
    return row


def list_phase(stack, sizes, seconds, template):
    admin = token(LIST_TENANT, str(uuid.uuid4()), roles=("admin",))
    rows = []
    have = 0
    for size in sizes:
        log(f"filling the list tenant to {size} orders")
        copy_orders(template, size - have, LIST_TENANT)
        have = size
        for name, path in [("first page", "/api/v1/orders?limit=50"),
                           ("status filter", "/api/v1/orders?limit=50&status=RESERVED")]:
            file = os.path.join(WORK, "list.txt")
            with open(file, "w") as f:
                f.write(f"{admin} {path}\n")
            result, _ = wrk("get.lua", 4, seconds, [file, "2"])
            ok = result["statuses"].get("200", 0)
            row = {"size": size, "query": name, "rate": ok / (result["duration_us"] / 1e6),
                   "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000}
            log(f"  {size} orders, {name}: p50 {row['p50_ms']:.2f} ms, {row['rate']:.0f}/s")
            rows.append(row)
    return rows


def console_phase(seconds, size):
    """The console's order search: a page of 50 orders rendered as HTML, one operator at a time."""
    admin = token(LIST_TENANT, str(uuid.uuid4()), roles=("admin",))
    file = os.path.join(WORK, "console.txt")
    with open(file, "w") as f:
        f.write(f"{admin} /console\n")
    log(f"console order search (a page of 50 of {size} orders) at 1 client for {seconds} s")
    result, _ = wrk("get.lua", 1, seconds, [file, "1"])
    ok = result["statuses"].get("200", 0)
    row = {"size": size, "rate": ok / (result["duration_us"] / 1e6),
           "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
           "other_statuses": {k: v for k, v in result["statuses"].items() if k != "200"}}
    log(f"  p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, {row['rate']:.0f} pages/s")
    if not ok:
        die(f"the console page answered no 200: {result['statuses']}")
    return row


def expiry_phase(stack, count, template):
    log(f"expiry of {count} due orders by one worker (order-api expire-due)")
    copy_orders(template, count, TENANT, status="RESERVED", due=True)
    start = time.time()
    report = stack.run("expire-due")
    elapsed = time.time() - start
    left = int(psql("SELECT count(*) FROM orders WHERE status IN ('PENDING', 'RESERVED') "
                    "AND expires_at < now() - interval '5 minutes'"))
    log(f"  {report}; {left} still due")
    return {"orders": count, "seconds": elapsed, "rate": count / elapsed, "left": left,
            "report": report}


def archive_phase(stack, count, template):
    log(f"archiving of {count} orders finished eight years ago (order-api archive-due)")
    copy_orders(template, count, TENANT, status="CANCELLED", finished_long_ago=True)
    start = time.time()
    report = stack.run("archive-due")
    elapsed = time.time() - start
    left = int(psql("SELECT count(*) FROM orders WHERE archived_at IS NULL AND status = 'CANCELLED' "
                    "AND updated_at < now() - interval '2557 days'"))
    log(f"  {report}; {left} still due")
    return {"orders": count, "seconds": elapsed, "rate": count / elapsed, "left": left,
            "report": report}


def pgbench_phase(seconds):
    log(f"pgbench: the same rows as separate statements, 8 clients, {seconds} s")
    psql("CREATE SCHEMA IF NOT EXISTS pgb")
    for table in ("orders", "order_items", "order_events", "outbox"):
        psql(f"CREATE TABLE IF NOT EXISTS pgb.{table} (LIKE public.{table} INCLUDING ALL)")
    write = run_pgbench(os.path.join(BENCH_DIR, "pgbench-order.sql"), seconds, [])
    ids = int(psql("SELECT count(*) FROM pgb.ids"))
    log(f"pgbench: point read of one order with its items, 8 clients, {seconds} s")
    read = run_pgbench(os.path.join(BENCH_DIR, "pgbench-read.sql"), seconds, ["-D", f"ids={ids}"])
    log(f"  {write:.0f} order transactions/s, {read:.0f} point reads/s")
    return {"write_tps": write, "read_tps": read}


def run_pgbench(script, seconds, extra):
    out = subprocess.run(
        [f"{PG_BIN}/pgbench", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-n",
         "-M", "prepared", "-c", "8", "-j", "2", "-T", str(seconds), "-f", script, *extra, "orders"],
        capture_output=True, text=True)
    if out.returncode != 0:
        die(f"pgbench failed: {out.stderr.strip()}")
    for line in out.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split()[2])
    die(f"pgbench gave no tps:\n{out.stdout}")


# --- report -----------------------------------------------------------------------------------

def report(results, smoke):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    # The report itself does not count as a change to what was measured.
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no",
                            "--", ".", ":!docs/benchmarks.md"],
                           capture_output=True, text=True).stdout.strip()
    pg = results["pgbench"]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Latest `just bench{' --smoke' if smoke else ''}`: {when}, commit `{commit}`"
        f"{' (with uncommitted changes)' if dirty else ''}, {os.cpu_count()} cores. "
        "Durable PostgreSQL 15 of its own (fsync and synchronous commit on), "
        f"{'debug (smoke run: the figures mean nothing)' if smoke else 'release'} `order-api` "
        "with its jobs running, the simulator for the upstream services, wrk with 2 threads; "
        "every request another buyer's token and a fresh `Idempotency-Key`. Ratios compare "
        "with pgbench on the same server in the same run. Figures drift by about ±20 % between "
        "runs on this machine kind: compare ratios, not absolute numbers across runs.",
        "",
        "## Ceilings (pgbench, same run)",
        "",
        "| what | rate |",
        "|---|---|",
        f"| one order + 2 items + audit + outbox, 5 statements in one transaction, 8 clients | {pg['write_tps']:.0f} tx/s |",
        f"| one order with its items by primary key, 8 clients | {pg['read_tps']:.0f} reads/s |",
        "",
        "## Ticket-order creation (`POST /api/v1/orders`)",
        "",
        "| clients | orders in the event | orders/s | vs pgbench | p50 | p99 | SQL statements / order (+ relay's) | planning / order | other answers | API RSS | outbox after the run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["creation"]:
        lines.append(
            f"| {row['clients']} | {row['in_event']} | {row['rate']:.0f} | "
            f"{100 * row['rate'] / pg['write_tps']:.0f} % | {row['p50_ms']:.1f} ms | "
            f"{row['p99_ms']:.1f} ms | {row['statements_per_order']:.2f} "
            f"(+ {row['background_per_order']:.2f}) | "
            f"{row['planning_ms_per_order']:.3f} ms | "
            f"{row['other_statuses'] or 'none'}{', socket errors ' + str(row['socket_errors']) if row['socket_errors'] else ''} | "
            f"{row['api_rss_mib']:.0f} MiB | {row['outbox_backlog']} unpublished, oldest "
            f"{row['outbox_lag_s']:.1f} s, drained in {row['outbox_drain_s']:.1f} s |")
    lines += ["", "CPU per created order, by process (ms):", "",
              "| clients | orders in the event | " + " | ".join(results["creation"][0]["cpu_ms_per_order"]) + " |",
              "|---|---|" + "---|" * len(results["creation"][0]["cpu_ms_per_order"])]
    for row in results["creation"]:
        lines.append(f"| {row['clients']} | {row['in_event']} | " +
                     " | ".join(f"{v:.2f}" for v in row["cpu_ms_per_order"].values()) + " |")
    first, last = results["creation"][0], results["creation"][-1]
    flat = [r for r in results["creation"] if r["clients"] == first["clients"]]
    if len(flat) == 2:
        lines += ["", f"Cost from {flat[0]['in_event']} to {flat[1]['in_event']} orders in the event "
                  f"at {first['clients']} clients: {flat[0]['rate'] / flat[1]['rate']:.2f}× "
                  "(orders/s before ÷ after; 1.0 is flat)."]
    g = results["get"]
    lines += [
        "",
        "## Reads",
        "",
        "| what | rate | vs pgbench | p50 | p99 | SQL statements / request |",
        "|---|---|---|---|---|---|",
        f"| `GET /api/v1/orders/{{id}}` as its buyer, 8 clients | {g['rate']:.0f}/s | "
        f"{100 * g['rate'] / pg['read_tps']:.0f} % | {g['p50_ms']:.2f} ms | {g['p99_ms']:.2f} ms | "
        f"{g['statements_per_read']:.2f} |",
        "",
        "CPU per read (ms): " + ", ".join(f"{k} {v:.3f}" for k, v in g["cpu_ms_per_read"].items()) + ".",
        "",
        "Admin list (`GET /api/v1/orders?limit=50`, 4 clients) as the tenant grows:",
        "",
        "| orders in the tenant | query | requests/s | p50 | p99 |",
        "|---|---|---|---|---|",
    ]
    for row in results["list"]:
        lines.append(f"| {row['size']} | {row['query']} | {row['rate']:.0f} | {row['p50_ms']:.2f} ms | "
                     f"{row['p99_ms']:.2f} ms |")
    by_query = {}
    for row in results["list"]:
        by_query.setdefault(row["query"], []).append(row["p50_ms"])
    for query, p50s in by_query.items():
        lines.append("")
        lines.append(f"{query}: p50 at the largest size ÷ at the smallest = {p50s[-1] / p50s[0]:.2f}×.")
    c = results["console"]
    lines += [
        "",
        "Operator console, order search (`GET /console` as an admin: a page of 50 orders "
        f"rendered to HTML on the server), 1 client, {c['size']} orders in the tenant: "
        f"p50 {c['p50_ms']:.2f} ms, p99 {c['p99_ms']:.2f} ms, {c['rate']:.0f} pages/s"
        f"{'; other answers ' + str(c['other_statuses']) if c['other_statuses'] else ''}.",
    ]
    e = results["expiry"]
    lines += [
        "",
        "## Expiry",
        "",
        f"{e['orders']} due orders expired by one `order-api expire-due` pass in {e['seconds']:.1f} s "
        f"({e['rate']:.0f}/s; {e['left']} left due). Its report: {e['report']}",
        "",
        "## Retention",
        "",
        f"{results['archive']['orders']} orders finished eight years ago archived (personal data "
        f"erased, `ORDER_ARCHIVED` audited) by one `order-api archive-due` run in "
        f"{results['archive']['seconds']:.1f} s ({results['archive']['rate']:.0f}/s; "
        f"{results['archive']['left']} left due). Its report: {results['archive']['report']}",
        "",
        "Reproduce: `just bench` (about 10 minutes after the release build); `just bench --smoke` "
        "checks the harness in about a minute. Raw figures: `.state/bench/results.json`.",
        "",
    ]
    lines += reading_guide(results)
    text = "\n".join(lines)
    if not smoke:
        # The proof suite's section (`just bench --faults`) stays until that suite runs again.
        write_benchmarks(text, proof_suite_section())
    print(text)


def reading_guide(results):
    """How to read the figures, and what the measured CPU per order means for scaling out."""
    first = results["creation"][0]
    cpu = first["cpu_ms_per_order"]
    total = sum(v for k, v in cpu.items() if k != "wrk")
    api, pg = cpu.get("order-api", 0.0), cpu.get("PostgreSQL", 0.0)
    broker = cpu.get("RabbitMQ", 0.0)
    cores = os.cpu_count() or 2
    return [
        "## How to read these figures",
        "",
        "- **vs pgbench** divides a rate by what PostgreSQL alone does for the same rows in the "
        "same run (the ceiling table): it is the figure to compare across runs and machines, since "
        "absolute rates move with whatever else the machine is doing. The service adds an HTTP round trip, token "
        "checks, an idempotency key in Redis, a call to the ticket service, the audit hash and the "
        "outbox relay's publishing on top of those rows.",
        "- **p50 / p99** are wrk's latencies from request to answer at the stated number of "
        "clients, each client sending its next request as soon as the last is answered (so more "
        "clients mean more queueing, not more buyers per second).",
        "- **SQL statements / order** counts every statement PostgreSQL ran during the phase "
        "(pg_stat_statements) over the orders created; the relay's statements are counted apart.",
        "- **CPU per created order** divides each process's CPU time over the phase by the orders "
        "created: it includes the work an order causes later (publishing, consumers, "
        "notifications) when that work happened inside the phase, which is why the outbox column "
        "says how much was still waiting at its end.",
        f"- On this {cores}-core machine every process shares the same cores: the sum of CPU per "
        f"order ({total:.2f} ms at {first['clients']} clients) bounds the rate at about "
        f"{1000 * cores / max(total, 0.001):.0f} orders/s whatever the software does; a figure "
        "near that bound is CPU-bound, one well below it waits on fsync or locks.",
        "",
        "## Scaling out",
        "",
        f"Per created order this run spent {api:.2f} ms of order-api CPU, {pg:.2f} ms of "
        f"PostgreSQL CPU and {broker:.2f} ms of RabbitMQ CPU. order-api keeps no state between "
        "requests (the lock, the idempotency keys and the rate limits are in Redis, the jobs lease "
        "their work in PostgreSQL), so replicas add API capacity linearly: one core of order-api "
        f"serves about {1000 / max(api, 0.001):.0f} orders/s. PostgreSQL is the part that does "
        f"not scale by adding replicas: at {pg:.2f} ms per order one core of it commits about "
        f"{1000 / max(pg, 0.001):.0f} orders/s, and every order is one durable commit, so the "
        "primary's cores and its fsync rate are the ceiling (pgbench's figure above is that "
        "ceiling for these rows). Reads can go to replicas (`GET` of one order is one statement). "
        "Past one primary, tenants are the unit of spreading: every row carries its tenant, every "
        "query and row-level-security policy is scoped by it, and no transaction spans two "
        "tenants, so tenants can be placed on several PostgreSQL clusters (a tenant-to-cluster map "
        "in front of the pools) or on a distributed PostgreSQL sharded by `tenant_id`. A single "
        "tenant larger than one primary would need its events spread across clusters too; the "
        "figures here say when to plan for it: divide the expected peak orders/s by the measured "
        "per-core rate of each part.",
        "",
    ]


PROOF_SUITE = "## Proof suite"


def benchmarks_path():
    return os.path.join(ROOT, "docs", "benchmarks.md")


def proof_suite_section():
    try:
        with open(benchmarks_path()) as f:
            current = f.read()
    except OSError:
        return ""
    at = current.find(PROOF_SUITE)
    return current[at:] if at >= 0 else ""


def throughput_section():
    try:
        with open(benchmarks_path()) as f:
            current = f.read()
    except OSError:
        return "# Benchmarks\n\n"
    at = current.find(PROOF_SUITE)
    return current[:at] if at >= 0 else current


def write_benchmarks(throughput, proof_suite):
    with open(benchmarks_path(), "w") as f:
        f.write(throughput.rstrip("\n") + "\n")
        if proof_suite:
            f.write("\n" + proof_suite.rstrip("\n") + "\n")
    log("wrote docs/benchmarks.md")


def fault_report(results, failures):
    """The proof suite's section of docs/benchmarks.md, beside the throughput figures."""
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        PROOF_SUITE,
        "",
        f"Latest `just bench --faults`: {when}, commit `{commit}`, {os.cpu_count()} cores, the same "
        "stack as above (release order-api with its jobs, durable PostgreSQL, the local Redis and "
        "RabbitMQ, the simulator). Each scenario breaks something under load, then checks its "
        "invariants; the run fails when one breaks. "
        + ("**Every invariant held.**" if not failures else
           "**Broken: " + "; ".join(failures) + ".**"),
        "",
    ]
    flash = results.get("flash-sale")
    if flash:
        lines += [
            f"- **Flash sale**: {flash['buyers']} buyers at once (one request each, every one "
            f"another buyer) for {FLASH_QUOTA} tickets, 2 per order: {flash['created']} orders "
            f"created, {flash['tickets_held_or_sold']} tickets held or sold upstream, "
            f"{flash['tickets_in_orders']} in the stored orders; answers {flash['answers']}; "
            f"p50 {flash['p50_ms']:.0f} ms, p99 {flash['p99_ms']:.0f} ms, "
            f"{flash['within_1s']} buyers answered within 1 s; all answered in "
            f"{flash['seconds']:.1f} s. (The buyers are one Python process on the same two "
            "cores, about 1 100 requests a second at most: a burst of 1 000 is answered within "
            "1 s, one of 5 000 waits on the generator as much as on the service.) The same "
            f"burst from wrk, {flash['wrk']['connections']} connections for 5 s, every request "
            f"another buyer: {flash['wrk']['requests']} requests, p50 "
            f"{flash['wrk']['p50_ms']:.0f} ms, p90 {flash['wrk']['p90_ms']:.0f} ms, p99 "
            f"{flash['wrk']['p99_ms']:.0f} ms, {flash['wrk']['socket_errors']} socket errors — "
            "with every connection always waiting, latency is connections ÷ throughput, so "
            "answering a burst this size within a second needs about "
            f"{flash['wrk']['connections'] * 5 / max(flash['wrk']['requests'], 1):.1f} times "
            "the rate at which this run answered a sold-out event.",
        ]
    kill = results.get("kill-api")
    if kill:
        lines += [
            f"- **kill -9 of order-api twice** under {8} buyers (restarted at once): "
            f"{kill['acknowledged']} orders acknowledged, every one stored, the outbox drained by "
            f"itself, acknowledged requests sent again answer their own orders; answers "
            f"{kill['answers']}; first order acknowledged "
            + " and ".join(f"{r:.2f} s" for r in kill["recovery_s"]) + " after each kill.",
        ]
    for name, what in (("postgres", "PostgreSQL stopped (immediate) and started"),
                       ("redis", "Redis stopped and started"),
                       ("rabbitmq", "RabbitMQ restarted")):
        row = results.get(name)
        if row:
            lines.append(
                f"- **{what}** under 8 buyers for 20 s (away {row['outage_s']:.1f} s): "
                f"{row['acknowledged']} orders acknowledged, every one stored, the outbox drained "
                f"by itself; answers {row['answers']}; orders acknowledged again "
                f"{row['recovery_s']:.2f} s after it was back.")
    expiry = results.get("double-expiry")
    if expiry:
        lines.append(
            f"- **Two expiry passes at once** over {expiry['due']} due orders: "
            f"{expiry['left']} left due, {expiry['expired_twice']} expired twice.")
    lines += ["", "Reproduce: `just bench --faults` (about 5 minutes after the release build); "
              "one scenario: `just bench --faults flash-sale`. Raw figures: "
              "`.state/bench/faults.json`.", ""]
    write_benchmarks(throughput_section(), "\n".join(lines))


def main():
    smoke = "--smoke" in sys.argv[1:]
    binaries = sys.argv[sys.argv.index("--bin") + 1] if "--bin" in sys.argv else os.path.join(ROOT, "target", "release")
    plan = SMOKE if smoke else FULL
    os.makedirs(WORK, exist_ok=True)
    start_postgres()
    stack = Stack(binaries)
    results = {}
    try:
        stack.start()
        psql("CREATE SCHEMA pgb")
        psql("CREATE TABLE pgb.copies (n bigint NOT NULL)")
        psql("SELECT pg_stat_statements_reset()")
        results["creation"] = []
        for clients in plan["clients"]:
            results["creation"].append(creation(stack, clients, plan["creation_s"], f"c{clients}-empty"))
        template = template_order()
        log(f"filling the event with {plan['event_fill']} orders")
        copy_orders(template, plan["event_fill"], TENANT, status="CONFIRMED")
        for clients in plan["clients"]:
            results["creation"].append(creation(stack, clients, plan["creation_s"], f"c{clients}-full"))
        results["get"] = get_phase(stack, plan["get_s"])
        results["list"] = list_phase(stack, plan["list_sizes"], plan["list_s"], template)
        results["console"] = console_phase(plan["list_s"], plan["list_sizes"][-1])
        results["expiry"] = expiry_phase(stack, plan["expiry"], template)
        results["archive"] = archive_phase(stack, plan["archive"], template)
        psql("CREATE TABLE pgb.ids AS SELECT row_number() OVER () AS n, id FROM orders LIMIT 100000")
        psql("ALTER TABLE pgb.ids ADD PRIMARY KEY (n)")
        results["pgbench"] = pgbench_phase(plan["pgbench_s"])
    finally:
        stack.stop()
        stop_postgres()
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    report(results, smoke)
    log("done")


if __name__ == "__main__":
    main()
