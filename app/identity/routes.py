"""Login pages: choose a provider, start, come back (OIDC callback, SAML ACS), log out."""

from __future__ import annotations

import logging

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.citizens.accounts import log_in_citizen
from app.db import db_session
from app.extensions import csrf, limiter
from app.identity import bp
from app.identity.base import IdentityError, IdentityProvider
from app.identity.oidc import OIDCProvider
from app.identity.saml import SAMLProvider
from app.identity.session import current_citizen, log_in_session, log_out_citizen
from app.validation import safe_local_path

log = logging.getLogger(__name__)

NEXT_KEY = "identity_next"
CONSENT_KEY = "identity_birth_number_consent"


def _registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["identity"]


def _messages() -> dict[str, tuple[int, str]]:
    return {
        "unknown_provider": (404, _("Tento způsob přihlášení neznáme. Vyberte prosím jeden z nabízených.")),
        "cancelled": (200, _("Přihlášení bylo zrušeno. Nejste přihlášeni; platit můžete i bez přihlášení.")),
        "provider_error": (400, _("Poskytovatel identity přihlášení nedokončil. Zkuste to prosím znovu.")),
        "invalid_state": (
            400,
            _(
                "Přihlášení nelze dokončit: odpověď nepatří k vašemu přihlašování (vypršela nebo byla použita podruhé). Začněte prosím znovu."
            ),
        ),
        "invalid_token": (
            400,
            _("Přihlášení nelze dokončit: poskytovatel identity nepředal platné ověření totožnosti."),
        ),
        "invalid_response": (400, _("Přihlášení nelze dokončit: odpověď poskytovatele identity není platná.")),
        "no_pending_login": (
            400,
            _(
                "Přihlášení nelze dokončit: na tuto odpověď jsme nečekali (vypršela nebo byla použita podruhé). Začněte prosím znovu."
            ),
        ),
        "unavailable": (503, _("Poskytovatel identity je nyní nedostupný. Zkuste to prosím později.")),
    }


def _failed(exc: IdentityError, provider: str | None = None):  # type: ignore[no-untyped-def]
    log_out_citizen()
    session.pop(NEXT_KEY, None)
    session.pop(CONSENT_KEY, None)
    log.info("citizen login via %s failed: %s", provider, exc)
    code, message = _messages().get(exc.code, _messages()["invalid_response"])
    return (
        render_template("identity/failed.html", message=message, cancelled=exc.code == "cancelled", code=exc.code),
        code,
    )


def _safe_next(value: str | None) -> str | None:
    # Only a path on this site: no "//", backslashes or control characters, decoded too.
    return safe_local_path(value)


def _provider(name: str) -> IdentityProvider:
    return _registry().get(name[:50])


@bp.get("/prihlaseni")
def login():  # type: ignore[no-untyped-def]
    providers = list(_registry().providers.values())
    return render_template(
        "identity/login.html", providers=providers, next=_safe_next(request.args.get("next")), citizen=current_citizen()
    )


@bp.route("/prihlaseni/<provider_name>", methods=["GET", "POST"])
@limiter.limit("30/minute")
def start(provider_name: str):  # type: ignore[no-untyped-def]
    try:
        provider = _provider(provider_name)
    except IdentityError as exc:
        return _failed(exc, provider_name)
    values = request.form if request.method == "POST" else request.args
    # Consent to birth-number matching counts only from our form (POST with CSRF token),
    # never from a link someone else made.
    consent = request.method == "POST" and values.get("rodne_cislo") == "1" and provider.offers_birth_number
    next_url = _safe_next(values.get("next"))
    log_out_citizen()
    session[CONSENT_KEY] = consent
    if next_url:
        session[NEXT_KEY] = next_url
    else:
        session.pop(NEXT_KEY, None)
    base = current_app.config["BASE_URL"].rstrip("/")
    try:
        if isinstance(provider, OIDCProvider):
            return provider.start(
                base + url_for("auth.oidc_callback", provider_name=provider.name), birth_number_consent=consent
            )
        return provider.start(base + url_for("auth.login"), birth_number_consent=consent)
    except IdentityError as exc:
        return _failed(exc, provider.name)


def _complete(provider: IdentityProvider):  # type: ignore[no-untyped-def]
    consent = bool(session.pop(CONSENT_KEY, False))
    next_url = _safe_next(session.pop(NEXT_KEY, None))
    try:
        identity = provider.finish(birth_number_consent=consent)
    except IdentityError as exc:
        return _failed(exc, provider.name)
    citizen = log_in_citizen(identity, birth_number_consent=consent)
    db_session.commit()
    log_in_session(citizen, provider.name, identity.id_token)
    flash(_("Jste přihlášeni jako %(name)s.", name=citizen.name or _("občan")), "success")
    return redirect(next_url or url_for("account.overview"), code=303)


@bp.get("/prihlaseni/<provider_name>/navrat")
@limiter.limit("30/minute")
def oidc_callback(provider_name: str):  # type: ignore[no-untyped-def]
    try:
        provider = _provider(provider_name)
        if not isinstance(provider, OIDCProvider):
            raise IdentityError("unknown_provider", provider_name)
    except IdentityError as exc:
        return _failed(exc, provider_name)
    return _complete(provider)


def _saml_provider(name: str) -> SAMLProvider:
    provider = _provider(name)
    if not isinstance(provider, SAMLProvider):
        raise IdentityError("unknown_provider", name)
    return provider


@bp.post("/saml/<provider_name>/acs")
@limiter.limit("30/minute")
@csrf.exempt
def saml_acs(provider_name: str):  # type: ignore[no-untyped-def]
    try:
        provider = _saml_provider(provider_name)
    except IdentityError as exc:
        return _failed(exc, provider_name)
    return _complete(provider)


@bp.get("/saml/<provider_name>/metadata")
def saml_metadata(provider_name: str):  # type: ignore[no-untyped-def]
    try:
        provider = _saml_provider(provider_name)
        xml = provider.sp_metadata()
    except IdentityError as exc:
        code, message = _messages().get(exc.code, _messages()["unavailable"])
        return Response(message, status=code, mimetype="text/plain")
    return Response(xml, mimetype="application/samlmetadata+xml")


@bp.route("/odhlaseni", methods=["GET", "POST"])
def logout():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return render_template("identity/logout.html", citizen=current_citizen())
    auth = log_out_citizen()
    provider = _registry().providers.get(auth.get("provider") or "")
    if provider is not None and auth.get("id_token"):
        base = current_app.config["BASE_URL"].rstrip("/")
        url = provider.logout_url(auth["id_token"], base + url_for("auth.logged_out"))
        if url:
            return redirect(url, code=303)
    return redirect(url_for("auth.logged_out"), code=303)


@bp.get("/odhlaseni/hotovo")
def logged_out():  # type: ignore[no-untyped-def]
    return render_template("identity/logged_out.html")
