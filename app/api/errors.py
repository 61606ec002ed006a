"""The API's one error shape, ``{"error": {"code", "message", "field", "row"}}``, raised
as ``ApiError`` anywhere in a view and rendered by the blueprint's handler."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        details: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.row = row
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field, "row": self.row}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _location(loc: tuple[Any, ...]) -> tuple[str | None, int | None]:
    """('rows', 3, 'amount') → field 'amount', row 3; ('amount',) → field 'amount'."""
    row = None
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and loc[i - 1] == "rows" and row is None:
            row = part
        elif isinstance(part, str):
            parts.append(part)
    if parts and parts[0] == "rows" and row is not None:
        parts = parts[1:]
    return (".".join(parts) or None), row


def from_validation_error(exc: ValidationError, status: int = 422) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    details = []
    for e in errors[:100]:
        field, row = _location(tuple(e.get("loc", ())))
        details.append({"code": e.get("type", "invalid"), "message": e.get("msg", ""), "field": field, "row": row})
    first = details[0] if details else {"code": "invalid", "message": "Invalid input.", "field": None, "row": None}
    return ApiError(
        status, "validation_error", first["message"], field=first["field"], row=first["row"], details=details
    )
