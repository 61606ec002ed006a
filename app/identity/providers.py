"""Identity providers: one interface, two protocols (OpenID Connect and SAML 2.0).

A provider is configured by name in ``IDENTITY_PROVIDERS`` as ``{"type": "oidc"}`` (Bank iD)
or ``{"type": "saml"}`` (NIA). The views only call ``start`` and ``finish``; both protocols
hand back an :class:`Identity` or raise :class:`IdentityError` with a code the views turn
into a Czech message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, redirect, request, session
from joserfc.errors import JoseError

log = logging.getLogger(__name__)

EIDAS_ATTRIBUTE_PREFIX = "http://eidas.europa.eu/attributes/naturalperson/"
EIDAS_LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
EIDAS_ATTRIBUTES = ("CurrentGivenName", "CurrentFamilyName", "DateOfBirth", "PersonIdentifier", "CurrentAddress")


@dataclass
class Identity:
    """Who logged in, as the provider told us. ``birth_number`` is transient: it is hashed
    at once and never stored."""

    provider: str
    subject: str
    name: str = ""
    email: str | None = None
    birth_date: str | None = None
    birth_number: str | None = None
    address: str | None = None
    id_token: str | None = None


class IdentityError(Exception):
    """A login that did not succeed. ``code`` is one of: unknown_provider, cancelled,
    provider_error, invalid_state, invalid_token, invalid_response, no_pending_login,
    unavailable."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class IdentityProvider:
    type = ""

    def __init__(self, name: str, config: dict[str, Any]):
        self.name = name
        self.config = config
        self.label = str(config.get("label") or name)

    @property
    def offers_birth_number(self) -> bool:
        return False

    def start(self, return_url: str, *, birth_number_consent: bool = False) -> Response:
        raise NotImplementedError

    def finish(self, *, birth_number_consent: bool = False) -> Identity:
        raise NotImplementedError

    def logout_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        return None

    def origins(self) -> list[str]:
        """Origins the browser is sent to (for the CSP form-action list)."""
        urls = [str(u) for u in self.config.get("form_action_origins") or []]
        for key in ("issuer", "idp_metadata_url"):
            if self.config.get(key):
                urls.append(str(self.config[key]))
        out = []
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme and parts.netloc:
                out.append(f"{parts.scheme}://{parts.netloc}")
        return out


