"""Obligations (předpisy) in the admin: a service's payer list with filters, the upload
of a CSV/XLSX file and the import's progress and row-error report. Viewing needs a
viewer, uploading a municipality admin; everything is scoped to the municipality."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.forms import ObligationImportForm
from admin.guards import current_staff, scoped_get_or_404, staff_required
from app.db import db_session
from app.i18n import N_, Text
from app.models import ImportStatus, ObligationImport, ObligationState, Service, StaffRole
from app.obligations import listing as ao
from app.obligations.reading import COLUMN_LABELS
from app.regions.scope import region_condition
from app.validation import parse_id

OBLIGATION_STATE_LABELS = {
    ObligationState.UNPAID: N_("Nezaplaceno"),
    ObligationState.PARTIALLY_PAID: N_("Částečně zaplaceno"),
    ObligationState.PAID: N_("Zaplaceno"),
    ObligationState.OVERDUE: N_("Po splatnosti"),
    ObligationState.CANCELLED: N_("Zrušeno"),
}
IMPORT_STATUS_LABELS = {
    ImportStatus.PENDING: N_("Čeká ve frontě"),
    ImportStatus.RUNNING: N_("Probíhá"),
    ImportStatus.DONE: N_("Dokončen"),
    ImportStatus.REJECTED: N_("Odmítnut – nic nebylo importováno"),
    ImportStatus.FAILED: N_("Selhal – nic nebylo importováno"),
}


def _said(stored: object, fallback: str) -> str:
    """A stored text in the page's language: from its msgid and values, or (a report of
    an older version) the stored message looked up as a msgid."""
    text = Text.from_dict(stored)
    if text is not None:
        return str(text)
    return _(fallback) if fallback else ""


def _import_summary(report: dict) -> str:  # type: ignore[type-arg]
    if report.get("error"):
        return _("Import selhal kvůli chybě serveru; nic nebylo importováno.")
    if report.get("file_errors"):
        return _("Soubor nebyl importován: %(errors)s", errors=" ".join(report["file_errors"]))
    if report.get("imported") is False:
        bad = len({e["line"] for e in report.get("errors") or []}) or report.get("error_count") or 0
        return _(
            "Soubor nebyl importován: chybných řádků je %(bad)s z %(total)s. Opravte je a nahrajte soubor znovu.",
            bad=bad,
            total=report.get("total_rows") or 0,
        )
    text = _(
        "Importováno předpisů: %(count)s (nových %(inserted)s, změněných %(updated)s, beze změny %(unchanged)s).",
        count=(report.get("inserted") or 0) + (report.get("updated") or 0) + (report.get("unchanged") or 0),
        inserted=report.get("inserted") or 0,
        updated=report.get("updated") or 0,
        unchanged=report.get("unchanged") or 0,
    )
    if report.get("error_count"):
        bad = len({e["line"] for e in report.get("errors") or []}) or report["error_count"]
        text += " " + _("Vynecháno chybných řádků: %(bad)s.", bad=bad)
    return text


def _scoped_import(import_id: int) -> ObligationImport:
    """An import of a service of the user's municipality (of their region, for the
    operator; any, for national staff)."""
    if not 0 < import_id < 2**31:
        abort(404)
    stmt = (
        select(ObligationImport)
        .join(Service, Service.id == ObligationImport.service_id)
        .where(ObligationImport.id == import_id)
    )
    if not current_staff.is_operator:
        stmt = stmt.where(Service.municipality_id == current_staff.municipality_id)
    elif not current_staff.is_national:
        stmt = stmt.where(region_condition(Service, current_staff.region_id or 0))
    record = db_session.scalar(stmt)
    if record is None:
        abort(404)
    return record


@bp.get("/sluzby/<int:service_id>/predpisy")
@staff_required()
def obligations(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    f = ao.ObligationFilter.from_args(request.args)
    raw_after = (request.args.get("after") or "").strip()
    after = parse_id(raw_after)
    page = ao.list_obligations(service, f, after=after, page_size=current_app.config["ADMIN_PAGE_SIZE"])
    return render_template(
        "admin/obligations.html",
        service=service,
        f=f,
        page=page,
        after=after,
        imports=ao.latest_imports(service),
        state_labels_o=OBLIGATION_STATE_LABELS,
        import_labels=IMPORT_STATUS_LABELS,
    ), 200 if not f.errors else 422


@bp.route("/sluzby/<int:service_id>/predpisy/import", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def obligation_upload(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    form = ObligationImportForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            if upload is None:
                raise ao.UploadError(_("Vyberte soubor CSV nebo XLSX se seznamem předpisů."))
            data = ao.read_upload(upload.stream, upload.filename or "")
        except ao.UploadError as exc:
            form.file.errors = [str(exc)]
        else:
            record = ao.upload_import(
                service,
                data,
                upload.filename or "predpisy.csv",
                allow_partial=bool(form.allow_partial.data),
                actor=current_staff.email,
            )
            return redirect(url_for("admin.obligation_import", import_id=record.id), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/obligation_upload.html",
        form=form,
        service=service,
        max_mb=ao.max_upload_bytes() / 1024 / 1024,
        columns=COLUMN_LABELS,
    ), status


@bp.get("/predpisy/importy/<int:import_id>")
@staff_required()
def obligation_import(import_id: int):  # type: ignore[no-untyped-def]
    record = _scoped_import(import_id)
    errors, error_count = ao.import_errors(record)
    # Stored texts said again in the page's language (the job ran in Czech).
    errors = [{**e, "message": _said(e.get("text"), str(e.get("message") or ""))} for e in errors]
    report = dict(record.report or {})
    stored = list(report.get("file_error_texts") or [])
    report["file_errors"] = [
        _said(stored[i] if i < len(stored) else None, str(m)) for i, m in enumerate(report.get("file_errors") or [])
    ]
    if report.get("summary"):
        # The stored summary is in the language of the import job: say it again in the page's.
        report["summary"] = _import_summary(report)
    return render_template(
        "admin/obligation_import.html",
        record=record,
        service=record.service,
        report=report,
        errors=errors,
        error_count=error_count,
        tr=_,
        columns=COLUMN_LABELS,
        import_labels=IMPORT_STATUS_LABELS,
        running=record.status in (ImportStatus.PENDING, ImportStatus.RUNNING),
    )
