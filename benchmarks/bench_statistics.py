"""The public statistics over a year of the whole country.

    .venv/bin/python benchmarks/bench_statistics.py [--requests 200] [--cold 20] [--payments 11000000] [--keep]

Creates a fresh PostgreSQL database (on the server DATABASE_URL names, default
postgres@127.0.0.1:5432) with the schema from the models and loads, all with SQL
(generate_series, no payments): the 14 regions, 6,250 municipalities (each region's
approximate real number of municipalities; most joined before the year, some during it,
some never), 20,000 services with their history, and the payment summary rows of the
current year for about 11 million payments (per service, month and gateway: the first
quarter carries about half the year, 55 % card by Stripe, 9 % GoPay, 35 % bank transfer,
1 % Bitcoin). Then it calls the app in this process (Flask's WSGI test client, no HTTP
server) and prints, per URL, p50 and p99 over ``--requests`` requests:

- cold: the cache emptied before every request (three queries, walking the histories,
  rendering);
- warm: the figures and the rendered page or data file cached, and a conditional GET
  answered 304;

with the process's CPU ms per request (``time.process_time``: the app's share, not
PostgreSQL's) and ``os.getloadavg()`` beside each row. Target: warm p99 < 100 ms.
The database is dropped at the end unless --keep.
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

from app.db import Base  # noqa: E402

# Municipalities per region (approximately the real numbers; 6,250 in all), in the
# order of app/data/regions.csv.
MUNICIPALITIES = {
    "praha": 1, "stredocesky-kraj": 1144, "jihocesky-kraj": 624, "plzensky-kraj": 501,
    "karlovarsky-kraj": 132, "ustecky-kraj": 354, "liberecky-kraj": 215, "kralovehradecky-kraj": 448,
    "pardubicky-kraj": 451, "kraj-vysocina": 704, "jihomoravsky-kraj": 673, "olomoucky-kraj": 402,
    "zlinsky-kraj": 307, "moravskoslezsky-kraj": 294,
}  # fmt: skip
SERVICES = 20_000
# Share of the year's payments per month (the first quarter carries about half).
MONTH_SHARE = (0.22, 0.17, 0.12, 0.05, 0.05, 0.05, 0.04, 0.04, 0.06, 0.06, 0.07, 0.07)
GATEWAY_SHARE = (("stripe", 0.55), ("gopay", 0.09), ("bank_transfer", 0.35), ("btcpay", 0.01))


def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def load(url: str, year: int, payments: int) -> None:
    import app.models  # noqa: F401  (registers every table)
    from app.regions import czech_regions

    assert sum(MUNICIPALITIES.values()) == 6_250
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    t = time.perf_counter()
    with engine.begin() as conn:
        first = 1
        for rid, (slug, row) in enumerate(czech_regions().items(), start=1):
            conn.execute(
                text(
                    "INSERT INTO region (id, slug, name, name_genitive, nuts_code, operator_name, footer_text,"
                    " primary_color, report_recipients, created_at) VALUES (:id, :slug, :name, :gen, :nuts, '', '',"
                    " '#2362a2', '', now())"
                ),
                {"id": rid, "slug": slug, "name": row["name"], "gen": row["name_genitive"], "nuts": row["nuts_code"]},
            )
            n = MUNICIPALITIES[slug]
            # Fictional municipalities: "Obec 1" …, IČO = the number, 8 digits.
            conn.execute(
                text(
                    "INSERT INTO municipality (id, name, search_name, slug, ico, district, onboarding_state,"
                    " demo_mode, created_at, region_id)"
                    " SELECT g, 'Obec ' || g, 'obec ' || g, 'obec-' || g, lpad(g::text, 8, '0'), NULL,"
                    " CASE WHEN g % 20 = 0 THEN 'interested' ELSE 'active' END, false, now(), :rid"
                    " FROM generate_series(CAST(:lo AS int), CAST(:hi AS int)) g"
                ),
                {"rid": rid, "lo": first, "hi": first + n - 1},
            )
            first += n
        # 80 % joined before the year, 15 % during it (a day spread over the year), 5 % interested.
        conn.execute(
            text(
                "INSERT INTO municipality_state_change (municipality_id, from_state, to_state, effective_date, note,"
                " created_at) SELECT id, NULL, 'interested', make_date(CAST(:y AS int) - 2, 1, 1) + (id % 300), 'bench', now()"
                " FROM municipality"
            ),
            {"y": year},
        )
        conn.execute(
            text(
                "INSERT INTO municipality_state_change (municipality_id, from_state, to_state, effective_date, note,"
                " created_at) SELECT id, 'interested', 'active',"
                " CASE WHEN id % 20 BETWEEN 1 AND 3 THEN make_date(CAST(:y AS int), 1, 1) + (id * 7 % 330)"
                "      ELSE make_date(CAST(:y AS int) - 1, 1, 1) + (id % 360) END, 'bench', now()"
                " FROM municipality WHERE id % 20 <> 0"
            ),
            {"y": year},
        )
        # 20,000 services spread over the municipalities; one in 25 switched off during the year.
        conn.execute(
            text(
                "INSERT INTO service (id, municipality_id, slug, name, description, amount_mode, amount, vs_rule,"
                " active, allowed_gateways, created_at)"
                " SELECT s, 1 + (s - 1) % 6250, 'sluzba-' || s, 'Poplatek ' || s, '', 'fixed', 50000, 'per_payment',"
                " true, '[\"stripe\"]', now() FROM generate_series(1, CAST(:n AS int)) s"
            ),
            {"n": SERVICES},
        )
        conn.execute(
            text(
                "INSERT INTO service_state_change (service_id, active, effective_date, note, created_at)"
                " SELECT id, true, make_date(CAST(:y AS int) - 2, 1, 1), 'bench', now() FROM service"
            ),
            {"y": year},
        )
        conn.execute(
            text(
                "INSERT INTO service_state_change (service_id, active, effective_date, note, created_at)"
                " SELECT id, false, make_date(CAST(:y AS int), 6, 1) + (id % 100), 'bench', now() FROM service WHERE id % 25 = 0"
            ),
            {"y": year},
        )
        for table in ("region", "municipality", "service"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        print(f"regions 14, municipalities 6,250, services {SERVICES:,} with history: {time.perf_counter() - t:.1f} s")

        # The summary: per service, month and gateway, count = the year's payments × the
        # month's share × the gateway's share × a service weight (0.5–1.5), rounded.
        t = time.perf_counter()
        months = ", ".join(f"({m}, {share})" for m, share in enumerate(MONTH_SHARE, start=1))
        gateways = ", ".join(f"('{g}', {share})" for g, share in GATEWAY_SHARE)
        conn.execute(text("SELECT setseed(0.16)"))
        conn.execute(
            text(f"""
            INSERT INTO payment_month_summary (month, municipality_id, service_id, gateway_name, paid_count,
                paid_volume, refund_count, refund_volume)
            SELECT month, municipality_id, service_id, gw, n, n * (20000 + (random() * 80000)::bigint),
                   n / 200, (n / 200) * 30000
            FROM (
                SELECT make_date(CAST(:y AS int), m.m, 1) AS month, s.municipality_id, s.id AS service_id, g.gw,
                       round(CAST(:p AS numeric) / CAST(:k AS int) * m.share * g.share * (0.5 + (s.id * 7919 % 1000) / 1000.0))::int AS n
                FROM service s
                CROSS JOIN (VALUES {months}) AS m(m, share)
                CROSS JOIN (VALUES {gateways}) AS g(gw, share)
            ) x WHERE n > 0
        """),
            {"y": year, "p": payments, "k": SERVICES},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        rows, total, volume = conn.execute(
            text("SELECT count(*), sum(paid_count), sum(paid_volume) FROM payment_month_summary")
        ).one()
    print(
        f"payment summary: {rows:,} rows for {total:,} payments, {volume / 100:,.0f} CZK: {time.perf_counter() - t:.1f} s"
    )
    engine.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(url: str, year: int, requests: int, cold: int) -> None:
    from app import create_app
    from app.extensions import cache

    app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL") or None,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
            "STATISTICS_CACHE_SECONDS": 60,
        }
    )
    client = app.test_client()
    print(
        f"cache: {app.config.get('CACHE_TYPE') or type(cache.cache).__name__}; {requests} requests per row,"
        " in this process (WSGI test client, no HTTP server)"
    )
    urls = [
        f"/statistiky?rok={year}",
        f"/kraj/stredocesky-kraj/statistiky?rok={year}",
        f"/kraj/liberecky-kraj/statistiky?rok={year}",
        f"/statistiky/data.csv?rok={year}",
        "/statistiky/data.json",
    ]
    with app.app_context():
        client.get(urls[0])  # import and compile templates once
        for path in urls:
            check = client.get(path)
            assert check.status_code == 200, (path, check.status_code)
            for mode in ("cold", "warm", "warm 304"):
                times, etag = [], check.headers["ETag"]
                cpu0 = time.process_time()
                for _ in range(requests if mode != "cold" else cold):
                    if mode == "cold":
                        cache.clear()
                    t = time.perf_counter()
                    r = client.get(path, headers={"If-None-Match": etag} if mode == "warm 304" else {})
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == (304 if mode == "warm 304" else 200), (path, mode, r.status_code)
                cpu = (time.process_time() - cpu0) * 1000 / len(times)
                load1, load5, _ = os.getloadavg()
                print(
                    f"{path:52} {mode:8} p50 {statistics.median(times):7.1f} ms  p99 {percentile(times, 99):7.1f} ms"
                    f"  CPU {cpu:6.1f} ms/request  n={len(times):4}  load {load1:.2f} {load5:.2f}"
                )
        page = client.get(urls[0]).text
        assert "Středočeský kraj" in page
    app.extensions["db_engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold", type=int, default=20, help="cold requests per URL (each recomputes)")
    parser.add_argument("--payments", type=int, default=11_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--url", help="measure an already loaded database instead of creating one")
    args = parser.parse_args()
    from app.timeutil import prague_today

    year = prague_today().year
    print(f"machine: {os.cpu_count()} CPUs, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.url:
        measure(args.url, year, args.requests, args.cold)
        return
    server = make_url(server_url())
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"portal_bench_stats_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        load(url, year, args.payments)
        measure(url, year, args.requests, args.cold)
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
