"""Benchmark of gateway notifications: intake on gunicorn, processing on one RQ worker.

Starts the chaos suite's stack (its own PostgreSQL cluster and Redis on free loopback
ports, the demo data, gunicorn with 2 workers, ``wsgi:app``), lets citizens pay N payments
at the demo gateway over HTTP (the gateway's own notifications dropped), then:

- intake: wrk (``-t2 -c32``, a Lua script cycling through pre-signed, distinct demo
  notifications, E per payment) posts to ``/webhooks/demo`` for D seconds; each answer in
  2xx means verified, recorded and scheduled. Printed: 2xx notifications/s, other answers.
- processing: one forking worker, started with the README's command, drains the queue the
  intake filled; printed: jobs/s after its first job, over at most W seconds.

    .venv/bin/python benchmarks/bench_notifications.py [--payments 400] [--events 25]
        [--duration 10] [--window 30]

Targets (issue 10): intake ≥ 500 notifications/s, processing ≥ 50 jobs/s.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.chaos.checks import QUEUE, Checker  # noqa: E402
from benchmarks.chaos.citizen import Client, FlowError, Recorder, notification, pay  # noqa: E402
from benchmarks.chaos.run import demo_services  # noqa: E402
from benchmarks.chaos.stack import Stack  # noqa: E402

LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local nthreads = tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local body, sig = line:match("^(.-)\t(.*)$")
      table.insert(reqs, wrk.format("POST", "/webhooks/demo",
        {["Content-Type"] = "application/json", ["X-Demo-Signature"] = sig}, body))
    end
    i = i + 1
  end
  idx, ok, other, wrapped = 0, 0, 0, 0
end
function request()
  idx = idx + 1
  if idx > #reqs then idx = 1; wrapped = wrapped + 1 end
  return reqs[idx]
end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, x, w = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other"); w = w + t:get("wrapped") end
  io.write(string.format("LUA ok=%d other=%d wrapped=%d\n", o, x, w))
end
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def make_payments(stack: Stack, recorder: Recorder, n: int) -> list[str]:
    """n payments paid at the demo gateway (its notifications dropped): their references."""
    services = demo_services(stack)
    assert stack.relay is not None
    stack.relay.drop = True

    local = threading.local()

    def one(i: int) -> str | None:
        if not hasattr(local, "client"):
            local.client = Client(stack.web, recorder, stack.relay.port)
        try:
            return pay(local.client, services[i % len(services)], visit_return=False, fast=True).reference
        except FlowError:
            return None

    with ThreadPoolExecutor(8) as pool:
        refs = [r for r in pool.map(one, range(n)) if r]
    time.sleep(1)
    return refs


def intake(
    stack: Stack, refs: list[str], events: int, duration: int, threads: int, connections: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "notifications.tsv"
        with data.open("w") as f:
            for k in range(events):
                for ref in refs:
                    body, headers = notification(stack.secret, ref, f"evt_bench_{k}_{ref}")
                    f.write(f"{body.decode()}\t{headers['X-Demo-Signature']}\n")
        script = Path(tmp) / "notify.lua"
        script.write_text(LUA)
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "-s",
                str(script),
                stack.web,
                "--",
                str(data),
                str(threads),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    m = re.search(r"LUA ok=(\d+) other=(\d+) wrapped=(\d+)", out)
    took = re.search(r"requests in ([\d.]+)(m?s)", out)
    if not m or not took:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    seconds = float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)
    ok, other, wrapped = (int(x) for x in m.groups())
    return {"ok": ok, "other": other, "wrapped": wrapped, "seconds": seconds, "rate": ok / seconds}


def processing(stack: Stack, checker: Checker, window: float) -> dict[str, float]:
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    conn = Redis.from_url(stack.redis_url)
    q = Queue(QUEUE, connection=conn)
    finished = FinishedJobRegistry(queue=q)
    failed = FailedJobRegistry(queue=q)

    def done() -> int:
        return finished.count + failed.count

    queued = q.count
    began = time.monotonic()
    stack.start_worker()
    while done() == 0 and time.monotonic() - began < 120:
        time.sleep(0.05)
    first = time.monotonic() - began
    d0, t0 = done(), time.monotonic()
    while time.monotonic() - t0 < window and (q.count or checker.queue_state()["busy"]):
        time.sleep(0.2)
    d1, t1 = done(), time.monotonic()
    stack.stop_worker()
    result = {
        "queued": queued,
        "first_job_s": first,
        "jobs": d1 - d0,
        "seconds": t1 - t0,
        "rate": (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0,
        "failed": failed.count,
        "left": q.count,
    }
    conn.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=400)
    parser.add_argument("--events", type=int, default=25, help="distinct notifications per payment")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk")
    parser.add_argument("--window", type=float, default=30, help="at most this many seconds of processing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    print(f"load average before: {load()}", flush=True)
    recorder = Recorder()
    with Stack(recorder, worker=False) as stack:
        checker = Checker(stack.database_url, stack.redis_url)
        t = time.monotonic()
        refs = make_payments(stack, recorder, args.payments)
        print(f"{len(refs)} payments paid at the gateway in {time.monotonic() - t:.0f} s", flush=True)
        r = intake(stack, refs, args.events, args.duration, args.threads, args.connections)
        recorded = checker.sql("SELECT count(*) FROM gateway_notification")[0][0]
        print(
            f"intake:     {r['rate']:7.0f} notifications/s answered 2xx (target ≥ 500); "
            f"{r['ok']} 2xx and {r['other']} other in {r['seconds']:.1f} s, {recorded} recorded"
            + (f"; pool of distinct notifications exhausted {r['wrapped']}×" if r["wrapped"] else ""),
            flush=True,
        )
        print(
            f"            client: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, Lua script, "
            f"distinct pre-signed notifications; gunicorn -w 2 (sync) wsgi:app; load average {load()}",
            flush=True,
        )
        p = processing(stack, checker, args.window)
        print(
            f"processing: {p['rate']:7.1f} jobs/s on one worker (target ≥ 50); {p['jobs']} jobs in "
            f"{p['seconds']:.1f} s after its first job ({p['first_job_s']:.1f} s from start); "
            f"queue {p['queued']} → {p['left']}, failed {p['failed']}",
            flush=True,
        )
        print(f"            worker: `{stack.worker_cmd}`; load average {load()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
