"""Configuration from the environment. Every key can be overridden by create_app(config)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


BANKID_SANDBOX_ISSUER = "https://oidc.sandbox.bankid.cz/"
BANKID_DEFAULT_SCOPES = "openid profile.name profile.email profile.birthdate"
EIDAS_LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"


def identity_providers_from_env() -> dict[str, dict[str, object]]:
    """Identity providers by name, each ``{"type": "oidc" | "saml", ...}``.

    A provider is offered only when its essentials are configured."""
    env = os.environ.get
    providers: dict[str, dict[str, object]] = {}
    if env("BANKID_CLIENT_ID"):
        providers["bankid"] = {
            "type": "oidc",
            "label": "Bankovní identita (Bank iD)",
            "client_id": env("BANKID_CLIENT_ID"),
            "client_secret": env("BANKID_CLIENT_SECRET", ""),
            "issuer": env("BANKID_ISSUER", BANKID_SANDBOX_ISSUER),
            "scopes": env("BANKID_SCOPES", BANKID_DEFAULT_SCOPES),
            "birth_number_scope": env("BANKID_BIRTHNUMBER_SCOPE", "profile.birthnumber"),
            # Bank iD's /profile endpoint (the birth number is served only there).
            "profile_url": env("BANKID_PROFILE_URL"),
            "token_endpoint_auth_method": env("BANKID_TOKEN_AUTH_METHOD", "client_secret_post"),
        }
    if env("NIA_IDP_METADATA_URL") or env("NIA_IDP_METADATA_FILE"):
        providers["nia"] = {
            "type": "saml",
            "label": "Identita občana (NIA)",
            "idp_metadata_url": env("NIA_IDP_METADATA_URL"),
            "idp_metadata_file": env("NIA_IDP_METADATA_FILE"),
            "sp_entity_id": env("NIA_SP_ENTITY_ID"),
            "sp_cert_file": env("NIA_SP_CERT_FILE"),
            "sp_key_file": env("NIA_SP_KEY_FILE"),
            "loa": env("NIA_LOA", EIDAS_LOA_SUBSTANTIAL),
            "want_assertions_encrypted": _bool("NIA_WANT_ASSERTIONS_ENCRYPTED", True),
        }
    return providers


def from_env() -> dict[str, object]:
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'portal.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    replica_url = os.environ.get("DATABASE_REPLICA_URL") or None
    if replica_url and replica_url.startswith("postgresql://"):
        replica_url = "postgresql+psycopg://" + replica_url[len("postgresql://") :]
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me"),
        "DATABASE_URL": database_url,
        # A read replica of DATABASE_URL (streaming replication): the monthly and yearly
        # reports and the public statistics read it (app.db.read_session); unset, they read
        # the primary. Everything that writes, and every page that must see its own
        # writes, stays on the primary.
        "DATABASE_REPLICA_URL": replica_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "portal"),
        "BASE_URL": base_url,
        "ENABLED_GATEWAYS": [
            g.strip() for g in os.environ.get("ENABLED_GATEWAYS", "demo,stripe").split(",") if g.strip()
        ],
        # The demo gateway moves no money: live municipalities may use it only in a demo or
        # sandbox deployment (municipalities in demo mode always use it, labelled so).
        "ALLOW_DEMO_GATEWAY": _bool("ALLOW_DEMO_GATEWAY", False),
        # Fernet keys (comma-separated) for gateway secrets at rest: the first encrypts, all
        # decrypt; rotate with `flask secrets rotate` after putting a new key first.
        "SECRET_ENCRYPTION_KEYS": os.environ.get("SECRET_ENCRYPTION_KEYS", ""),
        "DEMO_GATEWAY_SECRET": os.environ.get("DEMO_GATEWAY_SECRET", "demo-gateway-signing-secret"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE"),  # e.g. localstripe
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        "PAYMENT_EXPIRY_MINUTES": int(os.environ.get("PAYMENT_EXPIRY_MINUTES", "90")),
        # The poll asks the gateway about payments started this long ago and not yet paid,
        # so a payment whose notification never came is paid within one poll period.
        "STUCK_PAYMENT_POLL_DELAY_SECONDS": int(os.environ.get("STUCK_PAYMENT_POLL_DELAY_SECONDS", "120")),
        # A recorded notification not processed after this long is scheduled again by
        # `flask jobs sweep` (its job was never enqueued, or was lost).
        "NOTIFICATION_SWEEP_AFTER_SECONDS": int(os.environ.get("NOTIFICATION_SWEEP_AFTER_SECONDS", "30")),
        # Failed jobs are retried after these many seconds (one retry per number).
        "JOB_RETRY_INTERVALS": [
            int(s) for s in os.environ.get("JOB_RETRY_INTERVALS", "10,60,300").split(",") if s.strip()
        ],
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", base_url.startswith("https")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "cs",
        "LANGUAGES": ["cs", "en"],
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "portal@example.cz"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),  # STARTTLS
        # Seconds to wait for the SMTP server, for every message (receipts, reports, invitations).
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "20")),
        # Who gets the national monthly report besides national staff (comma-separated); each
        # region's report goes to its operators and its own recipients (Region.report_recipients).
        "REPORT_RECIPIENTS": [e.strip() for e in os.environ.get("REPORT_RECIPIENTS", "").split(",") if e.strip()],
        # The region a deployment starts with (app/data/regions.csv slug): new municipalities
        # of the CLI and the seed join it unless told otherwise.
        "DEFAULT_REGION": os.environ.get("DEFAULT_REGION", "liberecky-kraj"),
        # Host names that show a region's home at / and wear its brand, "host=slug,host=slug"
        # (besides each region's own Region.host); any other host shows the national home.
        "REGION_HOSTS": os.environ.get("REGION_HOSTS", ""),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # The public API (app/api): calls per key, the largest body, the webhook timeout.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600/minute"),
        "API_MAX_BODY_BYTES": int(os.environ.get("API_MAX_BODY_BYTES", str(8 * 1024 * 1024))),
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "10")),
        # An API key is read from a per-process cache this many seconds old at most; a key
        # revoked in another worker stops working there within this time (app/api/keys.py).
        "API_KEY_CACHE_SECONDS": float(os.environ.get("API_KEY_CACHE_SECONDS", "5")),
        # The citizen pages read the public catalogue (active municipalities and services)
        # from a per-process cache this many seconds old at most; 0 turns it off. A change
        # made in another process shows within this time (app/catalog/cache.py).
        "CATALOG_CACHE_SECONDS": float(os.environ.get("CATALOG_CACHE_SECONDS", "5")),
        # The public statistics' figures are computed at most this often per year and area
        # (the cache: Redis when REDIS_URL is set); 0 computes them on every request. Browsers
        # and proxies may keep a page or data file as long (Cache-Control max-age).
        "STATISTICS_CACHE_SECONDS": int(os.environ.get("STATISTICS_CACHE_SECONDS", "60")),
        "IDENTITY_PROVIDERS": identity_providers_from_env(),
        # Key for the birth-number HMAC; derived from SECRET_KEY when not set. Changing it
        # (or SECRET_KEY) makes stored HMACs unmatchable until the citizens log in again.
        "BIRTH_NUMBER_HMAC_KEY": os.environ.get("BIRTH_NUMBER_HMAC_KEY"),
        # Obligations (payer lists): lookups per client, and the largest importable file.
        "LOOKUP_RATE_LIMIT": os.environ.get("LOOKUP_RATE_LIMIT", "10 per minute"),
        "OBLIGATION_IMPORT_MAX_BYTES": int(os.environ.get("OBLIGATION_IMPORT_MAX_BYTES", str(20 * 1024 * 1024))),
        # Admin area: idle timeout of a staff session, login rate limit, token lifetimes.
        # Argon2id cost; empty = argon2-cffi's defaults (time 3, memory 64 MiB).
        "ARGON2_TIME_COST": int(os.environ.get("ARGON2_TIME_COST", "0")) or None,
        "ARGON2_MEMORY_COST": int(os.environ.get("ARGON2_MEMORY_COST", "0")) or None,
        "ADMIN_IDLE_MINUTES": int(os.environ.get("ADMIN_IDLE_MINUTES", "30")),
        # Staff sessions end after this much inactivity (the cookie is refreshed on each request).
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(os.environ.get("ADMIN_IDLE_MINUTES", "30"))),
        "ADMIN_LOGIN_RATE_LIMIT": os.environ.get("ADMIN_LOGIN_RATE_LIMIT", "10 per minute"),
        "ADMIN_LOCKOUT_ATTEMPTS": int(os.environ.get("ADMIN_LOCKOUT_ATTEMPTS", "5")),
        "ADMIN_LOCKOUT_MINUTES": int(os.environ.get("ADMIN_LOCKOUT_MINUTES", "15")),
        "ADMIN_INVITATION_HOURS": int(os.environ.get("ADMIN_INVITATION_HOURS", "72")),
        "ADMIN_RESET_MINUTES": int(os.environ.get("ADMIN_RESET_MINUTES", "60")),
        "ADMIN_PAGE_SIZE": int(os.environ.get("ADMIN_PAGE_SIZE", "50")),
        # Exports above this many rows run as a background job with a download link.
        "EXPORT_SYNC_LIMIT": int(os.environ.get("EXPORT_SYNC_LIMIT", "50000")),
        "EXPORT_DIR": os.environ.get("EXPORT_DIR", str(ROOT / "instance" / "exports")),
        # Bank transfers: Fio's API (tokens are encrypted with SECRET_ENCRYPTION_KEYS).
        "FIO_API_URL": os.environ.get("FIO_API_URL", "https://fioapi.fio.cz/v1/rest/"),
    }
