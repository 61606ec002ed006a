"""The job queue: RQ on Redis when REDIS_URL is set, inline otherwise.

Each domain keeps its jobs in its own ``jobs.py`` (``app.payments.jobs``,
``app.receipts.jobs``, ``app.obligations.jobs``, ``app.reporting.jobs``); they take ids,
never objects, and call the domain (microblog's app/tasks.py).

The worker is ``flask worker`` (``AppWorker``): it builds the app once, before it forks,
and every job runs in that app's context in the forked child. ``in_app`` is only the
fallback for a plain ``rq worker`` (it builds the app once per process).

Nothing is lost when a job cannot run: jobs are enqueued with ``Retry`` (backoff from
``JOB_RETRY_INTERVALS``); a job whose worker was killed is retried by the registry clean-up
that ``sweep`` runs; and work that must happen is also recorded in the database (an
unprocessed ``GatewayNotification``) so that ``sweep`` schedules it again.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import configure_mappers

log = logging.getLogger(__name__)

# RQ statuses of a job that will still run: enqueueing it again would run it twice.
_PENDING_STATUSES = frozenset({"queued", "started", "scheduled", "deferred"})


def init_queue(app) -> None:  # type: ignore[no-untyped-def]
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        # Short timeouts: when Redis is unreachable a request must not hang on it (the
        # caller falls back, e.g. the webhook leaves the notification to the sweep).
        app.extensions["redis"] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE"], connection=app.extensions["redis"])
    else:
        app.extensions["rq_queue"] = None


def _retry() -> Any:
    from rq import Retry

    intervals = [int(s) for s in current_app.config.get("JOB_RETRY_INTERVALS", [10, 60, 300])]
    if not intervals:
        return None
    # An interval of 0 everywhere means "again at once" (no scheduler needed; the tests use it).
    if not any(intervals):
        return Retry(max=len(intervals))
    return Retry(max=len(intervals), interval=intervals)


def enqueue(func: Callable[..., Any], *args: Any, job_id: str | None = None, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)`` on the queue, or now when there is no Redis.

    Queued jobs are retried with backoff when they fail or their worker dies. With
    ``job_id``, a job of that id that is still queued, scheduled or running is not
    enqueued again (the sweep uses this to schedule work at most once)."""
    queue = current_app.extensions.get("rq_queue")
    if queue is None:
        return func(*args, **kwargs)
    if job_id is not None:
        from rq.job import Job

        job = Job.fetch(job_id, connection=queue.connection) if _job_exists(queue, job_id) else None
        if job is not None and job.get_status(refresh=False) in _PENDING_STATUSES and not _orphaned(job):
            return job
    return queue.enqueue(func, *args, job_id=job_id, retry=_retry(), **kwargs)


# A running job's worker beats every ``job_monitoring_interval`` (30 s); one silent for
# longer than its heartbeat TTL (interval + 60 s) had its worker killed.
STALE_HEARTBEAT_SECONDS = 120


def _orphaned(job: Any) -> bool:
    """A job still marked "started" whose worker died (``kill -9``): RQ's registry
    clean-up may never change its status, so enqueueing it again is the only way its
    work gets done (jobs are idempotent: they check what is left to do)."""
    if job.get_status(refresh=False) != "started":
        return False
    from datetime import UTC, datetime

    beat = job.last_heartbeat or job.started_at
    if beat is None:
        return True
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return (datetime.now(UTC) - beat).total_seconds() > STALE_HEARTBEAT_SECONDS


def _job_exists(queue: Any, job_id: str) -> bool:
    from rq.job import Job

    return bool(queue.connection.exists(Job.key_for(job_id)))


def in_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A job runs in the worker's app (``flask worker``); under a plain ``rq worker`` there
    is none, so one is built once per process and the session is cleaned after the job."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return fn(*args, **kwargs)
        from app import create_app
        from app.db import db_session

        app = _worker_app.get("app")
        if app is None:
            log.warning("%s: built an app for this job; run the worker as `flask worker`", fn.__qualname__)
            app = _worker_app["app"] = create_app()
        with app.app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db_session.remove()

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__module__ = fn.__module__
    wrapper.__doc__ = fn.__doc__
    return wrapper


_worker_app: dict[str, Any] = {}


def make_worker(app: Flask, *, burst: bool = False, fork: bool = True) -> Any:
    """The RQ worker of ``flask worker``: the app is built (by the CLI) before the worker
    forks, so each forked child inherits it instead of building its own.

    ``fork=False`` (``flask worker --no-fork``): the jobs run in the worker process itself
    (RQ's SimpleWorker), keeping its connection pool and SQLAlchemy's caches from job to
    job: several times less CPU per job, but a job that crashes the interpreter or leaks
    takes the worker with it (its job is then retried by ``flask jobs sweep``)."""
    from rq import SimpleWorker, Worker

    base = Worker if fork else SimpleWorker

    class AppWorker(base):  # type: ignore[valid-type,misc]
        def perform_job(self, job, queue, execution):  # type: ignore[no-untyped-def]
            from app.db import db_session

            # Connections of the parent's pool must not be shared with a forked child:
            # drop them here without closing them (that would close the parent's too).
            if os.getpid() != parent_pid:
                app.extensions["db_engine"].dispose(close=False)
            with app.app_context():
                try:
                    return super().perform_job(job, queue, execution)
                finally:
                    db_session.remove()

    parent_pid = os.getpid()
    # Work each child would otherwise repeat for every job, done once before forking:
    # configuring the ORM's mappers (about 70 ms of CPU, paid by every job before), and
    # moving what the parent built out of the garbage collector's reach, so a collection in
    # a child does not touch (and copy) every page the parent owns.
    configure_mappers()
    gc.collect()
    gc.freeze()
    queue = app.extensions.get("rq_queue")
    if queue is None:
        raise RuntimeError("REDIS_URL is not set: jobs run inline, there is no worker to start")
    return AppWorker([queue], connection=queue.connection)


def clean_abandoned_jobs(timestamp: float | None = None) -> int:
    """Jobs whose worker died mid-job (``kill -9``) stay "started" until their heartbeat
    expires; RQ's clean-up then retries them (they have retries) or fails them. Returns
    how many were found."""
    queue = current_app.extensions.get("rq_queue")
    if queue is None:
        return 0
    registry = queue.started_job_registry
    from rq.utils import current_timestamp

    expired = registry.get_expired_job_ids(timestamp if timestamp is not None else current_timestamp())
    if expired:
        registry.cleanup(timestamp)
    return len(expired)
