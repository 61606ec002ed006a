"""A webhook receiver on loopback that answers as told: fail (500), time out, succeed."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes import LoopbackServer


class Receiver:
    def __init__(self) -> None:
        self.script: list[str] = []  # "fail" | "timeout" | "ok", one per request; then "ok"
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server = LoopbackServer(self._app)
        self.url = self.server.url + "/hook"

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.received.append((headers, body))
        what = self.script.pop(0) if self.script else "ok"
        if what == "timeout":
            time.sleep(1.5)
        if what == "fail":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    def stop(self) -> None:
        self.server.stop()
