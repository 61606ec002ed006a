"""Where an API call spends its time, in one process against a fresh PostgreSQL database:
the SQL statements per call (counted with SQLAlchemy's ``before_cursor_execute``) and
the top of a cProfile of many calls, for reading one payment, listing payments, listing
bank transfers and one bulk upsert of 10,000 rows. Prints numbers; asserts nothing.

    .venv/bin/python benchmarks/profile_api.py [--reads 500] [--top 25]

DATABASE_URL names the PostgreSQL server (default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

from benchmarks.bench_pages import create_database, drop_database  # noqa: E402


def seed(url: str) -> tuple[int, str, list[str]]:
    import app.models  # noqa: F401
    from app.api.keys import create_api_key
    from app.db import Base, db_session
    from app.models import Municipality, Service

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    m = Municipality(name="Obec", slug="obec", ico="00262978", onboarding_state="active")
    db_session.add(m)
    db_session.flush()
    s = Service(municipality_id=m.id, slug="odpad", name="Odpad", amount_mode="payer", lookup_mode="optional")
    db_session.add(s)
    db_session.flush()
    _, secret = create_api_key(m.id, "profile", ["read", "write"])
    db_session.commit()
    db_session.execute(
        text("""
        INSERT INTO payment (external_id, municipality_id, service_id, amount, amount_refunded, currency,
                             payer_name, payer_email, state, gateway_name, amount_overpaid, created_at,
                             updated_at, paid_at)
        SELECT substr(md5(i::text) || md5((i + 7)::text), 1, 26), :m, :s, 10000 + i, 0, 'CZK',
               'Plátce ' || i, 'p' || i || '@example.cz', 'paid', 'demo', 0, now(), now(), now()
        FROM generate_series(1, 10000) AS i"""),
        {"m": m.id, "s": s.id},
    )
    db_session.commit()
    ids = list(db_session.scalars(text("SELECT external_id FROM payment")))
    service_id = s.id
    db_session.remove()
    return service_id, secret, ids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=500)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sort", default="cumulative", help="a pstats sort key: cumulative, tottime, …")
    ap.add_argument("--only", default="", help="profile only the cases whose label contains this")
    args = ap.parse_args()
    name, url = create_database()
    try:
        from app import create_app
        from app.db import db_session

        flask_app = create_app(
            {"DATABASE_URL": url, "REDIS_URL": None, "SECRET_KEY": "profile", "API_RATE_LIMIT": "1000000/minute"}
        )
        with flask_app.app_context():
            service_id, secret, ids = seed(url)
        statements: Counter[str] = Counter()

        def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            statements[" ".join(statement.split())[:110]] += 1

        client = flask_app.test_client()
        headers = {"Authorization": f"Bearer {secret}"}
        with flask_app.app_context():
            engine = db_session.get_bind()
        event.listen(engine, "before_cursor_execute", count)

        def call(method: str, path: str, **kw):  # type: ignore[no-untyped-def]
            r = client.open(path, method=method, headers=headers, **kw)
            assert r.status_code < 300, (path, r.status_code, r.get_data(as_text=True)[:300])
            return r

        rows = [
            {"customer_id": f"Z{i:07d}", "payer_name": f"Plátce {i}", "amount": 50000 + i, "due_date": "2027-03-31"}
            for i in range(10_000)
        ]
        cases = {
            "GET /payments/<id>": lambda: call("GET", f"/api/v1/payments/{random.choice(ids)}"),
            "GET /payments?limit=100": lambda: call("GET", "/api/v1/payments?limit=100"),
        }
        for label, fn in cases.items():
            if args.only not in label:
                continue
            for _ in range(20):  # warm caches (the catalogue, the key, the compiled statements)
                fn()
            cpu0 = time.process_time()
            for _ in range(args.reads):
                fn()
            plain = (time.process_time() - cpu0) * 1000 / args.reads
            statements.clear()
            profile = cProfile.Profile(time.process_time)  # CPU, not wall: the load of the machine varies
            cpu0, wall0 = time.process_time(), time.perf_counter()
            profile.enable()
            for _ in range(args.reads):
                fn()
            profile.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            print(
                f"\n== {label}: {args.reads} calls, {plain:.2f} CPU ms/call in this process ({cpu * 1000 / args.reads:.2f} profiled), "
                f"{wall * 1000 / args.reads:.2f} wall ms/call; load {os.getloadavg()[0]:.1f}"
            )
            print(f"SQL statements per call: {sum(statements.values()) / args.reads:.1f}")
            for stmt, n in statements.most_common(8):
                print(f"  {n / args.reads:5.1f}  {stmt}")
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)

        if args.only not in "POST /obligations/bulk":
            return 0
        statements.clear()
        profile = cProfile.Profile(time.process_time)  # CPU, not wall: the load of the machine varies
        cpu0, wall0 = time.process_time(), time.perf_counter()
        profile.enable()
        call("POST", "/api/v1/obligations/bulk", json={"service_id": service_id, "rows": rows})
        profile.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            f"\n== POST /obligations/bulk (10,000 new rows): {cpu * 1000:.0f} CPU ms (this process), "
            f"{wall * 1000:.0f} wall ms; load {os.getloadavg()[0]:.1f}"
        )
        print(f"SQL statements: {sum(statements.values())}")
        for stmt, n in statements.most_common(8):
            print(f"  {n:5d}  {stmt}")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    finally:
        drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
