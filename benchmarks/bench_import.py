"""Benchmark: import a 100,000-row payer list (CSV) into a fresh PostgreSQL database,
then import it again (every row an update). Prints rows/s and seconds; target < 10 s.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        /work/main/.venv/bin/python benchmarks/bench_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.db import Base, db_session, make_engine  # noqa: E402
from app.models import Municipality, Obligation, OnboardingState, Service  # noqa: E402
from app.obligations.importing import import_obligations  # noqa: E402
from app.regions import get_or_create_region  # noqa: E402

SURNAMES = ["Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec", "Pokorný"]
NAMES = ["Jan", "Petr", "Jana", "Marie", "Tomáš", "Lucie", "Jiří", "Eva", "Pavel", "Kateřina"]


def make_csv(rows: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    lines = ["Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol;Období;Poznámka"]
    for i in range(rows):
        crowns = rnd.randint(100, 5000)
        amount = f"{crowns // 1000} {crowns % 1000:03d},50" if crowns >= 1000 else f"{crowns},50"
        lines.append(
            f"Z{i:07d};{rnd.choice(NAMES)} {rnd.choice(SURNAMES)};{amount};{rnd.randint(1, 28)}. {rnd.randint(1, 12)}. 2026;"
            f"{2026000000 + i};2026;Č. p. {i % 900 + 1}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    server = make_url(os.environ.get("DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "TESTING": True})
        with app.app_context():
            m = Municipality(
                region_id=get_or_create_region(db_session()).id,
                name="Obec Benchmark",
                slug="benchmark",
                ico="00262978",
                onboarding_state=OnboardingState.ACTIVE,
            )
            db_session.add(m)
            db_session.flush()
            s = Service(municipality_id=m.id, slug="odpad", name="Odpad", amount=50000, lookup_mode="required")
            db_session.add(s)
            db_session.commit()
            data = make_csv(args.rows)
            changed = make_csv(args.rows, seed=2)  # same payers, other amounts and dates
            print(
                f"CSV: {args.rows} rows, {len(data) / 1024 / 1024:.1f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            )
            runs = (("first import", data), ("re-import, same file", data), ("re-import, every row changed", changed))
            for label, payload in runs:
                t, cpu = time.perf_counter(), time.process_time()
                report = import_obligations(s, payload, "bench.csv")
                seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
                assert report.imported, report.lines()[:5]
                print(
                    f"{label}: {seconds:.2f} s, {args.rows / seconds:,.0f} rows/s "
                    f"(database {report.write_seconds:.2f} s, our CPU {cpu:.2f} s; "
                    f"new {report.inserted}, changed {report.updated}, unchanged {report.unchanged})"
                )
            count = db_session.scalar(select(func.count(Obligation.id)))
            assert count == args.rows, count
            print(f"obligations in database: {count}")
            db_session.remove()
        app.extensions["db_engine"].dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
