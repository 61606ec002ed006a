"""Bitcoin is its own channel in the reports, and each municipality's payments are split by
the merchant (gateway) account each payment was created with (PostgreSQL).

Payments of every channel — the installation-wide demo gateway, GoPay (an account replaced
by a new one during the month), GP webpay and BTCPay accounts of one municipality, bank
transfers — go through ``transition_payment`` with a test clock, so the summary is kept by
its listeners. The figures are checked against figures worked out by hand and against an
independent SQL count, and must add up to the municipality's and the month's totals in
the report and in its HTML, PDF, XLSX and CSV documents and on the operator's page.
"""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app.db import db_session
from app.ids import new_external_id
from app.models import GatewayAccount, Payment, PaymentState
from app.payments import refunds as payment_refunds
from app.payments import transitions as payment_service
from app.payments.status import apply_gateway_status
from app.payments.transitions import transition_payment
from app.reporting.monthly import build_monthly_report
from app.reporting.render import monthly_html, render_monthly, render_yearly
from app.reporting.summary import rebuild_payment_summary, summary_month, verify_month
from app.reporting.yearly import build_yearly_indicators
from gateway import GatewayStatus, StatusResult
from tests.admin.staff_helpers import login, make_staff
from tests.conftest import make_test_app
from tests.factories import make_municipality, make_payment, make_service
from tests.reporting.sqlcheck import PRAGUE_MONTH, SETTLED

pytestmark = pytest.mark.postgres
S = PaymentState
PERIODS = {"current": date(2026, 3, 1), "previous": date(2026, 2, 1), "year_ago": date(2025, 3, 1)}


@pytest.fixture(scope="module")
def pg_app(postgres_url):  # type: ignore[no-untyped-def]
    app = make_test_app(postgres_url)
    with app.app_context():
        yield app
        db_session.remove()
    app.extensions["db_engine"].dispose()


class Clock:
    now = datetime(2025, 1, 1, tzinfo=UTC)


def _account(m, gateway_name: str, label: str) -> GatewayAccount:  # type: ignore[no-untyped-def]
    # The reports need only the account's identity and label, not working credentials.
    account = GatewayAccount(public_id=new_external_id(), municipality_id=m.id, gateway_name=gateway_name,
                             label=label)  # fmt: skip
    db_session.add(account)
    db_session.commit()
    return account


@pytest.fixture(scope="module")
def data(pg_app):  # type: ignore[no-untyped-def]
    clock = Clock()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(payment_service, "utcnow", lambda: clock.now)
        mp.setattr(payment_refunds, "utcnow", lambda: clock.now)
        return _build(clock)


