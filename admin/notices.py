"""Printed notices of a service's payer list: start the job (order of a chosen column),
watch its progress, download the PDF."""

from __future__ import annotations

import os

from flask import abort, redirect, render_template, request, send_file, url_for

from admin import bp
from admin.guards import current_staff, scoped_get_or_404, staff_required
from app.models import NoticeBatch, Service, StaffRole
from app.notices.jobs import start_notice_batch
from app.notices.render import ORDER_COLUMNS
from app.staff.audit import audit


@bp.post("/sluzby/<int:service_id>/vyzvy")
@staff_required(role=StaffRole.CLERK)
def notices_start(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    order_by = request.form.get("order_by") or "customer_id"
    if order_by not in ORDER_COLUMNS:
        abort(400)
    batch = start_notice_batch(service, order_by, current_staff.email)
    audit("notices_print", service, after={"batch": batch.id, "order_by": order_by})
    return redirect(url_for("admin.notices_status", batch_id=batch.id), code=303)


@bp.get("/vyzvy/<int:batch_id>")
@staff_required(role=StaffRole.CLERK)
def notices_status(batch_id: int):  # type: ignore[no-untyped-def]
    return render_template("admin/notices_status.html", batch=scoped_get_or_404(NoticeBatch, id=batch_id))


@bp.get("/vyzvy/<int:batch_id>/stahnout")
@staff_required(role=StaffRole.CLERK)
def notices_download(batch_id: int):  # type: ignore[no-untyped-def]
    batch = scoped_get_or_404(NoticeBatch, id=batch_id)
    if batch.status != "done" or not batch.file_path or not os.path.exists(batch.file_path):
        abort(404)
    return send_file(
        batch.file_path, mimetype="application/pdf", as_attachment=True, download_name=f"vyzvy-{batch.id}.pdf"
    )
