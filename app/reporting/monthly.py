"""The monthly report: for a Prague month, as of its last day.

What the work order asks for: the joined municipalities, those in negotiation, and the
payments of the month — here also newly joined municipalities, active services, payments
by municipality, service and channel compared with the previous month and the same month
a year before, and refunds as their own line; the channels are card gateways, Bitcoin and
bank transfers; each municipality's payments are split by its merchant (gateway)
account, the one each payment was created with (``Payment.gateway_account_id``).

The figures come from the payment summary (app.reporting.summary), which is kept exact
on every transition. Counting rules:
- a payment counts in the Prague month of its ``paid_at``, whatever happened later (a
  refund later is a refund line in the month of the refund, not a smaller payment);
- only settled payments count (paid, partially refunded, refunded); created, started,
  failed, cancelled and expired ones never have ``paid_at`` and are excluded too;
- a refund counts in the Prague month it succeeded, with its amount (the ``Refund`` record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.czech import sort_key
from app.db import read_session, utcnow
from app.i18n import N_
from app.models import GatewayAccount, Municipality, OnboardingState, Service
from app.models.reporting import NO_GATEWAY_ACCOUNT
from app.onboarding.pipeline import (
    NEGOTIATION_STATES,
    STATE_LABELS,
    PipelineSnapshot,
    first_active_dates,
    municipality_states_on,
    snapshot_on,
)
from app.regions import RegionLabel, region_label
from app.regions.scope import region_condition
from app.reporting.summary import Figures, summary_month
from app.timeutil import add_working_days, last_day, shift_month

DUE_WORKING_DAYS = 15
MONTH_NAMES = (
    "leden", "únor", "březen", "duben", "květen", "červen",
    "červenec", "srpen", "září", "říjen", "listopad", "prosinec",
)  # fmt: skip

# Payments whose gateway is a bank transfer (matched by variable symbol) or Bitcoin rather
# than a card gateway. Everything else is a card gateway.
TRANSFER_GATEWAYS = frozenset({"bank_transfer"})
BITCOIN_GATEWAYS = frozenset({"btcpay"})
CHANNEL_LABELS = {
    "demo": N_("Platební brána – demo"),
    "stripe": N_("Platební karta (Stripe)"),
    "gopay": N_("Platební karta (GoPay)"),
    "gpwebpay": N_("Platební karta (GP webpay)"),
    "btcpay": "Bitcoin (BTCPay)",  # a name: the same in every language
    "bank_transfer": N_("Bankovní převod"),
}


def channel_kind(gateway_name: str) -> str:
    """The channel a gateway belongs to: "card", "bitcoin" or "transfer"."""
    if gateway_name in TRANSFER_GATEWAYS:
        return "transfer"
    return "bitcoin" if gateway_name in BITCOIN_GATEWAYS else "card"


def channel_label(gateway_name: str) -> str:
    label = CHANNEL_LABELS.get(gateway_name)
    if label is None or gateway_name == "btcpay":
        return label or gateway_name
    return _(label)


CHANNEL_KINDS = ("card", "bitcoin", "transfer")
CHANNEL_KIND_LABELS = {
    "card": N_("Platební brána (karta)"),
    "bitcoin": N_("Bitcoin"),
    "transfer": N_("Bankovní převod"),
}
# The merchant account of payments made without one of the municipality's accounts.
NO_ACCOUNT_LABELS = {"card": N_("Společný účet portálu"), "transfer": N_("Účet obce (převody)")}


def account_line_label(gateway_name: str, label: str | None, active: bool = True) -> str:
    """A merchant account in the report: its label; a deactivated one says so; payments
    without an account name the portal's shared account (or the municipality's own bank
    account for transfers)."""
    if label is None:
        kind = channel_kind(gateway_name)
        return _(NO_ACCOUNT_LABELS["transfer" if kind == "transfer" else "card"])
    return label if active else _("%(label)s (neaktivní)", label=label)


class ReportPeriodError(ValueError):
    pass


def parse_period(text: str) -> tuple[int, int]:
    """'2026-01' → (2026, 1); a clear error for anything else."""
    parts = (text or "").strip().split("-")
    if len(parts) != 2 or not (parts[0].isdigit() and parts[1].isdigit() and text.isascii()) or len(parts[0]) != 4:
        raise ReportPeriodError(_("Období musí mít tvar RRRR-MM, ne %(p)s.", p=repr(text)))
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not 2000 <= year <= 2999:
        raise ReportPeriodError(_("Neplatné období %(p)s.", p=repr(text)))
    return year, month


def month_name(month: int, width: str = "wide") -> str:
    """The month's stand-alone name in the language of the page ("červen", "June"); the
    abbreviated forms differ for every month ("čvn", "čvc"). Czech outside a request."""
    from babel.dates import get_month_names
    from flask import has_request_context
    from flask_babel import get_locale

    locale = get_locale() if has_request_context() else None
    return get_month_names(width, context="stand-alone", locale=locale or "cs")[month]


def period_label(year: int, month: int) -> str:
    return f"{month_name(month)} {year}"


def due_date(year: int, month: int) -> date:
    """15 working days after the month's last day (Czech public holidays excluded)."""
    return add_working_days(last_day(year, month), DUE_WORKING_DAYS)