def _build(clock: Clock) -> dict:  # type: ignore[type-arg]
    a = make_municipality(name="Rynoltice", district="Liberec")
    b = make_municipality(name="Chotyně", district="Liberec")
    sa, sb = make_service(a, amount=10_000), make_service(b, amount=10_000)
    gopay_old = _account(a, "gopay", "GoPay – starý účet")
    gpwebpay = _account(a, "gpwebpay", "GP webpay – spořitelna")
    btcpay = _account(a, "btcpay", "BTCPay obce")

    def pay(service, gateway: str, amount: int, at: datetime, account=None, final=S.PAID):  # type: ignore[no-untyped-def]
        p = make_payment(service, amount=amount, gateway_name=gateway,
                         gateway_account_id=account.id if account else None, created_at=at - timedelta(minutes=5))  # fmt: skip
        if gateway != "bank_transfer":
            clock.now = at - timedelta(minutes=2)
            transition_payment(p, S.STARTED, reason="test")
        clock.now = at
        transition_payment(p, final, reason="test")
        db_session.commit()
        return p

    march, feb, year_ago = datetime(2026, 3, 10, 9, tzinfo=UTC), datetime(2026, 2, 20, 9, tzinfo=UTC), \
        datetime(2025, 3, 5, 9, tzinfo=UTC)  # fmt: skip
    # The first of March 00:30 in Prague is still 28 February in UTC: it counts in March.
    pay(sa, "gopay", 10_000, datetime(2026, 2, 28, 23, 30, tzinfo=UTC), gopay_old)
    refunded = pay(sa, "gopay", 20_000, march, gopay_old)
    pay(sa, "gopay", 5_000, feb, gopay_old)
    # The old GoPay account is replaced by a new one in March: its payments stay with it.
    gopay_old.active = False
    db_session.commit()
    gopay_new = _account(a, "gopay", "GoPay – nový účet")
    pay(sa, "gopay", 30_000, march + timedelta(days=1), gopay_new)
    pay(sa, "gopay", 99_999, march, gopay_new, final=S.FAILED)  # not a payment
    pay(sa, "gpwebpay", 45_050, march, gpwebpay)
    pay(sa, "gpwebpay", 8_000, year_ago, gpwebpay)
    pay(sa, "btcpay", 50_000, march, btcpay)
    pay(sa, "btcpay", 12_345, march + timedelta(days=2), btcpay)
    pay(sa, "btcpay", 6_000, feb, btcpay)
    pay(sa, "btcpay", 7_000, march, btcpay, final=S.EXPIRED)  # not a payment
    pay(sa, "bank_transfer", 7_700, march)
    pay(sb, "demo", 11_100, march)
    pay(sb, "demo", 1_000, feb)
    pay(sb, "bank_transfer", 22_200, march)
    pay(sb, "bank_transfer", 33_300, march + timedelta(days=3))
    pay(sb, "bank_transfer", 9_000, year_ago)
    # 50 Kč of a GoPay payment of the old account returned in March.
    clock.now = march + timedelta(days=4)
    status = StatusResult(reference="ref", status=GatewayStatus.PAID, amount=20_000, amount_refunded=5_000)
    apply_gateway_status(db_session.get(Payment, refunded.id), status, source="test")
    db_session.commit()
    return {
        "a": a,
        "b": b,
        "service_a": sa.id,
        "gopay_old": gopay_old,
        "gopay_new": gopay_new,
        "gpwebpay": gpwebpay,
        "btcpay": btcpay,
    }


def sql_by_account(month: date) -> dict[tuple[int, int, str], tuple[int, int]]:
    rows = db_session.execute(
        text(
            "SELECT municipality_id, coalesce(gateway_account_id, 0), gateway_name, count(*), sum(amount)"
            f" FROM payment WHERE {SETTLED} AND {PRAGUE_MONTH.format(col='paid_at')} = :m"
            " GROUP BY 1, 2, 3"
        ),
        {"m": datetime(month.year, month.month, 1)},
    ).all()
    return {(m, a, g): (int(c), int(v)) for m, a, g, c, v in rows}


def test_channels_count_bitcoin_on_its_own(data) -> None:  # type: ignore[no-untyped-def]
    r = build_monthly_report(2026, 3)
    kinds = {ln.key: ln for ln in r.by_channel_kind}
    assert list(kinds) == ["card", "bitcoin", "transfer"]
    hand = {
        # Card: GoPay 100 (1 March 00:30 Prague time is March's) + 200 + 300, GP webpay 450.50, demo 111.
        "current": {"card": (5, 116_150), "bitcoin": (2, 62_345), "transfer": (3, 63_200)},
        "previous": {"card": (2, 6_000), "bitcoin": (1, 6_000), "transfer": (0, 0)},
        "year_ago": {"card": (1, 8_000), "bitcoin": (0, 0), "transfer": (1, 9_000)},
    }
    for which, want in hand.items():
        got = {k: (ln.figures(which).count, ln.figures(which).volume) for k, ln in kinds.items()}
        assert got == want, which
        total = r.total.figures(which)
        assert (sum(c for c, _v in got.values()), sum(v for _c, v in got.values())) == (total.count, total.volume)
    channels = {ln.key: ln for ln in r.by_channel}
    assert channels["btcpay"].label == "Bitcoin (BTCPay)" and channels["btcpay"].detail == "Bitcoin"
    assert channels["gopay"].detail == "Platební brána (karta)"
    assert (channels["btcpay"].current.count, channels["btcpay"].current.volume) == (2, 62_345)


