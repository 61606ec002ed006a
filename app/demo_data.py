"""Demo data: the real municipalities of the Liberec Region and their typical fees, and a
second region with a few clearly fictional municipalities."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from app.citizens.consent import ensure_consent_texts
from app.db import db_session
from app.identifiers import czech_account_to_iban, is_valid_czech_account, slugify
from app.ids import new_external_id
from app.models import (
    AmountMatch,
    AmountMode,
    DemoGatewayTransaction,
    LookupMode,
    Municipality,
    MunicipalityStateChange,
    Obligation,
    OnboardingState,
    Payment,
    PaymentEvent,
    PaymentState,
    Service,
    ServiceStateChange,
    VariableSymbolRule,
)
from app.onboarding.pipeline import active_services_on
from app.regions import get_or_create_region
from app.timeutil import month_bounds_utc

DATA_FILE = Path(__file__).resolve().parent / "data" / "liberec_municipalities.csv"

# (slug, name, description, mode, amount or (min, max), vs prefix)
TYPICAL_FEES = [
    (
        "odpad",
        "Poplatek za komunální odpad",
        "Místní poplatek za obecní systém odpadového hospodářství na osobu a rok.",
        AmountMode.FIXED,
        80000,
        "1337",
    ),
    ("psi", "Poplatek ze psů", "Roční poplatek za jednoho psa.", AmountMode.FIXED, 30000, "1341"),
    (
        "pobyt",
        "Poplatek z pobytu",
        "Poplatek z pobytu za osobu a den; zadejte celkovou částku.",
        AmountMode.PAYER,
        (2100, 5000000),
        "1345",
    ),
    (
        "prostranstvi",
        "Užívání veřejného prostranství",
        "Poplatek za zábor veřejného prostranství podle vyhlášky obce.",
        AmountMode.PAYER,
        (1000, 10000000),
        "1343",
    ),
]


def load_municipality_rows() -> list[dict[str, str]]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def demo_account(rng: random.Random) -> str:
    banks = ["0100", "0800", "0300", "2010", "0710"]
    while True:
        number = str(rng.randrange(10**8, 10**10))
        if is_valid_czech_account(f"{number}/0800"):  # the number's mod 11; every bank above exists
            return f"{number}/{rng.choice(banks)}"


def unique_slug(row: dict[str, str], taken: set[str]) -> str:
    slug = slugify(row["name"])
    if slug in taken:
        slug = f"{slug}-{slugify(row['district'])}"
    taken.add(slug)
    return slug


# -- the region's history, as the 2025 annual report tells it --------------------------
# "Stav k": municipalities joined, active services, and the pipeline on the report's dates.
ANNUAL_REPORT_STATES = {
    date(2024, 12, 31): {"joined": 28},
    date(2025, 6, 30): {"joined": 57, "services": 155, "in_preparation": 15, "interested": 21},
    date(2025, 12, 31): {"joined": 81, "services": 217, "in_preparation": 17, "interested": 5},
}

# Gateway payments per month of 2025: (count, volume in haléře). Every figure is the
# annual report's, except two things the printed table cannot all satisfy at once:
# - May reads 103 525 Kč, but the half-year total 805 992 Kč (and the year's 1 107 859 Kč)
#   only add up with 103 252 Kč: a transposition of digits, so May is 103 252 Kč here;
# - the second half-year's months add up to 301 868 Kč against a printed 301 867 Kč: the
#   report rounds to whole crowns, so July to November carry 0,20 Kč less each (each
#   still rounds to its printed figure) and the half-year and the year match exactly.
PAYMENTS_2025: dict[int, tuple[int, int]] = {
    1: (162, 18_347_600),
    2: (155, 17_974_300),
    3: (174, 19_982_000),
    4: (98, 8_857_700),
    5: (70, 10_325_200),
    6: (42, 5_112_400),
    7: (49, 5_388_780),
    8: (41, 4_347_480),
    9: (61, 6_121_380),
    10: (48, 5_604_080),
    11: (32, 3_090_380),
    12: (40, 5_634_600),
}
ANNUAL_REPORT_TOTALS_2025 = {"h1": (701, 80_599_200), "h2": (271, 30_186_700), "year": (972, 110_785_900)}
SEED_REFERENCE_PREFIX = "seed-"


@dataclass
class _Plan:
    """One municipality's pipeline: [(day, state)] in order, and its services' start days."""

    steps: list[tuple[date, OnboardingState]] = field(default_factory=list)
    extras: list[date] = field(default_factory=list)  # start days of payer-amount services

    @property
    def joined(self) -> date | None:
        return next((d for d, s in self.steps if s == OnboardingState.ACTIVE), None)


def _spread(rng: random.Random, start: date, end: date, n: int) -> list[date]:
    """n days spread evenly over [start, end], a little jittered, in order."""
    span = (end - start).days
    days = [start + timedelta(days=round(span * (i + 0.5) / n) + rng.randint(-3, 3)) for i in range(n)]
    return sorted(min(max(d, start), end) for d in days)


def _before(day: date, rng: random.Random, lo: int, hi: int) -> date:
    return day - timedelta(days=rng.randint(lo, hi))


def plan_history(n_rows: int, active_count: int, rng: random.Random) -> list[_Plan]:
    """The pipeline of each municipality (in order of population, largest first) so that
    the counts on the annual report's dates come out as ANNUAL_REPORT_STATES says."""
    S = OnboardingState
    jun30 = date(2025, 6, 30)
    plans = [_Plan() for _ in range(n_rows)]
    joiners = list(range(min(active_count, n_rows)))
    # The largest towns were the first; the rest joined in no particular order.
    rest = joiners[2:]
    rng.shuffle(rest)
    joiners = joiners[:2] + rest
    n_a = round(active_count * 28 / 81)
    n_b = round(active_count * 57 / 81) - n_a
    group_a, group_b, group_c = joiners[:n_a], joiners[n_a : n_a + n_b], joiners[n_a + n_b :]

    def join(i: int, active: date, prep: date | None = None, interested: date | None = None) -> None:
        prep = prep or _before(active, rng, 25, 50)
        interested = interested or _before(prep, rng, 20, 45)
        contacted = _before(interested, rng, 14, 40)
        signed = _before(active, rng, 4, 10)
        plans[i].steps = [
            (contacted, S.CONTACTED),
            (interested, S.INTERESTED),
            (prep, S.IN_PREPARATION),
            (signed, S.CONTRACT_SIGNED),
            (active, S.ACTIVE),
        ]

    for i, d in zip(group_a, _spread(rng, date(2024, 7, 1), date(2024, 12, 20), len(group_a)), strict=True):
        join(i, d)
    for i, d in zip(group_b, _spread(rng, date(2025, 1, 13), date(2025, 6, 25), len(group_b)), strict=True):
        join(i, d)
    # Those joining in the second half were, on 30 June, in preparation (the first 15)
    # or interested (the others).
    c_days = _spread(rng, date(2025, 7, 21), date(2025, 12, 12), len(group_c))
    for k, (i, d) in enumerate(zip(group_c, c_days, strict=True)):
        if k < 15:
            join(i, d, prep=_before(jun30, rng, 3, 40))
        else:
            join(
                i,
                d,
                prep=date(2025, 7, 1) + timedelta(days=rng.randint(0, max((d - date(2025, 7, 1)).days - 12, 0))),
                interested=_before(jun30, rng, 3, 60),
            )

    pipeline = list(range(len(joiners), n_rows))
    # Interested on 30 June, in preparation at the year's end.
    for i in pipeline[:12]:
        interested = _before(jun30, rng, 5, 90)
        plans[i].steps = [
            (_before(interested, rng, 14, 40), S.CONTACTED),
            (interested, S.INTERESTED),
            (date(2025, 9, 1) + timedelta(days=rng.randint(0, 100)), S.IN_PREPARATION),
        ]
    # Contacted in the second half; in preparation at the year's end.
    for i in pipeline[12:17]:
        contacted = date(2025, 7, 1) + timedelta(days=rng.randint(0, 60))
        interested = contacted + timedelta(days=rng.randint(14, 40))
        plans[i].steps = [
            (contacted, S.CONTACTED),
            (interested, S.INTERESTED),
            (interested + timedelta(days=rng.randint(14, 40)), S.IN_PREPARATION),
        ]
    # Contacted in the second half; interested at the year's end.
    for i in pipeline[17:22]:
        contacted = date(2025, 8, 1) + timedelta(days=rng.randint(0, 60))
        plans[i].steps = [(contacted, S.CONTACTED), (contacted + timedelta(days=rng.randint(14, 50)), S.INTERESTED)]
    # Contacted during 2025, no interest (yet).
    for i in pipeline[22:42]:
        plans[i].steps = [(date(2025, 2, 1) + timedelta(days=rng.randint(0, 300)), S.CONTACTED)]

    _plan_services(plans, group_a + group_b, group_c, rng)
    return plans


