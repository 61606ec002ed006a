"""A year of the whole country (issue 16): 14 regions, 6,250 municipalities, 20,000
services, 11,000,000 payments of 2025 (peaking in the first quarter) and 5,000,000
obligations in PostgreSQL, then what a national deployment must answer.

    .venv/bin/python benchmarks/bench_national.py [--scale 0.01] [--keep] [--url URL]
        [--skip-pages] [--skip-flow] [--flow-payments 600] [--flow-clients 16]

Creates a database of its own on the server BENCH_DATABASE_URL names (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), builds the schema with the
migration, loads everything with INSERT … SELECT generate_series (secondary indexes and
unique constraints dropped first and built after the load, as a bulk load would), builds
the payment summary with one SQL statement per kind that counts as app/reporting/summary.py
does (checked against its recount for one month), then measures and prints, each figure
with os.getloadavg():

1. the national monthly report and one region's (target < 1 s each; wall and CPU ms of
   this process plus its PostgreSQL backend), and the yearly indicators;
2. the public statistics page, national and a region's, p50/p99 warm through the test
   client (target p99 < 100 ms) — when this build has it;
3. the admin payments list of the largest municipality, logged in as its clerk (target
   p99 < 100 ms);
4. the home and a municipality page on gunicorn (2 workers) against the bare Flask
   ceiling (benchmarks/ceiling_app.py), wrk as bench_pages.py runs it;
5. the end-to-end payment flow — pay form, create, review, start, the demo gateway's
   page and its pay button, the gateway's signed notification (through the chaos
   stack's relay), its job on the RQ worker (`flask worker`, the README's command), the
   return page — with concurrent HTTP clients, gunicorn (2 workers) and one worker on
   this machine: payments per second until every payment is paid and every notification
   processed (target ≥ 35/s, goal 100/s), with the CPU ms per payment of gunicorn, the
   worker (its forked work horses included) and the clients.

Figures that depend on the machine are printed with the load average beside them: these
are shared machines; the CPU figures do not depend on what else runs. The database is
dropped at the end unless --keep (then --url measures it again without loading).
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.schema import AddConstraint, DropConstraint  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
if SERVER.startswith("postgresql://"):
    SERVER = "postgresql+psycopg://" + SERVER[len("postgresql://") :]

FULL = {"municipalities": 6_250, "services": 20_000, "payments": 11_000_000, "obligations": 5_000_000}
YEAR = 2025
REGION_SLUG = "liberecky-kraj"  # "one region" of the report and the statistics
CLK_TCK = os.sysconf("SC_CLK_TCK")


def load_avg() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def step(label: str):  # type: ignore[no-untyped-def]
    class _Timer:
        def __enter__(self):  # type: ignore[no-untyped-def]
            self.t = time.perf_counter()
            print(f"{label} …", end="", flush=True)
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            print(f" {time.perf_counter() - self.t:.1f} s ({load_avg()})", flush=True)

    return _Timer()


def proc_cpu(pid: int, *, with_children: bool = False) -> float:
    """CPU seconds of a process (utime + stime; + the children it has waited for)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    f = raw[raw.rindex(")") + 2 :].split()
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if with_children else 0)
    return ticks / CLK_TCK


