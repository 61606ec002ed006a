"""The statistics' figures go through Flask-Caching: within STATISTICS_CACHE_SECONDS the
cached figures answer (a change shows after the timeout), and with REDIS_URL the cache
is Redis, shared by every process."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.db import db_session
from app.extensions import cache
from app.models import OnboardingState, PaymentState, ServiceStateChange
from app.onboarding.pipeline import change_onboarding_state
from app.reporting.summary import count_paid
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_region, make_service

pytestmark = pytest.mark.postgres
S = PaymentState
O = OnboardingState  # noqa: E741


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _service(since: date):  # type: ignore[no-untyped-def]
    s = make_service(make_municipality(onboarding_state=O.NOT_CONTACTED))
    for rec in db_session.scalars(select(ServiceStateChange).where(ServiceStateChange.service_id == s.id)):
        rec.effective_date = since
    change_onboarding_state(s.municipality, O.ACTIVE, since)
    db_session.commit()
    return s


def test_figures_are_cached_and_a_change_shows_after_the_timeout(postgres_url) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(postgres_url, STATISTICS_CACHE_SECONDS=60)
    with app.app_context():
        try:
            s = _service(date(2025, 1, 1))
            client = app.test_client()
            first = client.get("/statistiky/data.csv?rok=2025")
            assert first.headers["Cache-Control"] == "public, max-age=60"
            p = make_payment(s, amount=4_321, gateway_name="stripe", state=S.PAID, paid_at=utc(2025, 5, 5, 10))
            count_paid(p, db_session())
            db_session.commit()
            # Within the timeout the cached figures answer (the same version: still 304).
            cached = client.get("/statistiky/data.csv?rok=2025", headers={"If-None-Match": first.headers["ETag"]})
            assert cached.status_code == 304
            cache.clear()  # the timeout passes
            fresh = client.get("/statistiky/data.csv?rok=2025", headers={"If-None-Match": first.headers["ETag"]})
            assert fresh.status_code == 200 and "2025-05" in fresh.text
            may = next(r for r in csv.DictReader(io.StringIO(fresh.text)) if r["mesic"] == "2025-05")
            assert may["platby_karta_objem_kc"] == "43.21"
        finally:
            db_session.remove()
            app.extensions["db_engine"].dispose()


@pytest.mark.redis
def test_the_cache_is_redis_when_configured(postgres_url, redis_url) -> None:  # type: ignore[no-untyped-def]
    from redis import Redis

    app = make_test_app(postgres_url, REDIS_URL=redis_url, STATISTICS_CACHE_SECONDS=60)
    with app.app_context():
        try:
            make_region()
            r = Redis.from_url(redis_url)
            for key in r.scan_iter("portal-cache:statistics:*"):
                r.delete(key)
            assert app.test_client().get("/statistiky/data.json").status_code == 200
            assert list(r.scan_iter("portal-cache:statistics:*"))
            assert type(cache.cache).__name__ == "RedisCache"
        finally:
            db_session.remove()
            app.extensions["db_engine"].dispose()


def test_the_page_is_kept_per_language_and_year(postgres_url) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(postgres_url, STATISTICS_CACHE_SECONDS=60)
    with app.app_context():
        try:
            _service(date(2025, 1, 1))
            client = app.test_client()
            czech = client.get("/statistiky?rok=2025")
            english = client.get("/statistiky?rok=2025&lang=en")
            assert 'lang="cs"' in czech.text and 'lang="en"' in english.text
            # Served from the cache: the same bytes (chart ids included), the language link intact.
            assert client.get("/statistiky?rok=2025").data == english.data
            assert "?rok=2025&amp;lang=cs" in english.text
            client.get("/statistiky?lang=cs")
            assert client.get("/statistiky?rok=2025").data == czech.data
            # Another query is rendered afresh (its language link keeps it).
            other = client.get("/statistiky?rok=2025&x=1")
            assert other.status_code == 200 and "x=1" in other.text
        finally:
            db_session.remove()
            app.extensions["db_engine"].dispose()
