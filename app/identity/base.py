"""Identity providers: one interface, two protocols (OpenID Connect in ``oidc.py``, SAML 2.0
in ``saml.py``). The views only call ``start`` and ``finish``; both protocols hand back an
:class:`Identity` or raise :class:`IdentityError` with a code the views turn into a message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response

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
