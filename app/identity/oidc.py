"""Bank iD over OpenID Connect (authlib): authorization code with PKCE, id_token checked."""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Response
from joserfc.errors import JoseError

from app.identity.base import (
    Identity,
    IdentityError,
    IdentityProvider,
)

log = logging.getLogger(__name__)


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
