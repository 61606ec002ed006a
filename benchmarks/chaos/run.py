"""Run the chaos suite and print, per scenario, what was lost or broken after healing.

    .venv/bin/python -m benchmarks.chaos.run [--short] [--scenario NAME]... [--keep]

Starts its own PostgreSQL cluster and Redis on free loopback ports, gunicorn (2 workers)
and the README's worker, seeds the demo data, then runs each scenario (load + a fault),
lets it heal the way a deployment does (the README's cron commands, the queue drained,
within a time limit) and checks the invariants. Exit status 1 when an invariant is
violated after healing (5xx of requests in flight during a PostgreSQL restart excepted).
``--keep`` leaves the temporary directory with the logs (path printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.chaos.checks import COLUMNS, Checker, Result  # noqa: E402
from benchmarks.chaos.citizen import Recorder, Service  # noqa: E402
from benchmarks.chaos.scenarios import FULL, SCENARIOS, SHORT, Context, Obligations, Sizes  # noqa: E402
from benchmarks.chaos.stack import Stack  # noqa: E402

# The heal runs cron as if the poll's and the sweep's delays had passed: the suite cannot
# wait minutes (both the old and the new names of these settings).
CRON_ENV = {
    "PAYMENT_POLL_AFTER_MINUTES": "0",
    "STUCK_PAYMENT_POLL_DELAY_SECONDS": "0",
    "NOTIFICATION_SWEEP_AFTER_SECONDS": "0",
}


@dataclass
class Timing:
    drain: float  # one wait for the queue to drain
    heal: float  # the longest all heal rounds of one scenario may take together
    # The worker's retry backoff. The full run keeps production's; the short run retries
    # within seconds so that its healing window sees the retries, not only the first tries.
    retry_intervals: str | None = None


# The heal stops as soon as every invariant holds: a generous window costs time only when
# something stays broken (a busy CI machine runs cron and the worker slowly).
SHORT_TIMING = Timing(drain=10, heal=60, retry_intervals="1,3,10")
FULL_TIMING = Timing(drain=60, heal=600)


def demo_services(stack: Stack, limit: int = 12) -> list[Service]:
    rows = stack.psql(
        "SELECT m.slug, s.slug, s.amount FROM service s JOIN municipality m ON m.id = s.municipality_id "
        "WHERE m.onboarding_state = 'active' AND s.active AND s.amount_mode = 'fixed' AND s.amount > 0 "
        f"AND s.lookup_mode <> 'required' ORDER BY m.id, s.id LIMIT {int(limit)}"
    )
    services = [Service(*line.split("|")[:2], int(line.split("|")[2])) for line in rows.splitlines() if line]
    if not services:
        raise RuntimeError("no payable demo service in the seeded data")
    return services


def setup_obligations(stack: Stack, service: Service, n: int) -> Obligations:
    """A payer list of n obligations for one service, imported with the operator's CLI; the
    service offers the lookup (as a clerk sets it in the admin)."""
    stack.psql(
        "UPDATE service SET lookup_mode = 'optional', amount_match = 'exact' WHERE slug = "
        f"'{service.slug}' AND municipality_id = (SELECT id FROM municipality WHERE slug = '{service.municipality}')"
    )
    ids = [f"CH{i:06d}" for i in range(n)]
    path = stack.tmp / "obligations.csv"
    lines = ["zakaznicke cislo,jmeno,castka,variabilni symbol"]
    lines += [f"{cid},Jan Novák {i},{service.amount // 100},{9000000000 + i}" for i, cid in enumerate(ids)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stack.flask(
        "obligations",
        ["-m", "flask", "obligations", "import", str(path), "--service", f"{service.municipality}/{service.slug}"],
    )
    return Obligations(service, ids)


def heal(ctx: Context, checker: Checker, result: Result, since, mark: int, timing: Timing) -> None:  # type: ignore[no-untyped-def]
    stack = ctx.stack
    deadline = time.monotonic() + timing.heal
    rounds = 0
    while True:
        rounds += 1
        if stack.worker_proc is None or stack.worker_proc.poll() is not None:
            ctx.notes.append("the worker had exited: started again (as systemd would)")
            stack.start_worker()
        checker.drain(max(1.0, min(timing.drain, deadline - time.monotonic())))
        for line in stack.run_cron(CRON_ENV):
            if "exit 0" not in line:
                ctx.notes.append(f"cron {line}")
        checker.drain(max(1.0, min(timing.drain, deadline - time.monotonic())))
        checker.measure(result, since, ctx.recorder.since(mark), ctx.recorder.in_window)
        if not result.violations or time.monotonic() >= deadline:
            break
        time.sleep(1)
    ctx.notes.append(f"heal: {rounds} round(s) of cron + drain")


def run_scenarios(names: Iterable[str], sizes: Sizes, timing: Timing, *, keep: bool = False, log=print) -> list[Result]:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    results: list[Result] = []
    began = time.monotonic()
    env = {"JOB_RETRY_INTERVALS": timing.retry_intervals} if timing.retry_intervals else None
    with Stack(recorder, keep=keep, env=env) as stack:
        log(
            f"stack up in {time.monotonic() - began:.0f} s: postgres :{stack.pg_port}, redis :{stack.redis_port}, "
            f"gunicorn :{stack.web_port}, worker `{stack.worker_cmd}`, cron {stack.cron_cmds}"
            + (f"; logs in {stack.logs}" if keep else "")
        )
        checker = Checker(stack.database_url, stack.redis_url)
        services = demo_services(stack)
        obligations = setup_obligations(stack, services[0], 5000)
        for name in names:
            ctx = Context(stack, recorder, checker, services, sizes, notes=[], obligations=obligations)
            since = checker.watermark()
            mark = recorder.mark()
            result = Result(name)
            t0 = time.monotonic()
            try:
                SCENARIOS[name](ctx)
                ctx.notes.append(f"load and fault: {time.monotonic() - t0:.0f} s")
                heal(ctx, checker, result, since, mark, timing)
            finally:
                try:
                    checker.reset_queue()
                except Exception as exc:  # noqa: BLE001
                    ctx.notes.append(f"could not reset the queue: {exc}")
            result.seconds = time.monotonic() - t0
            gave_up = [n for n in ctx.notes if n.startswith("citizen gave up")]
            result.details = [n for n in ctx.notes if not n.startswith("citizen gave up")] + result.details
            if gave_up:
                result.details.append(f"citizens who gave up: {len(gave_up)} (first: {gave_up[0][17:]})")
            results.append(result)
            log(report_one(result))
        if keep:
            log(f"logs kept in {stack.logs}")
    return results


def report_one(r: Result) -> str:
    verdict = "OK" if not r.violations else "VIOLATED: " + ", ".join(r.violations)
    lines = [f"== {r.name}: {r.payments} payments, {r.seconds:.0f} s — {verdict}"]
    lines += [f"   {d}" for d in r.details]
    return "\n".join(lines)


def table(results: list[Result]) -> str:
    heads = ["scenario"] + [h for _, h in COLUMNS]
    rows = [[r.name] + [str(r.values.get(k, "")) for k, _ in COLUMNS] for r in results]
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=False)]
    out = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(heads, widths, strict=True)))]
    for row in rows:
        out.append("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="small counts (what CI runs)")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="only these (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and its logs")
    args = parser.parse_args(argv)
    names = args.scenario or list(SCENARIOS)
    sizes, timing = (SHORT, SHORT_TIMING) if args.short else (FULL, FULL_TIMING)
    load = os.getloadavg()
    print(
        f"chaos suite ({'short' if args.short else 'full'}): {', '.join(names)}; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    results = run_scenarios(names, sizes, timing, keep=args.keep, log=lambda s: print(s, flush=True))
    print()
    print(table(results))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    failed = [r.name for r in results if r.violations]
    print("invariants hold after healing" if not failed else f"violated after healing: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
