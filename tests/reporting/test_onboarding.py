"""The onboarding pipeline: dated changes with notes, history, the state on any day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.db import db_session
from app.models import Municipality, MunicipalityStateChange, OnboardingState, ServiceStateChange
from app.onboarding.pipeline import (
    OnboardingError,
    change_onboarding_state,
    count_active_services_on,
    count_by_state_on,
    history,
    set_service_active,
    state_on,
    states_on,
)
from app.timeutil import prague_today
from tests.factories import make_municipality, make_service

S = OnboardingState


def _walk(m: Municipality, *steps: tuple[str, date]) -> None:
    for state, day in steps:
        change_onboarding_state(m, state, day, note=f"→ {state}")
    db_session.commit()


def test_changes_keep_history_and_answer_the_state_on_any_day(any_db_app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(onboarding_state=S.NOT_CONTACTED)
    _walk(
        m,
        (S.CONTACTED, date(2025, 1, 10)),
        (S.INTERESTED, date(2025, 2, 1)),
        (S.IN_PREPARATION, date(2025, 3, 1)),
        (S.CONTRACT_SIGNED, date(2025, 3, 20)),
        (S.ACTIVE, date(2025, 4, 1)),
        (S.SUSPENDED, date(2025, 9, 1)),
        (S.ACTIVE, date(2025, 9, 1)),  # same day: the later record wins
    )
    db_session.refresh(m)
    assert m.onboarding_state == S.ACTIVE
    rows = history(m)
    # A new municipality that is not contacted needs no record of its own.
    assert [(r.from_state, r.to_state) for r in rows] == [
        ("not_contacted", "contacted"), ("contacted", "interested"), ("interested", "in_preparation"),
        ("in_preparation", "contract_signed"), ("contract_signed", "active"), ("active", "suspended"),
        ("suspended", "active"),
    ]
    assert rows[-1].note == "→ active"
    assert state_on(m, date(2025, 1, 9)) == S.NOT_CONTACTED
    assert state_on(m, date(2025, 1, 10)) == S.CONTACTED
    assert state_on(m, date(2025, 3, 31)) == S.CONTRACT_SIGNED
    assert state_on(m, date(2025, 4, 1)) == S.ACTIVE
    assert state_on(m, date(2025, 9, 1)) == S.ACTIVE
    assert states_on(date(2025, 3, 5)) == {m.id: "in_preparation"}


def test_set_based_states_agree_with_state_on(any_db_app) -> None:  # type: ignore[no-untyped-def]
    a = make_municipality(onboarding_state=S.NOT_CONTACTED)
    b = make_municipality(onboarding_state=S.NOT_CONTACTED)
    c = make_municipality(onboarding_state=S.NOT_CONTACTED)
    _walk(a, (S.CONTACTED, date(2025, 1, 1)), (S.ACTIVE, date(2025, 5, 1)), (S.LEFT, date(2025, 11, 30)))
    _walk(b, (S.INTERESTED, date(2025, 6, 30)), (S.IN_PREPARATION, date(2025, 7, 1)))
    for day in (date(2024, 12, 31), date(2025, 4, 30), date(2025, 5, 1), date(2025, 6, 30), date(2025, 7, 1),
                date(2025, 11, 29), date(2025, 11, 30)):
        expected = {m.id: state_on(m, day) for m in (a, b, c) if state_on(m, day) != S.NOT_CONTACTED}
        assert states_on(day) == expected, day
    counts = count_by_state_on(date(2025, 6, 30))
    assert counts["active"] == 1 and counts["interested"] == 1 and counts["not_contacted"] == 1
    assert sum(counts.values()) == 3


@pytest.mark.parametrize(
    ("to", "day", "code"),
    [
        ("active", prague_today() + timedelta(days=1), "date"),  # future
        ("active", date(2024, 12, 31), "date"),  # before the last record
        ("contacted", date(2025, 3, 1), "state"),  # no change
        ("joined", date(2025, 3, 1), "state"),  # unknown
    ],
)
def test_bad_changes_are_refused_and_write_nothing(any_db_app, to: str, day: date, code: str) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(onboarding_state=S.NOT_CONTACTED)
    _walk(m, (S.CONTACTED, date(2025, 1, 1)))
    before = len(history(m))
    with pytest.raises(OnboardingError) as err:
        change_onboarding_state(m, to, day, note="x")
    assert err.value.code == code and err.value.message
    db_session.rollback()
    assert len(history(m)) == before
    assert db_session.get(Municipality, m.id).onboarding_state == S.CONTACTED


def test_too_long_note_is_refused(any_db_app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(onboarding_state=S.NOT_CONTACTED)
    with pytest.raises(OnboardingError) as err:
        change_onboarding_state(m, S.CONTACTED, date(2025, 1, 1), note="x" * 2001)
    assert err.value.code == "note"


def test_direct_changes_still_leave_a_record(any_db_app) -> None:  # type: ignore[no-untyped-def]
    """Code that sets the state without the pipeline (another admin screen) cannot make
    the current state and the history disagree."""
    m = make_municipality(onboarding_state=S.INTERESTED)
    first = db_session.scalars(select(MunicipalityStateChange).where(MunicipalityStateChange.municipality_id == m.id)).all()
    assert [(r.from_state, r.to_state, r.effective_date) for r in first] == [(None, "interested", prague_today())]
    m.onboarding_state = S.IN_PREPARATION
    db_session.commit()
    assert state_on(m, prague_today()) == S.IN_PREPARATION
    assert [r.to_state for r in history(m)] == ["interested", "in_preparation"]
    m.name = "Jiné jméno"  # no state change: no record
    db_session.commit()
    assert len(history(m)) == 2

    s = make_service(m)
    s.active = False
    db_session.commit()
    records = db_session.scalars(select(ServiceStateChange).where(ServiceStateChange.service_id == s.id)).all()
    assert [r.active for r in records] == [True, False]


def test_active_services_count_services_of_joined_municipalities(any_db_app) -> None:  # type: ignore[no-untyped-def]
    m = make_municipality(onboarding_state=S.NOT_CONTACTED)
    other = make_municipality(onboarding_state=S.NOT_CONTACTED)
    _walk(m, (S.ACTIVE, date(2025, 2, 1)))
    s1, s2 = make_service(m), make_service(m)
    make_service(other)  # its municipality never joined
    # Backdate the services' history: on since 1 Feb, s2 off from 15 June.
    for rec in db_session.scalars(select(ServiceStateChange)):
        rec.effective_date = date(2025, 2, 1)
    db_session.commit()
    set_service_active(s2, False, date(2025, 6, 15), note="sezóna skončila")
    db_session.commit()
    assert count_active_services_on(date(2025, 1, 31)) == 0
    assert count_active_services_on(date(2025, 2, 1)) == 2
    assert count_active_services_on(date(2025, 6, 14)) == 2
    assert count_active_services_on(date(2025, 6, 15)) == 1
    assert s1.active and not s2.active
    with pytest.raises(OnboardingError):
        set_service_active(s1, False, prague_today() + timedelta(days=2))
