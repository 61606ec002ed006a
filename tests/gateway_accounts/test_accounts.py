"""Gateway accounts: secrets encrypted at rest (read from the raw column), masked, rotated;
validation; which gateways a service offers; a payment keeps its account."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.db import db_session
from app.gateway_accounts.accounts import (
    AccountInput,
    masked_secrets,
    save_account,
    set_account_active,
)
from app.gateway_accounts.crypto import SecretsUnavailable, decrypt_secrets
from app.gateway_accounts.settings import account_settings
from app.models import AuditLog, GatewayAccount
from app.payments.create import create_payment, offered_gateways
from tests.factories import make_municipality, make_service
from tests.fakes.gpwebpay import new_key, private_pem
from tests.gateway_accounts.conftest import add_account

GOPAY = {"GOPAY_GOID": "8123456789", "GOPAY_CLIENT_ID": "1234567", "GOPAY_CLIENT_SECRET": "velmi-tajne-heslo-9876"}


def _raw(account_id: int) -> tuple[str, str]:
    row = db_session.execute(
        text("SELECT secrets_encrypted, CAST(settings AS TEXT) FROM gateway_account WHERE id = :id"), {"id": account_id}
    ).one()
    return row[0], row[1]


def test_secrets_are_encrypted_in_the_database(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    pem = private_pem(new_key(), "heslo-klice")
    gopay = add_account(m, "gopay", GOPAY)
    gp = add_account(
        m,
        "gpwebpay",
        {
            "GPWEBPAY_MERCHANT_NUMBER": "1234567890",
            "GPWEBPAY_PRIVATE_KEY": pem,
            "GPWEBPAY_PRIVATE_KEY_PASSPHRASE": "heslo-klice",
            "GPWEBPAY_PUBLIC_KEY": pem,
        },
    )
    secret_column, settings_column = _raw(gopay.id)
    assert "velmi-tajne-heslo" not in secret_column and "velmi-tajne-heslo" not in settings_column
    assert "8123456789" in settings_column  # the GoID is not a secret
    assert decrypt_secrets(secret_column) == {"client_secret": "velmi-tajne-heslo-9876"}
    gp_secret, gp_settings = _raw(gp.id)
    assert "PRIVATE KEY" not in gp_secret and "heslo-klice" not in gp_secret + gp_settings
    # Masked for the screens, never whole.
    assert masked_secrets(gopay) == {"client_secret": "••••9876"}
    assert masked_secrets(gp) == {"private_key": "••••", "private_key_passphrase": "••••"}
    # The adapter gets the plain values (and the sandbox URL from the mode).
    settings = account_settings(gopay)
    assert settings["GOPAY_CLIENT_SECRET"] == "velmi-tajne-heslo-9876"
    assert settings["GOPAY_GATEWAY_URL"] == "https://gw.sandbox.gopay.com/api"
    # Audit entries record that a secret changed, not its value.
    audits = db_session.query(AuditLog).filter(AuditLog.action == "gateway_account_create").all()
    assert len(audits) == 2
    assert all("velmi-tajne" not in json.dumps(a.after, ensure_ascii=False) for a in audits)
    assert all("secrets_encrypted" not in json.dumps(a.after) for a in audits)


def test_editing_keeps_a_secret_left_blank(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    account = add_account(m, "gopay", GOPAY)
    values = {"goid": "8123456789", "client_id": "7654321", "client_secret": ""}
    saved, errors = save_account(AccountInput("gopay", "Nový název", "production", values), m, account)
    assert errors == {} and saved is not None
    settings = account_settings(saved)
    assert settings["GOPAY_CLIENT_SECRET"] == "velmi-tajne-heslo-9876" and settings["GOPAY_CLIENT_ID"] == "7654321"
    assert settings["GOPAY_GATEWAY_URL"] == "https://gate.gopay.cz/api"


def test_validation(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    _, errors = save_account(AccountInput("gopay", "", "live", {"goid": "abc"}), m)
    assert set(errors) == {"label", "mode", "goid", "client_id", "client_secret"}
    _, errors = save_account(AccountInput("paypal", "x"), m)
    assert set(errors) == {"gateway_name"}
    _, errors = save_account(
        AccountInput(
            "btcpay", "BTC", "sandbox", {"url": "ftp://x", "store_id": "s", "api_key": "k", "webhook_secret": "w"}
        ),
        m,
    )
    assert set(errors) == {"url"}
    add_account(m, "gopay", GOPAY)
    _, errors = save_account(
        AccountInput("gopay", "Druhý", "sandbox", {"goid": "1", "client_id": "2", "client_secret": "3"}), m
    )
    assert "gateway_name" in errors  # one active account per gateway


def test_rotation_re_encrypts_with_the_new_key(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    account = add_account(m, "gopay", GOPAY)
    old_key = app.config["SECRET_ENCRYPTION_KEYS"]
    before, _ = _raw(account.id)
    new_key = Fernet.generate_key().decode()
    app.config["SECRET_ENCRYPTION_KEYS"] = f"{new_key},{old_key}"
    runner = app.test_cli_runner()
    out = runner.invoke(args=["secrets", "rotate"])
    assert out.exit_code == 0 and "re-encrypted 1" in out.output
    db_session.expire_all()
    after, _ = _raw(account.id)
    assert after != before
    # The old key can go: the new one alone reads the secret.
    app.config["SECRET_ENCRYPTION_KEYS"] = new_key
    assert decrypt_secrets(after)["client_secret"] == "velmi-tajne-heslo-9876"
    with pytest.raises(SecretsUnavailable):
        decrypt_secrets(before)
    app.config["SECRET_ENCRYPTION_KEYS"] = old_key


def test_offered_gateways_and_the_account_a_payment_keeps(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    other = make_municipality(demo_mode=False)
    service = make_service(m, allowed_gateways=["demo"])
    assert offered_gateways(service) == ["demo"]
    gopay = add_account(m, "gopay", GOPAY)
    add_account(
        other,
        "btcpay",
        {
            "BTCPAY_URL": "http://127.0.0.1:9",
            "BTCPAY_STORE_ID": "s1",
            "BTCPAY_API_KEY": "k",
            "BTCPAY_WEBHOOK_SECRET": "w",
        },
    )
    assert offered_gateways(service) == ["gopay", "demo"]  # not the other municipality's
    payment = create_payment(service, amount=None, payer_name="Jan", payer_email="jan@example.cz", gateway_name="gopay")
    assert payment.gateway_account_id == gopay.id
    assert set_account_active(gopay, False) is None
    assert offered_gateways(service) == ["demo"]
    # The payment keeps its account (status, refunds) after the account is deactivated.
    db_session.expire_all()
    assert db_session.get(type(payment), payment.id).gateway_account_id == gopay.id
    # A demo-mode municipality only ever sees the demo gateway.
    demo_town = make_municipality(demo_mode=True)
    add_account(demo_town, "gopay", GOPAY)
    assert offered_gateways(make_service(demo_town, allowed_gateways=["demo"])) == ["demo"]
    assert db_session.query(GatewayAccount).count() == 3


def test_without_an_encryption_key_nothing_is_stored(app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(demo_mode=False)
    saved_keys = app.config["SECRET_ENCRYPTION_KEYS"]
    app.config["SECRET_ENCRYPTION_KEYS"] = ""
    try:
        account, errors = save_account(
            AccountInput("gopay", "GoPay", "sandbox", {"goid": "1", "client_id": "2", "client_secret": "3"}), m
        )
    finally:
        app.config["SECRET_ENCRYPTION_KEYS"] = saved_keys
    assert account is None and "SECRET_ENCRYPTION_KEYS" in errors["form"]
