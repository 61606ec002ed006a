"""The production-shaped stack the chaos suite breaks: its own PostgreSQL cluster and
Redis on free loopback ports, gunicorn (2 workers, ``wsgi:app``), the worker command the
README's production section names, and the cron commands it lists.

Nothing here imports the application: the stack is driven through processes, HTTP and
SQL. Notifications the demo gateway sends go to ``BASE_URL``, which points at a relay in
this process (the gateway's side of the network): it forwards them to gunicorn, counts
the answers, and can drop them (``relay.drop = True``) without telling the gateway.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DEFAULT_WORKER = 'rq worker --url "$REDIS_URL" portal'
DEFAULT_CRON = ["flask payments expire", "flask payments poll"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_commands(text: str | None = None) -> tuple[str, list[str]]:
    """The worker command and the frequent cron commands of the README's production
    section, so the suite runs what a deployment runs (daily report commands excluded)."""
    if text is None:
        text = (ROOT / "README.md").read_text(encoding="utf-8")
    worker = DEFAULT_WORKER
    m = re.search(r"\bworker\b[^`\n]*?:\s*`([^`]+)`", text, re.I)
    if m:
        worker = m.group(1)
    cron = DEFAULT_CRON
    # From the "cron:" bullet to the next top-level bullet or heading.
    m = re.search(r"^\s*- cron:(.*?)(?=^- |^#|\Z)", text, re.S | re.M | re.I)
    if m:
        found = [c for c in re.findall(r"`(flask [^`]+)`", m.group(1)) if " report " not in f" {c} "]
        cron = found or cron
    return worker, cron


class Relay:
    """Forwards POSTs to gunicorn for the demo gateway's notifier; records each answer."""

    def __init__(self, target_port: int, recorder) -> None:  # type: ignore[no-untyped-def]
        self.target_port = target_port
        self.recorder = recorder
        self.drop = False
        self.dropped = 0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # type: ignore[no-untyped-def]
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                started = time.time()
                if relay.drop:
                    relay.dropped += 1
                    status, data = 204, b""
                else:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    try:
                        conn = http.client.HTTPConnection("127.0.0.1", relay.target_port, timeout=30)
                        conn.request("POST", self.path, body=body, headers=headers)
                        resp = conn.getresponse()
                        status, data = resp.status, resp.read()
                        conn.close()
                    except OSError:
                        status, data = 502, b""
                    relay.recorder.record(started, time.time(), status, "notify:gateway")
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="relay", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stack:
    """Start with ``with Stack(...) as stack:``; everything is stopped and removed on exit,
    also on Ctrl+C or an error."""

    def __init__(  # type: ignore[no-untyped-def]
        self, recorder, *, seed: bool = True, worker: bool = True, keep: bool = False, env: dict[str, str] | None = None
    ) -> None:
        self.recorder = recorder
        self.extra_env = dict(env or {})
        self.with_seed = seed
        self.with_worker = worker
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="portal-chaos-"))
        self.logs = self.tmp / "logs"
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.web_port = free_port()
        self.pg_data = self.tmp / "pg"
        self.redis_proc: subprocess.Popen[bytes] | None = None
        self.web_proc: subprocess.Popen[bytes] | None = None
        self.worker_proc: subprocess.Popen[bytes] | None = None
        self.workers_started = 0
        self.relay: Relay | None = None
        self.worker_cmd, self.cron_cmds = readme_commands()
        self.secret = secrets.token_hex(16)
        self.database_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/portal"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.web = f"http://127.0.0.1:{self.web_port}"

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Stack:
        self._old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        signal.signal(signal.SIGTERM, self._old_term)

    def start(self) -> None:
        self.logs.mkdir(parents=True)
        self.start_postgres()
        self.start_redis()
        self.relay = Relay(self.web_port, self.recorder)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PG", "RQ_"))},
            "PYTHONPATH": str(ROOT),
            "FLASK_APP": "wsgi",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": secrets.token_hex(16),
            "DEMO_GATEWAY_SECRET": self.secret,
            "BASE_URL": f"http://127.0.0.1:{self.relay.port}",
            "ENABLED_GATEWAYS": "demo",
            "MAIL_SERVER": "",
            "SESSION_COOKIE_SECURE": "0",
            # Citizens look up their obligations many times a second from one address.
            "LOOKUP_RATE_LIMIT": "100000 per minute",
            **self.extra_env,
        }
        self.flask("db", ["-m", "alembic", "upgrade", "head"], timeout=180)
        if self.with_seed:
            self.flask("seed", ["-m", "flask", "seed-demo", "--no-payments"], timeout=300)
        self.start_web()
        if self.with_worker:
            self.start_worker()

    def stop(self) -> None:
        for proc in (self.worker_proc, self.web_proc):
            _stop(proc)
        if self.relay is not None:
            self.relay.close()
        _stop(self.redis_proc)
        if (self.pg_data / "PG_VERSION").exists():
            self._pg(["pg_ctl", "stop", "-m", "immediate", "-D", str(self.pg_data)], check=False)
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- PostgreSQL --------------------------------------------------------------------
    def _pg(self, args: list[str], *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}")
        return result

    def start_postgres(self) -> None:
        self.pg_data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres")
            shutil.chown(self.pg_data, "postgres")
            shutil.chown(self.logs, "postgres")
        self._pg(["initdb", "-D", str(self.pg_data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        opts = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.pg_data} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self.pg_opts = opts
        self._pg(["pg_ctl", "start", "-w", "-D", str(self.pg_data), "-l", str(self.logs / "postgres.log"), "-o", opts])
        self.psql("CREATE DATABASE portal", db="postgres")

    def restart_postgres(self) -> None:
        self._pg(
            [
                "pg_ctl",
                "restart",
                "-m",
                "fast",
                "-w",
                "-D",
                str(self.pg_data),
                "-l",
                str(self.logs / "postgres.log"),
                "-o",
                self.pg_opts,
            ]
        )

    def psql(self, sql: str, db: str = "portal") -> str:
        result = self._pg(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "-d",
                db,
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ]
        )
        return result.stdout

    # -- Redis -------------------------------------------------------------------------
    def start_redis(self) -> None:
        log = open(self.logs / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.redis_proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop_redis(self) -> None:
        _stop(self.redis_proc)
        self.redis_proc = None

    # -- the application's processes -------------------------------------------------
    def flask(self, name: str, args: list[str], *, timeout: float = 120, env: dict[str, str] | None = None) -> str:
        """Run ``python <args>`` in the app's environment; its output goes to logs/<name>.log."""
        result = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        with open(self.logs / f"{name}.log", "a") as f:
            f.write(f"$ {' '.join(args)}\n{result.stdout}{result.stderr}")
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
        return result.stdout

    def start_web(self) -> None:
        log = open(self.logs / "gunicorn.log", "ab")  # noqa: SIM115
        self.web_proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.web_port}",
                "--timeout",
                "60",
                "--access-logfile",
                str(self.logs / "access.log"),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.web_proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.logs / 'gunicorn.log'}")
            try:
                with urllib.request.urlopen(self.web + "/", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn not ready")

    def worker_argv(self) -> list[str]:
        argv = shlex.split(
            self.worker_cmd.replace("$REDIS_URL", self.redis_url).replace("${REDIS_URL}", self.redis_url)
        )
        if argv[0] == "rq":
            return [sys.executable, "-m", "rq.cli", *argv[1:]]
        if argv[0] == "flask":
            return [sys.executable, "-m", "flask", *argv[1:]]
        return argv

    def start_worker(self) -> None:
        self.workers_started += 1
        log = open(self.logs / "worker.log", "ab")  # noqa: SIM115
        log.write(f"--- worker {self.workers_started}: {self.worker_cmd}\n".encode())
        log.flush()
        self.worker_proc = subprocess.Popen(
            self.worker_argv(), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def worker_busy(self) -> bool:
        """The forking worker has a work horse (a child process) right now."""
        return self.worker_proc is not None and bool(_children(self.worker_proc.pid))

    def kill_worker(self) -> None:
        """kill -9 of the worker and its work horse at once, as a lost machine does (RQ
        puts the horse in a session of its own: a signal to the worker's group misses it)."""
        if self.worker_proc is not None and self.worker_proc.poll() is None:
            for pid in _children(self.worker_proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.killpg(self.worker_proc.pid, signal.SIGKILL)
            self.worker_proc.wait()
        self.worker_proc = None

    def stop_worker(self) -> None:
        _stop(self.worker_proc)
        self.worker_proc = None

    def run_cron(self, extra_env: dict[str, str] | None = None) -> list[str]:
        """The frequent cron commands, each in its own process, all at once."""
        procs = []
        for cmd in self.cron_cmds:
            argv = [sys.executable, "-m", *shlex.split(cmd)]
            procs.append(
                (
                    cmd,
                    subprocess.Popen(
                        argv,
                        cwd=ROOT,
                        env={**self.env, **(extra_env or {})},
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                    ),
                )
            )
        out = []
        with open(self.logs / "cron.log", "a") as f:
            for cmd, p in procs:
                text, _ = p.communicate(timeout=300)
                f.write(f"$ {cmd} (exit {p.returncode})\n{text}")
                out.append(f"{cmd}: exit {p.returncode}: {text.strip().splitlines()[-1] if text.strip() else ''}")
        return out


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _raise_interrupt(signum, frame):  # type: ignore[no-untyped-def]
    raise KeyboardInterrupt
