"""Background jobs on a real RQ queue: the webhook enqueues, a real forking worker
(`flask worker --burst`, which builds the app once before it forks) in its own process
runs the job against the same PostgreSQL database. Nothing is lost when Redis is down or
a worker is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import db_session
from app.gateways import get_gateway
from app.models import GatewayNotification, Payment
from app.payments.create import create_payment, start_payment
from gateway import GatewayStatus
from gateway.demo import SIGNATURE_HEADER, sign
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_service

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def rq_app(postgres_url, redis_url, tmp_path):  # type: ignore[no-untyped-def]
    queue_name = f"portal-test-{uuid.uuid4().hex[:12]}"
    # Retries at once (no interval): a burst worker runs them without waiting.
    app = make_test_app(
        postgres_url,
        REDIS_URL=redis_url,
        RQ_QUEUE=queue_name,
        RATELIMIT_STORAGE_URI="memory://",
        JOB_RETRY_INTERVALS=[0, 0, 0],
        EXPORT_DIR=str(tmp_path / "exports"),
    )
    with app.app_context():
        yield app
        db_session.remove()
    queue = app.extensions["rq_queue"]
    queue.delete(delete_jobs=True)
    app.extensions["redis"].close()
    app.extensions["db_engine"].dispose()


def worker_env(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "DEMO_GATEWAY_SECRET": app.config["DEMO_GATEWAY_SECRET"],
        "EXPORT_DIR": app.config["EXPORT_DIR"],
        "RATELIMIT_ENABLED": "0",
        "PYTHONPATH": str(ROOT),
    }


WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]


def run_worker(app, timeout: float = 120, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """`flask worker --burst`: the production worker, forking a child per job."""
    return subprocess.run(
        [*WORKER, "--burst", *args], cwd=ROOT, env=worker_env(app), capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("worker_args", [(), ("--no-fork",)], ids=["forking", "no-fork"])
def test_webhook_enqueues_and_a_real_worker_marks_the_payment_paid(rq_app, worker_args) -> None:  # type: ignore[no-untyped-def]
    app = rq_app
    queue = app.extensions["rq_queue"]
    client = app.test_client()
    service = make_service(make_municipality(), amount=80000)
    payment = create_payment(service, amount=None, payer_name="Jana Nováková", payer_email="jana@example.cz")
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/webhooks/demo")
    get_gateway("demo").complete(payment.gateway_reference, GatewayStatus.PAID)
    app.extensions["test_outbox"].clear()

    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.paid",
            "reference": payment.gateway_reference,
            "created": int(time.time()),
        }
    ).encode()
    r = client.post(
        "/webhooks/demo", data=body, headers={SIGNATURE_HEADER: sign(app.config["DEMO_GATEWAY_SECRET"], body)}
    )
    assert r.status_code == 202

    # Enqueued, not run: the payment is still started and the job waits in Redis.
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "app.payments.jobs.process_notification"
    note = db_session.scalar(select(GatewayNotification))
    assert job.args == (note.id,)
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "started"

    result = run_worker(app, 120, *worker_args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert queue.count == 0
    assert "Job OK" in result.stdout + result.stderr or "Successfully completed" in result.stdout + result.stderr
    # The job ran in the worker's app, built once before forking (not one app per job).
    assert "built an app for this job" not in result.stdout + result.stderr

    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "paid"
    assert db_session.get(GatewayNotification, note.id).processed_at is not None
    job.refresh()
    assert job.get_status() == "finished"


def test_housekeeping_jobs_run_on_the_worker(rq_app) -> None:  # type: ignore[no-untyped-def]
    from app import jobs
    from app.payments import jobs as payment_jobs

    app = rq_app
    service = make_service(make_municipality())
    payment = create_payment(service, amount=None, payer_name="Jan Novák", payer_email="jan@example.cz")
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/webhooks/demo")
    get_gateway("demo").complete(payment.gateway_reference, GatewayStatus.PAID)
    job = jobs.enqueue(payment_jobs.sync_payment, payment.id)
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "paid"
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "paid"


def test_without_redis_jobs_run_inline(app) -> None:  # type: ignore[no-untyped-def]
    from app import jobs

    assert app.extensions["rq_queue"] is None
    assert jobs.enqueue(lambda a, b: a + b, 2, 3) == 5


def paid_at_gateway(app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality(), amount=80000)
    payment = create_payment(service, amount=None, payer_name="Jana Nováková", payer_email="jana@example.cz")
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/webhooks/demo")
    get_gateway("demo").complete(payment.gateway_reference, GatewayStatus.PAID)
    app.extensions["test_outbox"].clear()  # the gateway's own notification: sent below
    return payment


def notify(app, payment, event_id: str | None = None):  # type: ignore[no-untyped-def]
    body = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": "payment.paid",
            "reference": payment.gateway_reference,
            "created": int(time.time()),
        }
    ).encode()
    return app.test_client().post(
        "/webhooks/demo", data=body, headers={SIGNATURE_HEADER: sign(app.config["DEMO_GATEWAY_SECRET"], body)}
    )


def test_a_notification_received_while_redis_is_down_is_processed_when_it_is_back(rq_app) -> None:  # type: ignore[no-untyped-def]
    from redis import Redis
    from rq import Queue

    from app.payments.jobs import sweep_notifications

    app = rq_app
    queue = app.extensions["rq_queue"]
    payment = paid_at_gateway(app)
    # Redis is unreachable (nothing listens on port 1): the webhook still answers 2xx,
    # the notification is recorded and waits, unprocessed.
    app.extensions["rq_queue"] = Queue(
        queue.name, connection=Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    )
    r = notify(app, payment, "evt_while_redis_is_down")
    assert r.status_code == 202, r.json
    note = db_session.scalar(select(GatewayNotification))
    assert note.processed_at is None
    # Its replay (the gateway retrying) is 200 "already received", still without Redis.
    r = notify(app, payment, "evt_while_redis_is_down")
    assert r.status_code == 200 and r.json["status"] == "already received"
    app.extensions["rq_queue"] = queue
    assert queue.count == 0
    # Redis is back. The sweep leaves young notifications alone (their job may be on its way)…
    assert sweep_notifications() == 0
    # …and schedules those unprocessed after the delay, once.
    assert sweep_notifications(timedelta(0)) == 1
    assert sweep_notifications(timedelta(0)) == 1 and queue.count == 1
    assert queue.jobs[0].id == f"notification-{note.id}"
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "paid"
    assert db_session.get(GatewayNotification, note.id).processed_at is not None
    assert sweep_notifications(timedelta(0)) == 0


def test_a_notification_whose_gateway_is_down_stays_unprocessed_for_a_retry(rq_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.payments.notifications import process_notification
    from gateway import GatewayError

    app = rq_app
    payment = paid_at_gateway(app)
    assert notify(app, payment).status_code == 202
    note = db_session.scalar(select(GatewayNotification))

    def down(self, reference):  # type: ignore[no-untyped-def]
        raise GatewayError("connection refused")

    monkeypatch.setattr(type(get_gateway("demo")), "get_status", down)
    with pytest.raises(GatewayError):
        process_notification(note.id)
    db_session.rollback()
    assert db_session.get(GatewayNotification, note.id).processed_at is None
    monkeypatch.undo()
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "paid"


def test_obligation_import_runs_on_the_forking_worker(rq_app) -> None:  # type: ignore[no-untyped-def]
    from app.models import ImportStatus, Obligation, ObligationImport
    from app.obligations.jobs import start_import

    app = rq_app
    service = make_service(make_municipality())
    csv = "Zákaznické číslo;Jméno;Částka\r\n1001;Jana Nováková;1250\r\n1002;Petr Šťastný;800\r\n".encode()
    record = start_import(service, csv, "predpisy.csv", created_by="clerk@obec.cz")
    assert db_session.get(ObligationImport, record.id).status == ImportStatus.PENDING
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "UnboundExecutionError" not in result.stdout + result.stderr
    db_session.expire_all()
    done = db_session.get(ObligationImport, record.id)
    assert done.status == ImportStatus.DONE and done.inserted == 2, done.report
    assert {o.customer_id for o in db_session.scalars(select(Obligation))} == {"1001", "1002"}


def test_export_runs_on_the_forking_worker(rq_app) -> None:  # type: ignore[no-untyped-def]
    from app import jobs
    from app.models import ExportStatus
    from app.payments import exports
    from app.payments import search as ap
    from app.payments.jobs import run_export
    from tests.admin.staff_helpers import make_staff
    from tests.factories import make_payment

    app = rq_app
    municipality = make_municipality()
    for _ in range(3):
        make_payment(make_service(municipality))
    clerk = make_staff("clerk", municipality)
    export = exports.start_export_job(clerk.id, municipality.id, "xlsx", ap.PaymentFilter.from_args({}))
    jobs.enqueue(run_export, export.id)
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    db_session.expire_all()
    export = db_session.get(type(export), export.id)
    assert export.status == ExportStatus.DONE, export.error
    assert export.row_count == 3 and Path(export.file_path).stat().st_size > 0


def test_a_job_whose_work_horse_is_killed_is_retried(rq_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import jobs
    from tests.jobs_for_tests import die_once

    app = rq_app
    marker = tmp_path / "died"
    job = jobs.enqueue(die_once, str(marker))
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    assert marker.exists()  # the first run was killed (SIGKILL)…
    assert "terminated unexpectedly" in result.stdout + result.stderr
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "survived"  # …the retry finished it


def _kill_worker_mid_job(app, marker) -> None:  # type: ignore[no-untyped-def]
    """Start the README's worker, wait until ``hang_once`` has started, then kill -9 the
    whole worker, its work horse too: nobody is left to fail the job."""
    worker = subprocess.Popen(
        WORKER, cwd=ROOT, env=worker_env(app), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text().strip():
            assert time.monotonic() < deadline and worker.poll() is None, "the job never started"
            time.sleep(0.1)
        worker.kill()
        worker.wait(timeout=10)
        os.kill(int(marker.read_text()), signal.SIGKILL)
    finally:
        if worker.poll() is None:
            worker.kill()


def test_a_job_of_a_killed_worker_is_retried_after_the_sweep(rq_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app import jobs
    from tests.jobs_for_tests import hang_once

    app = rq_app
    marker = tmp_path / "pid"
    job = jobs.enqueue(hang_once, str(marker))
    _kill_worker_mid_job(app, marker)
    job.refresh()
    assert job.get_status() == "started"
    # The job's heartbeat runs out (about 90 s later; simulated here): the sweep retries it.
    assert jobs.clean_abandoned_jobs(time.time() + 3600) == 1
    assert job.get_status(refresh=True) == "queued"
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "survived"


def test_an_import_whose_worker_died_mid_import_is_imported_by_the_retry(rq_app) -> None:  # type: ignore[no-untyped-def]
    from app.models import ImportStatus, ObligationImport
    from app.obligations.jobs import create_import, import_obligations_job

    service = make_service(make_municipality())
    csv = "Zákaznické číslo;Jméno;Částka\r\n1001;Jana Nováková;1250\r\n".encode()
    record = create_import(service, csv, "predpisy.csv")
    # The killed worker had marked it running (committed) and died before the import's commit.
    record.status = ImportStatus.RUNNING
    db_session.commit()
    assert import_obligations_job(record.id) == ImportStatus.DONE
    db_session.expire_all()
    assert db_session.get(ObligationImport, record.id).inserted == 1


def test_a_named_job_of_a_killed_worker_is_enqueued_again_once_its_heartbeat_is_stale(rq_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The sweep schedules a notification's job by its id at most once at a time; a job
    still marked "started" whose worker was killed must not block it for ever."""
    from datetime import UTC, datetime, timedelta

    from app import jobs
    from tests.jobs_for_tests import hang_once

    app = rq_app
    marker = tmp_path / "pid"
    job = jobs.enqueue(hang_once, str(marker), job_id="notification-killed")
    _kill_worker_mid_job(app, marker)
    job.refresh()
    assert job.get_status() == "started"
    # Its heartbeat is fresh: the job may still be running, so it is not enqueued twice.
    assert jobs.enqueue(hang_once, str(marker), job_id="notification-killed").get_status(refresh=True) == "started"
    # No heartbeat for longer than the worker's TTL: its worker is dead, it runs again.
    job.heartbeat(datetime.now(UTC) - timedelta(seconds=jobs.STALE_HEARTBEAT_SECONDS + 30), 60)
    again = jobs.enqueue(hang_once, str(marker), job_id="notification-killed")
    assert again.id == "notification-killed" and again.get_status(refresh=True) == "queued"
    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    again.refresh()
    assert again.get_status() == "finished" and again.return_value() == "survived"