# -- figures ---------------------------------------------------------------------------
@dataclass
class Line:
    """One row of a breakdown: the month, the previous month, the same month a year before."""

    key: Any
    label: str
    detail: str = ""
    current: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)
    year_ago: Figures = field(default_factory=Figures)

    def figures(self, which: str) -> Figures:
        return getattr(self, which)


PERIODS = ("current", "previous", "year_ago")


@dataclass
class AccountBreakdown:
    """A municipality's payments split by merchant account: ``accounts`` add up to
    ``municipality`` (its line in ``by_municipality``)."""

    municipality: Line
    accounts: list[Line]  # key (gateway_account_id or 0, gateway_name); detail: the channel

    @property
    def total(self) -> Line:
        """The municipality's total as the last row of its accounts."""
        m = self.municipality
        return Line(m.key, _("Obec celkem"), "", m.current, m.previous, m.year_ago)


@dataclass
class MunicipalityRow:
    id: int
    name: str
    ico: str
    district: str
    state: str
    since: date | None  # in this state since
    joined_on: date | None  # first day active

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


@dataclass
class MonthlyReport:
    year: int
    month: int
    as_of: date
    due_date: date
    generated_at: datetime
    period_labels: dict[str, str]
    joined: list[MunicipalityRow]
    in_negotiation: list[MunicipalityRow]
    newly_joined: list[MunicipalityRow]
    snapshots: dict[str, PipelineSnapshot]
    newly_joined_counts: dict[str, int]
    total: Line
    refunds: Line
    by_municipality: list[Line]
    by_service: list[Line]
    by_channel: list[Line]
    by_channel_kind: list[Line]
    refunds_by_municipality: list[Line]
    by_account: list[AccountBreakdown] = field(default_factory=list)
    # Whose report: a region, or None for the whole country (every region).
    region: RegionLabel | None = None

    @property
    def region_name(self) -> str | None:
        return self.region.name if self.region else None

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return period_label(self.year, self.month)

    @property
    def active_services(self) -> int:
        return self.snapshots["current"].active_services


# -- the report ------------------------------------------------------------------------
def _accumulate(sums: dict[Any, list[int]], key: Any, count: int, volume: int) -> None:
    acc = sums.get(key)
    if acc is None:
        sums[key] = [count, volume]
    else:
        acc[0] += count
        acc[1] += volume


