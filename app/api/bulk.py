"""Bulk upsert of obligations sent as JSON: each row checked by its model, then the
payer-list import (the same rules and the same COPY + upsert) on the valid rows, handed
over as rows (``import_rows``). With any bad row nothing is written unless the caller
asked for the valid rows only."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.api.errors import from_validation_error
from app.api.schemas import ObligationFields
from app.models import Service
from app.obligations.importing import import_rows
from app.obligations.report import ImportReport

_HEADER = ["customer id", "name", "amount", "due date", "variable symbol", "period", "note"]
_FIRST_DATA_LINE = 2  # line 1 is the header
_ROWS = TypeAdapter(list[ObligationFields])


def _crowns(amount: int) -> str:
    return f"{amount // 100},{amount % 100:02d}"  # the import's fast path (Czech decimal comma)


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
    line_to_row: dict[int, int] = {}
    cells: list[tuple[int, list[Any]]] = [(1, _HEADER)]
    for line, (index, r) in enumerate(good, start=_FIRST_DATA_LINE):
        line_to_row[line] = index
        cells.append(
            (
                line,
                [
                    r.customer_id,
                    r.payer_name,
                    _crowns(r.amount),
                    r.due_date,
                    r.variable_symbol,
                    r.period,
                    r.note,
                ],
            )
        )
    # The payer-list import's own rules (duplicates, symbols held elsewhere) and writer,
    # on the rows as they are: no file made to be read again.
    result = import_rows(service, iter(cells), ImportReport(filename="api"), allow_partial=valid_rows_only)
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
