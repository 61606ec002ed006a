"""Staff accounts of the admin area: operator (the regional agency), municipality admins,
clerks and viewers; their invitations and password resets (tokens stored hashed)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow

if TYPE_CHECKING:
    from app.models.municipality import Municipality


class StaffRole(StrEnum):
    VIEWER = "viewer"  # read only
    CLERK = "clerk"  # view, refund, export
    MUNICIPALITY_ADMIN = "municipality_admin"  # services, team and settings of one municipality
    OPERATOR = "operator"  # a regional agency: every municipality of its region
    NATIONAL = "national"  # the national coordinator: every region


# A role may do everything a lower-ranked role may.
ROLE_RANK: dict[str, int] = {
    StaffRole.VIEWER: 1,
    StaffRole.CLERK: 2,
    StaffRole.MUNICIPALITY_ADMIN: 3,
    StaffRole.OPERATOR: 4,
    StaffRole.NATIONAL: 5,
}
# Roles above any one municipality: they see many (an operator its region's, national all).
OVER_MUNICIPALITIES = frozenset({StaffRole.OPERATOR, StaffRole.NATIONAL})


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=StaffRole.VIEWER)
    # None only for operators and national staff.
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    # An operator's region (required for them; a municipality's staff belong to its region
    # through it; national staff have none).
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The last TOTP time step accepted: a code cannot be used twice.
    totp_last_step: Mapped[int | None]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change or deactivation: every existing session ends.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality | None] = relationship()

    # -- Flask-Login ------------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    # -- roles ------------------------------------------------------------------------
    @property
    def is_operator(self) -> bool:
        """Above municipalities: a region's operator or national staff."""
        return self.role in OVER_MUNICIPALITIES

    @property
    def is_national(self) -> bool:
        return self.role == StaffRole.NATIONAL

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


class StaffInvitation(Base):
    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipality.id"), index=True)
    # An invited operator's region (the inviting operator's).
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PasswordReset(Base):
    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
