"""Demo data: the real municipalities of the Liberec Region and their typical fees."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from sqlalchemy import select

from app.db import db_session
from app.models import AmountMode, Municipality, OnboardingState, Service, VariableSymbolRule
from app.services.consent import ensure_consent_texts
from app.services.registry import _mod11_ok, czech_account_to_iban, slugify

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "liberec_municipalities.csv"

# (slug, name, description, mode, amount or (min, max), vs prefix)
TYPICAL_FEES = [
    ("odpad", "Poplatek za komunální odpad", "Místní poplatek za obecní systém odpadového hospodářství na osobu a rok.",
     AmountMode.FIXED, 80000, "1337"),
    ("psi", "Poplatek ze psů", "Roční poplatek za jednoho psa.", AmountMode.FIXED, 30000, "1341"),
    ("pobyt", "Poplatek z pobytu", "Poplatek z pobytu za osobu a den; zadejte celkovou částku.",
     AmountMode.PAYER, (2100, 5000000), "1345"),
    ("prostranstvi", "Užívání veřejného prostranství", "Poplatek za zábor veřejného prostranství podle vyhlášky obce.",
     AmountMode.PAYER, (1000, 10000000), "1343"),
]


def load_municipality_rows() -> list[dict[str, str]]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def demo_account(rng: random.Random) -> str:
    banks = ["0100", "0800", "0300", "2010", "0710"]
    while True:
        number = str(rng.randrange(10**8, 10**10))
        if _mod11_ok(number):
            return f"{number}/{rng.choice(banks)}"


def unique_slug(row: dict[str, str], taken: set[str]) -> str:
    slug = slugify(row["name"])
    if slug in taken:
        slug = f"{slug}-{slugify(row['district'])}"
    taken.add(slug)
    return slug


def seed_demo(active_count: int = 81, seed: int = 2025) -> dict[str, int]:
    """Insert all 215 municipalities; the largest ``active_count`` are joined, with fees,
    and the next ones are in the onboarding pipeline. Idempotent (matched by IČO)."""
    rng = random.Random(seed)
    rows = sorted(load_municipality_rows(), key=lambda r: -int(r["population_2017"] or 0))
    existing = {m.ico: m for m in db_session.scalars(select(Municipality))}
    taken = {m.slug for m in existing.values()}
    pipeline = [OnboardingState.IN_PREPARATION] * 17 + [OnboardingState.INTERESTED] * 5 + [OnboardingState.CONTACTED] * 10
    counts = {"municipalities": 0, "services": 0}
    for i, row in enumerate(rows):
        if row["ico"] in existing:
            continue
        if i < active_count:
            state = OnboardingState.ACTIVE
        elif i - active_count < len(pipeline):
            state = pipeline[i - active_count]
        else:
            state = OnboardingState.NOT_CONTACTED
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
        )
        db_session.add(m)
        counts["municipalities"] += 1
        if state == OnboardingState.ACTIVE:
            fees = TYPICAL_FEES[:2] + rng.sample(TYPICAL_FEES[2:], k=rng.randint(0, 2))
            for slug, name, desc, mode, amount, vs in fees:
                svc = Service(
                    municipality=m, slug=slug, name=name, description=desc, amount_mode=mode,
                    vs_rule=VariableSymbolRule.PER_PAYMENT, variable_symbol=vs, allowed_gateways=["demo", "stripe"],
                )
                if mode == AmountMode.FIXED:
                    svc.amount = amount + rng.choice([0, 0, 5000, 10000, -10000]) if slug == "odpad" else amount
                else:
                    svc.amount_min, svc.amount_max = amount
                db_session.add(svc)
                counts["services"] += 1
    db_session.commit()
    ensure_consent_texts()
    return counts
