"""Serve a WSGI app on a real server thread on 127.0.0.1 with a free port.

The socket is bound before the app exists, so the URL is known when configuring apps
that must refer to each other (the portal, the OpenID provider, the SAML IdP)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import make_server


class LoopbackServer:
    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def _dispatch(self, environ, start_response):  # type: ignore[no-untyped-def]
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"not ready"]
        return self.app(environ, start_response)

    def start(self, app: Callable[..., Any]) -> LoopbackServer:
        self.app = app
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
