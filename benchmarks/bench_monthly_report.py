"""How long the monthly report takes over 10,000,000 payments of 215 municipalities.

    /work/main/.venv/bin/python benchmarks/bench_monthly_report.py [--payments N] [--keep]

Creates a fresh PostgreSQL database (on the server DATABASE_URL names, default
postgresql://postgres@127.0.0.1:5432), builds the schema from the models, loads the
region's 215 municipalities with 3 services each and N payments spread over 2023–2025
(INSERT … SELECT generate_series; indexes are built after the load, as a bulk load
would), plus refund events and Refund records for the refunded ones, runs VACUUM ANALYZE, rebuilds the
payment summary the reports read (a bulk load skips the transition listeners that keep
it), then times ``build_monthly_report`` for a few months (the first run cold) and
prints the figures, each checked against a recount from the payments themselves.
The target is under 2 s. The database is dropped at the end unless --keep.
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

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.schema import AddConstraint, DropConstraint  # noqa: E402

from app.db import Base  # noqa: E402

MONTHS = 36  # 2023-01 … 2025-12
SERVICES_PER_MUNICIPALITY = 3


def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def step(label: str):  # type: ignore[no-untyped-def]
    class _Timer:
        def __enter__(self):  # type: ignore[no-untyped-def]
            self.t = time.perf_counter()
            print(f"{label} …", end="", flush=True)
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            print(f" {time.perf_counter() - self.t:.1f} s", flush=True)

    return _Timer()


def load(url: str, payments: int) -> None:
    import app.models  # noqa: F401  (registers every table)
    from app.czech import fold
    from app.demo_data import load_municipality_rows

    engine = create_engine(url)
    Base.metadata.create_all(engine)
    bulk_tables = [Base.metadata.tables["payment"], Base.metadata.tables["payment_event"]]
    # Build the secondary indexes after the load, as a bulk load would.
    indexes = [ix for t in bulk_tables for ix in t.indexes]
    uniques = [
        c
        for t in bulk_tables
        for c in t.constraints
        if c.__class__.__name__ in ("UniqueConstraint", "ForeignKeyConstraint")
    ]
    with engine.begin() as conn:
        for ix in indexes:
            ix.drop(conn)
        for uq in uniques:
            conn.execute(DropConstraint(uq))

    rows = load_municipality_rows()
    with step(f"municipalities ({len(rows)}), services, history"), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO region (id, slug, name, name_genitive, operator_name, footer_text, primary_color,"
            " report_recipients, created_at) VALUES (1, 'liberecky-kraj', 'Liberecký kraj', 'Libereckého kraje',"
            " '', '', '#2362a2', '', now())"
        ))
        for i, r in enumerate(rows, start=1):
            conn.execute(
                text(
                    "INSERT INTO municipality (id, name, search_name, slug, ico, district, status, population,"
                    " onboarding_state, demo_mode, created_at, region_id) VALUES (:id, :name, :search_name, :slug, :ico,"
                    " :district, :status, :pop, 'active', false, timestamp '2022-12-01', 1)"
                ),
                {"id": i, "name": r["name"], "search_name": fold(r["name"]), "slug": f"obec-{i}", "ico": r["ico"], "district": r["district"],
                 "status": r["status"], "pop": int(r["population_2017"] or 0)},
            )
        n = len(rows)
        conn.execute(text(
            "INSERT INTO municipality_state_change (municipality_id, from_state, to_state, effective_date, note,"
            " created_at) SELECT id, NULL, 'active', date '2023-01-01' - (id % 90), 'bench', now() FROM municipality"
        ))
        conn.execute(text(
            "INSERT INTO service (id, municipality_id, slug, name, description, amount_mode, amount, vs_rule,"
            " active, allowed_gateways, created_at)"
            " SELECT s, (s - 1) / :k + 1, 'sluzba-' || s, 'Poplatek ' || ((s - 1) % :k + 1), '', 'payer', NULL,"
            " 'per_payment', true, '[\"stripe\"]', timestamp '2022-12-01' FROM generate_series(1, :n) s"
        ), {"k": SERVICES_PER_MUNICIPALITY, "n": n * SERVICES_PER_MUNICIPALITY})
        conn.execute(text(
            "INSERT INTO service_state_change (service_id, active, effective_date, note, created_at)"
            " SELECT id, true, date '2023-01-01', 'bench', now() FROM service"
        ))
        for table in ("municipality", "service"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))

    n_services = len(rows) * SERVICES_PER_MUNICIPALITY
    chunk = 1_000_000
    seconds = 1096 * 86400  # 2023-01-01 … 2025-12-31
    for lo in range(1, payments + 1, chunk):
        hi = min(lo + chunk - 1, payments)
        with step(f"payments {lo:,}–{hi:,}"), engine.begin() as conn:
            conn.execute(text("SELECT setseed(:s)"), {"s": (lo % 997) / 997})
            # r1 picks the state, r2 the gateway; 88 % settled, the rest never paid.
            conn.execute(text(f"""
                INSERT INTO payment (id, external_id, municipality_id, service_id, amount, amount_refunded, amount_overpaid, currency,
                    payer_name, payer_email, variable_symbol, state, gateway_name, gateway_reference,
                    created_at, updated_at, paid_at)
                SELECT g, 'bench' || g, (sid - 1) / {SERVICES_PER_MUNICIPALITY} + 1, sid, amount,
                    CASE WHEN state = 'refunded' THEN amount WHEN state = 'partially_refunded' THEN amount / 2
                         ELSE 0 END, 0,
                    'CZK', 'Plátce ' || g, 'platce' || g || '@example.cz', lpad((g % 10000000000)::text, 10, '0'),
                    state, gw, 'ref' || g, t, t, CASE WHEN state IN ('paid', 'partially_refunded', 'refunded')
                                                        THEN t + interval '3 minutes' END
                FROM (
                    SELECT g, 1 + (g * 7919) % {n_services} AS sid,
                        2100 + (random() * 300000)::int AS amount,
                        timestamp '2023-01-01' + (random() * {seconds}) * interval '1 second' AS t,
                        CASE WHEN r1 < 0.85 THEN 'paid' WHEN r1 < 0.87 THEN 'refunded'
                             WHEN r1 < 0.88 THEN 'partially_refunded' WHEN r1 < 0.93 THEN 'failed'
                             WHEN r1 < 0.97 THEN 'cancelled' ELSE 'expired' END AS state,
                        CASE WHEN r2 < 0.7 THEN 'stripe' WHEN r2 < 0.9 THEN 'demo' ELSE 'bank_transfer' END AS gw
                    FROM (SELECT g, random() AS r1, random() AS r2 FROM generate_series({lo}::bigint, {hi}::bigint) g) x
                ) y
            """))
    with step("refund events"), engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO payment_event (payment_id, kind, from_state, to_state, reason, data, created_at)
            SELECT id, 'transition', 'paid', state, 'refund: bench',
                   json_build_object('amount_refunded', amount_refunded), paid_at + (id % 20) * interval '1 day'
            FROM payment WHERE state IN ('partially_refunded', 'refunded')
        """))
        # The Refund records the report counts, one per refund transition above.
        conn.execute(text("""
            INSERT INTO refund (payment_id, amount, reason, state, requested_at, completed_at)
            SELECT id, amount_refunded, 'bench', 'succeeded', paid_at + (id % 20) * interval '1 day',
                   paid_at + (id % 20) * interval '1 day'
            FROM payment WHERE state IN ('partially_refunded', 'refunded')
        """))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('payment', 'id'), (SELECT max(id) FROM payment))"))
    with step("indexes and constraints"), engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for uq in uniques:
            conn.execute(AddConstraint(uq))
        for ix in indexes:
            ix.create(conn)
    with step("VACUUM ANALYZE"), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    rebuild(url)


