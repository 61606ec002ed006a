"""The admin pages. Thin: each view checks access (guards), parses a form and calls a
service in app/services."""

from __future__ import annotations

import os
from datetime import date, timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.forms import ROLE_LABELS, ActionForm, InviteForm, RefundForm, RoleForm, ServiceForm, SettingsForm
from admin.guards import (
    OPERATOR_SCOPE_KEY,
    current_municipality,
    current_municipality_id,
    current_staff,
    scoped,
    scoped_get_or_404,
    staff_required,
)
from app.db import db_session
from app.jobs import enqueue, run_export
from app.models import (
    AuditLog,
    ExportJob,
    ExportStatus,
    Municipality,
    OnboardingState,
    Payment,
    PaymentEvent,
    PaymentState,
    Service,
    StaffRole,
    StaffUser,
)
from app.services import admin_payments as ap
from app.services import staff as staff_service
from app.services.admin_obligations import open_obligations
from app.services.admin_services import ServiceInput, save_service, set_service_active, update_municipality_settings
from app.services.audit import audit
from app.services.money import AmountError, format_czk, parse_czk
from app.services.payments import PaymentError, refund_payment
from app.services.receipts import receipt_for_payment

STATE_LABELS = {
    PaymentState.CREATED: "Založena", PaymentState.STARTED: "Na bráně", PaymentState.PAID: "Zaplacena",
    PaymentState.FAILED: "Zamítnuta", PaymentState.CANCELLED: "Zrušena", PaymentState.EXPIRED: "Vypršela",
    PaymentState.PARTIALLY_REFUNDED: "Částečně vrácena", PaymentState.REFUNDED: "Vrácena",
}


@bp.app_template_filter("prague")
def prague_filter(dt):  # type: ignore[no-untyped-def]
    local = ap.to_prague(dt)
    return local.strftime("%d. %m. %Y %H:%M") if local else ""


@bp.context_processor
def admin_context():  # type: ignore[no-untyped-def]
    ctx: dict[str, object] = {"state_labels": STATE_LABELS, "role_labels": ROLE_LABELS, "action_form": ActionForm()}
    user = current_staff
    if getattr(user, "is_authenticated", False) and isinstance(user._get_current_object(), StaffUser):  # type: ignore[attr-defined]
        ctx["staff"] = user
        ctx["scope_municipality"] = current_municipality()
        if user.is_operator:
            ctx["all_municipalities"] = db_session.execute(
                select(Municipality.id, Municipality.name).order_by(Municipality.name)).all()
    return ctx


def _needs_municipality() -> Municipality:
    """Actions that belong to one municipality: the operator must pick one first."""
    m = current_municipality()
    if m is None:
        flash(_("Nejprve vyberte obec v horní liště."), "error")
        abort(redirect(url_for("admin.dashboard")))
    return m


# -- dashboard and scope ---------------------------------------------------------------
@bp.get("/")
@staff_required()
def dashboard():  # type: ignore[no-untyped-def]
    mid = current_municipality_id()
    return render_template("admin/dashboard.html", stats=ap.month_stats(mid), latest=ap.latest_payments(mid),
                           open_obligations=open_obligations(mid))


@bp.post("/obec/vybrat")
@staff_required(role=StaffRole.OPERATOR)
def select_municipality():  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("municipality_id") or "").strip()
    if not raw:
        session.pop(OPERATOR_SCOPE_KEY, None)
    elif raw.isdigit() and db_session.get(Municipality, int(raw)) is not None:
        session[OPERATOR_SCOPE_KEY] = int(raw)
    else:
        abort(404)
    return redirect(url_for("admin.dashboard"), code=303)


