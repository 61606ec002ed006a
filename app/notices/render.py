"""Rendering notices: HTML per obligation, one PDF (WeasyPrint) for one obligation or for
a whole payer list in the order of a chosen column (for envelopes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import render_template
from sqlalchemy import select

from app.db import db_session
from app.models import Obligation, Service
from app.paylinks.links import make_token, pay_link_url
from app.qr import qr_svg, spayd

ORDER_COLUMNS = {
    "customer_id": Obligation.customer_id,
    "payer_name": Obligation.payer_name,
    "variable_symbol": Obligation.variable_symbol,
    "due_date": Obligation.due_date,
}


def notice_context(service: Service, obligation: Obligation) -> dict[str, Any]:
    municipality = service.municipality
    iban = service.iban or municipality.iban
    link = pay_link_url(make_token(service, obligation=obligation, payer_name=obligation.payer_name))
    amount = obligation.remaining or obligation.amount
    payment_qr = None
    if iban:
        data = spayd(
            iban,
            amount,
            obligation.variable_symbol,
            f"{service.name}, {obligation.payer_name}",
            municipality.name,
            constant_symbol=service.constant_symbol,
            due_date=obligation.due_date,
        )
        payment_qr = qr_svg(data, "QR Platba", scale=3)
    return {
        "o": obligation,
        "amount": amount,
        "iban": iban,
        "pay_link": link,
        "payment_qr": payment_qr,
        "link_qr": qr_svg(link, link, scale=3),
    }


def notices_html(
    service: Service, obligations: Sequence[Obligation], progress: Callable[[int, int], None] | None = None
) -> str:
    notices = []
    for i, o in enumerate(obligations, start=1):
        notices.append(notice_context(service, o))
        if progress and i % 100 == 0:
            progress(i, len(obligations))
    return render_template("notices/notices.html", service=service, municipality=service.municipality, notices=notices)


def list_obligations(service: Service, order: str = "customer_id") -> list[Obligation]:
    column = ORDER_COLUMNS.get(order)
    if column is None:
        raise ValueError(order)
    return list(
        db_session.scalars(
            select(Obligation)
            .where(Obligation.service_id == service.id, Obligation.cancelled_at.is_(None))
            .order_by(column, Obligation.id)
        )
    )


def notices_pdf(
    service: Service, obligations: Sequence[Obligation], progress: Callable[[int, int], None] | None = None
) -> bytes:
    from app.reporting.render import html_to_pdf

    return html_to_pdf(notices_html(service, obligations, progress))
