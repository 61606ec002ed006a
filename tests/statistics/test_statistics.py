"""The public statistics (PostgreSQL): the page and its CSV and JSON agree with the monthly
reports of app.reporting, nationally and per region; no personal data in any of them;
unknown regions 404; conditional GETs 304; the figures are cached.

Payments are paid through ``transition_payment`` with a test clock, so the summary the
statistics read is kept by the reporting listeners, as in production."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.db import db_session
from app.models import Municipality, OnboardingState, PaymentState, ServiceStateChange
from app.money import format_czk
from app.onboarding.pipeline import active_services_on, change_onboarding_state, set_service_active
from app.payments import transitions as payment_service
from app.payments.transitions import transition_payment
from app.reporting.monthly import build_monthly_report
from app.statistics.channels import payment_channel
from app.statistics.figures import month_starts
from app.statistics.opendata import COLUMNS
from app.timeutil import last_day
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_region, make_service

pytestmark = pytest.mark.postgres
S = PaymentState
O = OnboardingState  # noqa: E741
YEARS = (2024, 2025, 2026)
SECRET_NAMES = ("Zdeňka Tajemná", "zdenka.tajemna@example.cz", "Bohumil Skrytý", "bohumil@example.cz")
SECRET_VS = "987654321"


@pytest.fixture(scope="module")
def pg_app(postgres_url):  # type: ignore[no-untyped-def]
    app = make_test_app(postgres_url, STATISTICS_CACHE_SECONDS=0)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


class Clock:
    now = datetime(2025, 1, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _pipeline(region_id: int, *steps: tuple[str, date]) -> Municipality:
    m = make_municipality(onboarding_state=O.NOT_CONTACTED, region_id=region_id)
    for state, day in steps:
        change_onboarding_state(m, state, day, note="test")
    db_session.commit()
    return m


def _service(m: Municipality, since: date = date(2024, 1, 1), **kw):  # type: ignore[no-untyped-def]
    s = make_service(m, variable_symbol=SECRET_VS, **kw)
    for rec in db_session.scalars(select(ServiceStateChange).where(ServiceStateChange.service_id == s.id)):
        rec.effective_date = since
    db_session.commit()
    return s


@pytest.fixture(scope="module")
def dataset(pg_app):  # type: ignore[no-untyped-def]
    clock = Clock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(payment_service, "utcnow", lambda: clock.now)
        liberec, south = make_region("liberecky-kraj"), make_region("jihocesky-kraj")
        a = _pipeline(liberec.id, (O.CONTACTED, date(2024, 5, 1)), (O.ACTIVE, date(2024, 6, 1)))
        b = _pipeline(liberec.id, (O.INTERESTED, date(2025, 2, 1)), (O.ACTIVE, date(2025, 3, 15)))
        c = _pipeline(south.id, (O.ACTIVE, date(2025, 1, 10)), (O.SUSPENDED, date(2025, 11, 20)))
        d = _pipeline(south.id, (O.CONTRACT_SIGNED, date(2025, 6, 1)), (O.ACTIVE, date(2026, 2, 1)))
        _pipeline(south.id, (O.INTERESTED, date(2025, 4, 1)))  # never joins
        services = {
            "a": _service(a),
            "a2": _service(a),
            "b": _service(b, since=date(2025, 3, 20)),
            "c": _service(c),
            "d": _service(d, since=date(2026, 2, 1)),
        }
        set_service_active(services["a2"], False, date(2025, 9, 10), note="konec sezóny")
        db_session.commit()
        plan = [
            ("a", utc(2025, 1, 31, 23, 30), 10_000, "stripe"),  # 1 Feb in Prague → February
            ("a", utc(2025, 2, 3, 9), 25_050, "bank_transfer"),
            ("a2", utc(2025, 2, 3, 10), 99_999, "btcpay"),
            ("b", utc(2025, 4, 1, 8), 5_000, "gopay"),
            ("b", utc(2025, 4, 2, 8), 7_000, "demo"),
            ("c", utc(2025, 4, 3, 8), 123_456, "bank_transfer"),
            ("c", utc(2025, 4, 3, 9), 11_111, "btcpay"),
            ("c", utc(2025, 6, 30, 22, 30), 4_200, "gpwebpay"),  # 1 Jul in Prague → July
            ("a", utc(2025, 12, 31, 23, 10), 50_000, "stripe"),  # 1 Jan 2026 in Prague
            ("d", utc(2026, 3, 5, 12), 66_600, "bank_transfer"),
            ("d", utc(2026, 3, 6, 12), 1, "btcpay"),
            ("b", utc(2026, 5, 6, 12), 30_000, "stripe"),
        ]
        payments = []
        for i, (key, at, amount, gateway) in enumerate(plan):
            p = make_payment(
                services[key],
                amount=amount,
                gateway_name=gateway,
                payer_name=SECRET_NAMES[2 * (i % 2)],
                payer_email=SECRET_NAMES[2 * (i % 2) + 1],
                variable_symbol=SECRET_VS,
                created_at=at - timedelta(minutes=3),
            )
            clock.now = at - timedelta(minutes=2)
            transition_payment(p, S.STARTED, reason="test")
            clock.now = at
            transition_payment(p, S.PAID, reason="test")
            db_session.commit()
            payments.append(p)
        # A failed payment is no payment.
        p = make_payment(services["a"], amount=777, gateway_name="stripe", created_at=utc(2025, 2, 5))
        clock.now = utc(2025, 2, 5, 1)
        transition_payment(p, S.STARTED, reason="test")
        transition_payment(p, S.FAILED, reason="test")
        db_session.commit()
    return {"regions": (liberec, south), "payments": payments}


def _region_of() -> dict[int, str]:
    rows = db_session.execute(select(Municipality.id, Municipality.region_id)).all()
    slugs = {r.id: r.slug for r in _all_regions()}
    return {mid: slugs[rid] for mid, rid in rows}


def _all_regions():  # type: ignore[no-untyped-def]
    from app.models import Region

    return db_session.scalars(select(Region)).all()


def _expected(year: int, month: int) -> dict:  # type: ignore[type-arg]
    """What the monthly report says of the month, per region ("*" the country)."""
    r = build_monthly_report(year, month)
    region_of = _region_of()
    out: dict = defaultdict(
        lambda: {
            "joined": 0,
            "services": 0,
            "count": 0,
            "volume": 0,  # type: ignore[type-arg]
            "card": (0, 0),
            "transfer": (0, 0),
            "bitcoin": (0, 0),
        }
    )
    out["*"]["joined"], out["*"]["services"] = len(r.joined), r.active_services
    out["*"]["count"], out["*"]["volume"] = r.total.current.count, r.total.current.volume
    for line in r.by_channel:
        c = payment_channel(line.key)
        n, v = out["*"][c]
        out["*"][c] = (n + line.current.count, v + line.current.volume)
    for line in r.by_municipality:
        e = out[region_of[line.key]]
        e["count"] += line.current.count
        e["volume"] += line.current.volume
    for row in r.joined:
        out[region_of[row.id]]["joined"] += 1
    sub = active_services_on(last_day(year, month)).subquery()
    for mid, n in db_session.execute(select(sub.c.municipality_id, func.count()).group_by(sub.c.municipality_id)):
        out[region_of[mid]]["services"] += n
    return out


def _csv(client, url: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "text/csv" and r.content_type == "text/csv; charset=utf-8"
    assert r.data.decode("utf-8").split("\r\n")[0] == ",".join(COLUMNS)
    return list(csv.DictReader(io.StringIO(r.data.decode("utf-8"))))


def _kc(text: str) -> int:
    whole, _, cents = text.partition(".")
    assert len(cents) == 2
    return int(whole) * 100 + int(cents)


def test_statistics_agree_with_the_monthly_reports(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    national = _csv(client, "/statistiky/data.csv")
    doc = client.get("/statistiky/data.json").get_json()
    per_region = {r.slug: _csv(client, f"/kraj/{r.slug}/statistiky/data.csv") for r in dataset["regions"]}
    assert doc["roky"] == list(YEARS)
    json_rows = {(r["mesic"], r["kraj_kod"]): r for r in doc["zaznamy"]}
    assert len(json_rows) == len(national) == sum(len(rows) for rows in per_region.values())
    nuts = {r.slug: r.nuts_code for r in dataset["regions"]}
    checked = 0
    for year in YEARS:
        for start in month_starts(year):
            expected = _expected(year, start.month)
            key = f"{year:04d}-{start.month:02d}"
            rows = [r for r in national if r["mesic"] == key]
            assert len(rows) == 2
            # The country: the sum of the regions' rows.
            got = {
                "joined": sum(int(r["pripojene_obce"]) for r in rows),
                "services": sum(int(r["aktivni_sluzby"]) for r in rows),
                "count": sum(int(r["platby_celkem_pocet"]) for r in rows),
                "volume": sum(_kc(r["platby_celkem_objem_kc"]) for r in rows),
            }
            for channel, col in (("card", "karta"), ("transfer", "prevod"), ("bitcoin", "bitcoin")):
                got[channel] = (
                    sum(int(r[f"platby_{col}_pocet"]) for r in rows),
                    sum(_kc(r[f"platby_{col}_objem_kc"]) for r in rows),
                )
            assert got == expected["*"], key
            # Each region, in the national file, its own file and the JSON.
            for slug, region_rows in per_region.items():
                own = next(r for r in region_rows if r["mesic"] == key)
                assert own == next(r for r in rows if r["kraj_kod"] == nuts[slug])
                assert json_rows[(key, nuts[slug])]["platby_celkem_pocet"] == int(own["platby_celkem_pocet"])
                assert round(json_rows[(key, nuts[slug])]["platby_celkem_objem_kc"] * 100) == _kc(
                    own["platby_celkem_objem_kc"]
                )
                e = expected[slug]
                assert (
                    int(own["pripojene_obce"]),
                    int(own["aktivni_sluzby"]),
                    int(own["platby_celkem_pocet"]),
                    _kc(own["platby_celkem_objem_kc"]),
                ) == (e["joined"], e["services"], e["count"], e["volume"]), (key, slug)
            checked += 1
    assert checked >= 24
    # The data is not all zeros: the test can fail.
    assert sum(int(r["platby_bitcoin_pocet"]) for r in national) == 3
    assert sum(_kc(r["platby_prevod_objem_kc"]) for r in national) == 25_050 + 123_456 + 66_600


def test_the_page_shows_the_same_figures(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    page = client.get("/statistiky?rok=2025")
    assert page.status_code == 200
    total = sum(p.amount for p in dataset["payments"][:8])  # the eight paid in 2025 (Prague time)
    report_total = sum(build_monthly_report(2025, m).total.current.volume for m in range(1, 13))
    assert total == report_total
    with pg_app.test_request_context():
        assert format_czk(report_total) in page.text
    for link in (
        "/statistiky/data.csv",
        "/statistiky/data.json",
        "creativecommons.org/licenses/by/4.0/",
        "/kraj/jihocesky-kraj/statistiky?rok=2025",
    ):
        assert link in page.text
    south = client.get("/kraj/jihocesky-kraj/statistiky?rok=2025")
    assert south.status_code == 200 and "Jihočeský kraj" in south.text
    south_volume = 123_456 + 11_111 + 4_200
    with pg_app.test_request_context():
        assert format_czk(south_volume) in south.text and format_czk(report_total) not in south.text
    english = client.get("/statistiky?rok=2025&lang=en")
    assert "Open data" in english.text and "Bank transfer" in english.text


def test_no_personal_data_in_the_output(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    secrets = [*SECRET_NAMES, SECRET_VS, *(p.external_id for p in dataset["payments"])]
    secrets += [m.name for m in db_session.scalars(select(Municipality))] + [
        m.ico for m in db_session.scalars(select(Municipality))
    ]
    for base in ("/statistiky", "/kraj/liberecky-kraj/statistiky", "/kraj/jihocesky-kraj/statistiky"):
        for suffix in ("", "/data.csv", "/data.json", "?rok=2025", "/data.csv?rok=2025"):
            body = client.get(base + suffix).data.decode("utf-8")
            for secret in secrets:
                assert secret not in body, (base + suffix, secret)
    doc = client.get("/statistiky/data.json").get_json()
    assert all(set(r) == set(COLUMNS) for r in doc["zaznamy"])
    assert doc["licence"] == {"nazev": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}


def test_unknown_region_and_bad_year(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    for suffix in ("", "/data.csv", "/data.json"):
        assert client.get(f"/kraj/neznamy-kraj/statistiky{suffix}").status_code == 404
        assert client.get(f"/kraj/{'x' * 300}/statistiky{suffix}").status_code == 404
    bad = client.get("/statistiky?rok=dva")
    assert bad.status_code == 400 and "čtyřmístné" in bad.text
    missing = client.get("/statistiky/data.csv?rok=2019")
    assert missing.status_code == 404
    assert client.get("/statistiky/data.csv?rok=2025").status_code == 200


def test_conditional_get_answers_304(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    for url in ("/statistiky?rok=2025", "/kraj/liberecky-kraj/statistiky/data.csv", "/statistiky/data.json"):
        first = client.get(url)
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == "public, max-age=0"
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
        since = client.get(url, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        other = client.get(url, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.data
    # Another language is another page; the data files are the same in any language.
    page = client.get("/statistiky?rok=2025")
    english = client.get("/statistiky?rok=2025&lang=en", headers={"If-None-Match": page.headers["ETag"]})
    assert english.status_code == 200 and english.headers["ETag"] != page.headers["ETag"]
    data = client.get("/statistiky/data.json")
    assert client.get("/statistiky/data.json", headers={"If-None-Match": data.headers["ETag"]}).status_code == 304
    assert data.headers["Link"] == '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    client.get("/statistiky?lang=cs")


def test_payment_channels() -> None:
    assert payment_channel("bank_transfer") == "transfer"
    assert payment_channel("btcpay") == "bitcoin"
    for card in ("stripe", "gopay", "gpwebpay", "demo"):
        assert payment_channel(card) == "card"


def test_a_logged_in_citizen_gets_a_private_page(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    from app.identity.session import CITIZEN_KEY
    from app.models import Citizen

    citizen = Citizen(provider="bankid", subject="stats-1", name="Jana Nováková")
    db_session.add(citizen)
    db_session.commit()
    client = pg_app.test_client()
    with client.session_transaction() as sess:
        sess[CITIZEN_KEY] = citizen.id
    r = client.get("/statistiky", headers={"If-None-Match": "*"})
    assert r.status_code == 200 and "ETag" not in r.headers
    assert "private" in r.headers["Cache-Control"] and "public" not in r.headers["Cache-Control"]


def test_the_csv_is_described_in_csv_on_the_web(pg_app, dataset) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    for base in ("/statistiky", "/kraj/jihocesky-kraj/statistiky"):
        data = client.get(f"{base}/data.csv")
        assert f'<{base}/data.csv-metadata.json>; rel="describedby"' in data.headers.get_all("Link")[1]
        meta = client.get(f"{base}/data.csv-metadata.json")
        assert meta.status_code == 200 and meta.mimetype == "application/csvm+json"
        doc = json.loads(meta.data)
        assert doc["url"].endswith(f"{base}/data.csv")
        assert [c["name"] for c in doc["tableSchema"]["columns"]] == data.text.split("\r\n")[0].split(",")
        assert doc["dc:license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
        assert f"{base}/data.csv-metadata.json" in client.get(base).text
    assert client.get("/kraj/neznamy/statistiky/data.csv-metadata.json").status_code == 404