@bp.route("/obec/<int:municipality_id>/nastaveni", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def settings(municipality_id: int):  # type: ignore[no-untyped-def]
    m = scoped_get_or_404(Municipality, id=municipality_id)
    form = SettingsForm(mode="demo" if m.demo_mode else "live")
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        errors = update_municipality_settings(m, demo_mode=form.mode.data == "demo", account=form.account.data or "")
        if not errors:
            flash(_("Nastavení obce bylo uloženo."), "success")
            return redirect(url_for("admin.settings", municipality_id=m.id), code=303)
    _attach(form, errors)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form, municipality=m), status


# -- services --------------------------------------------------------------------------
def _attach(form, errors: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, message in errors.items():
        if name in form._fields:
            form._fields[name].errors = [message]
        else:
            form.form_errors.append(message)


def _service_input(form: ServiceForm) -> ServiceInput:
    return ServiceInput(**{k: (form._fields[k].data or ([] if k == "allowed_gateways" else ""))
                           for k in ServiceInput.__dataclass_fields__ if k != "active"}, active=bool(form.active.data))


def _gateway_choices(form: ServiceForm) -> None:
    names = {"demo": _("Demo brána (zkušební)"), "stripe": _("Platební karta (Stripe)")}
    form.allowed_gateways.choices = [(g, names.get(g, g)) for g in current_app.config["ENABLED_GATEWAYS"]]


@bp.get("/sluzby")
@staff_required()
def services():  # type: ignore[no-untyped-def]
    rows = db_session.scalars(scoped(select(Service), Service).order_by(Service.active.desc(), Service.name)).all()
    return render_template("admin/services.html", services=rows)


@bp.route("/sluzby/nova", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def service_new():  # type: ignore[no-untyped-def]
    m = _needs_municipality()
    form = ServiceForm()
    _gateway_choices(form)
    if request.method == "GET":
        form.allowed_gateways.data = ["demo"]
    if form.validate_on_submit():
        service, errors = save_service(_service_input(form), m)
        if service is not None:
            flash(_("Služba „%(n)s“ byla vytvořena.", n=service.name), "success")
            return redirect(url_for("admin.services"), code=303)
        _attach(form, errors)
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
            flash(_("Služba „%(n)s“ byla uložena.", n=saved.name), "success")
            return redirect(url_for("admin.services"), code=303)
        db_session.rollback()
        _attach(form, errors)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/service_form.html", form=form, service=service, municipality=m), status


@bp.post("/sluzby/<int:service_id>/deaktivovat")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def service_deactivate(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    set_service_active(service, request.form.get("active") == "1")
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
    form = PayForm.from_request(request.form, service) if request.method == "POST" else PayForm()
    return render_template("admin/service_preview.html", service=service, municipality=service.municipality,
                           form=form, form_token="preview", submitted=request.method == "POST")


# -- payments --------------------------------------------------------------------------
def _service_options() -> list[tuple[int, str]]:
    """The service filter's choices: the services of the municipality in view (none for
    the operator's all-municipality view, which would list thousands)."""
    mid = current_municipality_id()
    if mid is None:
        return []
    rows = db_session.execute(
        select(Service.id, Service.name).where(Service.municipality_id == mid).order_by(Service.name)).all()
    return [(sid, name) for sid, name in rows]


@bp.get("/platby")
@staff_required()
def payments():  # type: ignore[no-untyped-def]
    f = ap.PaymentFilter.from_args(request.args)
    page = ap.list_payments(f, current_municipality_id(), cursor=request.args.get("cursor"),
                            page_size=current_app.config["ADMIN_PAGE_SIZE"])
    return render_template("admin/payments.html", f=f, page=page, services=_service_options(),
                           states=list(PaymentState), filter_args=f.to_args())


@bp.get("/platby/<external_id>")
@staff_required()
def payment_detail(external_id: str):  # type: ignore[no-untyped-def]
    payment = scoped_get_or_404(Payment, external_id=external_id)
    form = RefundForm(amount=format_czk(payment.amount - payment.amount_refunded, symbol=False).replace("\u00a0", ""))
    return _detail(payment, form)


def _detail(payment: Payment, form: RefundForm, status: int = 200):  # type: ignore[no-untyped-def]
    events = db_session.scalars(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).order_by(PaymentEvent.id)).all()
    refundable = payment.state in (PaymentState.PAID, PaymentState.PARTIALLY_REFUNDED)
    return render_template("admin/payment_detail.html", payment=payment, events=events, form=form,
                           refundable=refundable, receipt=receipt_for_payment(payment)), status


@bp.post("/platby/<external_id>/vratit")
@staff_required(role=StaffRole.CLERK)
def payment_refund(external_id: str):  # type: ignore[no-untyped-def]
    payment = scoped_get_or_404(Payment, external_id=external_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            amount = parse_czk(form.amount.data)
        except AmountError:
            form.amount.errors = [_("Částka musí být číslo v korunách, např. 500 nebo 499,50.")]
        else:
            before = {"state": payment.state, "amount_refunded": payment.amount_refunded}
            try:
                refund_payment(payment, amount, reason=form.reason.data or "", actor=current_staff.email)
            except PaymentError as exc:
                db_session.rollback()
                message = {
                    "not_refundable": _("Tuto platbu nelze vrátit: není zaplacená nebo už byla vrácena celá."),
                    "refund_amount": _("Částka k vrácení musí být kladná a nejvýše %(max)s.",
                                       max=format_czk(payment.amount - payment.amount_refunded)),
                    "refund_reason": _("Uveďte důvod vrácení."),
                }.get(str(exc), _("Platební brána vrácení odmítla. Zkuste to později nebo kontaktujte operátora."))
                form.form_errors.append(message)
            else:
                audit("refund", payment, before=before,
                      after={"state": payment.state, "amount_refunded": payment.amount_refunded,
                             "amount": amount, "reason": form.reason.data})
                flash(_("Vráceno %(a)s.", a=format_czk(amount)), "success")
                return redirect(url_for("admin.payment_detail", external_id=payment.external_id), code=303)
    return _detail(payment, form, 422)


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
    mid = current_municipality_id()
    count = ap.count_payments(f, mid)
    audit("export", None, after={"format": fmt, "rows": count, "filters": ap.filter_dict(f)}, municipality_id=mid)
    if count > current_app.config["EXPORT_SYNC_LIMIT"]:
        job = ap.start_export_job(current_staff.id, mid, fmt, f)
        enqueue(run_export, job.id)
        flash(_("Export má %(n)s řádků; připravujeme ho na pozadí.", n=count), "success")
        return redirect(url_for("admin.export_status", export_id=job.id), code=303)
    stamp = date.today().isoformat()
    if fmt == "csv":
        resp = Response(stream_with_context(ap.stream_csv(f, mid)), mimetype="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = f'attachment; filename="platby-{stamp}.csv"'
        return resp
    path = ap.xlsx_tempfile(f, mid)
    resp = Response(ap.stream_file_and_delete(path),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f'attachment; filename="platby-{stamp}.xlsx"'
    return resp


def _own_export(export_id: int) -> ExportJob:
    job = scoped_get_or_404(ExportJob, id=export_id)
    if not current_staff.is_operator and job.staff_id != current_staff.id:
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


# -- team ------------------------------------------------------------------------------
@bp.get("/tym")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team():  # type: ignore[no-untyped-def]
    rows = db_session.scalars(scoped(select(StaffUser), StaffUser).order_by(StaffUser.active.desc(),
                                                                             StaffUser.email)).all()
    return render_template("admin/team.html", members=rows, roles=staff_service.assignable_roles(current_staff))


@bp.route("/tym/pozvat", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team_invite():  # type: ignore[no-untyped-def]
    form = InviteForm()
    form.role.choices = [(r, str(ROLE_LABELS[r])) for r in staff_service.assignable_roles(current_staff)]
    link = None
    if form.validate_on_submit():
        mid = current_municipality_id()
        try:
            result = staff_service.invite_staff(current_staff, form.email.data or "", form.role.data or "",
                                                mid, name=form.name.data or "")
        except staff_service.StaffError as exc:
            db_session.rollback()
            (form.email if exc.code == "exists" else form.role).errors = [exc.message]
        else:
            link = result.link
            flash(_("Pozvánka pro %(e)s byla vytvořena%(m)s.", e=result.invitation.email,
                    m=_(" a odeslána e-mailem") if result.mailed else ""), "success")
            return render_template("admin/invite.html", form=InviteForm(formdata=None), link=link)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/invite.html", form=form, link=link), status


@bp.post("/tym/<int:staff_id>/role")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team_role(staff_id: int):  # type: ignore[no-untyped-def]
    member = scoped_get_or_404(StaffUser, id=staff_id)
    form = RoleForm()
    form.role.choices = [(r, r) for r in staff_service.assignable_roles(current_staff)]
    if not form.validate_on_submit():
        flash(_("Vyberte platnou roli."), "error")
    else:
        try:
            staff_service.change_role(current_staff, member, form.role.data or "")
            flash(_("Role uživatele %(e)s byla změněna.", e=member.email), "success")
        except staff_service.StaffError as exc:
            db_session.rollback()
            flash(exc.message, "error")
    return redirect(url_for("admin.team"), code=303)


@bp.post("/tym/<int:staff_id>/deaktivovat")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def team_deactivate(staff_id: int):  # type: ignore[no-untyped-def]
    member = scoped_get_or_404(StaffUser, id=staff_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        staff_service.set_staff_active(current_staff, member, request.form.get("active") == "1")
        flash(_("Účet %(e)s je nyní %(s)s.", e=member.email, s=_("aktivní") if member.active else _("deaktivovaný")),
              "success")
    except staff_service.StaffError as exc:
        db_session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("admin.team"), code=303)


# -- audit log (operator) --------------------------------------------------------------
@bp.get("/audit")
@staff_required(role=StaffRole.OPERATOR)
def audit_log():  # type: ignore[no-untyped-def]
    stmt = select(AuditLog)
    args = request.args
    errors = {}
    staff_q = (args.get("staff") or "").strip()[:254]
    if staff_q:
        stmt = stmt.where(AuditLog.staff_email.ilike(f"%{staff_q.replace('%', '')}%"))
    action = (args.get("action") or "").strip()[:40]
    if action:
        stmt = stmt.where(AuditLog.action == action)
    mid = (args.get("municipality") or "").strip()
    if mid:
        if mid.isdigit() and len(mid) < 10:
            stmt = stmt.where(AuditLog.municipality_id == int(mid))
        else:
            errors["municipality"] = _("Neznámá obec.")
    for key, op in (("date_from", "ge"), ("date_to", "lt")):
        text = (args.get(key) or "").strip()
        if text:
            try:
                d = date.fromisoformat(text)
            except ValueError:
                errors[key] = _("Datum zadejte ve tvaru RRRR-MM-DD.")
                continue
            if op == "ge":
                stmt = stmt.where(AuditLog.created_at >= ap.prague_day_start(d))
            else:
                stmt = stmt.where(AuditLog.created_at < ap.prague_day_start(d + timedelta(days=1)))
    before_id = (args.get("before") or "").strip()
    if before_id.isdigit() and len(before_id) < 12:
        stmt = stmt.where(AuditLog.id < int(before_id))
    rows = db_session.scalars(stmt.order_by(AuditLog.id.desc()).limit(101)).all()
    more = len(rows) > 100
    rows = rows[:100]
    actions = db_session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    municipalities = db_session.execute(
        select(Municipality.id, Municipality.name).where(Municipality.onboarding_state != OnboardingState.NOT_CONTACTED)
        .order_by(Municipality.name)).all()
    next_args = {k: v for k, v in args.items() if k != "before"}
    if more:
        next_args["before"] = str(rows[-1].id)
    return render_template("admin/audit.html", rows=rows, actions=actions, municipalities=municipalities,
                           errors=errors, args=args, more=more, next_args=next_args)
