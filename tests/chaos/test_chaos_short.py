"""The chaos suite's short version (``benchmarks/chaos``, the same code as
``python -m benchmarks.chaos.run --short``): its own PostgreSQL cluster and Redis,
gunicorn and the README's forking RQ worker, five scenarios with small counts.

The suite runs once per test session (under xdist the first worker to get here runs it,
the others read its results); each (scenario, invariant) pair is one test. A pair that
fails because a defect of issue 10 is not fixed yet is ``xfail(strict=True)`` naming the
defect: the day the fix lands it passes, the strict marker turns that into a failure, and
the marker must go.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

import pytest

from benchmarks.chaos.checks import COLUMNS, INVARIANTS
from benchmarks.chaos.run import SHORT_TIMING, run_scenarios
from benchmarks.chaos.scenarios import SCENARIOS, SHORT
from benchmarks.chaos.stack import PG_BIN

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Every defect of issue 10 the short run found is fixed (outbox + sweep, 2xx answers, the
# in-memory rate-limit fallback, ``flask worker`` with retries): no strict marker is left.
KNOWN: dict[tuple[str, str], str] = {}
# Timing, not defects: the short run heals for at most a minute (it stops as soon as every
# invariant holds). A job killed with its worker is re-enqueued by ``flask jobs sweep`` only
# once RQ declares it abandoned (its heartbeat's TTL: 90 s); the PostgreSQL restart cells
# usually heal within the window now that the short run retries after 1, 3 and 10 s, but a
# slow machine can push the last retry past it. The full run
# (``python -m benchmarks.chaos.run``) heals all of them and prints the figures.
TIMING_DEPENDENT = {
    ("worker-kill", "jobs_lost"): "the killed job is swept only after RQ declares it abandoned "
    "(heartbeat TTL), later than the short run's healing window",
    ("postgres-restart", "jobs_lost"): "a job whose queries met the restart is retried after "
    "JOB_RETRY_INTERVALS' first wait, which may fall after the short run's healing window",
    ("postgres-restart", "jobs_backlog"): "the jobs that met the restart wait for their retry "
    "(JOB_RETRY_INTERVALS' first wait), which may fall after the short run's healing window",
}


def _marks(name: str, key: str) -> list[pytest.MarkDecorator]:
    if (name, key) in KNOWN:
        return [pytest.mark.xfail(strict=True, reason=KNOWN[(name, key)])]
    if (name, key) in TIMING_DEPENDENT:
        return [pytest.mark.xfail(strict=False, reason=TIMING_DEPENDENT[(name, key)])]
    return []


CELLS = [
    pytest.param(
        name,
        key,
        id=f"{name}-{key}",
        marks=_marks(name, key),
    )
    for name in SCENARIOS
    for key in INVARIANTS
]


def _binaries_missing() -> str | None:
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL binaries not found in {PG_BIN} (PG_BIN)"
    if not shutil.which("redis-server"):
        return "redis-server not on PATH"
    return None


@pytest.fixture(scope="session")
def chaos_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:  # type: ignore[type-arg]
    missing = _binaries_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    results_file = Path(shared) / "chaos-short.json"
    with open(Path(shared) / "chaos-short.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not results_file.exists():
            lines: list[str] = []
            try:
                results = run_scenarios(list(SCENARIOS), SHORT, SHORT_TIMING, log=lines.append)
                data = {r.name: {"values": r.values, "details": r.details} for r in results}
            except Exception as exc:  # noqa: BLE001 - every cell reports it
                data = {"error": f"{exc.__class__.__name__}: {exc}\n" + "\n".join(lines)}
            results_file.write_text(json.dumps(data))
        return json.loads(results_file.read_text())


@pytest.mark.parametrize(("scenario", "invariant"), CELLS)
def test_chaos_short(chaos_results, scenario: str, invariant: str) -> None:  # type: ignore[no-untyped-def]
    assert "error" not in chaos_results, chaos_results.get("error")
    result = chaos_results[scenario]
    value = result["values"][invariant]
    label = dict(COLUMNS)[invariant]
    assert value == 0, f"{scenario}: {label} = {value}\n" + "\n".join(result["details"])
