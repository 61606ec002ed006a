"""Pay links for a whole payer list: a CSV (customer ID, payer, amount, VS, link) for a
mail merge, with an optional expiry."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, request
from flask_babel import gettext as _

from admin import bp
from admin.guards import scoped_get_or_404, staff_required
from app.models import Service, StaffRole
from app.paylinks.links import links_csv
from app.staff.audit import audit
from app.timeutil import prague_midnight_utc


@bp.get("/sluzby/<int:service_id>/platebni-odkazy.csv")
@staff_required(role=StaffRole.CLERK)
def paylinks_csv(service_id: int):  # type: ignore[no-untyped-def]
    service = scoped_get_or_404(Service, id=service_id)
    raw = (request.args.get("expires_on") or "").strip()
    expires_at = None
    if raw:
        try:
            expires_at = prague_midnight_utc(date.fromisoformat(raw))
        except ValueError:
            abort(400, _("Datum zadejte ve tvaru RRRR-MM-DD."))
    data = links_csv(service, expires_at=expires_at)
    audit("paylinks_export", service, after={"expires_on": raw or None})
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="platebni-odkazy-{service.slug}.csv"'},
    )
