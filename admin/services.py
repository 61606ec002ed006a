"""A municipality's services (fees): list, create, edit, deactivate, preview."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.context import attach_errors, needs_municipality
from admin.forms import ActionForm, ServiceForm
from admin.guards import (
    scoped,
    scoped_get_or_404,
    staff_required,
)
from app.catalog.settings import ServiceInput, save_service, set_service_active
from app.czech import czech
from app.db import db_session
from app.models import (
    Service,
    StaffRole,
)


def _service_input(form: ServiceForm) -> ServiceInput:
    return ServiceInput(**{k: (form._fields[k].data or ([] if k == "allowed_gateways" else ""))
                           for k in ServiceInput.__dataclass_fields__ if k != "active"}, active=bool(form.active.data))


def _gateway_choices(form: ServiceForm) -> None:
    names = {"demo": _("Demo brána (zkušební)"), "stripe": _("Platební karta (Stripe)")}
    form.allowed_gateways.choices = [(g, names.get(g, g)) for g in current_app.config["ENABLED_GATEWAYS"]]


@bp.get("/sluzby")
@staff_required()
def services():  # type: ignore[no-untyped-def]
    rows = db_session.scalars(scoped(select(Service), Service).order_by(Service.active.desc(), czech(Service.name))).all()
    return render_template("admin/services.html", services=rows)


@bp.route("/sluzby/nova", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def service_new():  # type: ignore[no-untyped-def]
    m = needs_municipality()
    form = ServiceForm()
    _gateway_choices(form)
    if request.method == "GET":
        form.allowed_gateways.data = ["demo"]
    if form.validate_on_submit():
        service, errors = save_service(_service_input(form), m)
        if service is not None:
            db_session.commit()
            flash(_("Služba „%(n)s“ byla vytvořena.", n=service.name), "success")
            return redirect(url_for("admin.services"), code=303)
        attach_errors(form, errors)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/service_form.html", form=form, service=None, municipality=m), status


@bp.route("/sluzby/<int:service_id>/upravit", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def service_edit(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    m = service.municipality
    form = ServiceForm(obj=None if request.method == "POST" else ServiceInput.from_service(service))
    _gateway_choices(form)
    if form.validate_on_submit():
        saved, errors = save_service(_service_input(form), m, existing=service)
        if saved is not None:
            db_session.commit()
            flash(_("Služba „%(n)s“ byla uložena.", n=saved.name), "success")
            return redirect(url_for("admin.services"), code=303)
        db_session.rollback()
        attach_errors(form, errors)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/service_form.html", form=form, service=service, municipality=m), status


@bp.post("/sluzby/<int:service_id>/deaktivovat")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def service_deactivate(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    set_service_active(service, request.form.get("active") == "1")
    db_session.commit()
    flash(_("Služba „%(n)s“ je nyní %(s)s.", n=service.name, s=_("aktivní") if service.active else _("neaktivní")),
          "success")
    return redirect(url_for("admin.services"), code=303)


@bp.route("/sluzby/<int:service_id>/nahled", methods=["GET", "POST"])
@staff_required()
def service_preview(service_id: int):  # type: ignore[no-untyped-def]
    """The citizen's pay page for this service; a submitted preview is only validated
    (the clerk sees the messages a citizen would), never creates a payment."""
    from app.checkout.forms import PayForm

    service = scoped_get_or_404(Service, id=service_id)
    form = PayForm.from_request(request.form, service) if request.method == "POST" else PayForm.blank()
    return render_template("admin/service_preview.html", service=service, municipality=service.municipality,
                           form=form, form_token="preview", submitted=request.method == "POST")
