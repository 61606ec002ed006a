"""A municipality's merchant account at a payment gateway (GoPay, GP webpay, BTCPay, Stripe).

Secret settings (client secret, private key, API key, webhook secret…) are stored only as
one Fernet token (``secrets_encrypted``, see ``app/gateway_accounts/crypto.py``); the
non-secret ones (GoID, merchant number, store id, URLs) are plain JSON."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class GatewayMode(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class GatewayAccount(Base):
    __tablename__ = "gateway_account"
    __table_args__ = (
        # One active account per gateway and municipality: the citizen picks a gateway,
        # the account follows from it.
        Index(
            "uq_gateway_account_active",
            "municipality_id",
            "gateway_name",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Opaque id in the webhook URL (/webhooks/<gateway>/<public_id>): never the database id.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    gateway_name: Mapped[str] = mapped_column(String(30))
    label: Mapped[str] = mapped_column(String(120))
    mode: Mapped[str] = mapped_column(String(10), default=GatewayMode.SANDBOX)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    last_test_at: Mapped[datetime | None]
    last_test_ok: Mapped[bool | None]
    last_test_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship()  # noqa: F821
