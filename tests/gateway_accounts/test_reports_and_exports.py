"""Reports and exports name the gateway and the municipality's merchant account; the
monthly report splits by gateway (GoPay, Bitcoin…)."""

from __future__ import annotations

from app.db import SessionFactory, utcnow
from app.payments.exports import EXPORT_HEADER, csv_lines, iter_export_rows
from app.payments.search import PaymentFilter
from app.reporting.monthly import build_monthly_report
from app.timeutil import to_prague
from tests.gateway_accounts.conftest import BTCPAY_SECRET, add_account, btcpay_settings, reload, start_as_citizen


def test_gateway_and_account_in_the_export_and_the_monthly_split(live, town, gopay_fake, btcpay_fake) -> None:  # type: ignore[no-untyped-def]
    m, service = town
    add_account(m, "gopay", gopay_fake.settings(), label="GoPay – účet obce")
    btc = add_account(m, "btcpay", btcpay_settings(btcpay_fake), label="BTCPay obce")
    btcpay_fake.add_webhook(f"{live.extensions['live_base']}/webhooks/btcpay/{btc.public_id}", BTCPAY_SECRET)
    card = start_as_citizen(live.test_client(), service, "gopay")
    gopay_fake.pay(card.gateway_reference)
    gopay_fake.wait_notifications(1)
    bitcoin = start_as_citizen(live.test_client(), service, "btcpay")
    btcpay_fake.pay(bitcoin.gateway_reference, confirmed=True)
    btcpay_fake.flush()
    assert reload(card.id).state == reload(bitcoin.id).state == "paid"

    with SessionFactory() as s:
        lines = list(csv_lines(iter_export_rows(PaymentFilter(), m.id, s)))
    assert EXPORT_HEADER[14:16] == ["Účet brány", "Účet příjemce"]
    body = "".join(lines)
    assert ";GoPay;" in body and "GoPay – účet obce" in body and ";Bitcoin (BTCPay);" in body and "BTCPay obce" in body

    now = to_prague(utcnow())
    report = build_monthly_report(now.year, now.month)
    labels = {line.label for line in report.by_channel}
    assert {"Platební karta (GoPay)", "Bitcoin (BTCPay)"} <= labels
    # Bitcoin is its own channel, and the municipality sees what each of its accounts collected.
    assert next(ln for ln in report.by_channel if ln.key == "btcpay").detail == "Bitcoin"
    group = next(g for g in report.by_account if g.municipality.key == m.id)
    accounts = {ln.label: (ln.current.count, ln.current.volume) for ln in group.accounts}
    assert accounts == {"GoPay – účet obce": (1, 50000), "BTCPay obce": (1, 50000)}
    assert (group.municipality.current.count, group.municipality.current.volume) == (2, 100000)
