"""The demo gateway's hosted payment page: the payer chooses pay, decline or cancel.

It is the gateway's side of the world, mounted at /demo-gateway/ for convenience; it
talks to the portal only by signed notifications and the return redirect. Its words are
Czech unless the host passes ``texts`` (a callable giving the page's ``PageTexts`` for the
current request: the portal passes its translations, so an English payer reads English).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import Blueprint, abort, redirect, render_template, request

from gateway.base import GatewayStatus
from gateway.demo import DemoGateway

OUTCOMES = {
    "pay": GatewayStatus.PAID,
    "decline": GatewayStatus.FAILED,
    "cancel": GatewayStatus.CANCELLED,
}


def czech_amount(amount: int, currency: str) -> str:
    """1234550, "CZK" → "12 345,50 CZK" (whole crowns without decimals)."""
    crowns, hal = divmod(amount, 100)
    text = f"{crowns:,}".replace(",", "\u00a0")
    return f"{text},{hal:02d} {currency}" if hal else f"{text} {currency}"


@dataclass(frozen=True)
class PageTexts:
    """Everything the page says; ``done`` has the placeholder ``%(state)s``."""

    lang: str = "cs"
    title: str = "Demo platební brána"
    badge: str = "DEMO – žádné skutečné peníze"
    amount_label: str = "Částka k zaplacení"
    done: str = "Tato platba již byla zpracována (%(state)s)."
    back: str = "Zpět do portálu"
    pay: str = "Zaplatit"
    decline: str = "Zamítnout platbu"
    cancel: str = "Zrušit a vrátit se"
    unknown_action: str = "Neznámá volba: zvolte Zaplatit, Zamítnout platbu, nebo Zrušit a vrátit se."
    states: Mapping[str, str] = field(
        default_factory=lambda: {
            GatewayStatus.PENDING: "čeká na zaplacení",
            GatewayStatus.PAID: "zaplacena",
            GatewayStatus.FAILED: "zamítnuta",
            GatewayStatus.CANCELLED: "zrušena",
            GatewayStatus.EXPIRED: "vypršela",
            GatewayStatus.PROCESSING: "zpracovává se",
        }
    )
    amount: Callable[[int, str], str] = czech_amount


def make_blueprint(get_gateway: Callable[[], DemoGateway], texts: Callable[[], PageTexts] = PageTexts) -> Blueprint:
    bp = Blueprint("demo_gateway", __name__, url_prefix="/demo-gateway", template_folder="templates")

    @bp.get("/<reference>")
    def page(reference: str):  # type: ignore[no-untyped-def]
        txn = get_gateway().load(reference)
        if txn is None:
            abort(404)
        t = texts()
        state = t.states.get(txn.state, txn.state.value)
        return render_template(
            "demo_gateway/page.html",
            txn=txn,
            t=t,
            amount=t.amount(txn.amount, txn.currency),
            done=t.done % {"state": state},
        )

    @bp.post("/<reference>")
    def act(reference: str):  # type: ignore[no-untyped-def]
        gw = get_gateway()
        if gw.load(reference) is None:
            abort(404)
        outcome = OUTCOMES.get(request.form.get("action", ""))
        if outcome is None:
            abort(400, texts().unknown_action)
        txn = gw.complete(reference, outcome)
        return redirect(txn.return_url, code=303)

    return bp