def tree(pid: int) -> list[int]:
    """pid and its descendants now alive."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo.extend(int(x) for x in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except OSError:
            pass
    return out


# -- the load ------------------------------------------------------------------------------
def sizes(scale: float) -> dict[str, int]:
    n = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    n["municipalities"] = max(n["municipalities"], 14)
    n["services"] = max(n["services"], 3 * n["municipalities"])
    return n


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")


# Municipality m (1 = the largest) has 3 services, the first `extra` of them 4; its first
# service's id in SQL (m and extra are SQL expressions):
def first_service_sql(m: str, extra: int) -> str:
    return f"(CASE WHEN {m} <= {extra} THEN 4 * ({m} - 1) + 1 ELSE 4 * {extra} + 3 * ({m} - {extra} - 1) + 1 END)"


def services_of_sql(m: str, extra: int) -> str:
    return f"(CASE WHEN {m} <= {extra} THEN 4 ELSE 3 END)"


def zipf_sql(n: int, r: str) -> str:
    """A municipality 1…n with P(k) ∝ ln((k+1)/k) ≈ 1/k (the largest towns pay most)."""
    return f"least({n}, floor(exp({r} * ln({n} + 1)))::int)"


def load(url: str, n: dict[str, int]) -> None:
    import app.models  # noqa: F401  (registers every table)
    from app.db import Base
    from app.regions import czech_regions

    migrate(url)
    engine = create_engine(url)
    bulk = [Base.metadata.tables[t] for t in ("payment", "refund", "obligation")]
    indexes = [ix for t in bulk for ix in t.indexes]
    constraints = [
        c for t in bulk for c in t.constraints if c.__class__.__name__ in ("UniqueConstraint", "ForeignKeyConstraint")
    ]
    with engine.begin() as conn:
        for ix in indexes:
            conn.execute(text(f'DROP INDEX IF EXISTS "{ix.name}"'))
        for c in constraints:
            conn.execute(DropConstraint(c))

    nm, ns = n["municipalities"], n["services"]
    extra = ns - 3 * nm
    regions = list(czech_regions().values())
    with step(f"{len(regions)} regions, {nm:,} municipalities, {ns:,} services"), engine.begin() as conn:
        for i, r in enumerate(regions, start=1):
            conn.execute(
                text(
                    "INSERT INTO region (id, slug, name, name_genitive, nuts_code, operator_name, footer_text,"
                    " primary_color, report_recipients, created_at) VALUES (:id, :slug, :name, :gen, :nuts,"
                    " 'Krajská agentura (benchmark)', '', '#2362a2', '', now())"
                ),
                {"id": i, "slug": r["slug"], "name": r["name"], "gen": r["name_genitive"], "nuts": r["nuts_code"]},
            )
        # Fictional municipalities; region round-robin, so every region has large and small ones.
        conn.execute(
            text(f"""
            INSERT INTO municipality (id, name, search_name, slug, ico, district, status, population,
                onboarding_state, demo_mode, created_at, region_id)
            SELECT m, 'Obec ' || m, 'obec ' || m, 'obec-' || m, lpad(m::text, 8, '0'), 'Okres ' || (1 + m % 77),
                   CASE WHEN m <= 600 THEN 'město' ELSE 'obec' END, (1300000 / m)::int, 'active', false,
                   timestamp '2024-06-01', 1 + (m - 1) % {len(regions)}
            FROM generate_series(1, {nm}) m""")
        )
        conn.execute(
            text(
                "INSERT INTO municipality_state_change (municipality_id, from_state, to_state, effective_date, note,"
                " created_at) SELECT id, NULL, 'active', date '2024-12-31' - (id % 300), 'bench', now()"
                " FROM municipality"
            )
        )
        fs = first_service_sql("m", extra)
        conn.execute(
            text(f"""
            INSERT INTO service (id, municipality_id, slug, name, description, amount_mode, amount, vs_rule,
                variable_symbol, active, allowed_gateways, created_at)
            SELECT {fs} + k - 1, m, (ARRAY['odpad', 'psi', 'pobyt', 'prostranstvi'])[k],
                   (ARRAY['Poplatek za komunální odpad', 'Poplatek ze psů', 'Poplatek z pobytu',
                          'Užívání veřejného prostranství'])[k],
                   '', 'fixed', (ARRAY[80000, 30000, 5000, 20000])[k], 'per_payment', '1337' || k, true,
                   '["demo", "stripe"]', timestamp '2024-06-01'
            FROM generate_series(1, {nm}) m, generate_series(1, 4) k
            WHERE k <= {services_of_sql("m", extra)}""")
        )
        conn.execute(
            text(
                "INSERT INTO service_state_change (service_id, active, effective_date, note, created_at)"
                " SELECT id, true, date '2024-12-31' - (id % 300), 'bench', now() FROM service"
            )
        )
        for table in ("region", "municipality", "service"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))

    chunk = 1_000_000
    q1, rest = 90 * 86400, 275 * 86400
    for lo in range(1, n["payments"] + 1, chunk):
        hi = min(lo + chunk - 1, n["payments"])
        with step(f"payments {lo:,}–{hi:,}"), engine.begin() as conn:
            conn.execute(text("SELECT setseed(:s)"), {"s": (lo % 997) / 997})
            # r1: state; r2: channel; r3: quarter (55 % in Q1); r4: municipality (Zipf).
            fs, k = first_service_sql("m", extra), services_of_sql("m", extra)
            conn.execute(
                text(f"""
                INSERT INTO payment (id, external_id, municipality_id, service_id, amount, amount_refunded,
                    amount_overpaid, currency, payer_name, payer_email, variable_symbol, state, gateway_name, gateway_reference,
                    created_at, updated_at, paid_at)
                SELECT g, 'nat' || g, m, {fs} + g % {k}, amount,
                    CASE WHEN state = 'refunded' THEN amount WHEN state = 'partially_refunded' THEN amount / 2
                         ELSE 0 END,
                    0, 'CZK',
                    (ARRAY['Jana','Petr','Eva','Jan','Marie','Tomáš','Lucie','Martin'])[1 + g % 8] || ' ' ||
                    (ARRAY['Nováková','Svoboda','Dvořáková','Černý','Procházková','Kučera','Veselá','Horák'])
                        [1 + (g / 8) % 8] || ' ' || (g % 997),
                    'platce' || g || '@example.cz', lpad((g % 10000000000)::text, 10, '0'), state, gw,
                    'ref' || g, t, t,
                    CASE WHEN state IN ('paid', 'partially_refunded', 'refunded') THEN t + interval '3 minutes' END
                FROM (
                    SELECT g, m, 5000 + (g * 7919) % 195000 AS amount,
                        CASE WHEN r3 < 0.55 THEN timestamp '{YEAR}-01-01' + (r3 / 0.55 * {q1}) * interval '1 second'
                             ELSE timestamp '{YEAR}-04-01' + ((r3 - 0.55) / 0.45 * {rest}) * interval '1 second'
                        END AS t,
                        CASE WHEN r1 < 0.86 THEN 'paid' WHEN r1 < 0.87 THEN 'refunded'
                             WHEN r1 < 0.875 THEN 'partially_refunded' WHEN r1 < 0.92 THEN 'failed'
                             WHEN r1 < 0.97 THEN 'cancelled' ELSE 'expired' END AS state,
                        CASE WHEN r2 < 0.55 THEN 'gopay' WHEN r2 < 0.75 THEN 'gpwebpay' WHEN r2 < 0.85 THEN 'stripe'
                             WHEN r2 < 0.995 THEN 'bank_transfer' ELSE 'btcpay' END AS gw
                    FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3,
                                 {zipf_sql(nm, "random()")} AS m
                          FROM generate_series({lo}::bigint, {hi}::bigint) g) x
                ) y""")
            )
    with step("refunds"), engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO refund (payment_id, amount, reason, state, requested_at, completed_at)
            SELECT id, amount_refunded, 'bench', 'succeeded', paid_at + (id % 20) * interval '1 day',
                   paid_at + (id % 20) * interval '1 day'
            FROM payment WHERE state IN ('partially_refunded', 'refunded')""")
        )
        conn.execute(text("SELECT setval(pg_get_serial_sequence('payment', 'id'), (SELECT max(id) FROM payment))"))
    for lo in range(1, n["obligations"] + 1, chunk):
        hi = min(lo + chunk - 1, n["obligations"])
        with step(f"obligations {lo:,}–{hi:,}"), engine.begin() as conn:
            fs, k = first_service_sql("m", extra), services_of_sql("m", extra)
            conn.execute(
                text(f"""
                INSERT INTO obligation (id, municipality_id, service_id, customer_id, payer_name, amount,
                    amount_paid, due_date, variable_symbol, period, household, created_at, updated_at)
                SELECT g, m, {fs} + g % {k}, 'P' || g, 'Plátce ' || g, 80000,
                       CASE WHEN g % 3 = 0 THEN 0 ELSE 80000 END, date '{YEAR}-03-31', g::text, '{YEAR}',
                       'D' || (g / 3), timestamp '{YEAR}-01-02', timestamp '{YEAR}-01-02'
                FROM (SELECT g, {zipf_sql(nm, "random()")} AS m
                      FROM generate_series({lo}::bigint, {hi}::bigint) g) x""")
            )
    with engine.begin() as conn:
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('obligation', 'id'), (SELECT max(id) FROM obligation))")
        )
    with step("indexes and constraints"), engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        for c in constraints:
            conn.execute(AddConstraint(c))
        for ix in indexes:
            ix.create(conn)
    build_summary(engine)
    with step("VACUUM ANALYZE"), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def build_summary(engine: Engine) -> None:
    """The payment summary as app/reporting/summary.py counts it: settled payments by the
    Prague month of paid_at, succeeded refunds by the Prague month of completed_at."""
    with step("payment summary (SQL)"), engine.begin() as conn:
        conn.execute(text("DELETE FROM payment_month_summary"))
        conn.execute(
            text("""
            INSERT INTO payment_month_summary (month, municipality_id, service_id, gateway_name,
                gateway_account_id, paid_count, paid_volume, refund_count, refund_volume)
            SELECT date_trunc('month', paid_at AT TIME ZONE 'Europe/Prague')::date, municipality_id, service_id,
                   gateway_name, coalesce(gateway_account_id, 0), count(*), sum(amount), 0, 0
            FROM payment WHERE paid_at IS NOT NULL AND state IN ('paid', 'partially_refunded', 'refunded')
            GROUP BY 1, 2, 3, 4, 5""")
        )
        conn.execute(
            text("""
            INSERT INTO payment_month_summary AS s (month, municipality_id, service_id, gateway_name,
                gateway_account_id, paid_count, paid_volume, refund_count, refund_volume)
            SELECT date_trunc('month', r.completed_at AT TIME ZONE 'Europe/Prague')::date, p.municipality_id,
                   p.service_id, p.gateway_name, coalesce(p.gateway_account_id, 0), 0, 0, count(*), sum(r.amount)
            FROM refund r JOIN payment p ON p.id = r.payment_id WHERE r.state = 'succeeded'
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (month, municipality_id, service_id, gateway_name, gateway_account_id) DO UPDATE
            SET refund_count = s.refund_count + excluded.refund_count,
                refund_volume = s.refund_volume + excluded.refund_volume""")
        )


