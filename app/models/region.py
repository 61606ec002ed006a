"""A region (kraj): owns its municipalities and its operator staff, and runs its own
public home with its name, logo, colours and footer (one deployment, many regions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class Region(Base):
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # "Liberecký kraj"
    # The genitive for "obcí …" ("obcí Libereckého kraje").
    name_genitive: Mapped[str] = mapped_column(String(200), default="")
    # NUTS 3 / CZ-NUTS code of the region (CZ051); None for a fictional demo region.
    nuts_code: Mapped[str | None] = mapped_column(String(10), unique=True)
    # The agency that runs the portal for the region (the footer and the reports).
    operator_name: Mapped[str] = mapped_column(String(300), default="")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    web_url: Mapped[str | None] = mapped_column(String(300))
    footer_text: Mapped[str] = mapped_column(Text, default="")
    # A path under /static or an https URL; None shows the portal's own mark.
    logo_url: Mapped[str | None] = mapped_column(String(300))
    # The region's colour (#rrggbb); must keep 4.5:1 contrast with white text.
    primary_color: Mapped[str] = mapped_column(String(7), default="#2362a2")
    # Monthly report recipients besides the region's operator staff, comma-separated.
    report_recipients: Mapped[str] = mapped_column(Text, default="")
    # Its own host name (platby.kraj-lbc.cz), mapped to this region; None: /kraj/<slug>.
    host: Mapped[str | None] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def recipients(self) -> list[str]:
        return [e.strip() for e in (self.report_recipients or "").split(",") if e.strip()]

    def __repr__(self) -> str:
        return f"<Region {self.slug}>"
