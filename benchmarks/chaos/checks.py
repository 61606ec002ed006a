"""The invariants, read with plain SQL from the database and from RQ's registries in Redis.

Each check looks only at what a scenario made: payments and notifications with ids above
the scenario's watermark, and the jobs RQ holds (emptied between scenarios)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import psycopg
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

SETTLED = ("paid", "partially_refunded", "refunded")
QUEUE = "portal"
COLUMNS = [
    ("gateway_paid_not_portal", "paid@gw not portal"),
    ("portal_paid_not_gateway", "paid@portal not gw"),
    ("double_credits", "double credits"),
    ("illegal_transitions", "illegal transitions"),
    ("http_5xx", "5xx"),
    ("http_5xx_restart", "5xx in restart"),
    ("jobs_lost", "jobs lost"),
    ("jobs_backlog", "jobs left queued"),
    ("receipts_missing", "receipts missing"),
]
# Violations after healing: every column except the 5xx in flight during a restart.
INVARIANTS = [key for key, _ in COLUMNS if key != "http_5xx_restart"]


def live_workers(queue: Queue) -> list[Worker]:
    """Workers registered in Redis whose process still exists (all run on this machine):
    a worker killed with -9 stays registered, "busy", until its key expires."""
    alive = []
    for w in Worker.all(queue=queue):
        try:
            os.kill(w.pid, 0)
        except (OSError, TypeError):
            continue
        alive.append(w)
    return alive


def allowed_transitions() -> dict[str, set[str]]:
    from app.models.payment import ALLOWED_TRANSITIONS

    return {str(k): {str(v) for v in vs} for k, vs in ALLOWED_TRANSITIONS.items()}


@dataclass
class Watermark:
    payment: int
    notification: int


@dataclass
class Result:
    name: str
    values: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    payments: int = 0
    seconds: float = 0.0

    @property
    def violations(self) -> list[str]:
        return [k for k in INVARIANTS if self.values.get(k, 0)]


class Checker:
    def __init__(self, database_url: str, redis_url: str) -> None:
        self.dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.redis_url = redis_url
        self.allowed = allowed_transitions()

    def sql(self, query: str, *params: object) -> list[tuple]:  # type: ignore[type-arg]
        with psycopg.connect(self.dsn, connect_timeout=10) as conn:
            return conn.execute(query, params).fetchall()

    def watermark(self) -> Watermark:
        row = self.sql(
            "SELECT (SELECT coalesce(max(id), 0) FROM payment), (SELECT coalesce(max(id), 0) FROM gateway_notification)"
        )[0]
        return Watermark(int(row[0]), int(row[1]))

    def redis(self) -> Redis:
        return Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)

    # -- the queue ---------------------------------------------------------------------
    def queue_state(self) -> dict[str, int]:
        conn = self.redis()
        try:
            q = Queue(QUEUE, connection=conn)
            busy = sum(1 for w in live_workers(q) if w.get_state() == "busy")
            return {
                "queued": q.count,
                "started": len(StartedJobRegistry(queue=q).get_job_ids(cleanup=False)),
                "scheduled": len(ScheduledJobRegistry(queue=q).get_job_ids(cleanup=False)),
                "failed": len(FailedJobRegistry(queue=q).get_job_ids(cleanup=False)),
                "busy": busy,
            }
        finally:
            conn.close()

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is queued, scheduled or being worked on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                s = self.queue_state()
            except Exception:  # noqa: BLE001 - Redis down: keep waiting
                time.sleep(0.5)
                continue
            if s["queued"] == 0 and s["scheduled"] == 0 and s["busy"] == 0:
                return True
            time.sleep(0.3)
        return False

    def jobs(self) -> dict[str, list[Job]]:
        conn = self.redis()
        try:
            q = Queue(QUEUE, connection=conn)
            alive = {w.name for w in live_workers(q)}
            ids = {
                "queued": q.get_job_ids(),
                "scheduled": ScheduledJobRegistry(queue=q).get_job_ids(cleanup=False),
                "started": StartedJobRegistry(queue=q).get_job_ids(cleanup=False),
                "failed": FailedJobRegistry(queue=q).get_job_ids(cleanup=False),
            }
            jobs = {k: [j for j in Job.fetch_many(v, connection=conn) if j is not None] for k, v in ids.items()}
            # A job still "started" whose worker process is gone was abandoned by a dead worker.
            started = jobs.pop("started")
            # A job that ends while this is read loses its worker's name and its "started"
            # status: only one still started under a dead worker's name is abandoned.
            jobs["abandoned"] = [
                j
                for j in started
                if j.worker_name and j.worker_name not in alive and j.get_status(refresh=True) == "started"
            ]
            jobs["running"] = [j for j in started if j not in jobs["abandoned"]]
            return jobs
        finally:
            conn.close()

    def reset_queue(self) -> None:
        """Empty the queue and RQ's registries so the next scenario counts only its own."""
        conn = self.redis()
        try:
            q = Queue(QUEUE, connection=conn)
            q.empty()
            for reg in (FailedJobRegistry(queue=q), ScheduledJobRegistry(queue=q)):
                for job_id in reg.get_job_ids(cleanup=False):
                    reg.remove(job_id, delete_job=True)
            started = StartedJobRegistry(queue=q)
            alive = {w.name for w in live_workers(q)}
            for entry in conn.zrange(started.key, 0, -1):  # "<job id>:<execution id>"
                job_id = started.parse_job_id(entry)
                job = Job.fetch_many([job_id], connection=conn)[0]
                if job is None or job.worker_name not in alive:
                    conn.zrem(started.key, entry)
                    conn.delete(Job.key_for(job_id))
        finally:
            conn.close()

    # -- the invariants ----------------------------------------------------------------
    def measure(self, result: Result, since: Watermark, samples, in_window) -> Result:  # type: ignore[no-untyped-def]
        v = result.values
        d: list[str] = []
        w = since.payment
        result.payments = self.sql("SELECT count(*) FROM payment WHERE id > %s", w)[0][0]
        states = self.sql("SELECT state, count(*) FROM payment WHERE id > %s GROUP BY state ORDER BY state", w)
        owed = self.sql("SELECT count(*) FROM payment WHERE id > %s AND obligation_id IS NOT NULL", w)[0][0]
        d.append("payments: " + ", ".join(f"{s} {n}" for s, n in states) + f" ({owed} of them pay an obligation)")
        rows = self.sql(
            "SELECT p.external_id, p.state FROM demo_gateway_transaction g JOIN payment p "
            "ON p.gateway_name = 'demo' AND p.gateway_reference = g.reference "
            "WHERE p.id > %s AND g.state = 'paid' AND p.state <> ALL(%s)",
            w,
            list(SETTLED),
        )
        v["gateway_paid_not_portal"] = len(rows)
        d += [f"paid at the gateway, {s} in the portal: {e}" for e, s in rows[:5]]
        rows = self.sql(
            "SELECT p.external_id, coalesce(g.state, 'missing') FROM payment p LEFT JOIN demo_gateway_transaction g "
            "ON g.reference = p.gateway_reference WHERE p.id > %s AND p.state = ANY(%s) AND p.gateway_name = 'demo' "
            "AND coalesce(g.state, '') <> 'paid'",
            w,
            list(SETTLED),
        )
        v["portal_paid_not_gateway"] = len(rows)
        d += [f"paid in the portal, {s} at the gateway: {e}" for e, s in rows[:5]]

        receipts = self.sql(
            "SELECT payment_id FROM receipt WHERE payment_id > %s GROUP BY payment_id HAVING count(*) > 1", w
        )
        credits = self.sql(
            "SELECT payment_id FROM payment_event WHERE payment_id > %s AND kind = 'transition' "
            "AND to_state = 'paid' GROUP BY payment_id HAVING count(*) > 1",
            w,
        )
        obligations = self.sql(
            "SELECT o.id, o.amount_paid, coalesce(sum(p.amount - p.amount_refunded) "
            "FILTER (WHERE p.state = ANY(%s)), 0) FROM obligation o JOIN payment p ON p.obligation_id = o.id "
            "WHERE p.id > %s GROUP BY o.id HAVING o.amount_paid <> coalesce(sum(p.amount - p.amount_refunded) "
            "FILTER (WHERE p.state = ANY(%s)), 0)",
            list(SETTLED),
            w,
            list(SETTLED),
        )
        v["double_credits"] = len(receipts) + len(credits) + len(obligations)
        d += [f"payment id {p} has more than one receipt" for (p,) in receipts[:3]]
        d += [f"payment id {p} was credited (→ paid) more than once" for (p,) in credits[:3]]
        d += [f"obligation {o}: amount_paid {a} but its settled payments {s}" for o, a, s in obligations[:3]]

        illegal = 0
        events = self.sql(
            "SELECT payment_id, from_state, to_state FROM payment_event "
            "WHERE payment_id > %s AND kind = 'transition' ORDER BY payment_id, id",
            w,
        )
        last: dict[int, str | None] = {}
        for pid, frm, to in events:
            ok = (frm is None and to == "created" and pid not in last) or (
                frm is not None and to in self.allowed.get(frm, set()) and last.get(pid) == frm
            )
            if not ok:
                illegal += 1
                if illegal <= 3:
                    d.append(f"illegal transition of payment id {pid}: {frm} → {to} (previous {last.get(pid)})")
            last[pid] = to
        for pid, state in self.sql("SELECT id, state FROM payment WHERE id > %s", w):
            if last.get(pid) != state:
                illegal += 1
                d.append(f"payment id {pid} is {state} but its last transition says {last.get(pid)}")
        v["illegal_transitions"] = illegal

        rows = self.sql(
            "SELECT p.external_id FROM payment p LEFT JOIN receipt r ON r.payment_id = p.id "
            "WHERE p.id > %s AND p.state = ANY(%s) AND r.id IS NULL",
            w,
            list(SETTLED),
        )
        v["receipts_missing"] = len(rows)
        d += [f"paid without a receipt: {e}" for (e,) in rows[:3]]

        bad = [s for s in samples if s.status >= 500]
        restart = [s for s in bad if in_window(s)]
        v["http_5xx"] = len(bad) - len(restart)
        v["http_5xx_restart"] = len(restart)
        by_label: dict[str, int] = {}
        for s in bad:
            by_label[f"{s.label} {s.status}"] = by_label.get(f"{s.label} {s.status}", 0) + 1
        if by_label:
            d.append("5xx: " + ", ".join(f"{k} ×{n}" for k, n in sorted(by_label.items())))
        no_answer = sum(1 for s in samples if s.status == 0)
        if no_answer:
            d.append(f"requests without an answer (connection refused/reset): {no_answer}")

        self._jobs(result, since, d)
        result.details = d
        return result

    def _jobs(self, result: Result, since: Watermark, d: list[str]) -> None:
        v = result.values
        unprocessed = {
            nid
            for (nid,) in self.sql(
                "SELECT id FROM gateway_notification WHERE id > %s AND processed_at IS NULL", since.notification
            )
        }
        try:
            jobs = self.jobs()
        except Exception as exc:  # noqa: BLE001
            d.append(f"RQ unreadable: {exc}")
            v["jobs_lost"] = len(unprocessed)
            v["jobs_backlog"] = 0
            return

        def note_id(job: Job) -> int | None:
            if job.func_name.endswith("process_notification") and job.args:
                return int(job.args[0])
            return None

        waiting = jobs["queued"] + jobs["scheduled"] + jobs["running"]
        waiting_notes = {note_id(j) for j in waiting} - {None}
        v["jobs_backlog"] = len(waiting)
        lost_notes = unprocessed - waiting_notes
        dead = jobs["failed"] + jobs["abandoned"]
        other_dead = [j for j in dead if note_id(j) is None]
        v["jobs_lost"] = len(lost_notes) + len(other_dead)
        if dead:
            kinds: dict[str, int] = {}
            for j in dead:
                info = (j.exc_info or "").strip().splitlines()
                why = info[-1][:120] if info else "abandoned (its worker died)"
                key = f"{j.func_name.rsplit('.', 1)[-1]}: {why}"
                kinds[key] = kinds.get(key, 0) + 1
            d += [f"failed job ×{n}: {k}" for k, n in sorted(kinds.items())]
        if lost_notes:
            d.append(f"notifications never processed: {len(lost_notes)}")
        if waiting:
            d.append(f"jobs still queued when the heal timed out: {len(waiting)}")
