"""One way out for e-mail: app/mail.py (receipts, monthly reports, invitations)."""

from __future__ import annotations

from pathlib import Path

from app.mail import is_valid_email

ROOT = Path(__file__).resolve().parent.parent


def test_only_app_mail_talks_smtp() -> None:
    users = sorted(
        str(p.relative_to(ROOT))
        for d in ("app", "admin", "gateway")
        for p in (ROOT / d).rglob("*.py")
        if "smtplib" in p.read_text(encoding="utf-8")
    )
    assert users == ["app/mail.py"]


def test_one_timeout_setting_reaches_the_smtp_connection(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import smtplib

    from app.mail import send_mail

    seen = {}

    class FakeSMTP:
        def __init__(self, host, port, timeout):  # type: ignore[no-untyped-def]
            seen.update(host=host, port=port, timeout=timeout)

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

        def send_message(self, msg):  # type: ignore[no-untyped-def]
            seen["to"] = msg["To"]

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(MAIL_SERVER="mail.example.cz", MAIL_PORT=2525, MAIL_TIMEOUT=7)
    with app.app_context():
        assert send_mail("jana@example.cz", "Předmět", "Text")
    assert seen == {"host": "mail.example.cz", "port": 2525, "timeout": 7.0, "to": "jana@example.cz"}


def test_addresses() -> None:
    assert is_valid_email("jana.novakova@example.cz")
    assert not is_valid_email("jana@") and not is_valid_email("jana example.cz") and not is_valid_email(None)
