"""The portal, a loopback OpenID provider and a loopback SAML IdP, each on a real server
thread; URLs are known before any app is built, so they can refer to each other."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.db import db_session
from tests.conftest import make_test_app
from tests.identity.oidc_provider import TestOpenIDProvider
from tests.identity.saml_idp import TestSamlIdP, make_cert
from tests.identity.servers import LoopbackServer

CLIENT_ID = "platebni-portal"
CLIENT_SECRET = "portal-client-secret"
TEST_USER = {
    "sub": "bankid-sub-0001",
    "given_name": "Jana",
    "family_name": "Nováková",
    "email": "jana.novakova@example.cz",
    "birthdate": "1980-05-17",
    "birthnumber": "8055170005",
}


@dataclass
class Env:
    app: Any
    portal: LoopbackServer
    op: TestOpenIDProvider | None = None
    idp: TestSamlIdP | None = None

    @property
    def url(self) -> str:
        return self.portal.url


@contextmanager
def running_identity_env(
    db_url: str, tmp_path: Path, *, saml: bool = True, nia: dict[str, Any] | None = None, **overrides: Any
) -> Iterator[Env]:
    """The portal with Bank iD (and NIA when ``saml``) configured, each on a server thread."""
    if saml and shutil.which("xmlsec1") is None:
        pytest.fail("xmlsec1 is required (apt-get install -y xmlsec1)", pytrace=False)
    portal = LoopbackServer()
    servers = [portal]
    op_server = LoopbackServer()
    servers.append(op_server)
    op = TestOpenIDProvider(
        op_server.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[portal.url + "/prihlaseni/bankid/navrat"],
        user=TEST_USER,
    )
    providers: dict[str, dict[str, Any]] = {
        "bankid": {
            "type": "oidc",
            "label": "Bankovní identita",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "issuer": op.issuer,
            "scopes": "openid profile.name profile.email profile.birthdate",
            "birth_number_scope": "profile.birthnumber",
            "token_endpoint_auth_method": "client_secret_post",
        }
    }
    idp = idp_server = None
    if saml:
        idp_server = LoopbackServer()
        servers.append(idp_server)
        idp = TestSamlIdP(idp_server.url, tmp_path)
        sp_cert, sp_key = make_cert("Platebni portal SP", tmp_path, "sp")
        providers["nia"] = {
            "type": "saml",
            "label": "Identita občana (NIA)",
            "idp_metadata_xml": idp.metadata_xml,
            "sp_cert_file": str(sp_cert),
            "sp_key_file": str(sp_key),
            **(nia or {}),
        }
    app = make_test_app(
        db_url,
        BASE_URL=portal.url,
        SERVER_NAME=f"127.0.0.1:{portal.port}",
        IDENTITY_PROVIDERS=providers,
        **overrides,
    )
    if idp is not None and idp_server is not None:
        # Both metadata documents exist before either server starts.
        sp_metadata = app.test_client().get("/saml/nia/metadata")
        assert sp_metadata.status_code == 200, sp_metadata.text
        idp.trust(sp_metadata.text)
        idp_server.start(idp.make_app())
    op_server.start(op.app)
    portal.start(app)
    try:
        with app.app_context():
            yield Env(app=app, portal=portal, op=op, idp=idp)
            db_session.remove()
    finally:
        for server in servers:
            server.stop()
        app.extensions["db_engine"].dispose()


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the (first) HTML form on a page."""
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', page).group(1))
    fields = {
        html.unescape(m.group(1)): html.unescape(m.group(2))
        for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    }
    return action, fields