# -- OpenID Connect (Bank iD) ---------------------------------------------------------
class OIDCProvider(IdentityProvider):
    """Authorization code flow with PKCE (S256); authlib checks state and nonce and
    verifies the id_token against the provider's JWKS."""

    type = "oidc"

    def __init__(self, name: str, config: dict[str, Any], oauth: OAuth):
        super().__init__(name, config)
        issuer = str(config["issuer"])
        metadata_url = config.get("server_metadata_url") or issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.scopes = " ".join(str(config.get("scopes") or "openid").split())
        self.birth_number_scope = str(config.get("birth_number_scope") or "")
        # Bank iD serves the birth number only on its own /profile endpoint (not userinfo).
        self.profile_url = str(
            config.get("profile_url") or (issuer.rstrip("/") + "/profile" if self.birth_number_scope else "")
        )
        client_kwargs: dict[str, Any] = {"scope": self.scopes, "code_challenge_method": "S256", "timeout": 15}
        if config.get("token_endpoint_auth_method"):
            client_kwargs["token_endpoint_auth_method"] = config["token_endpoint_auth_method"]
        self.client = oauth.register(
            name,
            client_id=config["client_id"],
            client_secret=config.get("client_secret") or None,
            server_metadata_url=metadata_url,
            # Bank iD signs id_tokens with PS512; used when discovery does not list algorithms.
            id_token_signing_alg_values_supported=list(config.get("id_token_algs") or ["PS512"]),
            client_kwargs=client_kwargs,
        )

    @property
    def offers_birth_number(self) -> bool:
        return bool(self.birth_number_scope)

    def start(self, return_url: str, *, birth_number_consent: bool = False) -> Response:
        scope = self.scopes
        if birth_number_consent and self.birth_number_scope:
            scope = f"{scope} {self.birth_number_scope}"
        try:
            return self.client.authorize_redirect(return_url, scope=scope)
        except (requests.RequestException, ValueError, RuntimeError) as exc:
            raise IdentityError("unavailable", str(exc)) from None

    def finish(self, *, birth_number_consent: bool = False) -> Identity:
        try:
            token = self.client.authorize_access_token()
        except MismatchingStateError as exc:
            raise IdentityError("invalid_state", str(exc)) from None
        except OAuthError as exc:
            if exc.error == "access_denied":
                raise IdentityError("cancelled", exc.description or "") from None
            raise IdentityError("provider_error", f"{exc.error}: {exc.description}") from None
        except JoseError as exc:
            raise IdentityError("invalid_token", f"{type(exc).__name__}: {exc}") from None
        except requests.RequestException as exc:
            raise IdentityError("unavailable", str(exc)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise IdentityError("invalid_response", f"{type(exc).__name__}: {exc}") from None
        claims = token.get("userinfo")
        if not claims:
            raise IdentityError("invalid_token", "no id_token")
        try:
            info = dict(self.client.userinfo(token=token))
        except (requests.RequestException, OAuthError, ValueError) as exc:
            raise IdentityError("unavailable", f"userinfo: {exc}") from None
        # OpenID Connect Core 5.3.2: userinfo must be about the id_token's subject.
        if info.get("sub") != claims.get("sub"):
            raise IdentityError("invalid_response", "userinfo sub differs from id_token sub")
        merged = {**dict(claims), **info}
        birth_number = None
        granted = str(token.get("scope") or "").split()
        # A token response without "scope" grants what was asked (RFC 6749, 5.1).
        if birth_number_consent and self.profile_url and (not granted or self.birth_number_scope in granted):
            birth_number = self._birth_number(token, str(claims["sub"]))
        name = merged.get("name") or " ".join(p for p in (merged.get("given_name"), merged.get("family_name")) if p)
        address = merged.get("address")
        return Identity(
            provider=self.name,
            subject=str(claims["sub"]),
            name=str(name or "")[:200],
            email=(str(merged["email"])[:254] if merged.get("email") else None),
            birth_date=merged.get("birthdate"),
            birth_number=birth_number,
            address=(address.get("formatted") if isinstance(address, dict) else address),
            id_token=token.get("id_token"),
        )

    def _birth_number(self, token: dict[str, Any], subject: str) -> str | None:
        """The birth number from Bank iD's profile endpoint; None when it cannot be read
        (the login still succeeds, only matching by birth number is not switched on)."""
        try:
            resp = self.client.get(self.profile_url, token=token)
            resp.raise_for_status()
            profile = resp.json()
        except (requests.RequestException, OAuthError, ValueError) as exc:
            log.warning("Bank iD profile of %s unavailable: %s", self.name, exc)
            return None
        if not isinstance(profile, dict) or profile.get("sub") != subject:
            return None
        verified = (profile.get("verified_claims") or {}).get("claims") or {}
        value = profile.get("birthnumber") or verified.get("birthnumber")
        return str(value) if value else None

    def logout_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        try:
            metadata = self.client.load_server_metadata()
        except (requests.RequestException, ValueError):
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        return self.client.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token)[
            "url"
        ]


# -- SAML 2.0 (NIA) -------------------------------------------------------------------
def _read(value: Any, path: Any) -> str:
    if value:
        return str(value)
    if path:
        return Path(str(path)).read_text()
    return ""


def _pem_body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if "-----" not in line)


