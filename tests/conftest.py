"""Test fixtures: a fresh database per test session (SQLite file, or a new PostgreSQL
database on the server DATABASE_URL names), tables emptied between tests.

With CI set, a PostgreSQL or Redis that cannot be reached fails the test run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import app.models  # noqa: F401 - every table is known before prepare_schema creates them
from app import create_app
from app import models as _models  # noqa: F401  (every table in Base.metadata before create_all)
from app.db import Base, db_session, make_engine

IN_CI = bool(os.environ.get("CI"))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is unreachable: {error}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _pg_server_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_PG
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@contextmanager
def temporary_postgres_database(prefix: str = "portal_test") -> Iterator[str]:
    """A new, empty PostgreSQL database on the server DATABASE_URL names, dropped afterwards."""
    server = make_url(_pg_server_url())
    if not server.drivername.startswith("postgresql"):
        server = make_url(DEFAULT_PG)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        unavailable("PostgreSQL", exc)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test session, dropped afterwards."""
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    from redis import Redis

    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", exc)
    return url


_schemas: set[str] = set()


def prepare_schema(url: str) -> None:
    engine = make_engine(url)
    if url not in _schemas:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        _schemas.add(url)
    else:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
    engine.dispose()


def make_test_app(url: str, **overrides: object):  # type: ignore[no-untyped-def]
    prepare_schema(url)
    outbox: list[tuple[str, bytes, dict[str, str]]] = []
    config: dict[str, object] = {
        "TESTING": True,
        "DATABASE_URL": url,
        "REDIS_URL": None,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "CATALOG_CACHE_SECONDS": 0,  # tests that need the catalogue cache turn it on
        "SECRET_KEY": "test-secret",
        # A fixed Fernet key for the gateway accounts' secrets (tests/gateway_accounts/).
        "SECRET_ENCRYPTION_KEYS": "mW0Aq1bq2cS1y4Tj7K9fOa5mZ3oPq8rS6uV0wX2yZ4A=",
        "BASE_URL": "http://localhost",
        "SERVER_NAME": "localhost",
        # A sandbox deployment: live municipalities may use the demo gateway too (tests of
        # the refusal turn it off).
        "ALLOW_DEMO_GATEWAY": True,
        "DEMO_GATEWAY_NOTIFIER": lambda u, b, h: outbox.append((u, b, h)),
        "MAIL_SERVER": "",
        # Cheap password hashing in tests (production keeps argon2's default cost).
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
    }
    config.update(overrides)
    app = create_app(config)
    app.extensions["test_outbox"] = outbox
    return app


def _db_param() -> list[str]:
    return ["database"]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The database of the default app: PostgreSQL when DATABASE_URL names one (CI)."""
    env = os.environ.get("DATABASE_URL", "")
    if env.startswith("postgresql"):
        return request.getfixturevalue("postgres_url")
    return sqlite_url


@pytest.fixture
def app(db_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(db_url)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The same test on the embedded default and on PostgreSQL."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    app = make_test_app(url)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def deliver_notifications(app, client) -> list[int]:  # type: ignore[no-untyped-def]
    """Deliver what the demo gateway sent, through the real webhook route."""
    outbox = app.extensions["test_outbox"]
    codes = []
    while outbox:
        url, body, headers = outbox.pop(0)
        path = url.replace(app.config["BASE_URL"], "")
        codes.append(client.post(path, data=body, headers=headers).status_code)
    return codes


# -- real servers on loopback: the app on a server thread, localstripe ------------------
@contextmanager
def serve_app(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve ``app`` on 127.0.0.1 (free port) from a real server thread; yields its base
    URL. BASE_URL follows the port, so return and notify URLs point at this server."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(BASE_URL=base, SERVER_NAME=None)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


_LOCALSTRIPE = """
import socket, sys
import aiohttp.web
import localstripe.resources
import localstripe.server
# localstripe 1.15.10 dumps its whole store after every write to the fixed path
# /tmp/localstripe.pickle (whatever TMPDIR says); parallel test servers would fight over
# it. It is only ever read by its own CLI, so this server keeps its state in memory.
localstripe.resources.Store.dump_to_disk = lambda self: None
# Bound here, on loopback, to a free port chosen by the kernel: no race for the port.
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
sock.listen(128)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(sock.getsockname()[1]))
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
aiohttp.web.run_app(localstripe.server.app, sock=sock, print=None)
"""


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe (the Stripe test server) in a subprocess on 127.0.0.1; yields its URL.

    It gets its own TMPDIR and does not dump its state to disk (see _LOCALSTRIPE)."""
    tmp = tmp_path_factory.mktemp("localstripe")
    port_file = tmp / "port"
    log = open(tmp / "localstripe.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCALSTRIPE, str(port_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    base = ""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if not base and port_file.exists():
                base = f"http://127.0.0.1:{port_file.read_text().strip()}"
            if base:
                try:
                    with urllib.request.urlopen(base + "/js.stripe.com/v3/", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            pytest.fail(f"localstripe did not start: {(tmp / 'localstripe.log').read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def stripe_server(localstripe: str) -> str:
    """localstripe emptied for this test (its webhook registrations survive: re-register)."""
    req = urllib.request.Request(localstripe + "/_config/data", method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    return localstripe


def stripe_settings(localstripe_url: str) -> dict[str, object]:
    """App configuration that points the Stripe gateway and Stripe.js at localstripe."""
    return {
        "ENABLED_GATEWAYS": ["demo", "stripe"],
        "STRIPE_SECRET_KEY": "sk_test_portal",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_portal",
        "STRIPE_WEBHOOK_SECRET": "whsec_portal_test",
        "STRIPE_API_BASE": localstripe_url,
        "STRIPE_JS_URL": localstripe_url + "/js.stripe.com/v3/",
    }