def rebuild(url: str) -> None:
    """The bulk load skipped the transition listeners: recount the payment summary."""
    from app import create_app
    from app.reporting.summary import rebuild_payment_summary

    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    Base.metadata.create_all(app.extensions["db_engine"])  # a database loaded by an older version
    with app.app_context(), step("payment summary rebuilt from the payments"):
        rows = rebuild_payment_summary()
    print(f"summary rows: {rows:,}")
    app.extensions["db_engine"].dispose()


def measure(url: str, months: list[tuple[int, int]], repeat: int) -> None:
    from app import create_app
    from app.db import db_session
    from app.reporting.monthly import build_monthly_report
    from app.reporting.summary import paid_in_range, verify_month
    from app.timeutil import month_bounds_utc

    app = create_app({"DATABASE_URL": url, "REDIS_URL": None})
    with app.app_context():
        engine = app.extensions["db_engine"]
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM payment")).scalar_one()
            size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('payment'))")).scalar_one()
            print(f"payments in the database: {total:,} (payment table with indexes: {size})")
            start, end = month_bounds_utc(2025, 12)
            from sqlalchemy import func, select

            from app.models import Payment
            from app.models.payment import SETTLED_STATES
            from app.reporting.summary import ACCOUNT_KEY

            # The query of paid_in_range (the recount): by gateway and merchant account.
            stmt = (
                select(Payment.municipality_id, Payment.service_id, Payment.gateway_name, ACCOUNT_KEY, func.count(),
                       func.sum(Payment.amount))
                .where(Payment.paid_at >= start, Payment.paid_at < end, Payment.state.in_(sorted(SETTLED_STATES)))
                .group_by(Payment.municipality_id, Payment.service_id, Payment.gateway_name, ACCOUNT_KEY)
            )
            compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
            plan = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
            print("plan of one month's payments query:")
            for line in plan:
                print("   ", line)
        for year, month in months:
            times, cpu = [], []
            for _ in range(repeat):
                db_session.remove()
                t, c = time.perf_counter(), time.process_time()
                report = build_monthly_report(year, month)
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            s, e = month_bounds_utc(year, month)
            t = time.perf_counter()
            direct = sum(f.count for f in paid_in_range(db_session(), s, e).values())
            scan = time.perf_counter() - t
            assert direct == report.total.current.count, (direct, report.total.current.count)
            t = time.perf_counter()
            assert verify_month(year, month) == []
            verify = time.perf_counter() - t
            print(
                f"monthly report {year}-{month:02d}: {report.total.current.count:,} payments "
                f"({report.total.previous.count:,} previous month, {report.total.year_ago.count:,} a year before), "
                f"{report.refunds.current.count:,} refunds, {len(report.by_service)} service lines — "
                f"first {times[0]:.3f} s, median {statistics.median(times):.3f} s, max {max(times):.3f} s, "
                f"CPU of this process median {statistics.median(cpu) * 1000:.0f} ms "
                f"(for comparison: scanning the month's payments {scan:.3f} s; full recount check {verify:.3f} s); "
                f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--url", help="measure an already loaded database instead of creating one")
    parser.add_argument("--rebuild", action="store_true", help="with --url: rebuild its payment summary first")
    args = parser.parse_args()

    months = [(2025, 12), (2025, 3), (2024, 10)]
    from app import create_app

    create_app({"DATABASE_URL": "sqlite://"})  # import the whole code base now, not midway
    if args.url:
        if args.rebuild:
            rebuild(args.url)
        measure(args.url, months, args.repeat)
        return
    server = make_url(server_url())
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    print(f"database {name}, {args.payments:,} payments")
    t0 = time.perf_counter()
    try:
        load(url, args.payments)
        print(f"loaded in {time.perf_counter() - t0:.0f} s")
        measure(url, months, args.repeat)
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