class SAMLProvider(IdentityProvider):
    """A SAML 2.0 service provider (python3-saml): signed AuthnRequest over HTTP-Redirect,
    signed Response/Assertion over HTTP-POST to our ACS, eIDAS attributes, LoA substantial.

    The AuthnRequest ID is kept in the session and consumed by the ACS, so a response that
    answers no pending request of this browser (a replay, an unsolicited one) is refused."""

    type = "saml"
    SESSION_KEY = "identity_saml_request"

    def __init__(self, name: str, config: dict[str, Any], base_url: str):
        super().__init__(name, config)
        self.base_url = base_url.rstrip("/")
        self._idp: dict[str, Any] | None = None

    # settings
    @property
    def acs_url(self) -> str:
        return f"{self.base_url}/saml/{self.name}/acs"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/saml/{self.name}/metadata"

    @property
    def sp_entity_id(self) -> str:
        return str(self.config.get("sp_entity_id") or self.metadata_url)

    def _idp_settings(self) -> dict[str, Any]:
        if self._idp is None:
            from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser as Parser

            xml = _read(self.config.get("idp_metadata_xml"), self.config.get("idp_metadata_file"))
            try:
                if xml:
                    parsed = Parser.parse(xml)
                elif self.config.get("idp_metadata_url"):
                    parsed = Parser.parse_remote(str(self.config["idp_metadata_url"]), timeout=15)
                else:
                    raise IdentityError("unavailable", "no IdP metadata configured")
            except IdentityError:
                raise
            except Exception as exc:  # noqa: BLE001 - any metadata failure means the IdP is unusable now
                raise IdentityError("unavailable", f"IdP metadata: {exc}") from None
            self._idp = parsed["idp"]
        return self._idp

    def settings(self, *, with_idp: bool = True) -> dict[str, Any]:
        cert = _read(self.config.get("sp_cert"), self.config.get("sp_cert_file"))
        key = _read(self.config.get("sp_key"), self.config.get("sp_key_file"))
        loa = str(self.config.get("loa") or EIDAS_LOA_SUBSTANTIAL)
        settings: dict[str, Any] = {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": self.sp_entity_id,
                "assertionConsumerService": {
                    "url": self.acs_url,
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
                "x509cert": _pem_body(cert),
                "privateKey": key,
            },
            "security": {
                "authnRequestsSigned": True,
                "wantAssertionsSigned": True,
                "wantMessagesSigned": bool(self.config.get("want_messages_signed", True)),
                "wantNameId": False,
                # NIA encrypts assertions for the SP; requiring it also publishes our
                # encryption certificate in the SP metadata.
                "wantAssertionsEncrypted": bool(self.config.get("want_assertions_encrypted", False)),
                "requestedAuthnContext": [loa],
                "requestedAuthnContextComparison": "minimum",
                "signMetadata": False,
                "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
                "rejectDeprecatedAlgorithm": True,
            },
        }
        settings["idp"] = (
            self._idp_settings()
            if with_idp
            else {
                "entityId": "urn:placeholder",
                "singleSignOnService": {
                    "url": "https://invalid.example/",
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                },
                "x509cert": "",
            }
        )
        return settings

    def _request_data(self) -> dict[str, Any]:
        # What python3-saml needs to know about the request: taken from BASE_URL, not
        # from Host headers, so a proxy in front does not change the checked destination.
        base = urlsplit(self.base_url)
        return {
            "https": "on" if base.scheme == "https" else "off",
            "http_host": base.hostname or "",
            "server_port": str(base.port or (443 if base.scheme == "https" else 80)),
            "script_name": request.path,
            "get_data": request.args.copy(),
            "post_data": request.form.copy(),
        }

    def _auth(self):  # type: ignore[no-untyped-def]
        from onelogin.saml2.auth import OneLogin_Saml2_Auth
        from onelogin.saml2.errors import OneLogin_Saml2_Error

        try:
            return OneLogin_Saml2_Auth(self._request_data(), self.settings())
        except (OneLogin_Saml2_Error, OSError) as exc:
            # A configuration problem (SP certificate or key missing, bad IdP metadata).
            raise IdentityError("unavailable", f"SAML settings: {exc}") from None

    def origins(self) -> list[str]:
        origins = super().origins()
        if self.config.get("idp_metadata_xml") or self.config.get("idp_metadata_file"):
            try:
                sso = urlsplit(self._idp_settings()["singleSignOnService"]["url"])
            except (IdentityError, KeyError):
                return origins
            origins.append(f"{sso.scheme}://{sso.netloc}")
        return origins

    def sp_metadata(self) -> str:
        from onelogin.saml2.errors import OneLogin_Saml2_Error
        from onelogin.saml2.settings import OneLogin_Saml2_Settings

        try:
            s = OneLogin_Saml2_Settings(self.settings(with_idp=False), sp_validation_only=True)
            xml = s.get_sp_metadata()
        except (OneLogin_Saml2_Error, OSError) as exc:
            raise IdentityError("unavailable", f"SP settings: {exc}") from None
        errors = s.validate_metadata(xml)
        if errors:
            raise IdentityError("unavailable", f"SP metadata: {errors}")
        return xml.decode() if isinstance(xml, bytes) else xml

    def start(self, return_url: str, *, birth_number_consent: bool = False) -> Response:
        auth = self._auth()
        url = auth.login(return_to=return_url)
        session[self.SESSION_KEY] = {"provider": self.name, "id": auth.get_last_request_id()}
        return redirect(url)

    def finish(self, *, birth_number_consent: bool = False) -> Identity:
        pending = session.pop(self.SESSION_KEY, None)
        if not request.form.get("SAMLResponse"):
            raise IdentityError("invalid_response", "no SAMLResponse")
        if not pending or pending.get("provider") != self.name:
            raise IdentityError("no_pending_login", "no AuthnRequest of this session awaits an answer")
        auth = self._auth()
        try:
            auth.process_response(request_id=pending["id"])
        except Exception as exc:  # noqa: BLE001 - python3-saml raises plain errors for malformed XML
            raise IdentityError("invalid_response", f"{type(exc).__name__}: {exc}") from None
        errors = auth.get_errors()
        if errors:
            reason = auth.get_last_error_reason() or ""
            if "status code of the Response was not Success" in reason:
                # NIA answers Responder/AuthnFailed (or RequestDenied) when the citizen cancels.
                codes = _status_codes(auth.get_last_response_xml())
                if any(c.endswith((":AuthnFailed", ":RequestDenied", ":NoPassive")) for c in codes):
                    raise IdentityError("cancelled", reason)
                raise IdentityError("provider_error", reason)
            raise IdentityError("invalid_response", f"{errors}: {reason}")
        if not auth.is_authenticated():
            raise IdentityError("invalid_response", "not authenticated")
        attrs = _eidas_attributes(auth.get_attributes())
        subject = attrs.get("PersonIdentifier")
        if not subject:
            raise IdentityError("invalid_response", "no PersonIdentifier")
        name = " ".join(p for p in (attrs.get("CurrentGivenName"), attrs.get("CurrentFamilyName")) if p)
        return Identity(
            provider=self.name,
            subject=subject,
            name=name[:200],
            birth_date=attrs.get("DateOfBirth"),
            address=attrs.get("CurrentAddress"),
        )


