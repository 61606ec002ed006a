"""Pulling new movements from Fio for the accounts that have a token: ``flask banking
pull`` (cron) and the RQ job ``app.banking.jobs.pull_account_job``.

Nothing is lost: Fio's cursor moves when it hands out movements, so a pull whose lines
could not be stored (or whose answer was lost) marks the account ``fio_cursor_suspect``;
the next pull first puts Fio's cursor back after the last movement we stored
(``set_last_id``) and fetches again — lines already stored are skipped by their id. A
409 (one call per token per 30 s) records when to try again; the clerk sees the last
successful pull and the last error."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.banking.errors import BankingError
from app.banking.importing import import_statement
from app.banking.secrets import TokenUnreadable, decrypt_token
from app.banking.statements import FioError, FioSource, FioThrottled
from app.db import db_session, utcnow
from app.models import BankAccount

log = logging.getLogger(__name__)
SET_CURSOR_BACK_DAYS = 30  # no movement stored yet: fetch again from this many days back


@dataclass(frozen=True)
class PullOutcome:
    account_id: int
    status: str  # imported | throttled | waiting | cursor_reset | failed | skipped
    new_lines: int = 0
    retry_after: float | None = None
    error: str | None = None


def _aware(moment):  # type: ignore[no-untyped-def]
    # SQLite gives naive datetimes back: they are UTC.
    from datetime import UTC

    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def pull_account(account_id: int, *, base_url: str | None = None) -> PullOutcome:
    """One pull for one account; commits what it learnt whatever happens."""
    session = db_session()
    account = session.get(BankAccount, account_id)
    if account is None or not account.active or account.fio_token_encrypted is None:
        return PullOutcome(account_id, "skipped")
    now = utcnow()
    not_before = _aware(account.next_pull_after)
    if not_before is not None and now < not_before:
        return PullOutcome(account_id, "waiting", retry_after=(not_before - now).total_seconds())
    try:
        token = decrypt_token(account.fio_token_encrypted)
    except TokenUnreadable as exc:
        return _failed(account, str(exc))
    source = FioSource(token, base_url or current_app.config["FIO_API_URL"], timeout=30)
    try:
        if account.fio_cursor_suspect:
            if account.fio_last_id:
                source.set_last_id(account.fio_last_id)
            else:
                source.set_last_date(date.today() - timedelta(days=SET_CURSOR_BACK_DAYS))
            account.fio_cursor_suspect = False
            account.next_pull_after = utcnow() + timedelta(seconds=30)
            session.commit()
            return PullOutcome(account_id, "cursor_reset", retry_after=30)
        statement = source.fetch_new()
    except FioThrottled as exc:
        account.next_pull_after = utcnow() + timedelta(seconds=exc.retry_after)
        account.last_pull_error = exc.message[:500]
        account.last_pull_error_at = utcnow()
        session.commit()
        return PullOutcome(account_id, "throttled", retry_after=exc.retry_after, error=exc.message)
    except FioError as exc:
        if exc.cursor_may_have_moved:
            account.fio_cursor_suspect = True
        return _failed(account, exc.message)

    account_id = account.id
    try:
        result = import_statement(account_id, statement, source="fio")
        account = session.get(BankAccount, account_id)
        assert account is not None
        if statement.last_id:
            account.fio_last_id = statement.last_id
        account.last_pull_at = utcnow()
        account.last_pull_error = None
        account.next_pull_after = utcnow() + timedelta(seconds=30)
        session.commit()
        return PullOutcome(account_id, "imported", new_lines=result.new_lines)
    except Exception as exc:  # noqa: BLE001 - the lines are not stored: Fio must hand them out again
        session.rollback()
        account = session.get(BankAccount, account_id)
        assert account is not None
        account.fio_cursor_suspect = True
        message = exc.describe() if isinstance(exc, BankingError) else f"{type(exc).__name__}: {exc}"
        log.exception("Fio pull of account %s could not be stored", account_id)
        return _failed(account, message)


def _failed(account: BankAccount, message: str) -> PullOutcome:
    account.last_pull_error = message[:500]
    account.last_pull_error_at = utcnow()
    db_session.commit()
    return PullOutcome(account.id, "failed", error=message)


def accounts_to_pull() -> list[int]:
    return list(
        db_session.scalars(
            select(BankAccount.id)
            .where(BankAccount.active.is_(True), BankAccount.fio_token_encrypted.is_not(None))
            .order_by(BankAccount.id)
        )
    )


def pull_all(*, base_url: str | None = None) -> list[PullOutcome]:
    return [pull_account(account_id, base_url=base_url) for account_id in accounts_to_pull()]
