"""The import report: every bad row with its line number and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext

from app.i18n import Text
from app.obligations.reading import (
    COLUMN_LABELS,
)


@dataclass
class RowError:
    line: int
    column: str | None
    text: Text  # why, said in the reader's language

    @property
    def message(self) -> str:
        return str(self.text)

    def __str__(self) -> str:
        if self.column:
            label = COLUMN_LABELS.get(self.column)
            return gettext(
                "Řádek %(line)s, sloupec %(column)s: %(message)s",
                line=self.line,
                column=gettext(label) if label else self.column,
                message=self.message,
            )
        return gettext("Řádek %(line)s: %(message)s", line=self.line, message=self.message)


@dataclass
class ImportReport:
    filename: str
    total_rows: int = 0
    valid_rows: int = 0
    inserted: int = 0
    updated: int = 0  # existing rows that changed
    unchanged: int = 0  # existing rows the file repeats as they are
    imported: bool = False
    file_errors: list[Text] = field(default_factory=list)
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
            return gettext("Soubor nebyl importován: %(errors)s", errors=" ".join(str(e) for e in self.file_errors))
        if not self.imported:
            return gettext(
                "Soubor nebyl importován: chybných řádků je %(bad)s z %(total)s. Opravte je a nahrajte soubor znovu.",
                bad=len(self.bad_lines),
                total=self.total_rows,
            )
        text = gettext(
            "Importováno předpisů: %(count)s (nových %(inserted)s, změněných %(updated)s, beze změny %(unchanged)s).",
            count=self.inserted + self.updated + self.unchanged,
            inserted=self.inserted,
            updated=self.updated,
            unchanged=self.unchanged,
        )
        if self.errors:
            text += " " + gettext("Vynecháno chybných řádků: %(bad)s.", bad=len(self.bad_lines))
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
            # The texts in the language of the run, and each again as its msgid and values
            # (``file_error_texts``, ``text``) so that a page can say them in its reader's language.
            "file_errors": [str(e) for e in self.file_errors],
            "file_error_texts": [e.to_dict() for e in self.file_errors],
            "error_count": len(self.errors),
            "errors": [
                {"line": e.line, "column": e.column, "message": e.message, "text": e.text.to_dict()} for e in errors
            ],
            "seconds": round(self.seconds, 3),
        }
