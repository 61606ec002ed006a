"""The job queue: RQ on Redis when REDIS_URL is set, inline otherwise.

Each domain keeps its jobs in its own ``jobs.py`` (``app.payments.jobs``,
``app.receipts.jobs``, ``app.obligations.jobs``, ``app.reporting.jobs``); they take ids,
never objects, and call the domain (microblog's app/tasks.py). ``in_app`` gives a job
run by the worker the app built by ``create_app``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, has_app_context

log = logging.getLogger(__name__)


def init_queue(app) -> None:  # type: ignore[no-untyped-def]
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        app.extensions["redis"] = Redis.from_url(url)
        app.extensions["rq_queue"] = Queue(app.config["RQ_QUEUE"], connection=app.extensions["redis"])
    else:
        app.extensions["rq_queue"] = None


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``func(*args)`` on the queue, or now when there is no Redis."""
    queue = current_app.extensions.get("rq_queue")
    if queue is None:
        return func(*args, **kwargs)
    return queue.enqueue(func, *args, **kwargs)


def in_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """In a worker there is no app: make one, and clean the session after the job."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return fn(*args, **kwargs)
        from app import create_app

        app = _worker_app.get("app") or create_app()
        _worker_app["app"] = app
        with app.app_context():
            return fn(*args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__module__ = fn.__module__
    wrapper.__doc__ = fn.__doc__
    return wrapper


_worker_app: dict[str, Any] = {}
