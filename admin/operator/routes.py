"""Operator views: thin — the rules are in app.onboarding.pipeline and app.reporting."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from admin.forms import NewMunicipalityForm, RegionSettingsForm, StateChangeForm, first_errors, form_values
from admin.guards import current_region_id, operator_municipality_or_404
from admin.operator import bp
from admin.operator.guard import current_actor, invite_first_admin, operator_required
from app.czech import czech
from app.db import db_session
from app.models import Municipality, OnboardingState, Region, Service, StaffUser
from app.onboarding.pipeline import (
    PIPELINE_ORDER,
    STATE_LABELS,
    OnboardingError,
    change_onboarding_state,
    create_municipality,
    history,
)
from app.regions.scope import region_condition
from app.regions.settings import RegionSettings, contrast_with_white, settings_of, update_region_settings
from app.reporting.monthly import ReportPeriodError, build_monthly_report, parse_period
from app.reporting.render import FORMATS, monthly_body, render_monthly, render_yearly, yearly_body
from app.reporting.yearly import build_yearly_indicators
from app.timeutil import prague_today, shift_month

MAX_LIST = 300


def _municipality_or_404(mid: int) -> Municipality:
    """A municipality of the operator's region (any, for national staff); else 404."""
    return operator_municipality_or_404(mid)


@bp.get("/")
@operator_required
def pipeline():  # type: ignore[no-untyped-def]
    state = request.args.get("stav") or ""
    q = (request.args.get("q") or "").strip()[:100]
    if state and state not in STATE_LABELS:
        state = ""
    rid = current_region_id()
    stmt = (select(Municipality).where(region_condition(Municipality, rid))
            .order_by(czech(Municipality.name), Municipality.district).limit(MAX_LIST))
    if state:
        stmt = stmt.where(Municipality.onboarding_state == state)
    if q:
        stmt = stmt.where(Municipality.name.ilike(f"%{q.replace('%', '').replace('_', '')}%"))
    current = dict(
        db_session.execute(
            select(Municipality.onboarding_state, func.count()).where(region_condition(Municipality, rid))
            .group_by(Municipality.onboarding_state)
        ).all()
    )
    return render_template(
        "operator/pipeline.html",
        counts=[(s.value, STATE_LABELS[s], current.get(s.value, 0)) for s in PIPELINE_ORDER],
        municipalities=db_session.scalars(stmt).all(),
        state=state,
        q=q,
        labels=STATE_LABELS,
    )


@bp.route("/obce/nova", methods=["GET", "POST"])
@operator_required
def new_municipality():  # type: ignore[no-untyped-def]
    form = NewMunicipalityForm(
        data={"state": OnboardingState.CONTACTED.value, "date": prague_today().isoformat()}
        if request.method == "GET"
        else None
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        form.validate()
        errors = first_errors(form)
        if not errors:
            try:
                m = create_municipality(
                    name=form.name.data,
                    ico=form.ico.data,
                    district=form.district.data,
                    state=form.state.data,
                    effective_date=date.fromisoformat(form.date.data),
                    note=form.note.data,
                    actor=current_actor(),
                    region_id=_region_for_new_municipality(),
                )
            except OnboardingError as exc:
                db_session.rollback()
                errors[exc.code] = exc.message
            else:
                db_session.commit()
                flash(_("Obec %(name)s byla přidána.", name=m.name), "success")
                if form.admin_email.data:
                    problem = invite_first_admin(m.id, form.admin_email.data, form.admin_name.data)
                    if problem:
                        flash(problem, "error")
                    else:
                        db_session.commit()
                        flash(
                            _("Pozvánka pro správce obce odešla na %(email)s.", email=form.admin_email.data), "success"
                        )
                return redirect(url_for("operator.municipality", mid=m.id), code=303)
    return render_template(
        "operator/new_municipality.html",
        form=form_values(form),
        errors=errors,
        labels=STATE_LABELS,
        states=PIPELINE_ORDER,
        districts=_districts(),
    ), (422 if errors else 200)


def _region_for_new_municipality() -> int | None:
    """The operator's region; for national staff the region in view (none chosen: the
    deployment's default)."""
    return current_region_id()


def _districts() -> list[str]:
    return [
        d for d in db_session.scalars(
            select(Municipality.district).where(region_condition(Municipality, current_region_id()))
            .distinct().order_by(Municipality.district)
        ) if d
    ]


@bp.get("/obce/<int:mid>")
@operator_required
def municipality(mid: int):  # type: ignore[no-untyped-def]
    m = _municipality_or_404(mid)
    return _municipality_page(m, {}, {"state": "", "date": prague_today().isoformat(), "note": ""})


def _municipality_page(m: Municipality, errors: dict[str, str], form: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    services = db_session.scalars(select(Service).where(Service.municipality_id == m.id).order_by(czech(Service.name))).all()
    changes = list(reversed(history(m)))
    staff_ids = {c.staff_id for c in changes if c.staff_id}
    staff = (
        dict(db_session.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(staff_ids))).all())
        if staff_ids
        else {}
    )
    return render_template(
        "operator/municipality.html", m=m, changes=changes, staff_names=staff, services=services, labels=STATE_LABELS,
        states=[s for s in PIPELINE_ORDER if s != m.onboarding_state], errors=errors, form=form,
    ), status


