"""A fake Fio Bank API on loopback over real HTTP, answering what the real one answers
(``https://fioapi.fio.cz/v1/rest/…``; paths carry the token):

- ``last/{token}/transactions.json``: movements after the token's cursor; moves the cursor
- ``periods/{token}/{from}/{to}/transactions.json``: movements of those days (cursor stays)
- ``set-last-id/{token}/{id}/``, ``set-last-date/{token}/{YYYY-MM-DD}/``: move the cursor
- HTTP 409 when a token is used again within the throttle window (30 s at Fio; short in
  tests); the window runs from the last answered call, a refused one does not extend it
- HTTP 500 for a token that does not exist or is not active (Fio's documentation, 8.4)
- ``fail_next(n, status)``: the next n calls fail (an outage) and change nothing

JSON shaped like the real API's: ``accountStatement.info`` and
``transactionList.transaction[]`` of ``columnN: {"value", "name", "id"}``; amounts are
JSON numbers written from haléře (never through float)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COLUMN_NAMES = {
    0: "Datum", 1: "Objem", 2: "Protiúčet", 3: "Kód banky", 4: "KS", 5: "VS", 6: "SS",
    7: "Uživatelská identifikace", 8: "Typ", 9: "Provedl", 10: "Název protiúčtu",
    12: "Název banky", 14: "Měna", 16: "Zpráva pro příjemce", 17: "ID pokynu",
    18: "Upřesnění", 22: "ID pohybu", 25: "Komentář", 26: "BIC", 27: "Reference plátce",
}  # fmt: skip
_NUMBER = re.compile(r'"@@(-?[0-9]+\.[0-9]{2})@@"')


def _money(haler: int) -> str:
    # A placeholder string replaced by a bare JSON number after json.dumps.
    sign = "-" if haler < 0 else ""
    return f"@@{sign}{abs(haler) // 100}.{abs(haler) % 100:02d}@@"


def _dumps(document: object) -> bytes:
    return _NUMBER.sub(r"\1", json.dumps(document, ensure_ascii=False)).encode()


@dataclass
class FakeMovement:
    id: int
    day: date
    amount: int  # haléře
    vs: str | None = None
    ks: str | None = None
    ss: str | None = None
    counter_account: str | None = None
    bank_code: str | None = None
    name: str | None = None
    message: str | None = None
    type: str = "Bezhotovostní příjem"
    currency: str = "CZK"

    def columns(self) -> dict[str, object]:
        values: dict[int, object] = {
            0: f"{self.day.isoformat()}+0100",
            1: _money(self.amount),
            2: self.counter_account,
            3: self.bank_code,
            4: self.ks,
            5: self.vs,
            6: self.ss,
            7: self.message,
            8: self.type,
            10: self.name,
            14: self.currency,
            16: self.message,
            17: self.id + 1_000_000,
            22: self.id,
        }
        return {
            f"column{i}": None if values.get(i) is None else {"value": values[i], "name": name, "id": i}
            for i, name in COLUMN_NAMES.items()
        }


@dataclass
class FakeAccount:
    token: str
    account_id: str = "2801234578"
    bank_id: str = "2010"
    iban: str = "CZ0520100000002801234578"
    currency: str = "CZK"
    opening: int = 0  # balance before the first movement, haléře
    movements: list[FakeMovement] = field(default_factory=list)
    cursor: int = 0  # id of the last movement handed out by "last"
    last_call: float = float("-inf")

    def balance_before(self, index: int) -> int:
        return self.opening + sum(m.amount for m in self.movements[:index])

    def statement(self, chosen: list[FakeMovement], start: date, end: date) -> dict[str, object]:
        first = self.movements.index(chosen[0]) if chosen else len(self.movements)
        opening = self.balance_before(first)
        return {
            "accountStatement": {
                "info": {
                    "accountId": self.account_id,
                    "bankId": self.bank_id,
                    "currency": self.currency,
                    "iban": self.iban,
                    "bic": "FIOBCZPPXXX",
                    "openingBalance": _money(opening),
                    "closingBalance": _money(opening + sum(m.amount for m in chosen)),
                    "dateStart": f"{start.isoformat()}+0100",
                    "dateEnd": f"{end.isoformat()}+0100",
                    "yearList": None,
                    "idList": None,
                    "idFrom": chosen[0].id if chosen else None,
                    "idTo": chosen[-1].id if chosen else None,
                    "idLastDownload": self.cursor or None,
                },
                "transactionList": {"transaction": [m.columns() for m in chosen]},
            }
        }


class FakeFio:
    """State of the fake; ``serve()`` runs it. ``base_url`` ends with ``/v1/rest/``."""

    def __init__(self, throttle_seconds: float = 0.3) -> None:
        self.throttle_seconds = throttle_seconds
        self.accounts: dict[str, FakeAccount] = {}
        self.requests: list[tuple[str, int]] = []  # (path without token, status)
        self._failures: list[tuple[int, bytes, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.base_url = ""

    def add_account(self, token: str, **kwargs: object) -> FakeAccount:
        account = FakeAccount(token=token, **kwargs)  # type: ignore[arg-type]
        self.accounts[token] = account
        return account

    def add_movement(self, token: str, **kwargs: object) -> FakeMovement:
        account = self.accounts[token]
        next_id = max((m.id for m in account.movements), default=26512340000) + 1
        movement = FakeMovement(id=kwargs.pop("id", next_id), **kwargs)  # type: ignore[arg-type]
        account.movements.append(movement)
        return movement

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        body: bytes = b"<html><body>Chyba</body></html>",
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``count`` calls get this answer and change nothing (an outage; with
        status 200, an answer garbled on the way)."""
        self._failures += [(status, body, headers or {})] * count

    def reset_throttle(self) -> None:
        for account in self.accounts.values():
            account.last_call = float("-inf")

    # -- the API ------------------------------------------------------------------------
    def answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            match = re.fullmatch(r"/v1/rest/([a-z-]+)/([^/]+)/(.*)", path)
            if not match:
                return 404, b"", {}
            action, token, rest = match.groups()
            if self._failures:
                return self._failures.pop(0)
            account = self.accounts.get(token)
            if account is None:
                return 500, b"", {}
            now = time.monotonic()
            if now - account.last_call < self.throttle_seconds:
                return 409, b"", {}
            status, body = self._action(account, action, rest)
            if status == 200:
                account.last_call = now
            return status, body, {"Content-Type": "application/json;charset=UTF-8"} if body else {}

    def _action(self, account: FakeAccount, action: str, rest: str) -> tuple[int, bytes]:
        if action == "last" and rest == "transactions.json":
            chosen = [m for m in account.movements if m.id > account.cursor]
            today = date.today()
            start = chosen[0].day if chosen else today
            end = chosen[-1].day if chosen else today
            document = account.statement(chosen, start, end)
            if chosen:
                account.cursor = chosen[-1].id
            return 200, _dumps(document)
        if action == "periods":
            parts = rest.split("/")
            if len(parts) != 3 or parts[2] != "transactions.json":
                return 404, b""
            try:
                start, end = date.fromisoformat(parts[0]), date.fromisoformat(parts[1])
            except ValueError:
                return 404, b""
            chosen = [m for m in account.movements if start <= m.day <= end]
            document = account.statement(chosen, start, end)
            if not chosen:  # the balances of the days asked for, not of the whole history
                before = [m for m in account.movements if m.day < start]
                balance = _money(account.opening + sum(m.amount for m in before))
                info = document["accountStatement"]["info"]  # type: ignore[index]
                info["openingBalance"] = info["closingBalance"] = balance
            return 200, _dumps(document)
        if action == "set-last-id" and re.fullmatch(r"[0-9]+/?", rest):
            account.cursor = int(rest.rstrip("/"))
            return 200, b""
        if action == "set-last-date" and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}/?", rest):
            day = date.fromisoformat(rest.rstrip("/"))
            account.cursor = max((m.id for m in account.movements if m.day <= day), default=0)
            return 200, b""
        return 404, b""

    @contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                status, body, headers = fake.answer(self.path.split("?")[0])
                fake.requests.append((re.sub(r"^(/v1/rest/[a-z-]+)/[^/]+", r"\1/TOKEN", self.path), status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # quiet tests

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="fake-fio", daemon=True)
        thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_port}/v1/rest/"
        try:
            yield self.base_url
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