# -- measuring ---------------------------------------------------------------------------
def make_app(url: str):  # type: ignore[no-untyped-def]
    from app import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": None,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
        }
    )


def backend_cpu(session) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return pid, proc_cpu(pid)


def timed_call(label: str, fn, runs: int) -> None:  # type: ignore[no-untyped-def]
    """Wall and CPU (this process + its PostgreSQL backend) of fn(session), first and median."""
    from app.db import db_session

    walls, cpus = [], []
    result = None
    for _ in range(runs):
        db_session.remove()
        session = db_session()
        pid, b0 = backend_cpu(session)
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn(session)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0 + proc_cpu(pid) - b0
        walls.append(wall)
        cpus.append(cpu)
    assert result is not None
    print(
        f"  {label:<44} first {walls[0] * 1000:7.0f} ms, median {statistics.median(walls) * 1000:7.0f} ms wall; "
        f"CPU {statistics.median(cpus) * 1000:6.0f} ms (app + its PostgreSQL backend, median) "
        f"[{'MET' if max(walls[1:] or walls) < 1 else 'NOT MET'} < 1 s] ({load_avg()})",
        flush=True,
    )
    db_session.remove()


def measure_reports(url: str, runs: int) -> None:
    from sqlalchemy import select

    from app.db import db_session
    from app.models import Region
    from app.reporting.monthly import build_monthly_report
    from app.reporting.summary import verify_month
    from app.reporting.yearly import build_yearly_indicators

    app = make_app(url)
    with app.app_context():
        with step(f"summary checked against app/reporting/summary.py's recount of {YEAR}-03"):
            diffs = verify_month(YEAR, 3)
        print(f"  summary differences: {len(diffs)}" + (f" e.g. {diffs[0]}" if diffs else ""))
        region = db_session.scalar(select(Region).where(Region.slug == REGION_SLUG))
        report = build_monthly_report(YEAR, 3)
        print(
            f"reports of {YEAR}-03: {report.total.current.count:,} payments nationally, "
            f"{len(report.by_municipality):,} municipality lines, {len(report.by_service):,} service lines"
        )
        timed_call("national monthly report", lambda s: build_monthly_report(YEAR, 3, session=s), runs)
        timed_call("national yearly indicators", lambda s: build_yearly_indicators(YEAR, session=s), runs)
        for label, fn in (("monthly report", build_monthly_report), ("yearly indicators", build_yearly_indicators)):
            if "region_id" in inspect.signature(fn).parameters:
                args = (YEAR, 3) if fn is build_monthly_report else (YEAR,)
                timed_call(
                    f"{region.name}: {label}",
                    lambda s, fn=fn, args=args: fn(*args, session=s, region_id=region.id),
                    runs,
                )
            else:
                print(f"  {region.name}: {label} — a per-region report (region_id) is not present in this build")
    app.extensions["db_engine"].dispose()


