"""Bank iD login over OpenID Connect against a real provider on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from app.citizens.accounts import birth_number_hmac
from app.db import db_session
from app.models import Citizen
from tests.identity.environment import TEST_USER, Env


def _citizens() -> list[Citizen]:
    db_session.expire_all()
    return list(db_session.scalars(select(Citizen)))


def _assert_logged_out(env: Env, s: requests.Session) -> None:
    r = s.get(env.url + "/ucet/", allow_redirects=False)
    assert r.status_code == 302 and "/prihlaseni" in r.headers["Location"]


def _to_callback(env: Env, s: requests.Session, start: str = "/prihlaseni/bankid") -> str:
    """Start a login and let the provider answer; return the callback URL unvisited."""
    r = s.get(env.url + start, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(env.op.base + "/auth")
    r = s.get(r.headers["Location"], allow_redirects=False)
    assert r.status_code == 302, r.text
    callback = r.headers["Location"]
    assert callback.startswith(env.url + "/prihlaseni/bankid/navrat")
    return callback


def _with_param(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_first_login_creates_the_account_and_the_second_reuses_it(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    r = s.get(env.url + "/prihlaseni/bankid")
    assert r.status_code == 200 and r.url == env.url + "/ucet/"
    assert "Můj účet" in r.text and "Jana Nováková" in r.text and "jana.novakova@example.cz" in r.text

    # The portal asked for a code with PKCE S256 and a nonce, without the birth number.
    sent = env.op.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["nonce"] and sent["state"]
    assert sent["scope"].split() == ["openid", "profile.name", "profile.email", "profile.birthdate"]

    [citizen] = _citizens()
    assert (citizen.provider, citizen.subject) == ("bankid", TEST_USER["sub"])
    assert citizen.name == "Jana Nováková" and citizen.email == TEST_USER["email"]
    assert citizen.birth_number_hmac is None

    # Logout goes through the provider's end_session endpoint with the id_token as hint.
    r = s.post(env.url + "/odhlaseni")
    assert r.status_code == 200 and r.url.startswith(env.url + "/odhlaseni/hotovo")
    assert "Byli jste odhlášeni" in r.text
    [logout] = env.op.logouts
    assert logout["post_logout_redirect_uri"] == env.url + "/odhlaseni/hotovo"
    hint = jwt.decode(logout["id_token_hint"], KeySet([env.op.key]), algorithms=["PS512"])
    assert hint.header["alg"] == "PS512" and hint.claims["sub"] == TEST_USER["sub"]
    _assert_logged_out(env, s)

    r = s.get(env.url + "/prihlaseni/bankid")
    assert r.url == env.url + "/ucet/"
    assert [c.id for c in _citizens()] == [citizen.id]


def test_birth_number_is_requested_only_with_consent_and_stored_only_as_hmac(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    r = s.post(env.url + "/prihlaseni/bankid", data={"rodne_cislo": "1"})
    assert r.url == env.url + "/ucet/"
    assert "profile.birthnumber" in env.op.authorize_requests[-1]["scope"].split()
    [citizen] = _citizens()
    with env.app.test_request_context():
        expected = birth_number_hmac(TEST_USER["birthnumber"])
    assert citizen.birth_number_hmac == expected and len(expected) == 64
    stored = " ".join(str(getattr(citizen, c.key)) for c in Citizen.__mapper__.column_attrs)
    assert TEST_USER["birthnumber"] not in stored and "805517" not in stored
    assert citizen.birth_number_consent_at is not None

    # A link cannot give the consent for the citizen.
    requests.Session().get(env.url + "/prihlaseni/bankid?rodne_cislo=1")
    assert "profile.birthnumber" not in env.op.authorize_requests[-1]["scope"].split()


def test_birth_number_not_granted_by_the_provider_still_logs_in(oidc_env: Env) -> None:
    env = oidc_env
    env.op.client.scope = env.op.client.scope.replace("profile.birthnumber", "")
    s = requests.Session()
    r = s.post(env.url + "/prihlaseni/bankid", data={"rodne_cislo": "1"})
    assert r.url == env.url + "/ucet/"
    [citizen] = _citizens()
    assert citizen.birth_number_hmac is None and citizen.birth_number_consent_at is None


def test_next_page_after_login_is_kept_but_only_when_local(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    r = s.post(env.url + "/prihlaseni/bankid", data={"next": "/ucet/profil"})
    assert r.url == env.url + "/ucet/profil"
    s = requests.Session()
    r = s.post(env.url + "/prihlaseni/bankid", data={"next": "//evil.example/"})
    assert r.url == env.url + "/ucet/"


def test_tampered_state_is_refused_and_ends_an_existing_login(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    assert s.get(env.url + "/prihlaseni/bankid").url == env.url + "/ucet/"
    callback = _to_callback(env, s)
    r = s.get(_with_param(callback, state="forged-state"))
    assert r.status_code == 400
    assert "odpověď nepatří k vašemu přihlašování" in r.text
    _assert_logged_out(env, s)


def test_replayed_callback_is_refused(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    callback = _to_callback(env, s)
    assert s.get(callback).url == env.url + "/ucet/"
    r = s.get(callback)
    assert r.status_code == 400 and "použita podruhé" in r.text
    _assert_logged_out(env, s)
    assert len(_citizens()) == 1


def test_callback_from_another_browser_is_refused(oidc_env: Env) -> None:
    env = oidc_env
    victim_callback = _to_callback(env, requests.Session())
    attacker = requests.Session()
    r = attacker.get(victim_callback)
    assert r.status_code == 400
    _assert_logged_out(env, attacker)
    assert _citizens() == []


def test_tampered_code_is_refused_by_the_provider(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    r = s.get(_with_param(_to_callback(env, s), code="made-up-code"))
    assert r.status_code == 400 and "nedokončil" in r.text
    _assert_logged_out(env, s)
    assert _citizens() == []


@pytest.mark.parametrize(
    ("behaviour", "status", "message"),
    [
        ("wrong_nonce", 400, "nepředal platné ověření totožnosti"),
        ("expired", 400, "nepředal platné ověření totožnosti"),
        ("foreign_key", 400, "nepředal platné ověření totožnosti"),
    ],
)
def test_bad_id_tokens_are_refused(oidc_env: Env, behaviour: str, status: int, message: str) -> None:
    env = oidc_env
    env.op.behaviour[behaviour] = True
    s = requests.Session()
    r = s.get(env.url + "/prihlaseni/bankid")
    assert r.status_code == status and message in r.text
    assert env.op.token_requests == 1  # the token was issued; the portal refused it
    _assert_logged_out(env, s)
    assert _citizens() == []


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        ("access_denied", 200, "Přihlášení bylo zrušeno"),
        ("server_error", 400, "Poskytovatel identity přihlášení nedokončil"),
    ],
)
def test_provider_error_answers(oidc_env: Env, error: str, status: int, message: str) -> None:
    env = oidc_env
    env.op.behaviour["error"] = error
    s = requests.Session()
    r = s.get(env.url + "/prihlaseni/bankid")
    assert r.status_code == status and message in r.text
    assert env.op.token_requests == 0
    _assert_logged_out(env, s)
    assert _citizens() == []


def test_callback_without_parameters_and_unknown_providers(oidc_env: Env) -> None:
    env = oidc_env
    s = requests.Session()
    r = s.get(env.url + "/prihlaseni/bankid/navrat")
    assert r.status_code == 400 and "Přihlášení nelze dokončit" in r.text
    for method, path in [
        ("get", "/prihlaseni/neznamy"),
        ("post", "/prihlaseni/neznamy"),
        ("get", "/prihlaseni/neznamy/navrat?code=x&state=y"),
        ("get", "/prihlaseni/nia/navrat?code=x&state=y"),
        ("post", "/saml/neznamy/acs"),
        ("post", "/saml/bankid/acs"),
        ("get", "/saml/bankid/metadata"),
    ]:
        r = getattr(s, method)(env.url + path, allow_redirects=False)
        assert r.status_code == 404, path
        assert "Tento způsob přihlášení neznáme" in r.text, path
    _assert_logged_out(env, s)


def test_the_provider_enforces_pkce(oidc_env: Env) -> None:
    """The loopback provider is strict like Bank iD: no code without an S256 challenge."""
    env = oidc_env
    params = {
        "response_type": "code",
        "client_id": env.op.client.client_id,
        "redirect_uri": env.op.client.redirect_uris[0],
        "scope": "openid",
        "state": "s",
        "nonce": "n",
    }
    r = requests.get(env.op.base + "/auth", params=params, allow_redirects=False)
    assert r.status_code in (302, 400)
    assert "code=" not in r.headers.get("Location", "")
    assert db_session.scalar(select(func.count(Citizen.id))) == 0


def test_login_page_lists_the_providers(identity_env: Env) -> None:
    env = identity_env
    page = requests.get(env.url + "/prihlaseni")
    assert page.status_code == 200
    assert "Přihlásit se přes Bankovní identita" in page.text and "Identita občana (NIA)" in page.text
    assert 'name="rodne_cislo"' in page.text
    # The login form may be redirected to the providers: CSP form-action allows them.
    csp = page.headers["Content-Security-Policy"]
    assert env.op.base in csp and env.idp.base in csp
