"""Direct SQL counts for the reporting tests, written independently of app.reporting:
Prague months by PostgreSQL's own time-zone conversion, states as of a day by DISTINCT
ON, refund amounts by LAG over the refund events."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text

from app.db import db_session

# Columns are timestamptz: AT TIME ZONE gives the Prague wall-clock time of the instant.
PRAGUE_MONTH = "date_trunc('month', ({col}) AT TIME ZONE 'Europe/Prague')"
SETTLED = "state IN ('paid', 'partially_refunded', 'refunded')"


def sql_payments(month: date, by: str | None = None) -> dict:  # type: ignore[type-arg]
    group = f"{by}, " if by else ""
    rows = db_session.execute(
        text(
            f"SELECT {group} count(*), coalesce(sum(amount), 0) FROM payment WHERE {SETTLED}"
            f" AND {PRAGUE_MONTH.format(col='paid_at')} = :m" + (f" GROUP BY {by}" if by else "")
        ),
        {"m": datetime(month.year, month.month, 1)},
    ).all()
    if not by:
        return {"total": (rows[0][0], rows[0][1])}
    return {r[0]: (r[1], r[2]) for r in rows}


def sql_refunds(month: date) -> tuple[int, int]:
    row = db_session.execute(
        text(
            f"""
            WITH ev AS (
                SELECT e.created_at, e.id, e.payment_id,
                       least((e.data ->> 'amount_refunded')::bigint, p.amount) AS cumulative
                FROM payment_event e JOIN payment p ON p.id = e.payment_id
                WHERE e.kind = 'transition' AND e.to_state IN ('partially_refunded', 'refunded')
            ), steps AS (
                SELECT created_at, cumulative - coalesce(lag(cumulative) OVER (
                    PARTITION BY payment_id ORDER BY created_at, id), 0) AS amount
                FROM ev
            )
            SELECT count(*), coalesce(sum(amount), 0) FROM steps
            WHERE amount > 0 AND {PRAGUE_MONTH.format(col='created_at')} = :m
            """
        ),
        {"m": datetime(month.year, month.month, 1)},
    ).one()
    return row[0], row[1]


def sql_states(day: date) -> dict[int, str]:
    return dict(
        db_session.execute(
            text(
                "SELECT DISTINCT ON (municipality_id) municipality_id, to_state FROM municipality_state_change"
                " WHERE effective_date <= :d ORDER BY municipality_id, effective_date DESC, id DESC"
            ),
            {"d": day},
        ).all()
    )


def sql_active_services(day: date) -> int:
    return db_session.execute(
        text(
            """
            WITH s AS (
                SELECT DISTINCT ON (service_id) service_id, active FROM service_state_change
                WHERE effective_date <= :d ORDER BY service_id, effective_date DESC, id DESC
            ), m AS (
                SELECT DISTINCT ON (municipality_id) municipality_id, to_state FROM municipality_state_change
                WHERE effective_date <= :d ORDER BY municipality_id, effective_date DESC, id DESC
            )
            SELECT count(*) FROM service
            JOIN s ON s.service_id = service.id AND s.active
            JOIN m ON m.municipality_id = service.municipality_id AND m.to_state = 'active'
            """
        ),
        {"d": day},
    ).scalar_one()


def sql_newly_joined(month: date) -> set[int]:
    return set(
        db_session.execute(
            text(
                "SELECT municipality_id FROM municipality_state_change WHERE to_state = 'active'"
                " GROUP BY municipality_id HAVING date_trunc('month', min(effective_date)) = :m"
            ),
            {"m": datetime(month.year, month.month, 1)},
        ).scalars()
    )


def month_end(month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


