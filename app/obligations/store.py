"""Bulk writes of validated obligation rows: COPY + one upsert per batch on
PostgreSQL, ``INSERT … ON CONFLICT`` on SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import (
    Obligation,
    Service,
)
from app.obligations.reading import (
    BATCH_SIZE,
    Progress,
)

_UPSERT_COLUMNS = (
    "customer_id",
    "payer_name",
    "amount",
    "due_date",
    "variable_symbol",
    "period",
    "note",
    "birth_number_hmac",
    "payer_email",
    "household",
    "specific_symbol",
)
_COMPARED = ("payer_name", "amount", "due_date", "variable_symbol", "period", "note", "birth_number_hmac", "payer_email",
             "household", "specific_symbol")
_UPDATED_ON_CONFLICT = (*_COMPARED, "updated_at")


def write_postgresql(
    session: Session, service: Service, rows: Sequence[dict[str, Any]], progress: Progress | None
) -> int:
    """COPY each batch into a temporary table, then one set-based
    INSERT … SELECT … ON CONFLICT DO UPDATE per batch: the fastest bulk path there is."""
    conn = session.connection()
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE obligation_import_rows (customer_id varchar(50), payer_name varchar(200), "
        "amount integer, due_date date, variable_symbol varchar(10), period varchar(40), note varchar(500), "
        "birth_number_hmac varchar(64), payer_email varchar(254), household varchar(50), specific_symbol varchar(10)) "
        "ON COMMIT DROP"
    )
    cols = ", ".join(_UPSERT_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _UPDATED_ON_CONFLICT)
    upsert = (
        f"INSERT INTO obligation (municipality_id, service_id, amount_paid, created_at, updated_at, {cols}) "
        f"SELECT %(municipality_id)s, %(service_id)s, 0, %(now)s, %(now)s, {cols} FROM obligation_import_rows "
        f"ON CONFLICT (service_id, customer_id) DO UPDATE SET {updates} "
        # An unchanged row is not rewritten: re-importing the same list writes nothing.
        f"WHERE ({', '.join('obligation.' + c for c in _COMPARED)}) IS DISTINCT FROM "
        f"({', '.join('EXCLUDED.' + c for c in _COMPARED)})"
    )
    params = {"municipality_id": service.municipality_id, "service_id": service.id, "now": utcnow()}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    written = 0
    try:
        done = 0
        for batch in chunks(rows, BATCH_SIZE):
            with cursor.copy(f"COPY obligation_import_rows ({cols}) FROM STDIN") as copy:
                for r in batch:
                    copy.write_row([r[c] for c in _UPSERT_COLUMNS])
            cursor.execute(upsert, params)
            written += max(cursor.rowcount, 0)
            cursor.execute("TRUNCATE obligation_import_rows")
            done += len(batch)
            if progress:
                progress(done, len(rows))
    finally:
        cursor.close()
    return written


def write_sqlite(session: Session, service: Service, rows: Sequence[dict[str, Any]], progress: Progress | None) -> int:
    """SQLite's own INSERT … ON CONFLICT DO UPDATE, executemany per batch."""
    from sqlalchemy.dialects.sqlite import insert

    table = Obligation.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.service_id, table.c.customer_id],
        set_={c: stmt.excluded[c] for c in _UPDATED_ON_CONFLICT},
        where=or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in _COMPARED)),
    )
    now = utcnow()
    common = {
        "municipality_id": service.municipality_id,
        "service_id": service.id,
        "amount_paid": 0,
        "created_at": now,
        "updated_at": now,
    }
    conn = session.connection()
    done = written = 0
    for batch in chunks(rows, BATCH_SIZE):
        result = conn.execute(stmt, [{**{c: r[c] for c in _UPSERT_COLUMNS}, **common} for r in batch])
        written += max(result.rowcount, 0)
        done += len(batch)
        if progress:
            progress(done, len(rows))
    return written


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
