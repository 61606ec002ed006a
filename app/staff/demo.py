"""The demo staff (known passwords and TOTP secrets) for `flask seed-demo`."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db_session
from app.models import Municipality, StaffRole
from app.staff.accounts import (
    create_staff,
    find_staff,
    hash_password,
    provisioning_uri,
)

# -- demo ------------------------------------------------------------------------------
DEMO_STAFF = [
    # (email, name, role, password, TOTP secret)
    ("operator@demo.example.cz", "Demo operátor ARR", StaffRole.OPERATOR, "demo-operator-heslo", "JBSWY3DPEHPK3PXPOPERATOR"),
    ("urednik@demo.example.cz", "Demo úřednice obce", StaffRole.MUNICIPALITY_ADMIN, "demo-urednik-heslo", "JBSWY3DPEHPK3PXPURADNIK2"),
]


def seed_demo_staff() -> list[dict[str, str]]:
    """A demo operator and a demo municipality admin (of the first active municipality),
    with known passwords and TOTP secrets. Idempotent. Returns their logins."""
    from app.models import OnboardingState

    first = db_session.scalar(
        select(Municipality).where(Municipality.onboarding_state == OnboardingState.ACTIVE).order_by(Municipality.id)
    )
    out = []
    for email, name, role, password, secret in DEMO_STAFF:
        mid = None if role == StaffRole.OPERATOR else (first.id if first else None)
        if mid is None and role != StaffRole.OPERATOR:
            continue
        user = find_staff(email)
        if user is None:
            user = create_staff(email, role, mid, name=name, password=password, totp_secret=secret)
        else:
            user.password_hash = hash_password(password)
            user.totp_secret, user.totp_enabled, user.active = secret, True, True
            user.failed_logins, user.locked_until = 0, None
        out.append({
            "email": email, "password": password, "role": role, "totp_secret": secret,
            "municipality": first.name if mid and first else "",
            "provisioning_uri": provisioning_uri(user, secret),
        })
    db_session.commit()
    return out