@bp.post("/obce/<int:mid>/stav")
@operator_required
def change_state(mid: int):  # type: ignore[no-untyped-def]
    m = _municipality_or_404(mid)
    form = StateChangeForm()
    form.validate()
    errors = first_errors(form)
    if not errors:
        try:
            change_onboarding_state(
                m, form.state.data, date.fromisoformat(form.date.data), form.note.data, current_actor()
            )
        except OnboardingError as exc:
            db_session.rollback()
            errors[exc.code if exc.code in ("state", "date", "note") else "state"] = exc.message
        else:
            db_session.commit()
            new_label = STATE_LABELS[form.state.data]
            flash(_("Stav obce %(name)s je nyní: %(state)s.", name=m.name, state=_(new_label)), "success")
            return redirect(url_for("operator.municipality", mid=m.id), code=303)
    m = _municipality_or_404(mid)
    return _municipality_page(m, errors, form_values(form), 422)


# -- reports ----------------------------------------------------------------------------
def _previous_month() -> str:
    today = prague_today()
    y, mth = shift_month(today.year, today.month, -1)
    return f"{y:04d}-{mth:02d}"


@bp.get("/zpravy/mesicni")
@operator_required
def monthly():  # type: ignore[no-untyped-def]
    period = request.args.get("obdobi") or _previous_month()
    try:
        year, month = parse_period(period)
    except ReportPeriodError as exc:
        return render_template("operator/report_error.html", message=str(exc), period=period[:20]), 400
    report = build_monthly_report(year, month, region_id=current_region_id())
    return render_template(
        "operator/monthly.html",
        r=report,
        body=monthly_body(report),
        formats=list(FORMATS),
        prev=f"{shift_month(year, month, -1)[0]:04d}-{shift_month(year, month, -1)[1]:02d}",
        next=f"{shift_month(year, month, 1)[0]:04d}-{shift_month(year, month, 1)[1]:02d}",
    )


@bp.get("/zpravy/mesicni/<period>.<fmt>")
@operator_required
def monthly_download(period: str, fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in FORMATS:
        abort(404)
    try:
        year, month = parse_period(period)
    except ReportPeriodError:
        abort(404)
    return _download(render_monthly(build_monthly_report(year, month, region_id=current_region_id()), fmt))


@bp.get("/zpravy/rocni")
@operator_required
def yearly():  # type: ignore[no-untyped-def]
    raw = request.args.get("rok") or str(prague_today().year - 1)
    if not (raw.isascii() and raw.isdigit()) or not 2000 <= int(raw) <= 2999:
        return render_template(
            "operator/report_error.html", message=_("Rok musí být číslo 2000–2999."), period=raw[:20]
        ), 400
    y = build_yearly_indicators(int(raw), region_id=current_region_id())
    return render_template("operator/yearly.html", y=y, body=yearly_body(y), formats=list(FORMATS))


@bp.get("/zpravy/rocni/<int:year>.<fmt>")
@operator_required
def yearly_download(year: int, fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in FORMATS or not 2000 <= year <= 2999:
        abort(404)
    return _download(render_yearly(build_yearly_indicators(year, region_id=current_region_id()), fmt))


def _download(rendered):  # type: ignore[no-untyped-def]
    return Response(
        rendered.content,
        mimetype=rendered.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"', "Cache-Control": "no-store"},
    )


@bp.get("/banka")
@operator_required
def banking():  # type: ignore[no-untyped-def]
    """Bank transfers across the region: per municipality its accounts, the Fio pulls'
    last success and error, and the lines waiting in its queue."""
    from app.models import BankAccount, BankLine, LineStatus

    rid = current_region_id()
    accounts = db_session.execute(
        select(BankAccount, Municipality.name).join(Municipality, Municipality.id == BankAccount.municipality_id)
        .where(region_condition(Municipality, rid))
        .order_by(Municipality.name, BankAccount.id)
    ).all()  # fmt: skip
    counts = dict(
        db_session.execute(
            select(BankLine.municipality_id, func.count())
            .where(BankLine.status == LineStatus.UNMATCHED, region_condition(BankLine, rid))
            .group_by(BankLine.municipality_id)
        ).all()
    )
    return render_template("operator/banking.html", accounts=accounts, unmatched=counts)


# -- the region's own settings ----------------------------------------------------------
@bp.route("/kraj", methods=["GET", "POST"])
@operator_required
def region_settings():  # type: ignore[no-untyped-def]
    """The region's name in the portal, logo, colour, footer, contacts and the monthly
    report's recipients (national staff: of the region chosen in the top bar)."""
    rid = current_region_id()
    region = db_session.get(Region, rid) if rid else None
    if region is None:
        return render_template("operator/region_settings.html", region=None, form={}, errors={}), 200
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = RegionSettingsForm()
        form.validate()
        errors = first_errors(form)
        values = form_values(form)
        if not errors:
            errors = update_region_settings(region, RegionSettings(**values))
            if not errors:
                db_session.commit()
                flash(_("Nastavení kraje bylo uloženo."), "success")
                return redirect(url_for("operator.region_settings"), code=303)
            db_session.rollback()
    else:
        values = vars(settings_of(region))
    contrast = contrast_with_white(region.primary_color) if region.primary_color else None
    return render_template(
        "operator/region_settings.html", region=region, form=values, errors=errors, contrast=contrast
    ), (422 if errors else 200)
