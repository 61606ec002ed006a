"""Benchmark: the admin's filtered payments list over 1,000,000 payments on PostgreSQL.

Creates a fresh database, 215 municipalities with 3 services each, and N payments
(INSERT … SELECT generate_series; 10 % of them in the largest municipality, the rest
spread over the others, two years of history), then times the payments list page
through the Flask test client, logged in as a clerk of the largest municipality (and
as the operator over all municipalities), for several filter combinations.

    /work/main/.venv/bin/python benchmarks/bench_admin_payments.py [--payments 1000000] [--runs 50] [--keep]

Prints p50 and p99 in milliseconds per combination. Target: p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def generate(engine, payments: int) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO region (id, slug, name, name_genitive, operator_name, footer_text, primary_color,"
                " report_recipients, created_at) VALUES (1, 'liberecky-kraj', 'Liberecký kraj', 'Libereckého kraje',"
                " '', '', '#2362a2', '', now())"
            )
        )
        conn.execute(
            text("""
            INSERT INTO municipality (id, name, search_name, slug, ico, onboarding_state, demo_mode, created_at,
                                      region_id)
            SELECT i, 'Obec ' || i, 'obec ' || i, 'obec-' || i, lpad(i::text, 8, '0'), 'active', false, now(), 1
            FROM generate_series(1, 215) AS i""")
        )
        conn.execute(
            text("""
            INSERT INTO service (id, municipality_id, slug, name, description, amount_mode, amount, vs_rule,
                                 variable_symbol, active, allowed_gateways, created_at)
            SELECT (m - 1) * 3 + k, m, 'sluzba-' || k, 'Poplatek ' || k, '', 'fixed', 10000 * k, 'per_payment',
                   '13' || k, true, '["demo"]', now()
            FROM generate_series(1, 215) AS m, generate_series(1, 3) AS k""")
        )
        conn.execute(
            text("""
            INSERT INTO payment (id, external_id, municipality_id, service_id, amount, amount_refunded, amount_overpaid, currency,
                                 payer_name, payer_email, variable_symbol, state, gateway_name, gateway_reference,
                                 created_at, updated_at, paid_at)
            SELECT i, substr(md5(i::text) || md5((i + 7)::text), 1, 26), g.m, (g.m - 1) * 3 + 1 + (i % 3),
                   100 * (50 + (i * 7919) % 5000), 0, 0, 'CZK',
                   (ARRAY['Jana','Petr','Eva','Jan','Marie','Tomáš','Lucie','Martin'])[1 + i % 8] || ' ' ||
                   (ARRAY['Nováková','Svoboda','Dvořáková','Černý','Procházková','Kučera','Veselá','Horák'])[1 + (i / 8) % 8]
                   || ' ' || (i % 997),
                   'platce' || i || '@example.cz', lpad(i::text, 10, '0'),
                   (ARRAY['paid','paid','paid','paid','paid','failed','cancelled','expired','started','refunded'])[1 + h.s],
                   'demo', 'demo_' || i,
                   g.t, g.t, CASE WHEN h.s < 5 THEN g.t + interval '2 minutes' END
            FROM generate_series(1::bigint, :n) AS i,
                 LATERAL (SELECT CASE WHEN i % 10 = 0 THEN 1 ELSE 2 + (i * 2654435761) % 214 END AS m,
                                 timestamp '2026-11-01' - ((i * 48271) % 63072000) * interval '1 second' AS t) AS g,
                 LATERAL (SELECT ('x' || substr(md5(i::text), 1, 4))::bit(16)::int % 10 AS s) AS h
        """),
            {"n": payments},
        )
        conn.execute(text("SELECT setval(pg_get_serial_sequence('payment', 'id'), :n)"), {"n": payments})
        conn.execute(text("SELECT setval(pg_get_serial_sequence('municipality', 'id'), 215)"))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('service', 'id'), 645)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def build(engine, payments: int) -> None:  # type: ignore[no-untyped-def]
    from app.models import Payment

    t0 = time.perf_counter()
    # Bulk load without the secondary indexes, then build them (much faster).
    for index in Payment.__table__.indexes:
        index.drop(engine)
    generate(engine, payments)
    for index in Payment.__table__.indexes:
        index.create(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    print(f"generated {payments:,} payments over 215 municipalities in {time.perf_counter() - t0:.1f} s")


def login(client, email: str, password: str, secret: str) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/admin/login", data={"email": email, "password": password})
    assert r.status_code == 303, r.status_code
    r = client.post("/admin/login/totp", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 303, r.status_code


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--payments", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--reuse", metavar="DBNAME", help="time again on a database kept by --keep")
    args = ap.parse_args()

    server = make_url(SERVER)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = args.reuse or f"bench_admin_{uuid.uuid4().hex[:8]}"
    if not args.reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        import app.models  # noqa: F401  (registers the tables)
        from app import create_app
        from app.db import Base, db_session, make_engine

        engine = make_engine(url)
        from app.models import Payment

        if args.reuse:
            for index in Payment.__table__.indexes:
                index.create(engine, checkfirst=True)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE payment"))
        else:
            Base.metadata.create_all(engine)
            build(engine, args.payments)
        engine.dispose()

        app = create_app(
            {
                "DATABASE_URL": url,
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "SERVER_NAME": "localhost",
                "REDIS_URL": None,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 1024,
            }
        )
        with app.app_context():
            from app.staff.accounts import create_staff

            clerk_secret, op_secret = pyotp.random_base32(), pyotp.random_base32()
            tag = uuid.uuid4().hex[:6]
            create_staff(f"clerk-{tag}@bench.cz", "clerk", 1, password="bench-heslo-1234", totp_secret=clerk_secret)
            from app.regions import get_or_create_region

            create_staff(f"op-{tag}@bench.cz", "operator", None, password="bench-heslo-1234", totp_secret=op_secret,
                         region_id=get_or_create_region(db_session()).id)
            db_session.commit()
            clerk = app.test_client()
            login(clerk, f"clerk-{tag}@bench.cz", "bench-heslo-1234", clerk_secret)
            op = app.test_client()
            login(op, f"op-{tag}@bench.cz", "bench-heslo-1234", op_secret)
            # A cursor deep into the list (page after ~10 pages) for the keyset case.
            from app.payments.search import PaymentFilter, list_payments

            cursor = None
            for _ in range(10):
                cursor = list_payments(PaymentFilter(state="paid"), 1, cursor=cursor).next_cursor

            combos = [
                ("clerk: no filter", clerk, {}),
                ("clerk: state=paid", clerk, {"state": "paid"}),
                ("clerk: state=paid, page 11 (keyset)", clerk, {"state": "paid", "cursor": cursor}),
                ("clerk: month date range", clerk, {"date_from": "2026-03-01", "date_to": "2026-03-31"}),
                ("clerk: service + state", clerk, {"service": "2", "state": "refunded"}),
                ("clerk: amount range", clerk, {"amount_min": "100", "amount_max": "120"}),
                ("clerk: amount sort desc", clerk, {"sort": "amount_desc"}),
                ("clerk: VS", clerk, {"ref": "0000000070"}),
                ("clerk: payer e-mail", clerk, {"payer": "platce990@"}),
                ("clerk: payer name (common)", clerk, {"payer": "nováková"}),
                (
                    "clerk: all filters",
                    clerk,
                    {
                        "state": "paid",
                        "date_from": "2025-01-01",
                        "date_to": "2026-10-31",
                        "service": "2",
                        "amount_min": "60",
                        "amount_max": "400",
                    },
                ),
                ("operator: all municipalities", op, {}),
                ("operator: state=failed", op, {"state": "failed"}),
                ("operator: VS", op, {"ref": "0000123457"}),
            ]
            print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
            print(f"{'combination':<42} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>7} {'rows':>5}")
            worst = 0.0
            for label, client, params in combos:
                times = []
                cpu = []
                rows = 0
                for i in range(args.runs + 3):
                    t, c = time.perf_counter(), time.process_time()
                    r = client.get("/admin/platby", query_string=params)
                    elapsed = (time.perf_counter() - t) * 1000
                    assert r.status_code == 200, (label, r.status_code)
                    if i >= 3:  # warm-up
                        times.append(elapsed)
                        cpu.append((time.process_time() - c) * 1000)
                    rows = r.text.count("<tr>") - 1
                p99 = statistics.quantiles(times, n=100, method="inclusive")[98]
                worst = max(worst, p99)
                # CPU ms: this process's (Flask, SQLAlchemy, Jinja) per request; the database's is apart.
                print(f"{label:<42} {statistics.median(times):8.1f} {p99:8.1f} {statistics.median(cpu):7.1f} {rows:5d}")
            print(f"worst p99: {worst:.1f} ms (target < 200 ms)")
            print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            db_session.remove()
        app.extensions["db_engine"].dispose()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
