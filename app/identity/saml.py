"""NIA over SAML 2.0 (python3-saml): signed AuthnRequest, signed and possibly encrypted
assertions, eIDAS attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, request, session

from app.identity.base import (
    EIDAS_ATTRIBUTES,
    EIDAS_LOA_SUBSTANTIAL,
    Identity,
    IdentityError,
    IdentityProvider,
)


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