def percentiles(times: list[float]) -> tuple[float, float]:
    p99 = statistics.quantiles(times, n=100, method="inclusive")[98]
    return statistics.median(times), p99


def get_timed(client, path: str, runs: int, **kw) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    """p50, p99 (ms, after 3 warm-up requests), CPU ms per request of this process, status."""
    status = 0
    times = []
    c0 = time.process_time()
    for i in range(runs + 3):
        if i == 3:
            c0 = time.process_time()
        t = time.perf_counter()
        r = client.get(path, **kw)
        if i >= 3:
            times.append((time.perf_counter() - t) * 1000)
        status = r.status_code
        if status != 200:
            return 0, 0, 0, status
    p50, p99 = percentiles(times)
    return p50, p99, (time.process_time() - c0) * 1000 / runs, status


def measure_statistics(url: str, runs: int) -> None:
    try:
        import app.statistics  # noqa: F401
    except ImportError:
        print("public statistics page: not present in this build (no app.statistics)")
        return
    app = make_app(url)
    with app.app_context():
        client = app.test_client()
        candidates = [
            ("national", "/statistiky"),
            (REGION_SLUG, f"/statistiky/{REGION_SLUG}"),
            (REGION_SLUG, f"/kraj/{REGION_SLUG}/statistiky"),
        ]
        done = set()
        for which, path in candidates:
            if which in done:
                continue
            p50, p99, cpu, status = get_timed(client, path, runs)
            if status != 200:
                print(f"  statistics {path}: HTTP {status} (not present in this build at this address)")
                continue
            done.add(which)
            print(
                f"  statistics {path:<34} p50 {p50:6.1f} ms, p99 {p99:6.1f} ms warm, CPU {cpu:5.1f} ms/request "
                f"(this process) [{'MET' if p99 < 100 else 'NOT MET'} p99 < 100 ms] ({load_avg()})",
                flush=True,
            )
    app.extensions["db_engine"].dispose()