def _status_codes(xml: str | bytes | None) -> list[str]:
    """All StatusCode values of a SAML Response, outer first."""
    if not xml:
        return []
    from lxml import etree

    try:
        doc = etree.fromstring(
            xml.encode() if isinstance(xml, str) else xml,
            parser=etree.XMLParser(resolve_entities=False, no_network=True),
        )
    except etree.XMLSyntaxError:
        return []
    ns = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
    return [str(v) for v in doc.xpath("/samlp:Response/samlp:Status//samlp:StatusCode/@Value", namespaces=ns)]


def _eidas_attributes(raw: dict[str, list[str]]) -> dict[str, str]:
    """eIDAS attributes by their short names; NIA sends them under full URIs."""
    out: dict[str, str] = {}
    for key, values in raw.items():
        short = key.rsplit("/", 1)[-1]
        if short in EIDAS_ATTRIBUTES and values:
            out[short] = str(values[0]).strip()
    return out


# -- the registry ---------------------------------------------------------------------
class IdentityRegistry:
    def __init__(self, app: Flask):
        self.oauth = OAuth(app)
        self.providers: dict[str, IdentityProvider] = {}
        for name, config in (app.config.get("IDENTITY_PROVIDERS") or {}).items():
            kind = config.get("type")
            if kind == "oidc":
                self.providers[name] = OIDCProvider(name, config, self.oauth)
            elif kind == "saml":
                self.providers[name] = SAMLProvider(name, config, str(app.config["BASE_URL"]))
            else:
                raise ValueError(f"identity provider {name!r}: unknown type {kind!r}")

    def origins(self) -> list[str]:
        return sorted({o for p in self.providers.values() for o in p.origins()})

    def get(self, name: str) -> IdentityProvider:
        provider = self.providers.get(name)
        if provider is None:
            raise IdentityError("unknown_provider", name[:50])
        return provider
