"""API test helpers: a municipality with a key."""

from __future__ import annotations

from dataclasses import dataclass

from app.api.keys import create_api_key
from app.db import db_session
from app.models import Municipality, Service
from tests.factories import make_municipality, make_service


@dataclass
class Tenant:
    municipality: Municipality
    service: Service
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def make_tenant(scopes: tuple[str, ...] = ("read", "write", "refunds"), **service_kw: object) -> Tenant:
    m = make_municipality()
    s = make_service(m, **service_kw)
    _, secret = create_api_key(m.id, "agenda", list(scopes))
    db_session.commit()
    return Tenant(m, s, secret)
