"""Bank jobs for the RQ worker: take ids, call the domain."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.banking.pulling import accounts_to_pull, pull_account
from app.jobs import enqueue, in_app


@in_app
def pull_account_job(account_id: int) -> str:
    """Pull one account; when Fio says wait, the job puts itself back on the queue for
    then (RQ's scheduler: ``rq worker --with-scheduler``); cron's ``flask banking pull``
    catches it otherwise."""
    outcome = pull_account(account_id)
    queue = current_app.extensions.get("rq_queue")
    if outcome.retry_after is not None and queue is not None:
        queue.enqueue_in(timedelta(seconds=outcome.retry_after + 1), pull_account_job, account_id)
    return outcome.status


@in_app
def pull_all_job() -> int:
    ids = accounts_to_pull()
    for account_id in ids:
        enqueue(pull_account_job, account_id)
    return len(ids)
