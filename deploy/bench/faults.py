#!/usr/bin/env python3
"""`just bench --faults`: the proof suite. Each scenario runs real load against the release
order-api, its durable PostgreSQL, the local Redis and RabbitMQ and the simulator (the stack of
deploy/bench/bench.py), breaks something on purpose, then prints its ledger and checks its
invariants; a broken invariant fails the run (exit 1) after every scenario has reported.

Scenarios:
  flash-sale     5 000 buyers at once (each request another buyer) for 100 tickets
  kill-api       kill -9 of order-api twice under load, restarted each time
  postgres       PostgreSQL restarted under load
  redis          Redis stopped and started under load
  rabbitmq       RabbitMQ restarted under load
  double-expiry  two expiry passes at once over the same due orders

Load is loopback only and bounded in count and time. Standard library only.
"""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import (API_PORT, EVENT, ORDER_BODY, PRICING, ROOT, SIM_PORT, TENANT,  # noqa: E402
                   TICKET_TYPE, WORK, log, psql)

FLASH_BODY = json.dumps({
    "eventId": bench.FLASH_EVENT,
    "items": [{"ticketTypeId": bench.FLASH_TICKET_TYPE, "ticketPricingId": bench.FLASH_PRICING,
               "quantity": 2}],
}).encode()
LOAD_WORKERS = 8
SERVICES = os.path.join(ROOT, "deploy", "local", "services.sh")

failures = []


def check(ok, what):
    """Records an invariant: printed either way, remembered when it breaks."""
    print(f"    {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)


# --- a small HTTP client: one connection per request, so 5 000 buyers are 5 000 sockets ---------

async def request(method, path, body=b"", headers=None, timeout=10.0):
    """(status or None when no answer came, body, seconds)."""
    start = time.monotonic()
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"Content-Length: {len(body)}"]
    if body:
        head.append("Content-Type: application/json")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", API_PORT), timeout)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
        status = int(answer.split(b" ", 2)[1])
        return status, answer.split(b"\r\n\r\n", 1)[-1], time.monotonic() - start
    except (OSError, asyncio.TimeoutError, IndexError, ValueError):
        return None, b"", time.monotonic() - start
    finally:
        if writer is not None:
            writer.close()


def buyer_headers():
    return {"Authorization": f"Bearer {bench.token(TENANT, str(uuid.uuid4()))}",
            "Idempotency-Key": str(uuid.uuid4())}


def order_id(body):
    try:
        return json.loads(body)["id"]
    except (ValueError, KeyError, TypeError):
        return None


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Load:
    """LOAD_WORKERS buyers creating ticket orders back to back until stopped; every answer kept."""

    def __init__(self):
        self.answers = []  # (status, order id, headers, seconds since start)
        self.stopped = False
        self.started = time.monotonic()

    async def worker(self):
        while not self.stopped:
            headers = buyer_headers()
            status, body, _ = await request("POST", "/api/v1/orders", ORDER_BODY.encode(), headers,
                                            timeout=5.0)
            self.answers.append((status, order_id(body) if status == 201 else None, headers,
                                 time.monotonic() - self.started))
            if status is None or status >= 500:
                await asyncio.sleep(0.05)

    async def run(self, seconds, during=None):
        """Loads for `seconds` (no longer, whatever `during` does meanwhile), then waits for
        `during` to finish."""
        workers = [asyncio.create_task(self.worker()) for _ in range(LOAD_WORKERS)]
        fault = asyncio.create_task(during(self)) if during else None
        await asyncio.sleep(seconds)
        self.stopped = True
        await asyncio.gather(*workers)
        if fault:
            await fault

    def acknowledged(self):
        return [a for a in self.answers if a[0] == 201]

    def by_status(self):
        counts = {}
        for status, *_ in self.answers:
            key = str(status) if status else "no answer"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def first_success_after(self, at):
        later = [a[3] for a in self.answers if a[0] == 201 and a[3] > at]
        return min(later) - at if later else float("nan")


