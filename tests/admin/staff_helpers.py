"""Admin fixtures: staff factories and a logged-in test client (password + TOTP)."""

from __future__ import annotations

import itertools
import re

import pyotp
import pytest

from app.db import db_session
from app.models import StaffUser
from app.staff.accounts import create_staff
from tests.factories import make_region

PASSWORD = "spravne-heslo-123"
_seq = itertools.count(1)


def make_staff(role: str = "clerk", municipality=None, **kw) -> StaffUser:  # type: ignore[no-untyped-def]
    """A staff member; an operator belongs to ``region`` (the deployment's default region
    when not given), national staff to none."""
    n = next(_seq)
    region = kw.pop("region", None)
    if role == "operator" and region is None:
        region = make_region()
    user = create_staff(
        kw.pop("email", f"staff{n}@example.cz"),
        role,
        None if role in ("operator", "national") else municipality.id,
        name=kw.pop("name", f"Pracovník {n}"),
        password=kw.pop("password", PASSWORD),
        totp_secret=kw.pop("totp_secret", pyotp.random_base32()),
        region_id=region.id if role == "operator" else None,
    )
    for k, v in kw.items():
        setattr(user, k, v)
    db_session.commit()
    return user


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


def code_for(user: StaffUser, offset: int = 0) -> str:
    totp = pyotp.TOTP(user.totp_secret)
    import time

    return totp.at(time.time() + offset * totp.interval)


def login(client, user: StaffUser, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """Password step then TOTP step; returns the final response."""
    r = client.post("/admin/login", data={"email": user.email, "password": password})
    assert r.status_code == 303, r.text
    assert r.headers["Location"].endswith("/admin/login/totp")
    db_session.expire_all()
    fresh = db_session.get(StaffUser, user.id)
    # A code is accepted once only; tests log the same user in repeatedly within one
    # 30-second step, so forget the last step here (replay is tested on its own).
    fresh.totp_last_step = None
    db_session.commit()
    r = client.post("/admin/login/totp", data={"code": code_for(fresh)})
    assert r.status_code == 303, r.text
    return r


@pytest.fixture
def staff_client(app):  # type: ignore[no-untyped-def]
    """A factory: staff_client(user) → a test client logged in as that user."""

    def make(user: StaffUser):  # type: ignore[no-untyped-def]
        c = app.test_client()
        login(c, user)
        return c

    return make


def make_paid_demo_payment(service, amount: int = 50000, **kw):  # type: ignore[no-untyped-def]
    """A paid payment whose demo-gateway ledger entry exists too (so it can be refunded)."""
    from app.models import DemoGatewayTransaction
    from tests.factories import make_payment

    ref = kw.pop("gateway_reference", None) or f"demo_{next(_seq)}_{pyotp.random_base32()[:8].lower()}"
    payment = make_payment(service, amount=amount, state="paid", gateway_reference=ref, **kw)
    db_session.add(DemoGatewayTransaction(
        reference=ref, external_id=payment.external_id, amount=amount, currency="CZK", description="test",
        return_url="http://localhost/", notify_url="http://localhost/", state="paid"))
    db_session.commit()
    return payment