def _plan_services(plans: list[_Plan], first_year: list[int], second_half: list[int], rng: random.Random) -> None:
    """Every joined municipality has its two fixed fees from the day it joined; payer-amount
    fees (up to two) come so that the active services add up to the annual report's."""
    jun30 = date(2025, 6, 30)
    n_first, n_all = len(first_year), len(first_year) + len(second_half)
    extras_jun = round(n_first * 155 / 57) - 2 * n_first
    extras_dec = round(n_all * 217 / 81) - 2 * n_all - extras_jun
    slots = [i for i in first_year for _ in range(2)]
    rng.shuffle(slots)
    for i in slots[:extras_jun]:
        joined = plans[i].joined
        assert joined is not None
        latest = min(jun30, joined + timedelta(days=120))
        plans[i].extras.append(joined + timedelta(days=rng.randint(0, max((latest - joined).days, 0))))
    late = max(extras_dec - min(10, extras_dec), 0)
    for i in slots[extras_jun : extras_jun + late]:  # added in the second half by earlier members
        plans[i].extras.append(date(2025, 9, 1) + timedelta(days=rng.randint(0, 80)))
    c_slots = [i for i in second_half for _ in range(2)]
    rng.shuffle(c_slots)
    for i in c_slots[: extras_dec - late]:
        joined = plans[i].joined
        assert joined is not None
        plans[i].extras.append(joined)


