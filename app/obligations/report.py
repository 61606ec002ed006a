"""The import report: every bad row with its line number and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.obligations.reading import (
    COLUMN_LABELS,
)


@dataclass
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Řádek {self.line}"
        if self.column:
            where += f", sloupec {COLUMN_LABELS.get(self.column, self.column)}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    filename: str
    total_rows: int = 0
    valid_rows: int = 0
    inserted: int = 0
    updated: int = 0  # existing rows that changed
    unchanged: int = 0  # existing rows the file repeats as they are
    imported: bool = False
    file_errors: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    write_seconds: float = 0.0  # of which writing to the database

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def summary(self) -> str:
        if self.file_errors:
            return "Soubor nebyl importován: " + " ".join(self.file_errors)
        if not self.imported:
            return (
                f"Soubor nebyl importován: chybných řádků je {len(self.bad_lines)} z {self.total_rows}. "
                "Opravte je a nahrajte soubor znovu."
            )
        text = (
            f"Importováno předpisů: {self.inserted + self.updated + self.unchanged} "
            f"(nových {self.inserted}, změněných {self.updated}, beze změny {self.unchanged})."
        )
        if self.errors:
            text += f" Vynecháno chybných řádků: {len(self.bad_lines)}."
        return text

    def lines(self) -> list[str]:
        return [self.summary(), *(str(e) for e in self.errors)]

    def to_dict(self, max_errors: int | None = None) -> dict[str, Any]:
        errors = self.errors if max_errors is None else self.errors[:max_errors]
        return {
            "filename": self.filename,
            "ok": self.ok,
            "imported": self.imported,
            "summary": self.summary(),
            "total_rows": self.total_rows,
            "valid_rows": self.valid_rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "file_errors": list(self.file_errors),
            "error_count": len(self.errors),
            "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in errors],
            "seconds": round(self.seconds, 3),
        }
