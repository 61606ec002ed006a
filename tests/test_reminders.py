"""E-mail reminders of obligations: before and after the due date on the municipality's
days, only with an e-mail and while unpaid, never twice (also when two runs race), a
working pay link, an unsubscribe link that stops them; `flask reminders send`."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy

from sqlalchemy import func, select

from app.db import db_session
from app.models import AmountMatch, LookupMode, Obligation, ObligationReminder
from app.obligations.importing import import_obligations
from app.obligations.reminders import due_reminders, send_reminders
from tests.factories import make_municipality, make_service
from tests.test_receipts import smtp_server  # noqa: F401 - the fixture

LIST = (
    "Zákaznické číslo;Jméno;Částka;Splatnost;E-mail\n"
    "A-1;Jana Nováková;500;31. 3. 2026;jana@example.cz\n"
    "A-2;Petr Novák;500;31. 3. 2026;\n"  # no e-mail: never reminded
    "A-3;Eva Veselá;500;30. 4. 2026;eva@example.cz\n"
)


def _setup(app, port):  # type: ignore[no-untyped-def]
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="portal@platby.example.cz", BASE_URL="http://localhost"
    )
    m = make_municipality(slug="lipa", name="Lípa")
    m.reminder_days_before, m.reminder_days_after = 7, 14
    db_session.commit()
    s = make_service(
        m, slug="odpad", name="Poplatek za odpad", lookup_mode=LookupMode.OPTIONAL, amount_match=AmountMatch.EXACT
    )
    assert import_obligations(s, LIST.encode(), "a.csv").imported
    return m, s


def _mails(inbox):  # type: ignore[no-untyped-def]
    return [message_from_bytes(raw, policy=policy.default) for _f, _r, raw in inbox.messages]


def test_reminders_before_and_after_the_due_date_once_each(app, client, smtp_server):  # type: ignore[no-untyped-def]  # noqa: F811
    inbox, port = smtp_server
    _m, _s = _setup(app, port)
    # Too early for anything.
    assert send_reminders(date(2026, 3, 23)).sent == 0
    # Seven days before 31 March: Jana (Petr has no e-mail, Eva's due date is later).
    run = send_reminders(date(2026, 3, 24))
    assert (run.claimed, run.sent) == (1, 1)
    mail = _mails(inbox)[0]
    assert mail["To"] == "jana@example.cz" and mail["Subject"].startswith("Připomínka: Poplatek za odpad")
    body = mail.get_body(("plain",)).get_content()
    assert "31. 3. 2026" in body and "500" in body and "A-1" in body
    # Never twice.
    assert send_reminders(date(2026, 3, 25)).sent == 0
    # The pay link opens the obligation's pay page.
    pay_url = re.search(r"(http://localhost/obec/\S+/pripominka/\S+)", body).group(1)
    page = client.get(pay_url.replace("http://localhost", "")).text
    assert "J*** N***" in page and 'name="obligation_token"' in page
    assert client.get(pay_url.replace("http://localhost", "")[:-3] + "xyz").status_code == 410
    # 14 days after: the overdue reminder for Jana; Eva gets her "before" one on her own day.
    run = send_reminders(date(2026, 4, 14))
    assert run.sent == 1 and _mails(inbox)[1]["Subject"].startswith("Upomínka")
    assert [m["To"] for m in _mails(inbox)] == ["jana@example.cz", "jana@example.cz"]
    assert send_reminders(date(2026, 4, 23)).sent == 1 and _mails(inbox)[2]["To"] == "eva@example.cz"
    assert db_session.scalar(select(func.count()).select_from(ObligationReminder)) == 3


def test_unsubscribe_link_stops_reminders_and_paid_obligations_get_none(app, client, smtp_server):  # type: ignore[no-untyped-def]  # noqa: F811
    inbox, port = smtp_server
    m, s = _setup(app, port)
    send_reminders(date(2026, 3, 24))
    body = _mails(inbox)[0].get_body(("plain",)).get_content()
    link = re.search(r"http://localhost(/pripominky/odhlasit/\S+)", body).group(1)
    assert _mails(inbox)[0]["List-Unsubscribe"].strip("<>").endswith(link)
    # GET only asks (mail scanners open links); POST unsubscribes.
    assert "Odhlásit připomínky" in client.get(link).text
    assert "jsou odhlášené" in client.post(link).text
    assert client.get("/pripominky/odhlasit/forged").status_code == 404
    # Eva pays before her day; Jana unsubscribed: nothing more is sent.
    eva = db_session.scalar(select(Obligation).where(Obligation.customer_id == "A-3"))
    eva.amount_paid = eva.amount
    db_session.commit()
    assert due_reminders(date(2026, 5, 30)) == []
    assert send_reminders(date(2026, 5, 30)).sent == 0 and len(inbox.messages) == 1


def test_a_failed_send_is_retried_and_without_a_mail_server_nothing_is_claimed(app, smtp_server):  # type: ignore[no-untyped-def]  # noqa: F811
    inbox, port = smtp_server
    _setup(app, port)
    app.config["MAIL_PORT"] = 1  # nothing listens there
    run = send_reminders(date(2026, 3, 24))
    assert (run.claimed, run.sent, run.failed) == (1, 0, 1)
    app.config["MAIL_PORT"] = port
    assert send_reminders(date(2026, 3, 25)).sent == 1 and len(inbox.messages) == 1
    app.config["MAIL_SERVER"] = ""
    assert send_reminders(date(2026, 4, 14)).claimed == 0


def test_cli_command(app, smtp_server):  # type: ignore[no-untyped-def]  # noqa: F811
    inbox, port = smtp_server
    _setup(app, port)
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--date", "2026-03-24"])
    assert result.exit_code == 0 and "sent 1" in result.output
