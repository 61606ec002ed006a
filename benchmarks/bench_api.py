"""Benchmark: the public API on gunicorn (2 workers) against a fresh PostgreSQL database.

1. Bulk upsert of 100,000 obligations through ``POST /api/v1/obligations/bulk`` (ten calls
   of 10,000 rows, sequential, over HTTP). Target: < 20 s in total.
2. ``GET /api/v1/payments/<id>`` for random payments of 10,000 (one keep-alive client,
   every call authenticated, audited and rate-limit counted). Target: p99 < 20 ms.

Beside the wall times it prints the CPU the server side spent per request (gunicorn
workers + their PostgreSQL backends, from /proc) and the machine's load average
(``os.getloadavg``): the wall times depend on what else the machine runs, the CPU much less.

    /work/main/.venv/bin/python benchmarks/bench_api.py [--obligations 100000] [--reads 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.bench_pages import children, cpu_seconds, db_backends  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cpu:
    """CPU seconds of the gunicorn workers, their PostgreSQL backends and this client."""

    def __init__(self, master: int, db_name: str) -> None:
        self.master, self.db_name = master, db_name
        self.start = self.read()

    def read(self) -> tuple[float, float, float]:
        return (cpu_seconds(children(self.master)), cpu_seconds(db_backends(self.db_name)), time.process_time())

    def per_call(self, calls: int) -> str:
        # Backends that came and went between the readings are missed; the pool keeps
        # its connections, so they are few.
        end = self.read()
        app, db, client = ((e - s) * 1000 / max(calls, 1) for e, s in zip(end, self.start, strict=True))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        return f"CPU ms per call: server {app + db:.2f} (app {app:.2f}, PostgreSQL {db:.2f}), client {client:.2f}; load {load}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--obligations", type=int, default=100_000)
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument(
        "--redis",
        default="",
        help="REDIS_URL for the server (rate limits in Redis, as in production); default: none (in memory)",
    )
    args = ap.parse_args()

    server = make_url(SERVER)
    name = f"bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    proc = None
    try:
        import app.models  # noqa: F401
        from app import create_app
        from app.db import Base, db_session

        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        flask_app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SECRET_KEY": "bench"})
        with flask_app.app_context():
            from app.api.keys import create_api_key
            from app.models import Municipality, Service
            from app.regions import get_or_create_region

            m = Municipality(
                region_id=get_or_create_region(db_session()).id,
                name="Obec",
                slug="obec",
                ico="00262978",
                onboarding_state="active",
            )
            db_session.add(m)
            db_session.flush()
            s = Service(municipality_id=m.id, slug="odpad", name="Odpad", amount_mode="payer", lookup_mode="optional")
            db_session.add(s)
            db_session.flush()
            _, secret = create_api_key(m.id, "bench", ["read", "write"])
            db_session.commit()
            service_id, municipality_id = s.id, m.id
            db_session.remove()
        with create_engine(url).begin() as conn:
            conn.execute(
                text("""
                INSERT INTO payment (external_id, municipality_id, service_id, amount, amount_refunded, currency,
                                     payer_name, payer_email, state, gateway_name, amount_overpaid, created_at,
                                     updated_at, paid_at)
                SELECT substr(md5(i::text) || md5((i + 7)::text), 1, 26), :m, :s, 10000 + i, 0, 'CZK',
                       'Plátce ' || i, 'p' || i || '@example.cz', 'paid', 'demo', 0, now(), now(), now()
                FROM generate_series(1, 10000) AS i"""),
                {"m": municipality_id, "s": service_id},
            )
            ids = [r[0] for r in conn.execute(text("SELECT external_id FROM payment"))]

        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "API_RATE_LIMIT": "1000000/minute",
            "BASE_URL": f"http://127.0.0.1:{port}",
        }
        env.pop("REDIS_URL", None)
        if args.redis:
            env["REDIS_URL"] = args.redis
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}/api/v1"
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {secret}"
        for _ in range(100):
            try:
                if session.get(base + "/services", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)

        print(f"rate limits in {'Redis' if args.redis else 'memory'}")
        print(f"{os.cpu_count()} CPUs; load average before: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
        batch = 10_000
        cpu = Cpu(proc.pid, name)
        started = time.perf_counter()
        inserted = 0
        for offset in range(0, args.obligations, batch):
            rows = [
                {
                    "customer_id": f"Z{i:07d}",
                    "payer_name": f"Plátce {i}",
                    "amount": 50000 + i % 1000,
                    "variable_symbol": f"{i + 1:010d}",
                    "due_date": "2027-03-31",
                }
                for i in range(offset, min(offset + batch, args.obligations))
            ]
            r = session.post(base + "/obligations/bulk", json={"service_id": service_id, "rows": rows}, timeout=120)
            r.raise_for_status()
            inserted += r.json()["inserted"]
        bulk_seconds = time.perf_counter() - started
        print(
            f"bulk upsert: {inserted} obligations in {bulk_seconds:.2f} s "
            f"({args.obligations / bulk_seconds:,.0f} rows/s; target < 20 s)"
        )
        print("  " + cpu.per_call(args.obligations // batch) + " (a call = 10,000 rows)")

        for i in range(50):  # warm both workers
            session.get(f"{base}/payments/{ids[i]}")
        times = []
        cpu = Cpu(proc.pid, name)
        for _ in range(args.reads):
            t0 = time.perf_counter()
            r = session.get(f"{base}/payments/{random.choice(ids)}")
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        print(
            f"read one payment: {args.reads} calls, p50 {statistics.median(times):.2f} ms, "
            f"p99 {p99:.2f} ms (target p99 < 20 ms)"
        )
        print("  " + cpu.per_call(args.reads))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
