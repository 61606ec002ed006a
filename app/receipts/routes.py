"""/potvrzeni/<token> (verify) and /potvrzeni/<token>.pdf (download).

The token is the only key: an unknown and a malformed one both get the same 404."""

from __future__ import annotations

from flask import Response, abort, render_template

from app.receipts import bp
from app.receipts.issuing import find_receipt, pdf_filename, receipt_context, render_receipt_pdf
from app.timeutil import to_prague


@bp.app_template_filter("prague_time")
def prague_time(moment, fmt: str = "%d. %m. %Y %H:%M") -> str:  # type: ignore[no-untyped-def]
    """A stored UTC time as the citizen's clock shows it (Europe/Prague)."""
    return to_prague(moment).strftime(fmt) if moment else ""


def _private(resp: Response) -> Response:
    # The token is a secret: keep the page out of caches, search engines and Referer headers.
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.get("/potvrzeni/<token>")
def verify(token: str):  # type: ignore[no-untyped-def]
    receipt = find_receipt(token)
    if receipt is None:
        abort(404)
    return _private(Response(render_template("receipts/verify.html", **receipt_context(receipt))))


@bp.get("/potvrzeni/<token>.pdf")
def pdf(token: str):  # type: ignore[no-untyped-def]
    receipt = find_receipt(token)
    if receipt is None:
        abort(404)
    resp = Response(render_receipt_pdf(receipt), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{pdf_filename(receipt)}"'
    return _private(resp)
