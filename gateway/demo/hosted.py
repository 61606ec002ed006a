"""The demo gateway's hosted payment page: the payer chooses pay, decline or cancel.

It is the gateway's side of the world, mounted at /demo-gateway/ for convenience; it
talks to the portal only by signed notifications and the return redirect.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, redirect, render_template, request

from gateway.base import GatewayStatus
from gateway.demo import DemoGateway

OUTCOMES = {
    "pay": GatewayStatus.PAID,
    "decline": GatewayStatus.FAILED,
    "cancel": GatewayStatus.CANCELLED,
}


def make_blueprint(get_gateway: Callable[[], DemoGateway]) -> Blueprint:
    bp = Blueprint("demo_gateway", __name__, url_prefix="/demo-gateway", template_folder="templates")

    @bp.get("/<reference>")
    def page(reference: str):  # type: ignore[no-untyped-def]
        txn = get_gateway().load(reference)
        if txn is None:
            abort(404)
        return render_template("demo_gateway/page.html", txn=txn)

    @bp.post("/<reference>")
    def act(reference: str):  # type: ignore[no-untyped-def]
        gw = get_gateway()
        if gw.load(reference) is None:
            abort(404)
        outcome = OUTCOMES.get(request.form.get("action", ""))
        if outcome is None:
            abort(400, "unknown action")
        txn = gw.complete(reference, outcome)
        return redirect(txn.return_url, code=303)

    return bp
