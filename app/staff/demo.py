"""The demo staff (known passwords and TOTP secrets) for `flask seed-demo`."""

from __future__ import annotations

from sqlalchemy import select

from app.db import db_session
from app.models import Municipality, StaffRole
from app.regions import get_or_create_region
from app.staff.accounts import (
    create_staff,
    find_staff,
    hash_password,
    provisioning_uri,
)

# -- demo ------------------------------------------------------------------------------
DEMO_STAFF = [
    # (email, name, role, password, TOTP secret, an operator's region)
    (
        "operator@demo.example.cz",
        "Demo operátor ARR",
        StaffRole.OPERATOR,
        "demo-operator-heslo",
        "JBSWY3DPEHPK3PXPOPERATOR",
        "liberecky-kraj",
    ),
    (
        "urednik@demo.example.cz",
        "Demo úřednice obce",
        StaffRole.MUNICIPALITY_ADMIN,
        "demo-urednik-heslo",
        "JBSWY3DPEHPK3PXPURADNIK2",
        None,
    ),
    (
        "operator-hk@demo.example.cz",
        "Demo operátor Královéhradeckého kraje",
        StaffRole.OPERATOR,
        "demo-operator-hk-heslo",
        "JBSWY3DPEHPK3PXPOPERHRAD",
        "kralovehradecky-kraj",
    ),
    (
        "narodni@demo.example.cz",
        "Demo celostátní koordinátorka",
        StaffRole.NATIONAL,
        "demo-narodni-heslo",
        "JBSWY3DPEHPK3PXPNARODNI2",
        None,
    ),
]


def seed_demo_staff() -> list[dict[str, str]]:
    """The demo operators (of the Liberec and the Hradec Králové Region), a national
    coordinator and a demo municipality admin (of the first active municipality), with
    known passwords and TOTP secrets. Idempotent. Returns their logins."""
    from app.models import OnboardingState

    first = db_session.scalar(
        select(Municipality).where(Municipality.onboarding_state == OnboardingState.ACTIVE).order_by(Municipality.id)
    )
    out = []
    for email, name, role, password, secret, region_slug in DEMO_STAFF:
        over = role in (StaffRole.OPERATOR, StaffRole.NATIONAL)
        mid = None if over else (first.id if first else None)
        if mid is None and not over:
            continue
        region = get_or_create_region(db_session(), region_slug) if region_slug else None
        user = find_staff(email)
        if user is None:
            user = create_staff(
                email,
                role,
                mid,
                name=name,
                password=password,
                totp_secret=secret,
                region_id=region.id if region else None,
            )
        else:
            user.password_hash = hash_password(password)
            user.totp_secret, user.totp_enabled, user.active = secret, True, True
            user.failed_logins, user.locked_until = 0, None
            if role == StaffRole.OPERATOR and region is not None:
                user.region_id = region.id
        out.append(
            {
                "email": email,
                "password": password,
                "role": role,
                "totp_secret": secret,
                "municipality": first.name if mid and first else (region.name if region else ""),
                "provisioning_uri": provisioning_uri(user, secret),
            }
        )
    db_session.commit()
    return out
