"""Benchmark of the citizen pages against a bare Flask + Jinja ceiling.

Creates a fresh PostgreSQL database, migrates it, seeds the Liberec Region demo data,
serves the portal with gunicorn (2 workers, ``wsgi:app``) and the ceiling app
(``benchmarks/ceiling_app.py``, 2 workers), loads each with
``wrk -t2 -c32 -d10s --latency`` one after the other, prints req/s, p50, p99 and the
ratio to the ceiling, then drops the database and stops the servers.

    .venv/bin/python benchmarks/bench_pages.py [--duration 10] [--connections 32]

DATABASE_URL names the PostgreSQL server to use (default postgres@127.0.0.1:5432).
Target: every portal page at least 50 % of the ceiling, p99 under 100 ms. A row for the pay
form requested with a session cookie (a returning visitor) is printed for information only.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    # CPU time the server side spent per request (gunicorn workers + their PostgreSQL
    # backends), from /proc: unlike req/s it does not depend on what else the machine runs.
    cpu_ms: float = 0.0
    db_cpu_ms: float = 0.0  # the PostgreSQL backends' share of cpu_ms


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after "pid (comm) "


def children(ppid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == ppid:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def db_backends(db_name: str | None) -> list[int]:
    if not db_name:
        return []
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(server_url()).set(database="postgres"))
    with admin.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": db_name}).scalars().all()
    admin.dispose()
    return list(pids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_PG
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith("postgresql"):
        url = DEFAULT_PG
    return url


def create_database() -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(server_url())
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, server.set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(server_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrate_and_seed(url: str) -> tuple[str, str]:
    """Returns (municipality slug, service slug) of a joined municipality with services."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")

    from app import create_app
    from app.db import db_session
    from app.demo_data import seed_demo
    from app.models import Municipality, OnboardingState, Service

    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "RATELIMIT_ENABLED": False})
    with app.app_context():
        counts = seed_demo()
        print(f"seeded {counts['municipalities']} municipalities, {counts['services']} services", flush=True)
        m = db_session.scalars(
            select(Municipality)
            .where(Municipality.onboarding_state == OnboardingState.ACTIVE)
            .order_by(Municipality.population.desc().nulls_last())
        ).first()
        service = db_session.scalars(
            select(Service).where(Service.municipality_id == m.id, Service.slug == "pobyt")
        ).first() or db_session.scalars(select(Service).where(Service.municipality_id == m.id)).first()
        slugs = (m.slug, service.slug)
        db_session.remove()
    app.extensions["db_engine"].dispose()
    return slugs


def start_gunicorn(target: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    return proc, port


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(
    name: str,
    url: str,
    *,
    duration: int,
    connections: int,
    threads: int,
    master: int,
    db_name: str | None = None,
    cookie: str | None = None,
) -> Result:
    extra = ["-H", f"Cookie: {cookie}"] if cookie else []
    # A short warm-up so both sides have compiled templates and open connections.
    subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d2s", *extra, url], capture_output=True, check=True)
    workers, backends = children(master), db_backends(db_name)
    cpu_before, db_before = cpu_seconds(workers), cpu_seconds(backends)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    db_cpu = cpu_seconds(backends) - db_before
    cpu = cpu_seconds(workers) - cpu_before + db_cpu
    return Result(name, rps, p50, p99, errors, cpu * 1000 / max(requests, 1), db_cpu * 1000 / max(requests, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    base_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    base_env["PYTHONPATH"] = str(ROOT)
    db_name, db_url = create_database()
    procs: list[subprocess.Popen[bytes]] = []
    results: list[Result] = []
    try:
        m_slug, s_slug = migrate_and_seed(db_url)
        portal_env = {**base_env, "DATABASE_URL": db_url, "RATELIMIT_ENABLED": "0", "SECRET_KEY": "bench"}
        portal, portal_port = start_gunicorn("wsgi:app", portal_env, args.workers)
        procs.append(portal)
        pages = {
            "municipality page": f"http://127.0.0.1:{portal_port}/obec/{m_slug}",
            "service (pay form)": f"http://127.0.0.1:{portal_port}/obec/{m_slug}/{s_slug}",
        }
        wait_ready(next(iter(pages.values())), portal)
        for name, url in pages.items():
            results.append(
                run_wrk(name, url, duration=args.duration, connections=args.connections, threads=args.threads,
                        master=portal.pid, db_name=db_name)
            )
        # Informational, not part of the target: the pay form for a returning visitor, whose
        # browser sends the session cookie back (wrk sends none, so every request above is a
        # first visit that must be issued a signed session cookie with a CSRF token).
        with urllib.request.urlopen(pages["service (pay form)"], timeout=5) as r:
            cookie = r.headers.get("Set-Cookie", "").split(";")[0]
        returning = run_wrk("  (returning visitor)", pages["service (pay form)"], duration=args.duration,
                            connections=args.connections, threads=args.threads, master=portal.pid,
                            db_name=db_name, cookie=cookie or None)
        stop(portal)

        ceiling, ceiling_port = start_gunicorn("benchmarks.ceiling_app:app", base_env, args.workers)
        procs.append(ceiling)
        ceiling_url = f"http://127.0.0.1:{ceiling_port}/obec/{m_slug}"
        wait_ready(ceiling_url, ceiling)
        ceiling_result = run_wrk("ceiling (Flask+Jinja)", ceiling_url, duration=args.duration,
                                 connections=args.connections, threads=args.threads, master=ceiling.pid)
        stop(ceiling)
    finally:
        for p in procs:
            stop(p)
        drop_database(db_name)

    print()
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency; gunicorn -w {args.workers} (sync); "
          f"{os.cpu_count()} CPUs; municipality /obec/{m_slug}, service /obec/{m_slug}/{s_slug}")
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} (other processes share the CPUs: compare the CPU columns)")
    print(f"{'page':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>7}{'of ceiling':>11}"
          f"{'CPU ms/req':>11}{'(of it DB)':>11}{'CPU ratio':>10}")
    ok = True
    for r in [*results, returning, ceiling_result]:
        ratio = r.rps / ceiling_result.rps
        cpu_ratio = ceiling_result.cpu_ms / r.cpu_ms if r.cpu_ms else 0.0
        print(f"{r.name:<24}{r.rps:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>7}{ratio:>11.0%}"
              f"{r.cpu_ms:>11.2f}{r.db_cpu_ms:>11.2f}{cpu_ratio:>10.0%}")
        if r is not ceiling_result and r is not returning:
            ok = ok and ratio >= 0.5 and r.p99_ms < 100 and r.errors == 0
    print("target (>= 50 % of ceiling, p99 < 100 ms, no errors):", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
