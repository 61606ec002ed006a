"""Receipts: gapless numbers (also under concurrency on PostgreSQL), the PDF, the links
and the e-mail through a real SMTP server on loopback."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.db import db_session
from app.models import Payment, PaymentState, Receipt, ReceiptCounter
from app.payments.transitions import transition_payment
from app.receipts.issuing import issue_receipt, receipt_for_payment
from app.receipts.jobs import resend_receipt
from app.timeutil import to_prague as local_time
from tests.conftest import deliver_notifications, make_test_app
from tests.factories import make_municipality, make_payment, make_service

S = PaymentState


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        self.received.set()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) on a free loopback port, its loop in its own thread
    (the test thread may already run one, e.g. Playwright's)."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _paid(payment: Payment) -> Payment:
    transition_payment(payment, S.STARTED, reason="test")
    transition_payment(payment, S.PAID, reason="test")
    db_session.commit()
    return payment


def _year() -> int:
    return local_time(datetime.now(UTC)).year


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_numbers_run_per_municipality_and_year_and_never_repeat(any_db_app):
    a, b = make_municipality(), make_municipality()
    sa, sb = make_service(a), make_service(b)
    y = _year()
    numbers = [receipt_for_payment(_paid(make_payment(s))).full_number for s in (sa, sa, sb, sa)]
    assert numbers == [f"{y}/000001", f"{y}/000002", f"{y}/000001", f"{y}/000003"]
    # Marking it paid again, issuing again, resending: still one receipt, one number.
    p = db_session.scalar(select(Payment).where(Payment.service_id == sa.id).order_by(Payment.id))
    transition_payment(p, S.PAID, reason="repeat")
    db_session.commit()
    assert issue_receipt(p).full_number == f"{y}/000001"
    resend_receipt(receipt_for_payment(p))
    db_session.commit()
    assert db_session.scalar(select(func.count(Receipt.id))) == 4
    assert db_session.scalar(select(ReceiptCounter.last_number).where(ReceiptCounter.municipality_id == a.id)) == 3


def test_a_rolled_back_payment_gives_its_number_back(any_db_app):
    s = make_service()
    first = make_payment(s, state=S.STARTED)
    transition_payment(first, S.PAID, reason="test")
    assert receipt_for_payment(first).number == 1
    db_session.rollback()  # e.g. the request failed after the transition
    assert db_session.scalar(select(func.count(Receipt.id))) == 0
    second = _paid(make_payment(s))
    assert receipt_for_payment(second).number == 1


def test_the_year_is_the_one_in_prague(app):
    s = make_service()
    p = make_payment(s, state=S.PAID, paid_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    r = issue_receipt(p)
    db_session.commit()
    # 23:30 UTC on New Year's Eve is already 2026 in Prague.
    assert (r.year, r.full_number) == (2026, "2026/000001")
    assert local_time(datetime(2026, 7, 1, 10, 0)).hour == 12  # naive = UTC (SQLite), summer time


def test_numbers_are_gapless_under_concurrent_payments_on_postgresql(postgres_url):
    app = make_test_app(postgres_url)
    n = 12
    with app.app_context():
        m = make_municipality()
        other = make_municipality()
        s, so = make_service(m), make_service(other)
        ids = [make_payment(s, state=S.STARTED).id for _ in range(n)]
        other_ids = [make_payment(so, state=S.STARTED).id for _ in range(3)]
        db_session.remove()
    barrier = threading.Barrier(n + 3)
    errors: list[BaseException] = []
    rolled_back: list[int] = []

    def pay(payment_id: int, fail: bool) -> None:
        with app.app_context():
            try:
                barrier.wait(10)
                transition_payment(payment_id, S.PAID, reason="concurrent")
                time.sleep(0.02)  # hold the counter lock a moment, so others queue behind it
                if fail:
                    db_session.rollback()
                    rolled_back.append(payment_id)
                else:
                    db_session.commit()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db_session.remove()

    threads = [threading.Thread(target=pay, args=(pid, i % 4 == 3)) for i, pid in enumerate(ids)]
    threads += [threading.Thread(target=pay, args=(pid, False)) for pid in other_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        numbers = sorted(db_session.scalars(select(Receipt.number).where(Receipt.municipality_id == m.id)))
        paid = db_session.scalar(
            select(func.count(Payment.id)).where(Payment.service_id == s.id, Payment.state == "paid")
        )
        assert len(rolled_back) == 3 and paid == n - 3
        assert numbers == list(range(1, n - 3 + 1))
        assert sorted(db_session.scalars(select(Receipt.number).where(Receipt.municipality_id == other.id))) == [
            1,
            2,
            3,
        ]
        db_session.remove()
    app.extensions["db_engine"].dispose()


def _pay_through_the_demo_gateway(app, client, m, s):  # type: ignore[no-untyped-def]
    page = client.get(f"/obec/{m.slug}/{s.slug}")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        f"/obec/{m.slug}/{s.slug}", data={"name": "Jiří Šťastný", "email": "jiri@example.cz", "form_token": token}
    )
    review = r.headers["Location"]
    ext = review.rstrip("/").split("/")[-1]
    gateway = client.post(review, data={"consent": "yes"}).headers["Location"].replace("http://localhost", "")
    back = client.post(gateway, data={"action": "pay"}).headers["Location"].replace("http://localhost", "")
    assert deliver_notifications(app, client) == [202]
    client.get(back)
    return db_session.scalar(select(Payment).where(Payment.external_id == ext))


def test_success_page_links_the_pdf_and_the_verify_page(any_db_app):
    app = any_db_app
    client = app.test_client()
    m = make_municipality(name="Hrádek nad Nisou", ico="00262854")
    s = make_service(m, name="Poplatek za komunální odpad", slug="odpad", amount=80000)
    payment = _pay_through_the_demo_gateway(app, client, m, s)
    receipt = receipt_for_payment(payment)
    assert receipt is not None and len(receipt.token) >= 40
    success = client.get(f"/platba/{payment.external_id}/zaplaceno").text
    assert f'href="/potvrzeni/{receipt.token}.pdf"' in success and receipt.full_number in success

    r = client.get(f"/potvrzeni/{receipt.token}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    assert "no-store" in r.headers["Cache-Control"] and "noindex" in r.headers["X-Robots-Tag"]
    text = pdf_text(r.data)
    paid_at = local_time(payment.paid_at).strftime("%d. %m. %Y %H:%M")
    for expected in (
        "Potvrzení o zaplacení",
        receipt.full_number,
        "Hrádek nad Nisou",
        "IČO 00262854",
        "Poplatek za komunální odpad",
        "Jiří Šťastný",
        "800",
        payment.variable_symbol,
        paid_at,
        payment.external_id,
        payment.gateway_reference,
        "není daňovým dokladem",
        "nejsou předmětem daně z přidané hodnoty",
        f"/potvrzeni/{receipt.token}",
    ):
        assert expected in text.replace("\n", " "), expected

    verify = client.get(f"/potvrzeni/{receipt.token}")
    assert verify.status_code == 200 and f"Potvrzení č. {receipt.full_number} je platné" in verify.text
    assert verify.headers["Referrer-Policy"] == "no-referrer"
    for bad in ("x" * 43, "' OR 1=1 --", receipt.token[:-1] + ("A" if receipt.token[-1] != "A" else "B"), "a.pdf"):
        assert client.get(f"/potvrzeni/{bad}").status_code == 404
        assert client.get(f"/potvrzeni/{bad}.pdf").status_code == 404


def test_receipt_is_emailed_over_smtp_after_the_payment_commits(any_db_app, smtp_server):
    inbox, port = smtp_server
    app = any_db_app
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="portal@platby.example.cz")
    client = app.test_client()
    m = make_municipality(name="Český Dub")
    s = make_service(m, name="Poplatek ze psů", amount=30000)
    payment = _pay_through_the_demo_gateway(app, client, m, s)
    receipt = receipt_for_payment(payment)
    assert inbox.received.wait(10)
    assert len(inbox.messages) == 1
    mail_from, rcpts, raw = inbox.messages[0]
    assert mail_from == "portal@platby.example.cz" and rcpts == ["jiri@example.cz"]
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == f"Potvrzení o zaplacení č. {receipt.full_number} – Český Dub"
    assert "jiri@example.cz" in msg["To"]
    body = msg.get_body(("plain",)).get_content()
    assert receipt.full_number in body and f"/potvrzeni/{receipt.token}" in body
    attachments = list(msg.iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_content_type() == "application/pdf"
    pdf = attachments[0].get_content()
    assert pdf.startswith(b"%PDF") and receipt.full_number in pdf_text(pdf)
    db_session.expire_all()
    assert db_session.get(Receipt, receipt.id).emailed_at is not None

    # Re-sending sends the same receipt again: no second number.
    inbox.received.clear()
    resend_receipt(db_session.get(Receipt, receipt.id))
    assert inbox.received.wait(10) and len(inbox.messages) == 2
    again = message_from_bytes(inbox.messages[1][2], policy=policy.default)
    assert receipt.full_number in again["Subject"]
    assert db_session.scalar(select(func.count(Receipt.id))) == 1
    assert db_session.scalar(select(ReceiptCounter.last_number)) == 1


def test_no_mail_server_or_a_dead_one_does_not_undo_the_payment(app, client, smtp_server):
    inbox, port = smtp_server
    # MAIL_SERVER empty (the test default): nothing is sent, the receipt waits.
    p = _paid(make_payment())
    r = receipt_for_payment(p)
    db_session.expire_all()
    assert db_session.get(Receipt, r.id).emailed_at is None
    # A mail server that is down: the payment stays paid, the attempt is counted.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port)
    q = _paid(make_payment())
    db_session.expire_all()
    assert db_session.get(Payment, q.id).state == "paid"
    rq = receipt_for_payment(q)
    assert rq.emailed_at is None and rq.email_attempts == 1
    # When the server is back, the operator's command sends what waits, once.
    app.config.update(MAIL_PORT=port)
    result = app.test_cli_runner().invoke(args=["receipts", "send-unsent"])
    assert result.exit_code == 0 and "queued 2" in result.output
    assert len(inbox.messages) == 2
    assert app.test_cli_runner().invoke(args=["receipts", "send-unsent"]).output.strip() == "queued 0"
    assert len(inbox.messages) == 2


def test_with_redis_the_email_job_is_queued_only_after_commit(postgres_url, redis_url, smtp_server):
    import uuid

    from redis import Redis
    from rq import Queue, SimpleWorker

    inbox, port = smtp_server
    queue_name = f"test-receipts-{uuid.uuid4().hex[:8]}"
    app = make_test_app(postgres_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    redis = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=redis)
    try:
        with app.app_context():
            p = make_payment(state=S.STARTED)
            transition_payment(p, S.PAID, reason="test")
            assert len(queue) == 0  # not before the commit
            db_session.rollback()
            assert len(queue) == 0  # nor after a rollback
            transition_payment(p, S.PAID, reason="test")
            db_session.commit()
            assert len(queue) == 1
            assert queue.jobs[0].func_name == "app.receipts.jobs.send_receipt_email"
            SimpleWorker([queue], connection=redis).work(burst=True)
            assert len(inbox.messages) == 1
            assert (
                receipt_for_payment(p).full_number
                in message_from_bytes(inbox.messages[0][2], policy=policy.default)["Subject"]
            )
            db_session.remove()
    finally:
        queue.delete(delete_jobs=True)
        app.extensions["db_engine"].dispose()


def test_times_are_shown_in_prague_with_winter_or_summer_time(app, client):
    s = make_service()
    winter = make_payment(s, state=S.PAID, paid_at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC))
    summer = make_payment(s, state=S.PAID, paid_at=datetime(2026, 7, 15, 10, 0, tzinfo=UTC))
    rw, rs = issue_receipt(winter), issue_receipt(summer)
    db_session.commit()
    assert "15. 01. 2026 11:00" in client.get(f"/platba/{winter.external_id}/zaplaceno").text
    assert "15. 01. 2026 11:00 (SEČ)" in pdf_text(client.get(f"/potvrzeni/{rw.token}.pdf").data)
    assert "15. 07. 2026 12:00 (SELČ)" in pdf_text(client.get(f"/potvrzeni/{rs.token}.pdf").data)


def test_resend_command_sends_the_same_number_again(app, smtp_server):
    inbox, port = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    p = _paid(make_payment())
    number = receipt_for_payment(p).full_number
    assert len(inbox.messages) == 1
    runner = app.test_cli_runner()
    result = runner.invoke(args=["receipts", "resend", p.external_id])
    assert result.exit_code == 0 and number in result.output
    assert len(inbox.messages) == 2
    subjects = [message_from_bytes(raw, policy=policy.default)["Subject"] for _, _, raw in inbox.messages]
    assert all(number in s for s in subjects)
    assert db_session.scalar(select(func.count(Receipt.id))) == 1
    bad = runner.invoke(args=["receipts", "resend", "nonexistent"])
    assert bad.exit_code != 0 and "no receipt" in bad.output


def pdftotext(data: bytes) -> str:
    """The PDF's text by poppler's pdftotext, whitespace (no-break spaces too) folded."""
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def test_a_bitcoin_receipt_states_the_channel_the_btc_and_the_rate(app, client):
    m = make_municipality(name="Jablonec nad Nisou")
    s = make_service(m, amount=50000)
    # What BTCPay reported for an invoice paid with 20 % too much (PaidOver).
    details = {"btc_amount": "0.00021740", "btc_paid": "0.00026088", "rate": "2300000", "gateway_status": "paid"}
    bitcoin = _paid(make_payment(s, gateway_name="btcpay", gateway_reference="InvBtc42", gateway_details=details,
                                 amount_overpaid=10000))  # fmt: skip
    card = _paid(make_payment(s, gateway_name="gopay", gateway_reference="3000123"))
    receipt = receipt_for_payment(bitcoin)

    text = pdftotext(client.get(f"/potvrzeni/{receipt.token}.pdf").data)
    for expected in (
        "Zaplacená částka 500 Kč",
        "Způsob platby Bitcoin (BTCPay), faktura InvBtc42",
        "Zaplaceno bitcoinem 0,00026088 BTC (kurz 2 300 000 Kč za 1 BTC)",
        "Přeplatek k vrácení 100 Kč",
        "Poplatek je vyčíslen v korunách",
    ):
        assert expected in text, (expected, text)
    # The document is Czech even when downloaded from a page in English.
    client.get("/?lang=en")
    assert pdftotext(client.get(f"/potvrzeni/{receipt.token}.pdf").data) == text
    verify = " ".join(client.get(f"/potvrzeni/{receipt.token}").text.split())
    assert "<dd>Bitcoin (BTCPay)</dd>" in verify
    assert "0.00026088 BTC (rate 2,300,000 CZK per 1 BTC)" in verify

    from app.receipts.mailing import build_receipt_email

    body = build_receipt_email(receipt, b"%PDF-1.7").get_body(("plain",)).get_content()
    assert "Způsob platby: Bitcoin (BTCPay)" in body
    assert "Zaplaceno bitcoinem: 0,00026088 BTC (kurz 2\xa0300\xa0000 Kč za 1 BTC)" in body
    assert "Přeplatek k vrácení: 100\xa0Kč" in body

    card_text = pdftotext(client.get(f"/potvrzeni/{receipt_for_payment(card).token}.pdf").data)
    assert "Způsob platby GoPay, transakce 3000123" in card_text
    assert "BTC" not in card_text and "Přeplatek" not in card_text