def seed_demo(active_count: int = 81, seed: int = 2025) -> dict[str, int]:
    """Insert all 215 municipalities with their onboarding history and services as the
    2025 annual report describes them (28 joined at the end of 2024, 57 by 30 June 2025,
    81 by the end of 2025; 155 and 217 active services; the pipeline on those days): the
    largest ``active_count`` joined. Idempotent (municipalities matched by IČO)."""
    rng = random.Random(seed)
    rows = sorted(load_municipality_rows(), key=lambda r: -int(r["population_2017"] or 0))
    plans = plan_history(len(rows), active_count, rng)
    existing = {m.ico: m for m in db_session.scalars(select(Municipality))}
    taken = {m.slug for m in existing.values()}
    listed = date(2024, 1, 1)  # the region's list loaded into the portal
    counts = {"municipalities": 0, "services": 0}
    region = get_or_create_region(db_session(), "liberecky-kraj")
    for row, plan in zip(rows, plans, strict=True):
        if row["ico"] in existing:
            continue
        state = plan.steps[-1][1] if plan.steps else OnboardingState.NOT_CONTACTED
        m = Municipality(
            name=row["name"],
            slug=unique_slug(row, taken),
            ico=row["ico"],
            district=row["district"],
            status=row["status"],
            population=int(row["population_2017"] or 0) or None,
            iban=czech_account_to_iban(demo_account(rng)),
            onboarding_state=state,
            demo_mode=True,
            region_id=region.id,
        )
        db_session.add(m)
        previous: str | None = None
        for day, to in [(listed, OnboardingState.NOT_CONTACTED), *plan.steps]:
            db_session.add(
                MunicipalityStateChange(
                    municipality=m, from_state=previous, to_state=to, effective_date=day, note="ukázková data"
                )
            )
            previous = to
        counts["municipalities"] += 1
        joined = plan.joined
        if joined is None:
            continue
        payer_fees = rng.sample(TYPICAL_FEES[2:], k=len(plan.extras))
        fees = [(fee, joined) for fee in TYPICAL_FEES[:2]] + list(zip(payer_fees, sorted(plan.extras), strict=True))
        for (slug, name, desc, mode, amount, vs), since in fees:
            svc = Service(
                municipality=m,
                slug=slug,
                name=name,
                description=desc,
                amount_mode=mode,
                vs_rule=VariableSymbolRule.PER_PAYMENT,
                variable_symbol=vs,
                allowed_gateways=["demo", "stripe"],
            )
            if mode == AmountMode.FIXED:
                svc.amount = amount + rng.choice([0, 0, 5000, 10000, -10000]) if slug == "odpad" else amount
            else:
                svc.amount_min, svc.amount_max = amount
            db_session.add(svc)
            db_session.add(ServiceStateChange(service=svc, active=True, effective_date=since, note="ukázková data"))
            counts["services"] += 1
    db_session.commit()
    ensure_consent_texts()
    return counts


