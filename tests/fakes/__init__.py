"""Fakes of external services that speak real HTTP on loopback (port 0, in a thread)."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server


class LoopbackServer:
    """A WSGI app served on 127.0.0.1 at a free port in a daemon thread."""

    def __init__(self, wsgi_app: Any):
        self._server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
