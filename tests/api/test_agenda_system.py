"""An agenda system's day: the municipality's admin creates a key and a webhook in the
admin area; the agenda system uploads its obligations through the API and makes a pay
link; a citizen pays through the link; the agenda system receives ``obligation.paid``
(signed) on its loopback receiver and reads the payment back through the API."""

from __future__ import annotations

import json
import re

from app.db import db_session
from app.webhooks_out.signing import verify
from tests.admin.staff_helpers import login, make_staff
from tests.conftest import deliver_notifications
from tests.factories import make_municipality, make_service
from tests.webhooks_out.receiver import Receiver


def test_agenda_system_gets_obligation_paid_after_a_citizen_pays_through_a_pay_link(app) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    try:
        m = make_municipality(name="Hodkovice nad Mohelkou")
        service = make_service(
            m,
            name="Poplatek za psa",
            lookup_mode="optional",
            amount_mode="payer",
            amount=None,
            amount_min=100,
            amount_max=100_000_00,
        )
        admin = make_staff("municipality_admin", m)
        staff = app.test_client()
        login(staff, admin)
        page = staff.post("/admin/api-klice", data={"name": "Agenda poplatků", "scopes": ["read", "write"]})
        assert page.status_code == 200
        secret = re.search(r'id="new-secret">([^<]+)<', page.get_data(as_text=True)).group(1)
        page = staff.post("/admin/webhooky", data={"url": receiver.url, "events": ["obligation.paid", "payment.paid"]})
        hook_secret = re.search(r'id="new-secret">([^<]+)<', page.get_data(as_text=True)).group(1)

        agenda = app.test_client()
        h = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "upload-2026"}
        rows = [
            {
                "customer_id": f"PES-{i}",
                "payer_name": f"Držitel {i}",
                "amount": 15000 + i * 100,
                "variable_symbol": f"2026{i:04d}",
                "due_date": "2026-12-31",
            }
            for i in range(20)
        ]
        r = agenda.post("/api/v1/obligations/bulk", headers=h, json={"service_id": service.id, "rows": rows})
        assert r.status_code == 200 and r.json["inserted"] == 20
        listed = agenda.get("/api/v1/obligations?customer_id=PES-7", headers=h).json["items"]
        obligation_id = listed[0]["id"]
        r = agenda.post(
            "/api/v1/paylinks",
            headers={**h, "Idempotency-Key": "link-7"},
            json={
                "service_id": service.id,
                "obligation_id": obligation_id,
                "payer_name": "Držitel 7",
                "payer_email": "drzitel7@example.cz",
            },
        )
        link = r.json["url"].replace(app.config["BASE_URL"], "")

        citizen = app.test_client()
        page = citizen.get(link)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        form = {
            name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
            for name in ("form_token", "obligation_token", "name", "email")
        }
        form["amount"] = (
            re.search(r'name="amount"[^>]*value="([^"]*)"', html).group(1) if 'name="amount"' in html else ""
        )
        r = citizen.post(f"/obec/{m.slug}/{service.slug}", data=form)
        assert r.status_code == 303, r.get_data(as_text=True)[-3000:]
        review = r.headers["Location"]
        r = citizen.post(review, data={"consent": "yes"})
        gateway_url = r.headers["Location"].replace("http://localhost", "")
        citizen.post(gateway_url, data={"action": "pay"})
        assert deliver_notifications(app, citizen) == [202]

        events = [json.loads(body) for _, body in receiver.received]
        assert [e["type"] for e in events] == ["payment.paid", "obligation.paid"]
        headers, body = receiver.received[-1]
        assert verify(hook_secret, body, headers["Portal-Signature"])
        paid = events[-1]["data"]
        assert paid["obligation"]["id"] == obligation_id and paid["obligation"]["amount_paid"] == 15700
        payment = agenda.get(f"/api/v1/payments/{paid['payment_id']}", headers=h).json
        assert payment["state"] == "paid" and payment["variable_symbol"] == "20260007"
        assert agenda.get(f"/api/v1/obligations/{obligation_id}", headers=h).json["state"] == "paid"
    finally:
        receiver.stop()
        db_session.remove()
