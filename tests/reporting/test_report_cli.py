"""`flask report …` in every format, and the monthly e-mail through a real SMTP server."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import Message

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.db import db_session
from app.models import OnboardingState, PaymentState, ReportDispatch
from app.onboarding.pipeline import change_onboarding_state
from app.payments.transitions import transition_payment
from app.reporting import jobs as report_jobs
from tests.factories import make_municipality, make_payment, make_service


@pytest.fixture
def data(app):  # type: ignore[no-untyped-def]
    m = make_municipality(name="Hrádek nad Nisou", onboarding_state=OnboardingState.NOT_CONTACTED)
    change_onboarding_state(m, OnboardingState.ACTIVE, date(2025, 11, 3), note="smlouva")
    db_session.commit()
    s = make_service(m, name="Poplatek za psa", amount=30_000)
    for _ in range(3):
        p = make_payment(s)
        transition_payment(p, PaymentState.STARTED, reason="t")
        transition_payment(p, PaymentState.PAID, reason="t")
    db_session.commit()
    return m, s


def _this_month() -> str:
    from app.timeutil import to_prague

    now = to_prague(datetime.now(UTC))
    return f"{now.year:04d}-{now.month:02d}"


def _run(app, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["report", *args])
    return result


def test_monthly_report_in_every_format(app, data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    period = _this_month()
    files = {}
    for fmt in ("pdf", "xlsx", "csv", "html"):
        out = tmp_path / f"report.{fmt}"
        result = _run(app, "monthly", period, "--format", fmt, "--output", str(out))
        assert result.exit_code == 0, result.output
        files[fmt] = out.read_bytes()
    assert files["pdf"].startswith(b"%PDF")
    wb = load_workbook(io.BytesIO(files["xlsx"]))
    assert wb.sheetnames[:4] == ["Souhrn", "Kanály", "Obce", "Služby"]
    obce = [row for row in wb["Obce"].iter_rows(values_only=True)]
    assert ("Hrádek nad Nisou", "Liberec", 3) == obce[1][:3] and float(obce[1][3]) == 900.0
    rows = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig")), delimiter=";"))
    total = next(r for r in rows if r[0] == "platby")
    assert total[3:5] == ["3", "900,00"]
    assert any(r[0] == "připojená obec" and r[1] == "Hrádek nad Nisou" for r in rows)
    html = files["html"].decode()
    assert "<svg" in html and "Hrádek nad Nisou" in html and "Termín odevzdání" in html
    assert "<script" not in html


def test_yearly_indicators_in_every_format(app, data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    year = datetime.now(UTC).year
    for fmt in ("xlsx", "csv", "html", "pdf"):
        out = tmp_path / f"y.{fmt}"
        result = _run(app, "yearly", str(year), "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / "y.csv").read_text("utf-8-sig")), delimiter=";"))
    assert rows[-1] == ["transakce", f"Celkem {year}", "3", "900,00"]
    wb = load_workbook(tmp_path / "y.xlsx")
    assert wb.sheetnames == ["Stav", "Transakce"]
    assert (tmp_path / "y.pdf").read_bytes().startswith(b"%PDF")


def test_monthly_to_stdout_and_bad_input(app, data) -> None:  # type: ignore[no-untyped-def]
    result = _run(app, "monthly", _this_month(), "--format", "csv", "-o", "-")
    assert result.exit_code == 0 and "Hrádek nad Nisou" in result.output
    for bad in ("2026-13", "leden", "2026-1-1"):
        result = _run(app, "monthly", bad)
        assert result.exit_code == 2
        assert "RRRR-MM" in result.output or "Neplatné období" in result.output
    assert _run(app, "monthly", "2026-01", "--format", "doc").exit_code == 2
    assert _run(app, "yearly", "20x5").exit_code == 2


# -- the monthly e-mail -----------------------------------------------------------------
class SmtpServer:
    """aiosmtpd on a loopback port chosen by the system, in its own thread."""

    def __init__(self) -> None:
        from aiosmtpd.smtp import SMTP

        self.messages: list[Message] = []
        self.loop = asyncio.new_event_loop()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
                outer.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                self.loop.create_server(lambda: SMTP(Handler()), "127.0.0.1", 0)
            )
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    server = SmtpServer()
    yield server
    server.close()


def test_send_due_mails_last_months_report_once_on_the_first_working_day(app, data, smtp) -> None:  # type: ignore[no-untyped-def]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, REPORT_RECIPIENTS=["arr@example.cz", "b@example.cz"])
    # 1 Jan 2026 is a holiday: 2 Jan is the first working day.
    assert report_jobs.send_monthly_report("2026-01-01") == "not_due"
    assert smtp.messages == []
    result = app.test_cli_runner().invoke(args=["report", "send-due", "--today", "2026-01-02"])
    assert result.exit_code == 0 and "sent" in result.output
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert "prosinec 2025" in msg["Subject"] and "arr@example.cz" in msg["To"]
    files = {part.get_filename(): part.get_payload(decode=True) for part in msg.walk() if part.get_filename()}
    assert files["mesicni-zprava-2025-12.pdf"].startswith(b"%PDF")
    load_workbook(io.BytesIO(files["mesicni-zprava-2025-12.xlsx"]))
    body = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Připojené obce: 1" in body and "22. 1. 2026" in body
    # Later runs that month do nothing.
    assert report_jobs.send_monthly_report("2026-01-02") == "already_sent"
    assert report_jobs.send_monthly_report("2026-01-05") == "already_sent"
    assert len(smtp.messages) == 1
    row = db_session.scalar(select(ReportDispatch))
    assert (row.period, row.status) == ("2025-12", "sent")
    # A missed first working day is caught up the next day it runs.
    assert report_jobs.send_monthly_report("2026-02-03") == "sent"
    assert "leden 2026" in smtp.messages[-1]["Subject"]


def test_operator_staff_receive_the_report(app, data, smtp) -> None:  # type: ignore[no-untyped-def]
    from tests.admin.staff_helpers import make_staff

    operator = make_staff("operator", None)
    make_staff("clerk", data[0])  # clerks do not get it
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, REPORT_RECIPIENTS=[])
    assert report_jobs.send_monthly_report("2026-01-02") == "sent"
    assert smtp.messages[0]["To"] == operator.email


def test_send_due_without_mail_server_or_recipients_logs_and_records_nothing(app, data, caplog) -> None:  # type: ignore[no-untyped-def]
    app.config.update(MAIL_SERVER="", REPORT_RECIPIENTS=["arr@example.cz"])
    assert report_jobs.send_monthly_report("2026-01-02") == "mail_not_configured"
    assert "MAIL_SERVER is not configured" in caplog.text
    app.config.update(MAIL_SERVER="127.0.0.1", REPORT_RECIPIENTS=[])
    assert report_jobs.send_monthly_report("2026-01-02") == "no_recipients"
    assert db_session.scalar(select(func.count()).select_from(ReportDispatch)) == 0


def test_failed_sending_is_retried(app, data) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, REPORT_RECIPIENTS=["arr@example.cz"])
    with pytest.raises(OSError):
        report_jobs.send_monthly_report("2026-01-02")
    assert db_session.scalar(select(func.count()).select_from(ReportDispatch)) == 0


def test_verify_and_rebuild_commands(app, data) -> None:  # type: ignore[no-untyped-def]
    period = _this_month()
    assert _run(app, "verify", period).exit_code == 0
    m, s = data
    make_payment(s, state=PaymentState.PAID, paid_at=datetime.now(UTC))  # around the state machine
    result = _run(app, "verify", period)
    assert result.exit_code == 1 and "summary" in result.output
    assert _run(app, "rebuild-summary").exit_code == 0
    assert _run(app, "verify", period).exit_code == 0
    assert _run(app, "verify", "2026-99").exit_code == 2