# -- a year of payments ---------------------------------------------------------------
def _as(moment: datetime, like: datetime) -> datetime:
    """``moment`` (UTC) aware or naive like ``like``: the time module's bounds decide."""
    if like.tzinfo is None:
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def figures_so_far(year: int, now: datetime) -> dict[int, tuple[int, int]]:
    """A later year's months up to ``now``, like 2025's a fifth busier (the current month
    in proportion to its days gone)."""
    out: dict[int, tuple[int, int]] = {}
    for month, (count, volume) in PAYMENTS_2025.items():
        start, end = month_bounds_utc(year, month)
        now = _as(now, start)
        if start >= now:
            break
        share = min(1.0, (now - start).total_seconds() / (end - start).total_seconds())
        n = round(count * 1.2 * share)
        if n >= 4:
            out[month] = (n, round(volume * 1.2 * share / 100) * 100)
    return out


def seed_demo_payments(year: int = 2025, seed: int = 972, *, now: datetime | None = None) -> int:
    """Insert the year's gateway payments as settled rows with their events, spread over
    the municipalities and services active each month, plus some failed, cancelled and
    expired attempts that the reports must not count: 2025 as the annual report has it
    (PAYMENTS_2025), a later year (the current one) up to ``now`` (figures_so_far).
    Each paid one has its demo-gateway transaction, so clerks can refund it. Requires
    seed_demo(). Idempotent: a year already seeded is left alone."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if year == 2025:
        figures = PAYMENTS_2025
    elif 2025 < year <= now.year:
        figures = figures_so_far(year, now - timedelta(minutes=10))
    else:
        raise ValueError("only 2025 and later years up to now")
    prefix = f"{SEED_REFERENCE_PREFIX}{year}-"
    already = db_session.scalar(
        select(func.count()).select_from(Payment).where(Payment.gateway_reference.like(f"{prefix}%"))
    )
    if already:
        return 0
    rng = random.Random(seed)
    services = {s.id: s for s in db_session.scalars(select(Service))}
    liberec = get_or_create_region(db_session(), "liberecky-kraj")
    payments: list[dict[str, Any]] = []
    for month, (count, volume) in figures.items():
        start, end = month_bounds_utc(year, month)
        end = min(end, _as(now, end) - timedelta(minutes=10))
        # The Liberec Region's figures (the second region's fictional municipalities have none).
        active = [services[sid] for sid, _mid in db_session.execute(
            active_services_on(date(year, month, 1), liberec.id))]
        if not active:
            raise RuntimeError(f"no active services on 1 {month}/{year}: run seed_demo() first")
        for service, amount in _month_amounts(rng, count, volume, active, q1=month <= 3):
            payments.append(_payment_row(rng, service, amount, start, end, PaymentState.PAID))
        for _ in range(max(1, count // 12)):  # attempts that never became payments
            state = rng.choice([PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.EXPIRED])
            service = rng.choice(active)
            amount = service.amount or rng.randrange(50, 2000) * 100
            payments.append(_payment_row(rng, service, amount, start, end, state))
    for n, row in enumerate(payments, start=1):
        row["gateway_reference"] = f"{prefix}{n:06d}"
        row["variable_symbol"] = (row["variable_symbol"] + f"{n:06d}")[-10:]
    ids = db_session.scalars(insert(Payment).returning(Payment.id, sort_by_parameter_order=True), payments).all()
    row_events: list[dict[str, Any]] = []
    for pid, row in zip(ids, payments, strict=True):
        for to, at in row.pop("_events"):
            prev = row_events[-1]["to_state"] if row_events and row_events[-1]["payment_id"] == pid else None
            row_events.append(
                {
                    "payment_id": pid,
                    "kind": "transition",
                    "from_state": prev,
                    "to_state": to,
                    "reason": "ukázková data",
                    "data": {},
                    "created_at": at,
                }
            )
    db_session.execute(insert(PaymentEvent), row_events)
    # The demo gateway's side of each paid payment: a refund asks it, as for a real one.
    ledger = [
        {
            "reference": row["gateway_reference"],
            "external_id": row["external_id"],
            "amount": row["amount"],
            "amount_refunded": 0,
            "currency": "CZK",
            "description": "ukázková data",
            "return_url": "",
            "notify_url": "",
            "state": "paid",
        }
        for row in payments
        if row["state"] == PaymentState.PAID
    ]
    db_session.execute(insert(DemoGatewayTransaction), ledger)
    db_session.commit()
    # Bulk rows skip the transition listeners: recount the reports' summary.
    from app.reporting.summary import rebuild_payment_summary

    rebuild_payment_summary()
    return sum(1 for r in payments if r["state"] == PaymentState.PAID)


def _month_amounts(
    rng: random.Random, count: int, volume: int, services: list[Service], *, q1: bool
) -> list[tuple[Service, int]]:
    """``count`` payments adding up to exactly ``volume`` haléře: fixed fees at their price,
    payer-amount fees (stay, public space) taking the rest in whole crowns, the last one
    also the odd haléře."""
    fixed = [s for s in services if s.amount_mode == AmountMode.FIXED and s.amount]
    payer = [s for s in services if s.amount_mode == AmountMode.PAYER]
    # Waste fees fall due in the first quarter.
    weights = [3 if (q1 and s.slug == "odpad") else 1 for s in fixed]
    n_payer = max(1, count // 4)
    for _attempt in range(1000):
        chosen = rng.choices(fixed, weights=weights, k=count - n_payer)
        rest = volume - sum(s.amount or 0 for s in chosen)
        targets = [rng.choice(payer) for _ in range(n_payer)]
        low = sum(max(s.amount_min or 100, 10000) for s in targets)
        if rest < low:
            n_payer = min(n_payer + 1, count)
            continue
        shares = [rng.randint(40, 160) for _ in targets]
        amounts = [rest * w // sum(shares) // 100 * 100 for w in shares[:-1]]
        amounts.append(rest - sum(amounts))
        if all(
            max(s.amount_min or 100, 10000) <= a <= (s.amount_max or a) for s, a in zip(targets, amounts, strict=True)
        ):
            pairs = [(s, s.amount or 0) for s in chosen] + list(zip(targets, amounts, strict=True))
            rng.shuffle(pairs)
            return pairs
    raise RuntimeError("cannot split the month's volume")


def _payment_row(
    rng: random.Random, service: Service, amount: int, start: datetime, end: datetime, state: PaymentState
) -> dict[str, Any]:
    span = int((end - start).total_seconds())
    paid = start + timedelta(seconds=rng.randrange(300, span))
    created = paid - timedelta(seconds=rng.randrange(60, 290))
    started = created + timedelta(seconds=20)
    first, last = person_name(rng)
    events: list[tuple[str, datetime]] = [(PaymentState.CREATED, created), (PaymentState.STARTED, started)]
    final_at = paid if state != PaymentState.EXPIRED else created + timedelta(minutes=90)
    events.append((state, min(final_at, end - timedelta(seconds=1))))
    return {
        "external_id": new_external_id(),
        "municipality_id": service.municipality_id,
        "service_id": service.id,
        "amount": amount,
        "amount_refunded": 0,
        "currency": "CZK",
        "payer_name": f"{first} {last}",
        "payer_email": f"{slugify(first)}.{slugify(last)}@example.cz",
        "variable_symbol": service.variable_symbol or "",
        "state": state,
        "gateway_name": "demo",
        "created_at": created,
        "updated_at": events[-1][1],
        "paid_at": paid if state == PaymentState.PAID else None,
        "_events": events,
    }


# First names by gender and surnames in their male and female forms, so that a demo payer
# is "Tomáš Novák" or "Jana Nováková", never "Tomáš Nováková".
FEMALE_FIRST_NAMES = ["Jana", "Marie", "Eva", "Hana", "Lenka", "Lucie", "Kateřina", "Tereza"]
MALE_FIRST_NAMES = ["Petr", "Jan", "Josef", "Pavel", "Tomáš", "Martin", "Jiří", "Lukáš"]
SURNAMES = [
    ("Novák", "Nováková"),
    ("Svoboda", "Svobodová"),
    ("Dvořák", "Dvořáková"),
    ("Černý", "Černá"),
    ("Procházka", "Procházková"),
    ("Kučera", "Kučerová"),
    ("Veselý", "Veselá"),
    ("Horák", "Horáková"),
    ("Němec", "Němcová"),
    ("Marek", "Marková"),
]


def person_name(rng: random.Random, surname: tuple[str, str] | None = None) -> tuple[str, str]:
    """(first name, surname) of one gender."""
    male, female = surname or rng.choice(SURNAMES)
    if rng.random() < 0.5:
        return rng.choice(FEMALE_FIRST_NAMES), female
    return rng.choice(MALE_FIRST_NAMES), male


# -- payer lists (lookup by customer ID, several fees in one payment) -------------------
DEMO_LOOKUP_MUNICIPALITIES = 3  # the largest joined ones
DEMO_HOUSEHOLDS = 40


def seed_demo_payer_lists(seed: int = 1001, today: date | None = None) -> int:
    """Payer lists for the waste and dog fees of the largest joined municipalities, so the
    demo shows the lookup and paying a household's fees at once: per municipality
    ``DEMO_HOUSEHOLDS`` households of one to four people (customer IDs 1001, 1002, …, one
    household code each), a dog for every third household (PES-1001, …); half have an
    e-mail for reminders (7 days before and 14 after the due date). In the largest
    municipality, customer ID 1001 is Jana Nováková's household: her, Petr and Tomáš
    Novák, and her dog. Idempotent (a service with a list is left alone)."""
    today = today or date.today()
    rng = random.Random(seed)
    towns = db_session.scalars(
        select(Municipality)
        .where(Municipality.onboarding_state == OnboardingState.ACTIVE)
        .order_by(Municipality.population.desc().nulls_last(), Municipality.id)
        .limit(DEMO_LOOKUP_MUNICIPALITIES)
    ).all()
    added = 0
    for town in towns:
        services = {s.slug: s for s in town.services}
        waste, dog = services.get("odpad"), services.get("psi")
        if waste is None or dog is None:
            continue
        if db_session.scalar(select(func.count()).select_from(Obligation).where(Obligation.service_id == waste.id)):
            continue
        town.reminder_days_before, town.reminder_days_after = 7, 14
        for s in (waste, dog):
            s.lookup_mode, s.amount_match = LookupMode.OPTIONAL, AmountMatch.EXACT
        number = 1001
        for h in range(1, DEMO_HOUSEHOLDS + 1):
            household = f"D-{h:04d}"
            surname = ("Novák", "Nováková") if h == 1 else rng.choice(SURNAMES)
            if h == 1:
                people = [("Jana", "Nováková"), ("Petr", "Novák"), ("Tomáš", "Novák")]
            else:
                people = [person_name(rng, surname) for _ in range(rng.choice([1, 2, 2, 3, 3, 4]))]
            # Due at the end of March or September of this year: some already overdue.
            due = date(today.year, 3, 31) if rng.random() < 0.5 else date(today.year, 9, 30)
            email = f"{slugify(people[0][0])}.{slugify(people[0][1])}.{h}@example.cz" if h % 2 else None
            first_id = str(number)
            for first, last in people:
                db_session.add(
                    Obligation(
                        municipality_id=town.id,
                        service_id=waste.id,
                        customer_id=str(number),
                        payer_name=f"{first} {last}",
                        amount=waste.amount or 80000,
                        due_date=due,
                        variable_symbol=f"{waste.variable_symbol}{number:06d}"[-10:],
                        period=str(today.year),
                        household=household,
                        payer_email=email,
                    )
                )
                number += 1
                added += 1
            if h == 1 or h % 3 == 0:
                db_session.add(
                    Obligation(
                        municipality_id=town.id,
                        service_id=dog.id,
                        customer_id=f"PES-{first_id}",
                        payer_name=f"{people[0][0]} {people[0][1]}",
                        amount=dog.amount or 30000,
                        due_date=due,
                        variable_symbol=f"{dog.variable_symbol}{int(first_id):06d}"[-10:],
                        period=str(today.year),
                        household=household,
                        payer_email=email,
                    )
                )
                added += 1
    db_session.commit()
    return added


# -- a second region (fictional municipalities) -----------------------------------------
SECOND_REGION = "kralovehradecky-kraj"
# Clearly fictional municipalities of a fictional district in a real region, for the demo
# and the tests of a deployment with several regions. Their IČOs pass the mod-11 check
# and are taken from the 999xxxxx range; they name no real municipality we know of (we
# could not look them up in ARES here) — never use them outside the demo.
FICTIONAL_MUNICIPALITIES = [
    # (name, slug, IČO)
    ("Vzorová Lhota (fiktivní obec)", "vzorova-lhota-fiktivni", "99900017"),
    ("Ukázkov (fiktivní obec)", "ukazkov-fiktivni", "99900025"),
    ("Pokusná Ves (fiktivní obec)", "pokusna-ves-fiktivni", "99900033"),
]
FICTIONAL_DISTRICT = "Fiktivní okres"
SECOND_REGION_JOINED = date(2026, 1, 5)


def seed_demo_second_region(*, joined: date = SECOND_REGION_JOINED) -> dict[str, int]:
    """A second region for the demo and the tests: Královéhradecký kraj (a real region)
    with three fictional municipalities, active since ``joined``, each with the waste and
    dog fees. Idempotent (municipalities matched by IČO)."""
    from app.regions import czech_regions

    region = get_or_create_region(db_session(), SECOND_REGION)
    if not region.operator_name:
        region.operator_name = "Demo provozovatel Královéhradeckého kraje (fiktivní)"
        region.footer_text = "Ukázková data: obce tohoto kraje jsou smyšlené."
        region.primary_color = "#7a2e0e"  # 8.9 : 1 with white text
    assert SECOND_REGION in czech_regions()
    existing = set(db_session.scalars(select(Municipality.ico)))
    counts = {"municipalities": 0, "services": 0}
    for n, (name, slug, ico) in enumerate(FICTIONAL_MUNICIPALITIES):
        if ico in existing:
            continue
        m = Municipality(
            name=name, slug=slug, ico=ico, district=FICTIONAL_DISTRICT, population=300 + 150 * n,
            iban=czech_account_to_iban(demo_account(random.Random(ico))), onboarding_state=OnboardingState.ACTIVE,
            demo_mode=True, region_id=region.id,
        )
        db_session.add(m)
        for day, prev, to in ((joined - timedelta(days=90), None, OnboardingState.INTERESTED),
                              (joined, OnboardingState.INTERESTED, OnboardingState.ACTIVE)):
            db_session.add(MunicipalityStateChange(municipality=m, from_state=prev, to_state=to, effective_date=day,
                                                   note="ukázková data (fiktivní obec)"))
        counts["municipalities"] += 1
        for fee_slug, fee_name, desc, mode, amount, vs in TYPICAL_FEES[:2]:
            svc = Service(municipality=m, slug=fee_slug, name=fee_name, description=desc, amount_mode=mode,
                          amount=amount, vs_rule=VariableSymbolRule.PER_PAYMENT, variable_symbol=vs,
                          allowed_gateways=["demo", "stripe"])
            db_session.add(svc)
            db_session.add(ServiceStateChange(service=svc, active=True, effective_date=joined,
                                              note="ukázková data (fiktivní obec)"))
            counts["services"] += 1
    db_session.commit()
    return counts
