"""The providers configured by name in ``IDENTITY_PROVIDERS``: ``{"type": "oidc"}`` (Bank iD)
or ``{"type": "saml"}`` (NIA)."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask

from app.identity.base import (
    IdentityError,
    IdentityProvider,
)
from app.identity.oidc import OIDCProvider
from app.identity.saml import SAMLProvider


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
