"""A municipality's gateway accounts (its merchant contracts at GoPay, GP webpay, BTCPay,
Stripe): list, new, edit, deactivate, "Otestovat spojení". Municipality admins and the
operator; secrets are write-only here (shown masked, a blank field keeps the stored one)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from admin import bp
from admin.context import needs_municipality
from admin.forms import ActionForm
from admin.guards import scoped, scoped_get_or_404, staff_required
from app.db import db_session
from app.gateway_accounts.accounts import (
    AccountInput,
    check_account_connection,
    masked_secrets,
    save_account,
    set_account_active,
)
from app.gateway_accounts.kinds import KINDS, ORDER
from app.models import GatewayAccount, GatewayMode, StaffRole


def _webhook_url(account: GatewayAccount) -> str | None:
    if account.gateway_name in ("gpwebpay", "demo"):
        return None  # GP webpay signs the payer's return instead; demo needs nothing
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for(
        "webhooks.receive_for_account", gateway_name=account.gateway_name, account_id=account.public_id
    )


def _input_from_form(gateway_name: str) -> AccountInput:
    kind = KINDS[gateway_name]
    values = {f.name: (request.form.get(f.name) or "")[:10000] for f in kind.fields}
    return AccountInput(
        gateway_name=gateway_name,
        label=(request.form.get("label") or "")[:200],
        mode=(request.form.get("mode") or "")[:20],
        values=values,
        active=request.form.get("active") == "1",
    )


def _form(kind, account, data, errors, status=200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "admin/gateway_account_form.html",
            kind=kind,
            account=account,
            data=data,
            errors=errors,
            masked=masked_secrets(account) if account is not None else {},
            modes=[(GatewayMode.SANDBOX, _("Zkušební (sandbox)")), (GatewayMode.PRODUCTION, _("Ostrý provoz"))],
        ),
        status,
    )


@bp.get("/brany")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def gateway_accounts():  # type: ignore[no-untyped-def]
    rows = db_session.scalars(
        scoped(select(GatewayAccount), GatewayAccount).order_by(GatewayAccount.active.desc(), GatewayAccount.label)
    ).all()
    return render_template(
        "admin/gateway_accounts.html",
        accounts=rows,
        kinds=KINDS,
        order=[g for g in ORDER if g != "demo"],
        webhook_urls={a.id: _webhook_url(a) for a in rows},
    )


@bp.route("/brany/nova", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def gateway_account_new():  # type: ignore[no-untyped-def]
    m = needs_municipality()
    gateway_name = (request.values.get("gateway") or "gopay")[:30]
    kind = KINDS.get(gateway_name)
    if kind is None or gateway_name == "demo":
        flash(_("Vyberte platební bránu."), "error")
        return redirect(url_for("admin.gateway_accounts"), code=303)
    if request.method == "GET":
        data = AccountInput(gateway_name=gateway_name, label=str(kind.label), active=True)
        return _form(kind, None, data, {})
    if not ActionForm().validate_on_submit():
        abort(400)
    data = _input_from_form(gateway_name)
    account, errors = save_account(data, m)
    if account is None:
        db_session.rollback()
        return _form(kind, None, data, errors, 422)
    db_session.commit()
    flash(_("Účet „%(n)s“ byl uložen. Otestujte spojení.", n=account.label), "success")
    return redirect(url_for("admin.gateway_accounts"), code=303)


@bp.route("/brany/<int:account_id>/upravit", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def gateway_account_edit(account_id: int):  # type: ignore[no-untyped-def]
    account = scoped_get_or_404(GatewayAccount, id=account_id)
    kind = KINDS[account.gateway_name]
    if request.method == "GET":
        data = AccountInput(
            gateway_name=account.gateway_name,
            label=account.label,
            mode=account.mode,
            values={k: str(v) for k, v in (account.settings or {}).items()},
            active=account.active,
        )
        return _form(kind, account, data, {})
    if not ActionForm().validate_on_submit():
        abort(400)
    data = _input_from_form(account.gateway_name)
    saved, errors = save_account(data, account.municipality, existing=account)
    if saved is None:
        db_session.rollback()
        account = scoped_get_or_404(GatewayAccount, id=account_id)
        return _form(kind, account, data, errors, 422)
    db_session.commit()
    flash(_("Účet „%(n)s“ byl uložen.", n=saved.label), "success")
    return redirect(url_for("admin.gateway_accounts"), code=303)


@bp.post("/brany/<int:account_id>/deaktivovat")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def gateway_account_deactivate(account_id: int):  # type: ignore[no-untyped-def]
    account = scoped_get_or_404(GatewayAccount, id=account_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    error = set_account_active(account, request.form.get("active") == "1")
    db_session.commit()
    if error:
        flash(error, "error")
    else:
        flash(
            _("Účet „%(n)s“ je nyní %(s)s.", n=account.label, s=_("aktivní") if account.active else _("neaktivní")),
            "success",
        )
    return redirect(url_for("admin.gateway_accounts"), code=303)


@bp.post("/brany/<int:account_id>/test")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def gateway_account_test(account_id: int):  # type: ignore[no-untyped-def]
    account = scoped_get_or_404(GatewayAccount, id=account_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    ok, message = check_account_connection(account)
    db_session.commit()
    if ok:
        flash(_("Spojení s bránou „%(n)s“ funguje.", n=account.label), "success")
    else:
        flash(_("Spojení s bránou „%(n)s“ selhalo: %(m)s", n=account.label, m=message), "error")
    return redirect(url_for("admin.gateway_accounts"), code=303)
