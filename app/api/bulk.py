"""Bulk upsert of obligations sent as JSON: each row checked by its model, then the
payer-list import (the same rules and the same COPY + upsert) on the valid rows. With
any bad row nothing is written unless the caller asked for the valid rows only."""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.api.errors import from_validation_error
from app.api.schemas import ObligationFields
from app.models import Service
from app.obligations.importing import import_obligations

_HEADER = ["customer id", "name", "amount", "due date", "variable symbol", "period", "note"]
_FIRST_DATA_LINE = 2  # line 1 of the generated list is its header
_ROWS = TypeAdapter(list[ObligationFields])


def _crowns(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def upsert_rows(service: Service, rows: list[Any], *, valid_rows_only: bool) -> dict[str, Any]:
    """The per-row report; ``written`` says whether anything was stored. Commits when it writes."""
    errors: list[dict[str, Any]] = []
    try:
        # One call for the whole list (pydantic-core's loop); row by row only when some are bad.
        good = list(enumerate(_ROWS.validate_python(rows)))
    except ValidationError:
        good = []
        for index, raw in enumerate(rows):
            try:
                good.append((index, ObligationFields.model_validate(raw)))
            except ValidationError as exc:
                for d in from_validation_error(exc).details or []:
                    errors.append({"row": index, "field": d["field"], "code": d["code"], "message": d["message"]})
    report: dict[str, Any] = {
        "written": False,
        "total_rows": len(rows),
        "valid_rows": 0,
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": errors,
    }
    if errors and not valid_rows_only or not good:
        report["valid_rows"] = len(good)
        return report
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(_HEADER)
    line_to_row: dict[int, int] = {}
    for line, (index, r) in enumerate(good, start=_FIRST_DATA_LINE):
        line_to_row[line] = index
        w.writerow(
            [
                r.customer_id,
                r.payer_name,
                _crowns(r.amount),
                r.due_date.isoformat() if r.due_date else "",
                r.variable_symbol or "",
                r.period or "",
                r.note or "",
            ]
        )
    result = import_obligations(
        service, buf.getvalue().encode(), "api.csv", allow_partial=valid_rows_only, max_bytes=1 << 40
    )
    for e in result.errors:
        errors.append(
            {"row": line_to_row.get(e.line, -1), "field": e.column, "code": "invalid_row", "message": e.message}
        )
    for message in result.file_errors:
        errors.append({"row": -1, "field": None, "code": "rejected", "message": str(message)})
    errors.sort(key=lambda e: e["row"])
    report.update(
        written=result.imported,
        valid_rows=result.valid_rows,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    return report
