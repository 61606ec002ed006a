"""The base of domain errors.

A rule of the domain that says no raises a ``DomainError``: its ``domain`` and ``code``
name the reason ("payment", "refund_amount"), its ``params`` fill the message. The domain
never holds a user-facing sentence; ``app.messages.message_for`` turns an error into the
translated text a page shows."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    domain = "error"

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def key(self) -> str:
        return f"{self.domain}.{self.code}"
