"""Exports of the payment list: streamed CSV/XLSX, or a background job for big ones."""

from __future__ import annotations

import os
from datetime import date

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from admin import bp
from admin.forms import ActionForm
from admin.guards import (
    current_municipality_id,
    current_region_id,
    current_staff,
    scoped_get_or_404,
    staff_required,
)
from app.db import db_session
from app.models import (
    ExportJob,
    ExportStatus,
    Municipality,
)
from app.payments import exports
from app.payments import search as ap
from app.payments.jobs import begin_export


@bp.post("/platby/export")
@staff_required()
def payments_export():  # type: ignore[no-untyped-def]
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    fmt = request.form.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(400, _("Neznámý formát exportu."))
    f = ap.PaymentFilter.from_args(request.form)
    if f.errors:
        # The list page shows what is wrong with the filter; nothing is exported.
        flash(_("Export nelze vytvořit: opravte prosím filtr."), "error")
        keys = ("state", "date_from", "date_to", "service", "amount_min", "amount_max", "ref", "payer", "sort")
        args = {k: request.form[k][:100] for k in keys if request.form.get(k)}
        return redirect(url_for("admin.payments", **args), code=303)
    mid = current_municipality_id()
    rid = current_region_id() if mid is None else None
    decision = begin_export(current_staff.id, mid, fmt, f, rid)
    if decision.job is not None:
        flash(_("Export má %(n)s řádků; připravujeme ho na pozadí.", n=decision.rows), "success")
        return redirect(url_for("admin.export_status", export_id=decision.job.id), code=303)
    stamp = date.today().isoformat()
    if fmt == "csv":
        resp = Response(stream_with_context(exports.stream_csv(f, mid, rid)), mimetype="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = f'attachment; filename="platby-{stamp}.csv"'
        return resp
    path = exports.xlsx_tempfile(f, mid, rid)
    resp = Response(exports.stream_file_and_delete(path),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f'attachment; filename="platby-{stamp}.xlsx"'
    return resp


def _own_export(export_id: int) -> ExportJob:
    if not current_staff.is_operator:
        job = scoped_get_or_404(ExportJob, id=export_id)
        if job.staff_id != current_staff.id:
            abort(404)
        return job
    # An operator's: their own, or one of a municipality (or the whole) of their region.
    job = db_session.get(ExportJob, export_id) if 0 < export_id < 2**31 else None
    if job is None:
        abort(404)
    if current_staff.is_national or job.staff_id == current_staff.id:
        return job
    region_id = db_session.get(Municipality, job.municipality_id).region_id if job.municipality_id else job.region_id
    if region_id != current_staff.region_id:
        abort(404)
    return job


@bp.get("/exporty/<int:export_id>")
@staff_required()
def export_status(export_id: int):  # type: ignore[no-untyped-def]
    return render_template("admin/export_status.html", job=_own_export(export_id))


@bp.get("/exporty/<int:export_id>/stahnout")
@staff_required()
def export_download(export_id: int):  # type: ignore[no-untyped-def]
    job = _own_export(export_id)
    if job.status != ExportStatus.DONE or not job.file_path or not os.path.exists(job.file_path):
        abort(404)
    mimetype = "text/csv" if job.format == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(job.file_path, mimetype=mimetype, as_attachment=True,
                     download_name=f"platby-export-{job.id}.{job.format}")
