"""Configuration from the environment. Every key can be overridden by create_app(config)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def from_env() -> dict[str, object]:
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'portal.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me"),
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "portal"),
        "BASE_URL": base_url,
        "ENABLED_GATEWAYS": [g.strip() for g in os.environ.get("ENABLED_GATEWAYS", "demo,stripe").split(",") if g.strip()],
        "DEMO_GATEWAY_SECRET": os.environ.get("DEMO_GATEWAY_SECRET", "demo-gateway-signing-secret"),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY"),
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET"),
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE"),  # e.g. localstripe
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        "PAYMENT_EXPIRY_MINUTES": int(os.environ.get("PAYMENT_EXPIRY_MINUTES", "90")),
        "PAYMENT_POLL_AFTER_MINUTES": int(os.environ.get("PAYMENT_POLL_AFTER_MINUTES", "5")),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", base_url.startswith("https")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "cs",
        "LANGUAGES": ["cs", "en"],
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "portal@example.cz"),
        # Placeholder guard of the operator pages until staff accounts exist: "user:password".
        "OPERATOR_BASIC_AUTH": os.environ.get("OPERATOR_BASIC_AUTH", ""),
        # Who gets the monthly report besides the operator's staff (comma-separated).
        "REPORT_RECIPIENTS": [e.strip() for e in os.environ.get("REPORT_RECIPIENTS", "").split(",") if e.strip()],
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
    }
