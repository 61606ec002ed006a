"""Printed notices: QR Platba with the obligation's variable symbol and a QR of its pay
link; one PDF for a payer list in a chosen column's order."""

from __future__ import annotations

from app.db import db_session
from app.models import Obligation
from app.notices.render import list_obligations, notice_context, notices_html, notices_pdf
from tests.factories import make_municipality, make_service


def test_notices_carry_both_codes_and_follow_the_chosen_order(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(name="Chrastava")
    service = make_service(m, lookup_mode="optional")
    for cid, name, vs in (("3", "Adam", "2026003"), ("1", "Cyril", "2026001"), ("2", "Bára", "2026002")):
        db_session.add(
            Obligation(
                municipality_id=m.id,
                service_id=service.id,
                customer_id=cid,
                payer_name=name,
                amount=45000,
                variable_symbol=vs,
            )
        )
    db_session.commit()
    by_name = list_obligations(service, "payer_name")
    assert [o.payer_name for o in by_name] == ["Adam", "Bára", "Cyril"]
    assert [o.customer_id for o in list_obligations(service, "customer_id")] == ["1", "2", "3"]
    with app.test_request_context():
        ctx = notice_context(service, by_name[0])
        assert "/zaplatit/" in ctx["pay_link"] and ctx["payment_qr"] is not None
        html = notices_html(service, by_name)
        assert html.index("Adam") < html.index("Bára") < html.index("Cyril")
        assert html.count('class="notice"') == 3 and "2026003" in html
        pdf = notices_pdf(service, by_name)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000


def test_the_payer_list_pdf_is_made_by_a_job_with_progress(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.admin.staff_helpers import login, make_staff

    app.config["EXPORT_DIR"] = str(tmp_path)
    m = make_municipality()
    service = make_service(m, lookup_mode="optional")
    for i in range(3):
        db_session.add(
            Obligation(
                municipality_id=m.id,
                service_id=service.id,
                customer_id=f"N-{i}",
                payer_name=f"Plátce {i}",
                amount=10000,
                variable_symbol=f"88{i}",
            )
        )
    db_session.commit()
    client = app.test_client()
    login(client, make_staff("clerk", m))
    r = client.post(f"/admin/sluzby/{service.id}/vyzvy", data={"order_by": "payer_name"})
    assert r.status_code == 303  # the job ran inline (no Redis in tests)
    status = client.get(r.headers["Location"])
    assert "3 z 3" in status.get_data(as_text=True)
    pdf = client.get(r.headers["Location"] + "/stahnout")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