def test_each_municipality_is_split_by_merchant_account(data) -> None:  # type: ignore[no-untyped-def]
    r = build_monthly_report(2026, 3)
    a, b = data["a"].id, data["b"].id
    groups = {g.municipality.key: g for g in r.by_account}
    assert set(groups) == {a, b}
    lines = {g: {ln.key: ln for ln in groups[g].accounts} for g in groups}
    hand = {
        (a, (data["gopay_old"].id, "gopay")): ("GoPay – starý účet (neaktivní)", "Platební karta (GoPay)", (2, 30_000)),
        (a, (data["gopay_new"].id, "gopay")): ("GoPay – nový účet", "Platební karta (GoPay)", (1, 30_000)),
        (a, (data["gpwebpay"].id, "gpwebpay")): ("GP webpay – spořitelna", "Platební karta (GP webpay)", (1, 45_050)),
        (a, (data["btcpay"].id, "btcpay")): ("BTCPay obce", "Bitcoin (BTCPay)", (2, 62_345)),
        (a, (0, "bank_transfer")): ("Účet obce (převody)", "Bankovní převod", (1, 7_700)),
        (b, (0, "demo")): ("Společný účet portálu", "Platební brána – demo", (1, 11_100)),
        (b, (0, "bank_transfer")): ("Účet obce (převody)", "Bankovní převod", (2, 55_500)),
    }
    got = {
        (m, key): (ln.label, ln.detail, (ln.current.count, ln.current.volume))
        for m in lines for key, ln in lines[m].items() if ln.current.count
    }  # fmt: skip
    assert got == hand
    # Every period against an independent count; the accounts add up to the municipality
    # and the municipalities to the month.
    for which, month in PERIODS.items():
        truth = sql_by_account(month)
        seen = {
            (m, *key): (ln.figures(which).count, ln.figures(which).volume)
            for m in lines for key, ln in lines[m].items() if ln.figures(which).count
        }  # fmt: skip
        assert seen == truth, which
        for g in r.by_account:
            parts = [ln.figures(which) for ln in g.accounts]
            whole = g.municipality.figures(which)
            assert (sum(f.count for f in parts), sum(f.volume for f in parts)) == (whole.count, whole.volume)
            assert (g.total.current.count, g.total.label) == (g.municipality.current.count, "Obec celkem")
        assert sum(v for _c, v in truth.values()) == r.total.figures(which).volume
    assert (groups[a].municipality.current.count, groups[a].municipality.current.volume) == (7, 175_095)
    # The summary keeps refunds by account too, exactly as a recount.
    refunds = {k: v[2:] for k, v in summary_month(db_session(), 2026, 3).items() if v[2]}
    assert refunds == {(a, data["service_a"], "gopay", data["gopay_old"].id): (1, 5_000)}
    for y, m in ((2026, 3), (2026, 2), (2025, 3)):
        assert verify_month(y, m) == []


def test_the_summary_rebuilt_from_payments_keeps_the_accounts(data) -> None:  # type: ignore[no-untyped-def]
    kept = {ym: summary_month(db_session(), *ym) for ym in ((2026, 3), (2026, 2), (2025, 3))}
    assert {key[3] for key in kept[(2026, 3)]} == {
        0,
        data["gopay_old"].id,
        data["gopay_new"].id,
        data["gpwebpay"].id,
        data["btcpay"].id,
    }
    rebuild_payment_summary()
    assert {ym: summary_month(db_session(), *ym) for ym in kept} == kept


