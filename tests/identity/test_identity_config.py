"""Provider configuration from the environment, and providers that cannot be reached or
are misconfigured: a clear Czech message, never a 500."""

from __future__ import annotations

import socket

import pytest

from app.config import identity_providers_from_env
from app.db import db_session
from tests.conftest import make_test_app


def test_providers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BANKID_CLIENT_ID", "BANKID_ISSUER", "BANKID_SCOPES", "NIA_IDP_METADATA_URL", "NIA_IDP_METADATA_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert identity_providers_from_env() == {}

    monkeypatch.setenv("BANKID_CLIENT_ID", "client-123")
    monkeypatch.setenv("BANKID_CLIENT_SECRET", "secret")
    monkeypatch.setenv(
        "NIA_IDP_METADATA_URL", "https://tnia.identitaobcana.cz/fpsts/FederationMetadata/2007-06/FederationMetadata.xml"
    )
    monkeypatch.setenv("NIA_SP_ENTITY_ID", "https://portal.example.cz/saml/nia/metadata")
    monkeypatch.setenv("NIA_SP_CERT_FILE", "/etc/portal/nia-sp.crt")
    monkeypatch.setenv("NIA_SP_KEY_FILE", "/etc/portal/nia-sp.key")
    providers = identity_providers_from_env()
    bankid, nia = providers["bankid"], providers["nia"]
    assert bankid["type"] == "oidc" and bankid["client_id"] == "client-123" and bankid["client_secret"] == "secret"
    assert bankid["issuer"] == "https://oidc.sandbox.bankid.cz/"
    assert bankid["scopes"] == "openid profile.name profile.email profile.birthdate"
    assert bankid["birth_number_scope"] == "profile.birthnumber"
    assert bankid["token_endpoint_auth_method"] == "client_secret_post"
    assert nia["type"] == "saml" and nia["sp_entity_id"] == "https://portal.example.cz/saml/nia/metadata"
    assert nia["loa"] == "http://eidas.europa.eu/LoA/substantial" and nia["want_assertions_encrypted"] is True
    assert nia["sp_cert_file"] == "/etc/portal/nia-sp.crt" and nia["sp_key_file"] == "/etc/portal/nia-sp.key"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_or_misconfigured_providers_answer_a_clear_message(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = _closed_port()
    app = make_test_app(
        db_url,
        IDENTITY_PROVIDERS={
            "bankid": {"type": "oidc", "client_id": "c", "client_secret": "s", "issuer": f"http://127.0.0.1:{port}/"},
            "nia": {
                "type": "saml",
                "idp_metadata_url": f"http://127.0.0.1:{port}/metadata",
                "sp_cert_file": str(tmp_path / "missing.crt"),
                "sp_key_file": str(tmp_path / "missing.key"),
            },
        },
    )
    client = app.test_client()
    with app.app_context():
        for path in ("/prihlaseni/bankid", "/prihlaseni/nia"):
            r = client.get(path)
            assert r.status_code == 503, path
            assert "Poskytovatel identity je nyní nedostupný" in r.text, path
        r = client.get("/saml/nia/metadata")
        assert r.status_code == 503 and "nedostupný" in r.text
        assert client.get("/ucet/").status_code == 302
        db_session.remove()
    app.extensions["db_engine"].dispose()