def stored(ids, chunk=500):
    """How many of `ids` are in the orders table (asked in chunks: a command line is bounded)."""
    found = 0
    for at in range(0, len(ids), chunk):
        listed = ",".join(f"'{i}'" for i in ids[at:at + chunk])
        found += int(psql(f"SELECT count(*) FROM orders WHERE id IN ({listed})"))
    return found


async def replays_answer_the_same_orders(acknowledged, sample=200):
    """Each acknowledged request sent again with its key answers its own order, not a new one."""
    same = 0
    picked = acknowledged[:: max(1, len(acknowledged) // sample)][:sample]
    for _, oid, headers, _ in picked:
        status, body, _ = await request("POST", "/api/v1/orders", ORDER_BODY.encode(), headers)
        same += status in (200, 201) and order_id(body) == oid
    return same, len(picked)


async def ledger_of_load(load, name, unavailable_ok=True):
    """The invariants every load scenario shares; returns the acknowledged orders."""
    acked = load.acknowledged()
    counts = load.by_status()
    print(f"  {name}: {len(load.answers)} requests, answers {counts}", flush=True)
    ids = [a[1] for a in acked]
    check(stored(ids) == len(ids), f"{name}: every one of the {len(ids)} acknowledged orders is stored")
    bad = {k: v for k, v in counts.items() if k.startswith("5") and not (unavailable_ok and k == "503")}
    check(not bad, f"{name}: no 5xx but 503 while a server is down ({bad or 'none'})")
    drain = bench.outbox_drain_seconds(limit=180)
    check(drain == drain, f"{name}: the outbox drains by itself (in {drain:.1f} s)")
    same, asked = await replays_answer_the_same_orders(acked)
    check(same == asked, f"{name}: {same} of {asked} acknowledged requests sent again answer their own order")
    return acked


# --- scenarios ------------------------------------------------------------------------------------

async def flash_sale(stack, buyers=int(os.environ.get("FLASH_BUYERS", "5000")), window_s=60):
    log(f"flash sale: {buyers} buyers at once for {bench.FLASH_QUOTA} tickets (2 per order)")
    headers = [buyer_headers() for _ in range(buyers)]
    started = time.monotonic()
    results = await asyncio.wait_for(asyncio.gather(*[
        request("POST", "/api/v1/orders", FLASH_BODY, h, timeout=window_s - 5) for h in headers
    ]), window_s)
    wall = time.monotonic() - started
    counts = {}
    for status, _, _ in results:
        key = str(status) if status else "no answer"
        counts[key] = counts.get(key, 0) + 1
    answered = [s for status, _, s in results if status is not None]
    created = [order_id(body) for status, body, _ in results if status == 201]
    # The same burst from wrk (C, its own connections kept open): 5 000 connections for 5 s,
    # every request another buyer — the service's latency without this process in the way.
    tokens = os.path.join(WORK, "flash-tokens.txt")
    with open(tokens, "w") as f:
        for _ in range(30_000):
            f.write(bench.token(TENANT, str(uuid.uuid4())) + "\n")
    burst, _ = await asyncio.to_thread(bench.wrk, "create.lua", buyers, 5,
                                       [tokens, "flash", "2", FLASH_BODY.decode()])
    created += [None] * burst["statuses"].get("201", 0)
    for status, n in burst["statuses"].items():
        counts[f"wrk {status}"] = n
    held = json.loads(urlopen_text(f"http://127.0.0.1:{SIM_PORT}/_admin/state"))["availability"]
    flash = next(a for a in held if a["ticketTypeId"] == bench.FLASH_TICKET_TYPE)
    in_orders = int(psql(
        "SELECT coalesce(sum(i.quantity), 0) FROM orders o JOIN order_items i ON i.order_id = o.id "
        f"WHERE o.event_id = '{bench.FLASH_EVENT}' AND o.status IN ('PENDING', 'RESERVED', 'CONFIRMED')"))
    print(f"  {buyers} buyers in {wall:.1f} s: answers {counts}; p50 "
          f"{1000 * percentile(answered, 0.5):.0f} ms, p99 {1000 * percentile(answered, 0.99):.0f} ms; "
          f"{sum(1 for s in answered if s <= 1.0)} answered within 1 s", flush=True)
    print(f"  wrk, {buyers} connections for 5 s: {burst['requests']} requests, p50 "
          f"{burst['p50_us'] / 1000:.0f} ms, p90 {burst['p90_us'] / 1000:.0f} ms, p99 "
          f"{burst['p99_us'] / 1000:.0f} ms, socket errors {burst['socket_errors']}", flush=True)
    print(f"  upstream: {flash['held']} held + {flash['sold']} sold of {flash['quota']}; "
          f"orders hold {in_orders} tickets", flush=True)
    check(flash["held"] + flash["sold"] <= bench.FLASH_QUOTA, "never more than 100 tickets held or sold")
    check(in_orders <= bench.FLASH_QUOTA, "the stored orders hold at most 100 tickets")
    check(in_orders == 2 * len(created), f"every one of the {len(created)} acknowledged orders holds its 2 tickets")
    check(not any(k.split()[-1].startswith("5") for k in counts), f"no 5xx ({counts})")
    return {"buyers": buyers, "seconds": wall, "answers": counts,
            "p50_ms": 1000 * percentile(answered, 0.5), "p99_ms": 1000 * percentile(answered, 0.99),
            "within_1s": sum(1 for s in answered if s <= 1.0), "created": len(created),
            "tickets_held_or_sold": flash["held"] + flash["sold"], "tickets_in_orders": in_orders,
            "wrk": {"connections": buyers, "requests": burst["requests"],
                    "p50_ms": burst["p50_us"] / 1000, "p90_ms": burst["p90_us"] / 1000,
                    "p99_ms": burst["p99_us"] / 1000, "socket_errors": burst["socket_errors"]}}


def urlopen_text(url):
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


async def wait_ready(seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _, _ = await request("GET", "/health/readiness", timeout=2.0)
        if status == 200:
            return True
        await asyncio.sleep(0.2)
    return False


async def kill_api(stack):
    log("kill -9 of order-api twice under load (restarted at once each time)")
    kills = []

    async def during(load):
        for n, at in enumerate((4.0, 10.0), start=1):
            await asyncio.sleep(at - (time.monotonic() - load.started))
            stack.api.send_signal(signal.SIGKILL)
            await asyncio.to_thread(stack.api.wait)
            kills.append(time.monotonic() - load.started)
            stack.api = stack.spawn("order-api", f"api-after-kill-{n}.log")
            check(await wait_ready(), f"kill {n}: order-api answers again")

    load = Load()
    await load.run(18.0, during)
    acked = await ledger_of_load(load, "kill-api", unavailable_ok=False)
    recovered = [load.first_success_after(k) for k in kills]
    print(f"  first order acknowledged after each kill: "
          + ", ".join(f"{r:.2f} s" for r in recovered), flush=True)
    return {"acknowledged": len(acked), "answers": load.by_status(), "recovery_s": recovered}


async def restart_during_load(name, stop, start, down_s=2.0):
    log(f"{name} restarted under load")
    marks = {}

    async def during(load):
        await asyncio.sleep(5.0)
        marks["down"] = time.monotonic() - load.started
        await asyncio.to_thread(stop)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(start)
        marks["up"] = time.monotonic() - load.started

    load = Load()
    await load.run(20.0, during)
    outage = marks["up"] - marks["down"]
    recovery = load.first_success_after(marks["up"])
    if recovery != recovery:
        # Back after the load ended: a short load of its own says whether orders go through.
        after = Load()
        await after.run(3.0)
        recovery = after.first_success_after(0.0)
        load.answers += after.answers
    acked = await ledger_of_load(load, name)
    print(f"  {name} was away {outage:.1f} s", flush=True)
    check(recovery == recovery, f"{name}: orders are acknowledged again after the restart "
                                f"(first {recovery:.2f} s after it)")
    return {"acknowledged": len(acked), "answers": load.by_status(), "recovery_s": recovery,
            "outage_s": outage}


def postgres_stop():
    data = os.path.join(WORK, "postgres", "data")
    subprocess.run(["runuser", "-u", "postgres", "--", f"{bench.PG_BIN}/pg_ctl", "-D", data,
                    "-m", "immediate", "-w", "stop"], capture_output=True)


def postgres_start():
    data = os.path.join(WORK, "postgres", "data")
    subprocess.run(["runuser", "-u", "postgres", "--", f"{bench.PG_BIN}/pg_ctl", "-D", data,
                    "-l", os.path.join(WORK, "postgres", "postgres.log"), "-w", "-t", "60", "start"],
                   capture_output=True, check=True)


def services(command):
    subprocess.run([SERVICES, command], capture_output=True, check=True)


async def double_expiry(stack, count=2_000):
    log(f"two expiry passes at once over {count} due orders")
    template = bench.template_order()
    bench.copy_orders(template, count, TENANT, status="RESERVED", due=True)
    due = int(psql(f"SELECT count(*) FROM orders WHERE hold_id LIKE 'hold_bench_%' "
                   "AND status = 'RESERVED'"))
    binary = os.path.join(stack.binaries, "order-api")
    passes = [subprocess.Popen([binary, "expire-due"], env=stack.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    reports = [p.communicate(timeout=300)[0].strip() for p in passes]
    expired_twice = int(psql(
        "SELECT count(*) FROM (SELECT order_id FROM order_events WHERE event_type = 'order.expired' "
        "GROUP BY order_id HAVING count(*) > 1) twice"))
    left = int(psql("SELECT count(*) FROM orders WHERE hold_id LIKE 'hold_bench_%' "
                    "AND status = 'RESERVED'"))
    print(f"  {due} due; the passes said: {reports}", flush=True)
    check(all(p.returncode == 0 for p in passes), "both passes ended cleanly")
    check(left == 0, f"every due order expired ({left} left)")
    check(expired_twice == 0, f"no order expired twice ({expired_twice})")
    return {"due": due, "left": left, "expired_twice": expired_twice}


SCENARIOS = {
    "flash-sale": flash_sale,
    "kill-api": kill_api,
    "postgres": lambda stack: restart_during_load("postgres", postgres_stop, postgres_start),
    "redis": lambda stack: restart_during_load(
        "redis", lambda: services("stop-redis"), lambda: services("start-redis")),
    "rabbitmq": lambda stack: restart_during_load(
        "rabbitmq", lambda: services("restart-rabbitmq"), lambda: None, down_s=0.0),
    "double-expiry": double_expiry,
}


def main():
    binaries = sys.argv[sys.argv.index("--bin") + 1] if "--bin" in sys.argv else os.path.join(ROOT, "target", "release")
    chosen = [a for a in sys.argv[1:] if a in SCENARIOS] or list(SCENARIOS)
    os.makedirs(WORK, exist_ok=True)
    bench.start_postgres()
    stack = bench.Stack(binaries)
    results = {}
    try:
        stack.start()
        psql("CREATE SCHEMA pgb")
        psql("CREATE TABLE pgb.copies (n bigint NOT NULL)")
        # A few ordinary orders first: the double expiry copies one.
        asyncio.run(Load().run(2.0))
        for name in chosen:
            results[name] = asyncio.run(SCENARIOS[name](stack))
    finally:
        stack.stop()
        bench.stop_postgres()
    with open(os.path.join(WORK, "faults.json"), "w") as f:
        json.dump({"results": results, "failures": failures}, f, indent=2)
    bench.fault_report(results, failures)
    if failures:
        print("\nbroken invariants:\n  " + "\n  ".join(failures), file=sys.stderr, flush=True)
        sys.exit(1)
    log("every invariant held")


if __name__ == "__main__":
    main()