def test_documents_carry_the_split(data) -> None:  # type: ignore[no-untyped-def]
    r = build_monthly_report(2026, 3)
    wb = load_workbook(io.BytesIO(render_monthly(r, "xlsx").content))
    assert wb.sheetnames[:5] == ["Souhrn", "Kanály", "Obce", "Služby", "Účty bran"]
    rows = {(row[0], row[1]): row for row in wb["Účty bran"].iter_rows(min_row=2, values_only=True)}
    assert rows[("Rynoltice", "BTCPay obce")][2:5] == ("Bitcoin (BTCPay)", 2, 623.45)
    assert rows[("Rynoltice", "GoPay – starý účet (neaktivní)")][3:5] == (2, 300)
    assert rows[("Rynoltice", "Obec celkem")][3:5] == (7, 1750.95)
    assert rows[("Chotyně", "Obec celkem")][3:5] == (3, 666)
    assert rows[("Celkem", None)][3:5] == (10, 2416.95)
    kanaly = {row[0]: row[1:3] for row in wb["Kanály"].iter_rows(min_row=2, values_only=True)}
    assert kanaly["Bitcoin"] == (2, 623.45) and kanaly["Platební brána (karta)"] == (5, 1161.5)

    table = list(csv.reader(io.StringIO(render_monthly(r, "csv").content.decode("utf-8-sig")), delimiter=";"))
    accounts = {(row[1], row[2]): row[3:5] for row in table if row[0] == "účet brány"}
    assert accounts[("GP webpay – spořitelna", "Rynoltice; Platební karta (GP webpay)")] == ["1", "450,50"]
    assert accounts[("Účet obce (převody)", "Chotyně; Bankovní převod")] == ["2", "555,00"]
    assert next(row for row in table if row[0] == "kanál" and row[1] == "Bitcoin")[3:5] == ["2", "623,45"]

    html = monthly_html(r)
    assert 'id="ucty"' in html and "GoPay – nový účet" in html and "Společný účet portálu" in html
    pdf = render_monthly(r, "pdf").content
    words = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    words = words.decode()
    assert "Platby podle účtů bran" in words and "BTCPay obce" in words and "GoPay – starý účet" in words


def test_yearly_indicators_count_bitcoin(data) -> None:  # type: ignore[no-untyped-def]
    y = build_yearly_indicators(2026)
    march = y.months[2]
    assert (march.card.count, march.bitcoin.count, march.bitcoin.volume, march.transfer.count) == (5, 2, 62_345, 3)
    assert march.card.volume + march.bitcoin.volume + march.transfer.volume == march.total.volume
    assert y.has_bitcoin and not build_yearly_indicators(2024).has_bitcoin
    wb = load_workbook(io.BytesIO(render_yearly(y, "xlsx").content))
    head, *rows = list(wb["Transakce"].iter_rows(values_only=True))
    row = dict(zip(head, next(r for r in rows if r[0] == "Březen 2026"), strict=True))
    assert (row["z toho bitcoinem – počet"], row["bitcoinem – objem (Kč)"]) == (2, 623.45)
    assert row["z toho kartou (bránou) – počet"] == 5
    assert "z toho bitcoinem" in render_yearly(y, "html").content.decode()


def test_operator_page_shows_the_accounts(pg_app, data) -> None:  # type: ignore[no-untyped-def]
    client = pg_app.test_client()
    login(client, make_staff("operator", None))
    page = client.get("/admin/operator/zpravy/mesicni?obdobi=2026-03")
    assert page.status_code == 200
    body = page.text
    start = body.index('id="ucty"')
    section = body[start : body.index('id="refundace"')]
    assert "Rynoltice" in section and "GP webpay – spořitelna" in section and "BTCPay obce" in section
    assert section.index("Rynoltice") < section.index("BTCPay obce") < section.index("Obec celkem")
    download = client.get("/admin/operator/zpravy/mesicni/2026-03.xlsx")
    assert "Účty bran" in load_workbook(io.BytesIO(download.data)).sheetnames
