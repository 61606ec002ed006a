"""Background jobs on a real RQ queue: the webhook enqueues, a real `rq worker --burst`
in its own process runs the job against the same PostgreSQL database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
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
def rq_app(postgres_url, redis_url):  # type: ignore[no-untyped-def]
    queue_name = f"portal-test-{uuid.uuid4().hex[:12]}"
    app = make_test_app(postgres_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        yield app
        db_session.remove()
    queue = app.extensions["rq_queue"]
    queue.delete(delete_jobs=True)
    app.extensions["redis"].close()
    app.extensions["db_engine"].dispose()


def run_worker(app, timeout: float = 60) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "DEMO_GATEWAY_SECRET": app.config["DEMO_GATEWAY_SECRET"],
        "RATELIMIT_ENABLED": "0",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", app.config["REDIS_URL"], app.config["RQ_QUEUE"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_webhook_enqueues_and_a_real_worker_marks_the_payment_paid(rq_app) -> None:  # type: ignore[no-untyped-def]
    app = rq_app
    queue = app.extensions["rq_queue"]
    client = app.test_client()
    service = make_service(make_municipality(), amount=80000)
    payment = create_payment(service, amount=None, payer_name="Jana Nováková", payer_email="jana@example.cz")
    start_payment(payment, return_url="http://localhost/r", notify_url="http://localhost/webhooks/demo")
    get_gateway("demo").complete(payment.gateway_reference, GatewayStatus.PAID)
    app.extensions["test_outbox"].clear()

    body = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex}", "type": "payment.paid", "reference": payment.gateway_reference, "created": int(time.time())}
    ).encode()
    r = client.post("/webhooks/demo", data=body, headers={SIGNATURE_HEADER: sign(app.config["DEMO_GATEWAY_SECRET"], body)})
    assert r.status_code == 202

    # Enqueued, not run: the payment is still started and the job waits in Redis.
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "app.payments.jobs.process_notification"
    note = db_session.scalar(select(GatewayNotification))
    assert job.args == (note.id,)
    db_session.expire_all()
    assert db_session.get(Payment, payment.id).state == "started"

    result = run_worker(app)
    assert result.returncode == 0, result.stdout + result.stderr
    assert queue.count == 0
    assert "Job OK" in result.stdout + result.stderr or "Successfully completed" in result.stdout + result.stderr

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
