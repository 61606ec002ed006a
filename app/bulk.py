"""Inserting many rows at once inside the session's transaction: COPY on PostgreSQL (ids
taken from the table's sequence first, so the caller knows them), executemany elsewhere.

A statement of 100,000 lines makes 100,000 lines, payments, events, receipts and matches:
multi-row INSERTs spend most of their time building and parsing SQL text; COPY does not."""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

COPY_FROM = 200  # fewer rows than this: a plain INSERT is as quick


def _defaults(table: Table, present: set[str]) -> dict[str, Any]:
    """Values of the Python-side defaults of the columns the rows leave out."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.name in present or column.primary_key or column.default is None:
            continue
        default = column.default
        if getattr(default, "is_scalar", False):
            values[column.name] = default.arg  # type: ignore[attr-defined]
        elif getattr(default, "is_callable", False):
            values[column.name] = default.arg(None)  # type: ignore[attr-defined]
    return values


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` (dicts of column values) into ``table``; returns their new ids in
    order when ``ids``. Does not commit."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql" or len(rows) < COPY_FROM:
        if not ids:
            session.execute(insert(table), list(rows))
            return []
        return list(
            session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)).all()
        )
    names = list(rows[0])
    extra = _defaults(table, set(names))
    new_ids: list[int] = []
    if ids:
        new_ids = list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                {"t": table.name, "n": len(rows)},
            ).all()
        )
    columns = (["id"] if ids else []) + names + list(extra)
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    tail = list(extra.values())
    tail = [json.dumps(v) if name in json_columns else v for name, v in zip(extra, tail, strict=True)]
    # Each column's conversion decided once, not per value: JSON text, plain str for
    # StrEnum members (psycopg's COPY wants the plain type), else the value as it is.
    convert = [
        (n, json.dumps if name in json_columns else _plain)
        for n, name in enumerate(names)
        if name in json_columns
        or any(t is not str and issubclass(t, str) for t in set(map(type, map(itemgetter(name), rows))))
    ]
    session.flush()
    cursor = session.connection().connection.cursor()
    try:
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for n, row in enumerate(rows):
                values = [row[k] for k in names]
                for i, fn in convert:
                    values[i] = fn(values[i])
                copy.write_row(([new_ids[n]] if ids else []) + values + tail)
    finally:
        cursor.close()
    return new_ids


def _plain(value: Any) -> Any:
    # StrEnum members are str already, but psycopg's COPY wants the plain type.
    return str(value) if isinstance(value, str) and type(value) is not str else value


def ids_in(column: Any, ids: Sequence[Any], session: Session, item_type: Any = BigInteger) -> ColumnElement[bool]:
    """``column IN ids`` — on PostgreSQL ``= ANY(array)``: one parameter, not thousands."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(item_type)))
    return column.in_(list(ids))
