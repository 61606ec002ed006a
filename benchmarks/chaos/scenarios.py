"""The scenarios: load and a fault each. Healing and the checks are the same for all
(``run.py``)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from benchmarks.chaos.checks import Checker
from benchmarks.chaos.citizen import Client, FlowError, Paid, Recorder, Service, notify, pay
from benchmarks.chaos.stack import Stack


@dataclass
class Sizes:
    kill_payments: int
    redis_payments: int  # before, during and after the outage each
    redis_outage: float
    pg_clients: int
    pg_seconds: float
    pg_restart_at: float
    dropped_payments: int
    storm_payments: int
    storm_replays: int
    storm_threads: int


SHORT = Sizes(
    kill_payments=6,
    redis_payments=4,
    redis_outage=3,
    pg_clients=20,
    pg_seconds=5,
    pg_restart_at=2,
    dropped_payments=8,
    storm_payments=20,
    storm_replays=5,
    storm_threads=8,
)
FULL = Sizes(
    kill_payments=60,
    redis_payments=10,
    redis_outage=15,
    pg_clients=20,
    pg_seconds=30,
    pg_restart_at=10,
    dropped_payments=40,
    storm_payments=2000,
    storm_replays=5,
    storm_threads=16,
)


class Obligations:
    """A payer list imported into one service: each obligation is paid by one citizen."""

    def __init__(self, service: Service, customer_ids: list[str]) -> None:
        self.service = service
        self._ids = iter(customer_ids)
        self._lock = threading.Lock()

    def next(self) -> str | None:
        with self._lock:
            return next(self._ids, None)


@dataclass
class Context:
    stack: Stack
    recorder: Recorder
    checker: Checker
    services: list[Service]
    sizes: Sizes
    notes: list[str]
    obligations: Obligations | None = None

    def client(self) -> Client:
        assert self.stack.relay is not None
        return Client(self.stack.web, self.recorder, self.stack.relay.port)

    def service(self, i: int) -> Service:
        return self.services[i % len(self.services)]

    def pay(self, client: Client, i: int, **kwargs) -> Paid:  # type: ignore[no-untyped-def]
        """Payment number i: every third one pays an obligation looked up by customer ID."""
        customer_id = self.obligations.next() if self.obligations is not None and i % 3 == 0 else None
        if customer_id is not None:
            assert self.obligations is not None
            return pay(client, self.obligations.service, customer_id=customer_id, **kwargs)
        return pay(client, self.service(i), **kwargs)


def pay_many(ctx: Context, n: int, *, threads: int = 4, visit_return: bool = True, fast: bool = False) -> list[Paid]:
    """n citizens pay (each its own browser; with ``fast`` one browser per thread paying
    again and again), ``threads`` at a time; failed flows are dropped."""
    local = threading.local()

    def one(i: int) -> Paid | None:
        if not fast or not hasattr(local, "client"):
            local.client = ctx.client()
        try:
            return ctx.pay(local.client, i, visit_return=visit_return, fast=fast)
        except FlowError as exc:
            ctx.notes.append(f"citizen gave up: {exc}")
            return None

    with ThreadPoolExecutor(threads) as pool:
        return [p for p in pool.map(one, range(n)) if p is not None]


def worker_kill(ctx: Context) -> None:
    """kill -9 of the worker (and its work horse) while it processes notifications, then
    a new worker."""
    stack = ctx.stack
    stack.stop_worker()  # a backlog first, so the worker is surely mid-job when killed
    paid = pay_many(ctx, ctx.sizes.kill_payments, visit_return=False)
    ctx.notes.append(f"{len(paid)} paid at the gateway, return page not visited")
    time.sleep(1.5)  # the gateway's notifications arrive
    stack.start_worker()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (stack.worker_busy() and ctx.checker.queue_state()["busy"]):
        time.sleep(0.05)
    time.sleep(random.uniform(0, 0.1))
    busy = stack.worker_busy() and ctx.checker.queue_state()["busy"] > 0
    stack.kill_worker()
    ctx.notes.append(f"worker killed with -9 {'mid-job' if busy else 'while idle (no job seen)'}")
    time.sleep(0.5)
    stack.start_worker()


def redis_outage(ctx: Context) -> None:
    """Redis stopped and started again while citizens pay (it keeps nothing on disk)."""
    n = ctx.sizes.redis_payments
    pay_many(ctx, n)
    ctx.stack.stop_redis()
    down = time.monotonic()
    during = pay_many(ctx, n)
    ctx.notes.append(f"Redis down: {len(during)} of {n} citizens paid")
    time.sleep(max(0.0, ctx.sizes.redis_outage - (time.monotonic() - down)))
    ctx.stack.start_redis()
    pay_many(ctx, n)


def postgres_restart(ctx: Context) -> None:
    """pg_ctl restart -m fast under 20 paying clients."""
    stop = threading.Event()
    counts = {"paid": 0, "gave_up": 0}

    def citizen(i: int) -> None:
        client = ctx.client()
        rng = random.Random(i)
        n = 0
        while not stop.is_set():
            n += 1
            try:
                outcome = "pay" if rng.random() < 0.9 else "decline"
                ctx.pay(client, i + n * len(threads), outcome=outcome, visit_return=rng.random() < 0.7)
                counts["paid"] += 1
            except FlowError:
                counts["gave_up"] += 1
                time.sleep(0.2)

    threads = [threading.Thread(target=citizen, args=(i,), daemon=True) for i in range(ctx.sizes.pg_clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(ctx.sizes.pg_restart_at)
    began = time.time()
    ctx.stack.restart_postgres()
    ready = time.time()
    # Requests in flight when the server went down, or asked before it was back (+1 s).
    ctx.recorder.windows.append((began, ready + 1.0))
    ctx.notes.append(f"PostgreSQL down {ready - began:.1f} s")
    time.sleep(max(0.0, ctx.sizes.pg_seconds - (time.monotonic() - start)))
    stop.set()
    for t in threads:
        t.join(timeout=60)
    ctx.notes.append(f"{ctx.sizes.pg_clients} clients: {counts['paid']} flows completed, {counts['gave_up']} gave up")


def dropped_notifications(ctx: Context) -> None:
    """The gateway's notifications never arrive and the payers close the tab: only the
    stuck-payment poll can find out."""
    relay = ctx.stack.relay
    assert relay is not None
    relay.drop = True
    before = relay.dropped
    paid = pay_many(ctx, ctx.sizes.dropped_payments, visit_return=False)
    time.sleep(1.0)
    relay.drop = False
    ctx.notes.append(f"{len(paid)} paid at the gateway, {relay.dropped - before} notifications dropped")


def notification_storm(ctx: Context) -> None:
    """N payments paid at the gateway, then each one's notification sent R times, shuffled."""
    s = ctx.sizes
    relay = ctx.stack.relay
    assert relay is not None
    relay.drop = True  # this scenario's notifications are the suite's own
    paid = pay_many(ctx, s.storm_payments, threads=8, visit_return=False, fast=True)
    time.sleep(1.0)
    relay.drop = False
    sends = [(p.reference, f"evt_storm_{p.reference}") for p in paid for _ in range(s.storm_replays)]
    random.shuffle(sends)
    local = threading.local()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(item: tuple[str, str]) -> None:
        if not hasattr(local, "client"):
            local.client = ctx.client()
        code = notify(local.client, ctx.stack.secret, *item)
        with lock:
            statuses[code] = statuses.get(code, 0) + 1

    began = time.monotonic()
    with ThreadPoolExecutor(s.storm_threads) as pool:
        list(pool.map(send, sends))
    took = time.monotonic() - began
    ctx.notes.append(
        f"{len(sends)} notifications for {len(paid)} payments in {took:.1f} s ({len(sends) / took:.0f}/s); answers "
        + ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))
    )


SCENARIOS: dict[str, Callable[[Context], None]] = {
    "worker-kill": worker_kill,
    "redis-outage": redis_outage,
    "postgres-restart": postgres_restart,
    "dropped-notifications": dropped_notifications,
    "notification-storm": notification_storm,
}
