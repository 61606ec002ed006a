"""Imports as background jobs: the upload is stored, the job imports it and writes
its progress on the record."""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import update

from app.db import db_session, utcnow
from app.jobs import enqueue, in_app
from app.models import (
    ImportStatus,
    ObligationImport,
    Service,
)
from app.obligations.importing import import_obligations, max_import_bytes, too_big_message
from app.obligations.reading import (
    MAX_STORED_ERRORS,
    Progress,
)
from app.obligations.report import ImportReport


def create_import(
    service: Service, data: bytes, filename: str, *, allow_partial: bool = False, created_by: str | None = None
) -> ObligationImport:
    """Store an upload for the job; refuses oversized files before storing them."""
    record = ObligationImport(
        service_id=service.id,
        filename=filename[:255],
        content=b"" if len(data) > max_import_bytes() else data,
        size=len(data),
        allow_partial=allow_partial,
        created_by=created_by,
    )
    db_session.add(record)
    db_session.commit()
    return record


def start_import(
    service: Service, data: bytes, filename: str, *, allow_partial: bool = False, created_by: str | None = None
) -> ObligationImport:
    """What the admin area calls: store the upload and run the import as a job."""
    record = create_import(service, data, filename, allow_partial=allow_partial, created_by=created_by)
    enqueue(import_obligations_job, record.id)
    return record


def run_import(import_id: int) -> ObligationImport | None:
    """The job's body: import a stored upload, reporting progress on the record."""
    record = db_session.get(ObligationImport, import_id)
    # RUNNING too: a job finds its record running only when it is retried because its
    # worker died mid-import (that import's transaction never committed: start again).
    if record is None or record.status not in (ImportStatus.PENDING, ImportStatus.RUNNING):
        return record
    record.status = ImportStatus.RUNNING
    record.started_at = utcnow()
    db_session.commit()
    service = db_session.get(Service, record.service_id)
    assert service is not None
    try:
        if record.size > max_import_bytes():
            report = ImportReport(filename=record.filename)
            report.file_errors.append(too_big_message(record.size, max_import_bytes()))
        else:
            report = import_obligations(
                service,
                record.content,
                record.filename,
                progress=progress_writer(import_id),
                allow_partial=record.allow_partial,
            )
    except Exception as exc:
        db_session.rollback()
        failed = db_session.get(ObligationImport, import_id)
        assert failed is not None
        failed.status = ImportStatus.FAILED
        failed.report = {"summary": gettext("Import selhal kvůli chybě serveru; nic nebylo importováno."), "error": type(exc).__name__}
        failed.finished_at = utcnow()
        db_session.commit()
        raise
    record = db_session.get(ObligationImport, import_id)
    assert record is not None
    record.status = ImportStatus.DONE if report.imported else ImportStatus.REJECTED
    record.total_rows = report.total_rows
    record.processed_rows = report.inserted + report.updated
    record.inserted = report.inserted
    record.updated = report.updated
    record.error_count = len(report.errors) + len(report.file_errors)
    record.report = report.to_dict(max_errors=MAX_STORED_ERRORS)
    record.finished_at = utcnow()
    db_session.commit()
    return record


def progress_writer(import_id: int) -> Progress:
    """Progress goes through its own connection so the admin sees it while the import's
    transaction is still open. SQLite allows one writer: there only the end is recorded."""
    engine = db_session().get_bind()
    if engine.dialect.name == "sqlite":
        return lambda done, total: None

    def write(done: int, total: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                update(ObligationImport)
                .where(ObligationImport.id == import_id)
                .values(processed_rows=done, total_rows=total)
            )

    return write


@in_app
def import_obligations_job(import_id: int) -> str:
    """Import a stored payer list (ObligationImport); progress is written on the record."""
    record = run_import(import_id)
    return record.status if record is not None else "missing"
