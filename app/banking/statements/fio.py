"""Pulling movements from the Fio Bank API (one token per account).

A small client of our own rather than the ``fiobank`` package: fiobank retries HTTP 409
itself, up to three times with random waits of up to two minutes, and no public setting
turns that off; a web request or an RQ job must not sleep that long. Here a 409 surfaces
at once as ``FioThrottled(retry_after)`` for the caller to schedule around, and the raw
JSON goes through the same reader as an uploaded Fio file.

The cursor: ``last`` hands out the movements after Fio's server-side cursor and moves
it. A refused call (409, 500, 404, a connection that never opened) does not move it. When
a call may have reached Fio but its answer was lost or unreadable, the error says
``cursor_may_have_moved``: call ``set_last_id(the last id you stored)`` (30 s later) before
the next ``fetch_new``. Keep ``statement.last_id`` after storing a pull's lines."""

from __future__ import annotations

import re
from datetime import date

import requests

from .fio_json import statement_from_fio_bytes
from .model import Statement, StatementError

DEFAULT_BASE_URL = "https://fioapi.fio.cz/v1/rest/"
THROTTLE_SECONDS = 30.0  # Fio allows one call per token per 30 s


class FioError(Exception):
    """A pull that failed; ``code``: rejected (bad token, or Fio failing: Fio answers both
    with HTTP 500), unavailable, unreachable, bad_request, bad_response."""

    def __init__(self, code: str, message: str, *, cursor_may_have_moved: bool = False) -> None:
        self.code = code
        self.message = message
        self.cursor_may_have_moved = cursor_may_have_moved
        super().__init__(f"{code}: {message}")


class FioThrottled(FioError):
    """HTTP 409: this token was used less than 30 s ago. Try again after ``retry_after`` s."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__("throttled", f"Fio allows one call per token every 30 s; try again in {retry_after:.0f} s")


class FioSource:
    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        if not token or not token.strip():
            raise ValueError("a Fio token is required")
        self._token = token.strip()
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # never show the token
        return f"FioSource(base_url={self.base_url!r})"

    def fetch_new(self) -> Statement:
        """Movements since the last pull (Fio's ``last``; moves the cursor)."""
        body = self._get(f"last/{self._token}/transactions.json", moves_cursor=True)
        # Fio's cursor may stop mid-day while its balances are whole days': no balance check.
        return self._statement(body, moves_cursor=True, check_balance=False)

    def fetch_period(self, start: date, end: date) -> Statement:
        """Movements booked from ``start`` to ``end`` inclusive; the cursor stays."""
        if end < start:
            raise ValueError("the period ends before it starts")
        body = self._get(f"periods/{self._token}/{start.isoformat()}/{end.isoformat()}/transactions.json")
        return self._statement(body, moves_cursor=False, check_balance=True)

    def set_last_id(self, movement_id: int | str) -> None:
        """Put Fio's cursor after the movement ``movement_id``: the next fetch_new starts there."""
        if not re.fullmatch(r"[0-9]+", str(movement_id)):
            raise ValueError("a Fio movement id is a number")
        self._get(f"set-last-id/{self._token}/{movement_id}/")

    def set_last_date(self, day: date) -> None:
        """Put Fio's cursor after the last movement of ``day``."""
        self._get(f"set-last-date/{self._token}/{day.isoformat()}/")

    # -- HTTP ------------------------------------------------------------------------------
    def _get(self, path: str, *, moves_cursor: bool = False) -> bytes:
        try:
            response = self._session.get(self.base_url + path, timeout=self.timeout)
        except requests.ConnectionError as exc:
            # A connection that never opened cannot have moved the cursor; one that broke
            # after the request went out may have.
            never_sent = isinstance(exc, requests.ConnectTimeout) or "NewConnectionError" in repr(exc)
            raise FioError(
                "unreachable",
                "Fio could not be reached; try again later",
                cursor_may_have_moved=moves_cursor and not never_sent,
            ) from None
        except requests.Timeout:
            raise FioError(
                "unreachable", f"Fio did not answer within {self.timeout:.0f} s", cursor_may_have_moved=moves_cursor
            ) from None
        except requests.RequestException as exc:
            raise FioError(
                "unreachable", f"Fio could not be reached ({type(exc).__name__})", cursor_may_have_moved=moves_cursor
            ) from None
        status = response.status_code
        if status == 409:
            raise FioThrottled(_retry_after(response.headers.get("Retry-After")))
        if status == 500:
            raise FioError(
                "rejected",
                "Fio answered HTTP 500: the token does not exist or is not active (check it in Fio's internet "
                "banking), or Fio is failing; if the token is valid, try again later",
            )
        if status == 404:
            raise FioError("bad_request", "Fio answered HTTP 404: the request was not understood")
        if status >= 500:
            raise FioError("unavailable", f"Fio is unavailable (HTTP {status}); try again later")
        if status != 200:
            raise FioError("bad_request", f"Fio answered HTTP {status}")
        return response.content

    def _statement(self, body: bytes, *, moves_cursor: bool, check_balance: bool) -> Statement:
        try:
            return statement_from_fio_bytes(body, check_balance=check_balance)
        except StatementError as exc:
            raise FioError(
                "bad_response", f"Fio's answer could not be read: {exc.message}", cursor_may_have_moved=moves_cursor
            ) from exc


def _retry_after(header: str | None) -> float:
    try:
        return max(1.0, float(header)) if header else THROTTLE_SECONDS
    except ValueError:
        return THROTTLE_SECONDS
