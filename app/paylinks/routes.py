"""``/zaplatit/<token>``: the pay page prefilled from a pay link, or a clear page saying
why the link does not work."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from app.checkout.forms import PayForm
from app.checkout.routes import render_pay_page
from app.money import amount_input
from app.paylinks import bp
from app.paylinks.links import PayLinkError, read_token


@bp.get("/zaplatit/<token>")
def open_link(token: str):  # type: ignore[no-untyped-def]
    try:
        link = read_token(token)
    except PayLinkError as exc:
        if exc.code == "expired":
            return render_template(
                "error.html",
                code=410,
                title=_("Platnost odkazu vypršela"),
                message=_("Tento platební odkaz už neplatí. Požádejte obec o nový, nebo zaplaťte přes její stránku."),
            ), 410
        if exc.code == "gone":
            return render_template(
                "error.html",
                code=410,
                title=_("Platba už není možná"),
                message=_("Služba nebo předpis, ke kterému odkaz patří, už není k placení."),
            ), 410
        return render_template(
            "error.html",
            code=404,
            title=_("Neplatný platební odkaz"),
            message=_("Odkaz je neúplný nebo byl změněn. Zkopírujte jej prosím celý z dopisu nebo e-mailu."),
        ), 404
    amount = link.obligation.remaining if link.obligation is not None else link.amount
    data = {"name": link.payer_name, "email": link.payer_email}
    if amount:
        data["amount"] = amount_input(amount)
    form = PayForm.blank(**{k: v for k, v in data.items() if v})
    return render_pay_page(link.service.municipality, link.service, form, None, obligation=link.obligation)