def build_monthly_report(
    year: int, month: int, *, session: Session | None = None, region_id: int | None = None
) -> MonthlyReport:
    """The month's report of one region (``region_id``) or of every region (None)."""
    session = session or read_session()
    months = {
        "current": (year, month),
        "previous": shift_month(year, month, -1),
        "year_ago": (year - 1, month),
    }
    as_of = last_day(year, month)

    # Municipalities as of the last day.
    names = {
        m.id: m
        for m in session.execute(select(Municipality.id, Municipality.name, Municipality.ico, Municipality.district)
                                 .where(region_condition(Municipality, region_id)))
    }
    joined_on = first_active_dates(as_of, session=session, region_id=region_id)

    def row(mid: int, state: str, since: date | None) -> MunicipalityRow:
        m = names[mid]
        return MunicipalityRow(mid, m.name, m.ico, m.district or "", state, since, joined_on.get(mid))

    states = [row(mid, state, since) for mid, state, since in session.execute(municipality_states_on(as_of, region_id))]
    by_name = lambda r: (sort_key(r.name), r.district)  # noqa: E731
    joined = sorted((r for r in states if r.state == OnboardingState.ACTIVE), key=by_name)
    negotiation = sorted((r for r in states if r.state in NEGOTIATION_STATES), key=by_name)
    first_day = date(year, month, 1)
    newly = sorted((row(mid, "", None) for mid, d in joined_on.items() if first_day <= d <= as_of), key=by_name)
    current_state = {r.id: r for r in states}
    for r in newly:
        r.state, r.since = current_state[r.id].state, current_state[r.id].since
    snapshots = {name: snapshot_on(last_day(*ym), session=session, region_id=region_id) for name, ym in months.items()}
    newly_counts = {
        name: sum(1 for d in joined_on.values() if (d.year, d.month) == ym) for name, ym in months.items()
    }

    # Payments and refunds of the three months.
    total = Line("total", "Platby celkem")
    refunds_total = Line("refunds", "Vrácené platby (refundace)")
    municipalities: dict[int, Line] = {}
    services: dict[int, Line] = {}
    channels: dict[str, Line] = {}
    kinds: dict[str, Line] = {}
    refunds_by_m: dict[int, Line] = {}
    accounts: dict[int, dict[tuple[int, str], Line]] = {}
    account_names = {
        a.id: a for a in session.execute(select(GatewayAccount.id, GatewayAccount.label, GatewayAccount.active))
    }
    service_names = {
        s.id: s
        for s in session.execute(
            select(Service.id, Service.name, Service.municipality_id).where(region_condition(Service, region_id))
        )
    }

    def m_line(mid: int) -> Line:
        if mid not in municipalities:
            m = names[mid]
            municipalities[mid] = Line(mid, m.name, m.district or "")
        return municipalities[mid]

    for r in joined:
        m_line(r.id)

    def account_line(mid: int, account_id: int, gw: str) -> Line:
        lines = accounts.setdefault(mid, {})
        if (account_id, gw) not in lines:
            account = account_names.get(account_id) if account_id != NO_GATEWAY_ACCOUNT else None
            label = account_line_label(gw, account.label if account else None, account.active if account else True)
            lines[(account_id, gw)] = Line((account_id, gw), label, channel_label(gw))
        return lines[(account_id, gw)]

    for which, (y, mth) in months.items():
        # A national month has hundreds of thousands of summary rows (municipality ×
        # service × channel × account): sum them per municipality, service, channel and
        # account first, then make each line (and translate its labels) once.
        paid_m: dict[int, list[int]] = {}
        paid_s: dict[int, list[int]] = {}
        paid_gw: dict[str, list[int]] = {}
        paid_acc: dict[tuple[int, int, str], list[int]] = {}
        refunds_m: dict[int, list[int]] = {}
        for (mid, sid, gw, account_id), (paid_count, paid_volume, refund_count, refund_volume) in summary_month(
            session, y, mth, region_id
        ).items():
            if refund_count:
                _accumulate(refunds_m, mid, refund_count, refund_volume)
            if paid_count:
                _accumulate(paid_m, mid, paid_count, paid_volume)
                _accumulate(paid_s, sid, paid_count, paid_volume)
                _accumulate(paid_gw, gw, paid_count, paid_volume)
                _accumulate(paid_acc, (mid, account_id, gw), paid_count, paid_volume)
        for mid, (count, volume) in refunds_m.items():
            refunds_total.figures(which).add(count, volume)
            if which == "current":
                refunds_by_m.setdefault(mid, Line(mid, names[mid].name, names[mid].district or "")).current.add(
                    count, volume
                )
        for mid, (count, volume) in paid_m.items():
            total.figures(which).add(count, volume)
            m_line(mid).figures(which).add(count, volume)
        for sid, (count, volume) in paid_s.items():
            if sid not in services:
                services[sid] = Line(sid, service_names[sid].name, names[service_names[sid].municipality_id].name)
            services[sid].figures(which).add(count, volume)
        for gw, (count, volume) in paid_gw.items():
            kind = channel_kind(gw)
            if gw not in channels:
                channels[gw] = Line(gw, channel_label(gw), _(CHANNEL_KIND_LABELS[kind]))
            channels[gw].figures(which).add(count, volume)
            if kind not in kinds:
                kinds[kind] = Line(kind, _(CHANNEL_KIND_LABELS[kind]))
            kinds[kind].figures(which).add(count, volume)
        for (mid, account_id, gw), (count, volume) in paid_acc.items():
            account_line(mid, account_id, gw).figures(which).add(count, volume)

    def ordered(lines: Iterable[Line]) -> list[Line]:
        return sorted(lines, key=lambda ln: (-ln.current.volume, -ln.current.count, ln.label, ln.detail))

    for kind in CHANNEL_KINDS:
        kinds.setdefault(kind, Line(kind, _(CHANNEL_KIND_LABELS[kind])))
    by_municipality = ordered(municipalities.values())
    return MonthlyReport(
        year=year,
        month=month,
        as_of=as_of,
        due_date=due_date(year, month),
        generated_at=utcnow(),
        period_labels={name: period_label(*ym) for name, ym in months.items()},
        joined=joined,
        in_negotiation=negotiation,
        newly_joined=newly,
        snapshots=snapshots,
        newly_joined_counts=newly_counts,
        total=total,
        refunds=refunds_total,
        by_municipality=by_municipality,
        by_service=ordered(services.values()),
        by_channel=ordered(channels.values()),
        by_channel_kind=[kinds[kind] for kind in CHANNEL_KINDS],
        refunds_by_municipality=ordered(refunds_by_m.values()),
        by_account=[
            AccountBreakdown(line, ordered(accounts[line.key].values()))
            for line in by_municipality
            if line.key in accounts
        ],
        region=region_label(session, region_id),
    )
