"""NIA login over SAML 2.0 against a real pysaml2 IdP on loopback."""

from __future__ import annotations

import base64

import pytest
import requests
from lxml import etree
from sqlalchemy import select

from app.db import db_session
from app.models import Citizen
from tests.identity.environment import Env, form_fields
from tests.identity.saml_idp import LOA_SUBSTANTIAL

MD = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "ds": "http://www.w3.org/2000/09/xmldsig#"}


def _citizens() -> list[Citizen]:
    db_session.expire_all()
    return list(db_session.scalars(select(Citizen)))


def _assert_logged_out(env: Env, s: requests.Session) -> None:
    r = s.get(env.url + "/ucet/", allow_redirects=False)
    assert r.status_code == 302 and "/prihlaseni" in r.headers["Location"]


def _idp_answer(env: Env, s: requests.Session) -> tuple[str, dict[str, str]]:
    """Start a NIA login and return the IdP's auto-submit form (not yet posted)."""
    r = s.get(env.url + "/prihlaseni/nia", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(env.idp.base + "/sso/redirect")
    r = s.get(r.headers["Location"])
    assert r.status_code == 200, r.text
    action, fields = form_fields(r.text)
    assert action == env.url + "/saml/nia/acs"
    return action, fields


def test_sp_metadata_describes_a_signing_service_provider(identity_env: Env) -> None:
    env = identity_env
    r = requests.get(env.url + "/saml/nia/metadata")
    assert r.status_code == 200 and "samlmetadata+xml" in r.headers["Content-Type"]
    doc = etree.fromstring(r.content)
    assert doc.get("entityID") == env.url + "/saml/nia/metadata"
    sp = doc.find("md:SPSSODescriptor", MD)
    assert sp.get("AuthnRequestsSigned") == "true" and sp.get("WantAssertionsSigned") == "true"
    acs = sp.find("md:AssertionConsumerService", MD)
    assert acs.get("Location") == env.url + "/saml/nia/acs"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert sp.find(".//ds:X509Certificate", MD).text.strip()


def test_first_login_creates_the_account_and_the_second_reuses_it(identity_env: Env) -> None:
    env = identity_env
    s = requests.Session()
    action, fields = _idp_answer(env, s)
    # The IdP verified the redirect signature of our AuthnRequest (it refuses unsigned ones).
    [seen] = env.idp.requests_seen
    assert seen["issuer"] == env.url + "/saml/nia/metadata"
    assert seen["acs"] == env.url + "/saml/nia/acs"
    assert seen["authn_context"] == [LOA_SUBSTANTIAL]

    r = s.post(action, data=fields)
    assert r.status_code == 200 and r.url == env.url + "/ucet/"
    assert "Jana Nováková" in r.text
    [citizen] = _citizens()
    assert citizen.provider == "nia" and citizen.subject == env.idp.person["PersonIdentifier"]
    assert citizen.name == "Jana Nováková" and citizen.email is None

    s.post(env.url + "/odhlaseni")
    _assert_logged_out(env, s)
    action, fields = _idp_answer(env, s)
    assert s.post(action, data=fields).url == env.url + "/ucet/"
    assert [c.id for c in _citizens()] == [citizen.id]


def test_encrypted_assertions_like_nia_sends_them(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """NIA encrypts the assertion for the SP: the SP metadata publishes the encryption
    certificate, the assertion is decrypted with the SP key, and a plain one is refused."""
    from tests.identity.environment import running_identity_env

    with running_identity_env(db_url, tmp_path, nia={"want_assertions_encrypted": True}) as env:
        metadata = etree.fromstring(requests.get(env.url + "/saml/nia/metadata").content)
        assert metadata.xpath("//md:KeyDescriptor[@use='encryption']", namespaces=MD)
        env.idp.mode = "encrypted"
        s = requests.Session()
        action, fields = _idp_answer(env, s)
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        assert "EncryptedAssertion" in xml and "Nováková" not in xml
        r = s.post(action, data=fields)
        assert r.status_code == 200 and r.url == env.url + "/ucet/"
        [citizen] = _citizens()
        assert citizen.subject == env.idp.person["PersonIdentifier"] and citizen.name == "Jana Nováková"

        env.idp.mode = "ok"
        s = requests.Session()
        action, fields = _idp_answer(env, s)
        r = s.post(action, data=fields)
        assert r.status_code == 400 and "není platná" in r.text
        _assert_logged_out(env, s)


def test_unsigned_authn_request_is_refused_by_the_idp(identity_env: Env) -> None:
    """The IdP is strict like NIA: our request must carry its signature."""
    env = identity_env
    s = requests.Session()
    r = s.get(env.url + "/prihlaseni/nia", allow_redirects=False)
    location = r.headers["Location"]
    unsigned = location.split("&Signature=")[0]
    assert requests.get(unsigned).status_code == 400


def _tamper(fields: dict[str, str], old: str, new: str) -> dict[str, str]:
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert old in xml
    return {**fields, "SAMLResponse": base64.b64encode(xml.replace(old, new).encode()).decode()}


def test_tampered_attribute_is_refused(identity_env: Env) -> None:
    env = identity_env
    s = requests.Session()
    action, fields = _idp_answer(env, s)
    r = s.post(action, data=_tamper(fields, ">Jana<", ">Eva<"))
    assert r.status_code == 400 and "odpověď poskytovatele identity není platná" in r.text
    _assert_logged_out(env, s)
    assert _citizens() == []


def test_replayed_assertion_is_refused(identity_env: Env) -> None:
    env = identity_env
    s = requests.Session()
    action, fields = _idp_answer(env, s)
    assert s.post(action, data=fields).url == env.url + "/ucet/"
    # The same response again, in the same browser: no request awaits it any more.
    r = s.post(action, data=fields)
    assert r.status_code == 400 and "použita podruhé" in r.text
    _assert_logged_out(env, s)
    # ... nor while a new login is pending: it answers another AuthnRequest.
    _idp_answer(env, s)
    r = s.post(action, data=fields)
    assert r.status_code == 400 and "není platná" in r.text
    _assert_logged_out(env, s)
    # ... nor in another browser.
    r = requests.post(action, data=fields)
    assert r.status_code == 400
    assert len(_citizens()) == 1


@pytest.mark.parametrize("mode", ["expired", "wrong_audience"])
def test_expired_or_misaddressed_assertion_is_refused(identity_env: Env, mode: str) -> None:
    env = identity_env
    env.idp.mode = mode
    s = requests.Session()
    action, fields = _idp_answer(env, s)
    r = s.post(action, data=fields)
    assert r.status_code == 400 and "odpověď poskytovatele identity není platná" in r.text
    _assert_logged_out(env, s)
    assert _citizens() == []


def test_citizen_cancelling_at_nia(identity_env: Env) -> None:
    env = identity_env
    env.idp.mode = "cancel"
    s = requests.Session()
    action, fields = _idp_answer(env, s)
    r = s.post(action, data=fields)
    assert r.status_code == 200 and "Přihlášení bylo zrušeno" in r.text
    _assert_logged_out(env, s)
    assert _citizens() == []


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"SAMLResponse": "not base64 at all ###"},
        {"SAMLResponse": base64.b64encode(b"<not-saml/>").decode()},
        {"SAMLResponse": base64.b64encode(b"<unclosed").decode()},
    ],
)
def test_garbage_at_the_acs_is_a_clear_refusal(identity_env: Env, data: dict[str, str]) -> None:
    env = identity_env
    s = requests.Session()
    _idp_answer(env, s)  # a login is pending: the garbage still must not pass
    r = s.post(env.url + "/saml/nia/acs", data=data)
    assert r.status_code == 400 and "Přihlášení nelze dokončit" in r.text
    _assert_logged_out(env, s)


def test_unsolicited_response_is_refused(identity_env: Env) -> None:
    env = identity_env
    _, fields = _idp_answer(env, requests.Session())
    stranger = requests.Session()
    r = stranger.post(env.url + "/saml/nia/acs", data=fields)
    assert r.status_code == 400 and "nečekali" in r.text
    _assert_logged_out(env, stranger)
    assert _citizens() == []


def test_acs_takes_the_idp_post_with_csrf_protection_on(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The IdP's form post carries no CSRF token of ours: the ACS is exempt (the SAML
    signature and the pending request ID protect it), the rest of the portal is not."""
    from tests.identity.environment import running_identity_env

    with running_identity_env(db_url, tmp_path, WTF_CSRF_ENABLED=True) as env:
        s = requests.Session()
        action, fields = _idp_answer(env, s)
        r = s.post(action, data=fields)
        assert r.status_code == 200 and r.url == env.url + "/ucet/"
        r = s.post(env.url + "/odhlaseni")
        assert r.status_code == 400 and "Platnost formuláře vypršela" in r.text