def measure_admin(url: str, runs: int) -> None:
    import pyotp

    from app.db import db_session
    from app.staff.accounts import create_staff

    app = make_app(url)
    with app.app_context():
        engine = app.extensions["db_engine"]
        with engine.connect() as conn:
            mid, count = conn.execute(
                text("SELECT municipality_id, count(*) FROM payment GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
            ).one()
        secret, tag = pyotp.random_base32(), uuid.uuid4().hex[:6]
        create_staff(f"clerk-{tag}@bench.cz", "clerk", mid, password="bench-heslo-1234", totp_secret=secret)
        db_session.commit()
        client = app.test_client()
        r = client.post("/admin/login", data={"email": f"clerk-{tag}@bench.cz", "password": "bench-heslo-1234"})
        assert r.status_code == 303, r.status_code
        r = client.post("/admin/login/totp", data={"code": pyotp.TOTP(secret).now()})
        assert r.status_code == 303, r.status_code
        print(f"admin payments list of the largest municipality (id {mid}, {count:,} payments), as its clerk:")
        combos = [
            ("no filter", {}),
            ("state=paid", {"state": "paid"}),
            ("March", {"date_from": f"{YEAR}-03-01", "date_to": f"{YEAR}-03-31"}),
            ("payer name", {"payer": "nováková"}),
            ("VS", {"ref": "0000000070"}),
        ]
        worst = 0.0
        for label, params in combos:
            p50, p99, cpu, status = get_timed(client, "/admin/platby", runs, query_string=params)
            if status != 200:
                print(f"  {label:<14} HTTP {status}")
                continue
            worst = max(worst, p99)
            print(
                f"  {label:<14} p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, CPU {cpu:5.1f} ms/request (this process) "
                f"({load_avg()})",
                flush=True,
            )
        print(f"  worst p99 {worst:.1f} ms [{'MET' if worst < 100 else 'NOT MET'} < 100 ms]")
        db_session.remove()
    engine.dispose()


def measure_home(url: str, runs: int) -> None:
    """The home page in-process: with every municipality of the country on it."""
    app = make_app(url)
    with app.app_context():
        client = app.test_client()
        for label, path in (
            ("home /", "/"),
            ("home search ?q=obec 12", "/?q=obec%2012"),
            ("municipality", "/obec/obec-1"),
        ):
            p50, p99, cpu, status = get_timed(client, path, runs)
            print(
                f"  {label:<24} HTTP {status}, p50 {p50:7.1f} ms, p99 {p99:7.1f} ms, CPU {cpu:6.1f} ms/request "
                f"(this process, test client) ({load_avg()})",
                flush=True,
            )
    app.extensions["db_engine"].dispose()


def measure_pages(url: str, db_name: str, duration: int) -> None:
    from benchmarks import bench_pages as bp

    base_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    base_env["PYTHONPATH"] = str(ROOT)
    env = {**base_env, "DATABASE_URL": url, "RATELIMIT_ENABLED": "0", "SECRET_KEY": "bench"}
    results = []
    portal, port = bp.start_gunicorn("wsgi:app", env, 2)
    try:
        # The municipality page first: a slow home would leave a backlog in gunicorn's queue.
        pages = {"municipality page": f"http://127.0.0.1:{port}/obec/obec-1", "home (/)": f"http://127.0.0.1:{port}/"}
        bp.wait_ready(pages["municipality page"], portal, timeout=60)
        for name, page in pages.items():
            results.append(
                bp.run_wrk(name, page, duration=duration, connections=32, threads=2, master=portal.pid, db_name=db_name)
            )
            print(f"  {name}: measured ({load_avg()})", flush=True)
    finally:
        bp.stop(portal)
    ceiling, cport = bp.start_gunicorn("benchmarks.ceiling_app:app", base_env, 2)
    try:
        curl = f"http://127.0.0.1:{cport}/obec/obec-1"
        bp.wait_ready(curl, ceiling)
        top = bp.run_wrk(
            "ceiling (Flask+Jinja)", curl, duration=duration, connections=32, threads=2, master=ceiling.pid
        )
    finally:
        bp.stop(ceiling)
    print(f"pages on gunicorn -w 2, wrk -t2 -c32 -d{duration}s ({load_avg()}):")
    print(
        f"  {'page':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}{'of ceiling':>11}"
        f"{'CPU ms/req':>11}{'(of it DB)':>11}{'CPU ratio':>10}"
    )
    for r in [*results, top]:
        cpu_ratio = top.cpu_ms / r.cpu_ms if r.cpu_ms else 0.0
        print(
            f"  {r.name:<24}{r.rps:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>7}{r.rps / top.rps:>11.0%}"
            f"{r.cpu_ms:>11.2f}{r.db_cpu_ms:>11.2f}{cpu_ratio:>10.0%}"
        )


def measure_flow(url: str, db_name: str, payments: int, clients: int, worker_cmd: str | None = None) -> None:
    """The end-to-end flow over HTTP against gunicorn + `flask worker` on the loaded database."""
    from benchmarks import bench_pages as bp
    from benchmarks.chaos.citizen import Client, FlowError, Recorder, Service, pay
    from benchmarks.chaos.stack import Stack

    recorder = Recorder()
    env = {"DATABASE_URL": url, "ALLOW_DEMO_GATEWAY": "1", "ENABLED_GATEWAYS": "demo"}
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.slug, s.slug, s.amount FROM service s JOIN municipality m ON m.id = s.municipality_id"
                " WHERE m.id <= 40 AND s.amount > 0 ORDER BY m.id, s.id"
            )
        ).all()
        sync = conn.execute(text("SELECT current_setting('synchronous_commit'), current_setting('fsync')")).one()
    services = [Service(m, s, int(a)) for m, s, a in rows]
    stack = Stack(recorder, seed=False, env=env)
    if worker_cmd:
        stack.worker_cmd = worker_cmd
    with stack:
        assert stack.web_proc is not None and stack.worker_proc is not None
        print(
            f"flow: gunicorn -w 2 wsgi:app and `{stack.worker_cmd}` (1 worker) on the loaded database "
            f"(synchronous_commit={sync[0]}, fsync={sync[1]}); Redis of the stack; {clients} client threads"
        )
        # A few payments first: templates compiled, pools open, the worker's first fork done.
        warm = Client(stack.web, recorder, stack.relay.port)
        for i in range(4):
            pay(warm, services[i % len(services)])
        time.sleep(2)
        with engine.connect() as conn:
            start_id = conn.execute(text("SELECT coalesce(max(id), 0) FROM payment")).scalar_one()
            start_note = conn.execute(text("SELECT coalesce(max(id), 0) FROM gateway_notification")).scalar_one()
        web_pids = tree(stack.web_proc.pid)
        web0 = sum(proc_cpu(p) for p in web_pids)
        wk0 = proc_cpu(stack.worker_proc.pid, with_children=True)
        db0 = sum(proc_cpu(p) for p in bp.db_backends(db_name))
        me0 = time.process_time()
        errors: list[str] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            c = Client(stack.web, recorder, stack.relay.port)  # every citizen is a new browser
            try:
                pay(c, services[i % len(services)])
            except FlowError as exc:
                with lock:
                    errors.append(str(exc))

        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(payments)))
        http_done = time.perf_counter() - t0
        # Done when every payment is paid and every notification processed.
        q = text(
            "SELECT count(*) FILTER (WHERE state = 'paid'), count(*),"
            " (SELECT count(*) FROM gateway_notification WHERE id > :n AND processed_at IS NULL)"
            " FROM payment WHERE id > :s"
        )
        deadline = time.perf_counter() + 300
        while True:
            with engine.connect() as conn:
                paid, made, pending = conn.execute(q, {"s": start_id, "n": start_note}).one()
            if (paid >= made - len(errors) and pending == 0) or time.perf_counter() > deadline:
                break
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        web1 = sum(proc_cpu(p) for p in web_pids)
        wk1 = proc_cpu(stack.worker_proc.pid, with_children=True)
        db1 = sum(proc_cpu(p) for p in bp.db_backends(db_name))
        me1 = time.process_time()
        with engine.connect() as conn:
            notes = conn.execute(
                text("SELECT count(*) FROM gateway_notification WHERE id > :n"), {"n": start_note}
            ).scalar_one()
    engine.dispose()
    ok = max(paid, 1)
    rate = paid / wall
    print(
        f"end-to-end flow: {paid} of {made} payments paid ({len(errors)} flow errors"
        + (f", e.g. {errors[0]}" if errors else "")
        + f"), {notes} notifications, all processed: {'yes' if pending == 0 else f'no, {pending} left'}"
    )
    print(
        f"  {rate:.1f} payments/s end to end ({wall:.1f} s; the clients' HTTP part alone "
        f"{payments / http_done:.1f}/s) [{'MET' if rate >= 35 else 'NOT MET'} ≥ 35/s; goal 100/s] ({load_avg()})"
    )
    print(
        f"  CPU per payment: gunicorn {((web1 - web0) * 1000 / ok):.1f} ms, worker (with its work horses) "
        f"{((wk1 - wk0) * 1000 / ok):.1f} ms, PostgreSQL backends still open at the end "
        f"{((db1 - db0) * 1000 / ok):.1f} ms (the work horses' own connections end with them and are not "
        f"counted), the {clients} client threads {((me1 - me0) * 1000 / ok):.1f} ms; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"  capacity of a 2-core machine by CPU alone (gunicorn + worker + the PostgreSQL "
        f"backends counted): {2000 / max(((web1 - web0) + (wk1 - wk0) + (db1 - db0)) * 1000 / ok, 0.001):.0f} "
        "payments/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the country (0.01 = a quick run)")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--url", help="measure an already loaded database (kept by --keep) instead of loading one")
    parser.add_argument("--runs", type=int, default=100, help="requests per page measured in-process")
    parser.add_argument("--report-runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--skip-admin", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-flow", action="store_true")
    parser.add_argument("--flow-payments", type=int, default=600)
    parser.add_argument("--flow-clients", type=int, default=16)
    parser.add_argument(
        "--worker",
        action="append",
        help="worker command(s) of the flow (repeatable; default the README's, e.g. also 'flask worker --no-fork')",
    )
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", SERVER)  # bench_pages finds the server's backends through it
    from app import create_app

    create_app({"DATABASE_URL": "sqlite://"})  # import the whole code base now, not midway
    server = make_url(SERVER)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    created = None
    if args.url:
        url = args.url
        db_name = make_url(url).database
    else:
        db_name = created = f"portal_national_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        url = server.set(database=db_name).render_as_string(hide_password=False)
    print(f"{os.cpu_count()} CPUs, {load_avg()}; database {db_name}", flush=True)
    try:
        if created:
            n = sizes(args.scale)
            print("loading: " + ", ".join(f"{v:,} {k}" for k, v in n.items()) + f" (scale {args.scale})", flush=True)
            t0 = time.perf_counter()
            load(url, n)
            print(f"loaded in {time.perf_counter() - t0:.0f} s ({load_avg()})", flush=True)
        with create_engine(url).connect() as conn:
            size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
            counts = conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM payment), (SELECT count(*) FROM obligation),"
                    " (SELECT count(*) FROM municipality), (SELECT count(*) FROM payment_month_summary)"
                )
            ).one()
        print(
            f"database: {counts[0]:,} payments, {counts[1]:,} obligations, {counts[2]:,} municipalities, "
            f"{counts[3]:,} summary rows; {size}",
            flush=True,
        )
        if not args.skip_reports:
            measure_reports(url, args.report_runs)
        measure_statistics(url, args.runs)
        if not args.skip_admin:
            measure_admin(url, args.runs)
        if not args.skip_pages:
            print("citizen pages in-process:")
            measure_home(url, max(5, args.runs // 10))
            measure_pages(url, db_name, args.duration)
        if not args.skip_flow:
            for cmd in args.worker or [None]:
                measure_flow(url, db_name, args.flow_payments, args.flow_clients, cmd)
    finally:
        if created and not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)'))
        elif created:
            print(f"kept: {url}")
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
