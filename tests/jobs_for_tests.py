"""Jobs that misbehave on purpose, for the worker tests (importable by the worker)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def die_once(marker: str) -> str:
    """The first run kills its own process (a work horse killed mid-job); the next survives."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


def hang_once(marker: str) -> str:
    """The first run writes its pid and hangs (until the test kills it); the next survives."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        time.sleep(120)
    return "survived"
