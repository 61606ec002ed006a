"""A real OpenID provider for tests, built from authlib's server components.

Discovery (listing PS512, like Bank iD), JWKS, authorization endpoint that approves the
configured test user (or refuses, per ``behaviour``), token endpoint issuing a
PS512-signed id_token with the nonce, userinfo and end_session endpoints. PKCE with S256
is required of every client, confidential ones included.

``behaviour`` lets a test make the provider misbehave the way a broken or hostile provider
would: ``error`` (answer ?error=...), ``wrong_nonce``, ``expired`` (exp in the past),
``foreign_key`` (sign with a key not in the JWKS, same kid).
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, redirect, request
from joserfc.jwk import RSAKey

KID = "test-op-key-1"


@functools.cache
def _rsa_key(purpose: str) -> RSAKey:
    # Generated once per test run (keys are slow to make; each test gets its own provider).
    return RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "PS512"})


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scope: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "0"

    def get_amr(self) -> list[str]:
        return []


class RequiredCodeChallenge(CodeChallenge):
    """PKCE for every client, and only S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):  # type: ignore[no-untyped-def]
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):  # type: ignore[no-untyped-def]
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        return super().validate_code_verifier(grant, result)


class TestOpenIDProvider:
    __test__ = False

    def __init__(
        self, issuer_url: str, *, client_id: str, client_secret: str, redirect_uris: list[str], user: dict[str, Any]
    ):
        self.issuer = issuer_url.rstrip("/") + "/"
        self.base = issuer_url.rstrip("/")
        self.key = _rsa_key("provider")
        # Same kid, different key: what a forged token signed elsewhere looks like.
        self.foreign_key = _rsa_key("foreign")
        self.client = Client(
            client_id,
            client_secret,
            list(redirect_uris),
            "openid profile.name profile.email profile.birthdate profile.birthnumber",
        )
        self.user = dict(user)
        self.behaviour: dict[str, Any] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, tuple[dict[str, Any], str]] = {}
        self.used_nonces: set[str] = set()
        self.logouts: list[dict[str, str]] = []
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests = 0
        self.app = self._make_app()

    # -- the authlib pieces -----------------------------------------------------------
    def _make_app(self) -> Flask:
        op = self
        app = Flask("test_openid_provider")
        app.config.update(
            SECRET_KEY="op-secret",
            SESSION_COOKIE_NAME="op_session",
            OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": 600},
        )

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, req):  # type: ignore[no-untyped-def]
                data = req.payload.data
                if data.get("nonce"):
                    op.used_nonces.add(data["nonce"])
                op.codes[code] = Code(
                    code=code,
                    client_id=req.client.get_client_id(),
                    redirect_uri=req.payload.redirect_uri,
                    scope=req.scope,
                    user=op.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):  # type: ignore[no-untyped-def]
                item = op.codes.get(code)
                if item and item.client_id == client.get_client_id():
                    return item
                return None

            def delete_authorization_code(self, authorization_code):  # type: ignore[no-untyped-def]
                op.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):  # type: ignore[no-untyped-def]
                return authorization_code.user

        class OIDC(OpenIDCode):
            def exists_nonce(self, nonce, req):  # type: ignore[no-untyped-def]
                # A nonce already bound to an issued code is a replay.
                return nonce in op.used_nonces

            def resolve_client_private_key(self, client):  # type: ignore[no-untyped-def]
                return op.foreign_key if op.behaviour.get("foreign_key") else op.key

            def get_client_algorithm(self, client):  # type: ignore[no-untyped-def]
                return "PS512"

            def get_encode_header(self, client):  # type: ignore[no-untyped-def]
                return {"alg": "PS512", "kid": KID}

            def get_client_claims(self, client):  # type: ignore[no-untyped-def]
                now = int(time.time())
                claims = {"iss": op.issuer, "aud": [client.get_client_id()], "iat": now, "exp": now + 300}
                if op.behaviour.get("expired"):
                    claims.update(iat=now - 7200, exp=now - 3600)
                return claims

            def get_authorization_code_claims(self, authorization_code):  # type: ignore[no-untyped-def]
                claims = super().get_authorization_code_claims(authorization_code)
                if op.behaviour.get("wrong_nonce"):
                    claims["nonce"] = "not-the-nonce-you-sent"
                return claims

            def generate_user_info(self, user, scope):  # type: ignore[no-untyped-def]
                return op.user_info(user, scope)

        def query_client(client_id):  # type: ignore[no-untyped-def]
            return op.client if client_id == op.client.client_id else None

        def save_token(token, req):  # type: ignore[no-untyped-def]
            op.tokens[token["access_token"]] = (req.user, token.get("scope", ""))

        server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
        server.register_grant(CodeGrant, [OIDC(require_nonce=True), RequiredCodeChallenge(required=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery():  # type: ignore[no-untyped-def]
            return jsonify(
                {
                    "issuer": op.issuer,
                    "authorization_endpoint": op.base + "/auth",
                    "token_endpoint": op.base + "/token",
                    "userinfo_endpoint": op.base + "/userinfo",
                    "jwks_uri": op.base + "/.well-known/jwks",
                    "end_session_endpoint": op.base + "/logout",
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["PS512"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                    "scopes_supported": op.client.scope.split(),
                }
            )

        @app.get("/.well-known/jwks")
        def jwks():  # type: ignore[no-untyped-def]
            return jsonify({"keys": [op.key.as_dict(private=False)]})

        @app.route("/auth", methods=["GET", "POST"])
        def authorize():  # type: ignore[no-untyped-def]
            op.authorize_requests.append(request.args.to_dict())
            error = op.behaviour.get("error")
            if error:
                # The citizen refused (access_denied) or the provider failed.
                params = {"error": error, "state": request.args.get("state", "")}
                return redirect(request.args.get("redirect_uri", op.client.redirect_uris[0]) + "?" + urlencode(params))
            try:
                server.get_consent_grant(end_user=op.user)
            except Exception as exc:  # noqa: BLE001 - show the refusal like a provider's error page
                return jsonify({"error": getattr(exc, "error", "invalid_request"), "description": str(exc)}), 400
            return server.create_authorization_response(grant_user=op.user)

        @app.post("/token")
        def issue_token():  # type: ignore[no-untyped-def]
            op.token_requests += 1
            return server.create_token_response()

        def bearer():  # type: ignore[no-untyped-def]
            auth = request.headers.get("Authorization", "")
            return op.tokens.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo():  # type: ignore[no-untyped-def]
            entry = bearer()
            if entry is None:
                return jsonify({"error": "invalid_token"}), 401
            user, scope = entry
            return jsonify(dict(op.user_info(user, scope)))

        @app.get("/profile")
        def profile():  # type: ignore[no-untyped-def]
            # Like Bank iD's /profile: the birth number is served here, under verified_claims.
            entry = bearer()
            if entry is None:
                return jsonify({"error": "invalid_token"}), 401
            user, scope = entry
            claims = {"given_name": user["given_name"], "family_name": user["family_name"]}
            if "profile.birthnumber" in scope.split():
                claims["birthnumber"] = user["birthnumber"]
            return jsonify({"sub": user["sub"], "verified_claims": {"claims": claims}, **claims})

        @app.get("/logout")
        def logout():  # type: ignore[no-untyped-def]
            op.logouts.append(request.args.to_dict())
            target = request.args.get("post_logout_redirect_uri")
            if target:
                sep = "&" if "?" in target else "?"
                return redirect(
                    target + (sep + urlencode({"state": request.args["state"]}) if request.args.get("state") else "")
                )
            return "Odhlášeno u poskytovatele."

        return app

    def user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
        scopes = set((scope or "").split())
        info = UserInfo(sub=user["sub"])
        if "profile.name" in scopes:
            info.update(
                given_name=user["given_name"],
                family_name=user["family_name"],
                name=f"{user['given_name']} {user['family_name']}",
            )
        if "profile.email" in scopes:
            info.update(email=user["email"], email_verified=True)
        if "profile.birthdate" in scopes:
            info["birthdate"] = user["birthdate"]
        return info
