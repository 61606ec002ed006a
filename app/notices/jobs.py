"""The payer-list notices PDF as a job: progress in its ``NoticeBatch`` row, the file in
EXPORT_DIR."""

from __future__ import annotations

import logging
import os

from flask import current_app

from app.db import SessionFactory, db_session, utcnow
from app.jobs import enqueue, in_app
from app.models import NoticeBatch, Service
from app.notices.render import ORDER_COLUMNS, list_obligations, notices_pdf

log = logging.getLogger(__name__)


def start_notice_batch(service: Service, order_by: str, created_by: str) -> NoticeBatch:
    if order_by not in ORDER_COLUMNS:
        raise ValueError(order_by)
    batch = NoticeBatch(
        municipality_id=service.municipality_id, service_id=service.id, order_by=order_by, created_by=created_by
    )
    db_session.add(batch)
    db_session.commit()
    enqueue(make_notices, batch.id)
    return batch


@in_app
def make_notices(batch_id: int) -> str:
    batch = db_session.get(NoticeBatch, batch_id)
    if batch is None:
        return "missing"
    service = db_session.get(Service, batch.service_id)
    obligations = list_obligations(service, batch.order_by)
    batch.status, batch.total = "running", len(obligations)
    db_session.commit()

    def progress(done: int, total: int) -> None:
        # Its own short transaction, so the status page sees it while the PDF is made.
        with SessionFactory() as s:
            row = s.get(NoticeBatch, batch_id)
            if row is not None:
                row.done = done
                s.commit()

    try:
        pdf = notices_pdf(service, obligations, progress)
        directory = current_app.config["EXPORT_DIR"]
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"vyzvy-{batch.id}.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        db_session.refresh(batch)
        batch.status, batch.done, batch.file_path, batch.finished_at = "done", len(obligations), path, utcnow()
    except Exception:
        log.exception("notice batch %s failed", batch_id)
        db_session.rollback()
        batch = db_session.get(NoticeBatch, batch_id)
        batch.status, batch.finished_at = "failed", utcnow()
    db_session.commit()
    return batch.status
