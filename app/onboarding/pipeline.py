"""The onboarding pipeline: a municipality moves from "not contacted" to "active" (and
maybe on to "suspended" or "left"), each step dated and noted by operator staff.

``change_onboarding_state`` is the way to move a municipality; the history it appends
answers "what state was it in on that day" for one municipality (``state_on``) and for
all of them at once (``municipality_states_on``, one query).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.db import db_session
from app.i18n import N_
from app.models import (
    Municipality,
    MunicipalityStateChange,
    OnboardingState,
    Service,
    ServiceStateChange,
)
from app.regions.scope import in_region, region_condition
from app.timeutil import czech_date, prague_today

S = OnboardingState

# "In negotiation" in the work order: interested, preparing, or signed but not yet live.
NEGOTIATION_STATES: tuple[OnboardingState, ...] = (S.INTERESTED, S.IN_PREPARATION, S.CONTRACT_SIGNED)
PIPELINE_ORDER: tuple[OnboardingState, ...] = tuple(S)
MAX_NOTE = 2000

STATE_LABELS: dict[str, str] = {
    S.NOT_CONTACTED: N_("neosloveno"),
    S.CONTACTED: N_("osloveno"),
    S.INTERESTED: N_("se zájmem"),
    S.IN_PREPARATION: N_("v přípravě (před podpisem smlouvy)"),
    S.CONTRACT_SIGNED: N_("smlouva podepsána"),
    S.ACTIVE: N_("připojeno (aktivní)"),
    S.SUSPENDED: N_("pozastaveno"),
    S.LEFT: N_("odstoupilo"),
}


class OnboardingError(ValueError):
    """A change the pipeline refuses; ``code`` names the reason for the form."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _staff_id(actor: Any) -> int | None:
    if actor is None or isinstance(actor, int):
        return actor
    return getattr(actor, "id", None)


def change_onboarding_state(
    municipality: Municipality,
    to_state: OnboardingState | str,
    effective_date: date,
    note: str = "",
    actor: Any = None,
    *,
    session: Session | None = None,
) -> MunicipalityStateChange:
    """Move a municipality to ``to_state`` as of ``effective_date`` and append it to the
    history. Locks the municipality so two operators cannot interleave; does not commit.

    The history stays linear: a change may not be dated in the future nor before the
    last recorded one (a correction is a new change)."""
    session = session or db_session()
    try:
        to = OnboardingState(to_state)
    except ValueError:
        raise OnboardingError("state", _("Neznámý stav: %(s)s.", s=repr(to_state))) from None
    if not isinstance(effective_date, date):
        raise OnboardingError("date", _("Datum účinnosti chybí."))
    if effective_date > prague_today():
        raise OnboardingError("date", _("Datum účinnosti nesmí být v budoucnosti."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise OnboardingError("note", _("Poznámka je delší než %(n)s znaků.", n=MAX_NOTE))

    locked = session.execute(
        select(Municipality)
        .where(Municipality.id == municipality.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    current = OnboardingState(locked.onboarding_state or S.NOT_CONTACTED)
    if to == current:
        raise OnboardingError("state", _("Obec už v tomto stavu je."))
    last = session.scalar(
        select(func.max(MunicipalityStateChange.effective_date)).where(
            MunicipalityStateChange.municipality_id == locked.id
        )
    )
    if last is not None and effective_date < last:
        raise OnboardingError(
            "date", _("Datum účinnosti nesmí předcházet poslední zaznamenané změně (%(d)s).", d=czech_date(last))
        )
    change = MunicipalityStateChange(
        municipality=locked,
        from_state=current,
        to_state=to,
        effective_date=effective_date,
        note=note,
        staff_id=_staff_id(actor),
    )
    session.add(change)
    locked.onboarding_state = to
    session.flush()
    return change


def history(municipality: Municipality, *, session: Session | None = None) -> list[MunicipalityStateChange]:
    session = session or db_session()
    return list(
        session.scalars(
            select(MunicipalityStateChange)
            .where(MunicipalityStateChange.municipality_id == municipality.id)
            .order_by(MunicipalityStateChange.effective_date, MunicipalityStateChange.id)
        )
    )


def state_on(municipality: Municipality | int, day: date, *, session: Session | None = None) -> OnboardingState:
    """The municipality's state at the end of ``day`` (not contacted before any record)."""
    session = session or db_session()
    mid = municipality if isinstance(municipality, int) else municipality.id
    state = session.scalar(
        select(MunicipalityStateChange.to_state)
        .where(MunicipalityStateChange.municipality_id == mid, MunicipalityStateChange.effective_date <= day)
        .order_by(MunicipalityStateChange.effective_date.desc(), MunicipalityStateChange.id.desc())
        .limit(1)
    )
    return OnboardingState(state) if state else S.NOT_CONTACTED


def municipality_states_on(day: date, region_id: int | None = None) -> Select[tuple[int, str, date]]:
    """One query: (municipality_id, state, since) at the end of ``day`` for every municipality
    (of the region, when given) with a record by then (those without one were not
    contacted yet): its latest change by then, i.e. one with no later change by then."""
    msc = MunicipalityStateChange
    later = aliased(msc)
    return select(msc.municipality_id, msc.to_state.label("state"), msc.effective_date.label("since")).where(
        in_region(msc.municipality_id, region_id),
        msc.effective_date <= day,
        ~exists().where(
            later.municipality_id == msc.municipality_id,
            later.effective_date <= day,
            or_(
                later.effective_date > msc.effective_date,
                and_(later.effective_date == msc.effective_date, later.id > msc.id),
            ),
        ),
    )


def states_on(day: date, *, session: Session | None = None) -> dict[int, str]:
    session = session or db_session()
    return {mid: state for mid, state, _since in session.execute(municipality_states_on(day))}


def count_by_state_on(day: date, *, session: Session | None = None, region_id: int | None = None) -> dict[str, int]:
    """How many municipalities (of the region, when given) were in each state at the end of
    ``day``; every known municipality counts, those without a record by then as not
    contacted."""
    session = session or db_session()
    known = session.scalar(select(func.count()).select_from(Municipality).where(
        region_condition(Municipality, region_id))) or 0
    counts: Counter[str] = Counter()
    sub = municipality_states_on(day, region_id).subquery()
    for state, n in session.execute(select(sub.c.state, func.count()).group_by(sub.c.state)):
        counts[state] = n
    counts[S.NOT_CONTACTED] += max(known - sum(counts.values()), 0)
    return {state.value: counts.get(state, 0) for state in PIPELINE_ORDER}


def first_active_dates(until: date | None = None, *, session: Session | None = None,
                       region_id: int | None = None) -> dict[int, date]:
    """The day each municipality (of the region, when given) first became active
    (joined), up to ``until``."""
    session = session or db_session()
    msc = MunicipalityStateChange
    stmt = select(msc.municipality_id, func.min(msc.effective_date)).where(
        msc.to_state == S.ACTIVE, in_region(msc.municipality_id, region_id))
    if until is not None:
        stmt = stmt.where(msc.effective_date <= until)
    return dict(session.execute(stmt.group_by(msc.municipality_id)).all())  # type: ignore[arg-type]


# -- services ---------------------------------------------------------------------------
def set_service_active(
    service: Service,
    active: bool,
    effective_date: date | None = None,
    note: str = "",
    actor: Any = None,
    *,
    session: Session | None = None,
) -> ServiceStateChange | None:
    """Switch a service on or off as of a day, with its history. Does not commit."""
    session = session or db_session()
    effective_date = effective_date or prague_today()
    if effective_date > prague_today():
        raise OnboardingError("date", _("Datum účinnosti nesmí být v budoucnosti."))
    if bool(service.active) == active:
        return None
    change = ServiceStateChange(
        service=service,
        active=active,
        effective_date=effective_date,
        note=(note or "").strip()[:MAX_NOTE],
        staff_id=_staff_id(actor),
    )
    session.add(change)
    service.active = active
    session.flush()
    return change


def service_states_on(day: date) -> Select[tuple[int, bool]]:
    """One query: (service_id, active) at the end of ``day`` for services with a record."""
    ssc = ServiceStateChange
    later = aliased(ssc)
    return select(ssc.service_id, ssc.active).where(
        ssc.effective_date <= day,
        ~exists().where(
            later.service_id == ssc.service_id,
            later.effective_date <= day,
            or_(
                later.effective_date > ssc.effective_date,
                and_(later.effective_date == ssc.effective_date, later.id > ssc.id),
            ),
        ),
    )


def active_services_on(day: date, region_id: int | None = None) -> Select[tuple[int, int]]:
    """(service_id, municipality_id) of services active at the end of ``day`` in a
    municipality (of the region, when given) that was active (joined) that day."""
    services = service_states_on(day).subquery()
    municipalities = municipality_states_on(day, region_id).subquery()
    return (
        select(Service.id, Service.municipality_id)
        .join(services, and_(services.c.service_id == Service.id, services.c.active.is_(True)))
        .join(
            municipalities,
            and_(municipalities.c.municipality_id == Service.municipality_id, municipalities.c.state == S.ACTIVE),
        )
    )


def count_active_services_on(day: date, *, session: Session | None = None, region_id: int | None = None) -> int:
    session = session or db_session()
    return session.scalar(select(func.count()).select_from(active_services_on(day, region_id).subquery())) or 0


@dataclass(frozen=True)
class PipelineSnapshot:
    day: date
    counts: dict[str, int]
    active_services: int

    @property
    def joined(self) -> int:
        return self.counts[S.ACTIVE]

    @property
    def in_negotiation(self) -> int:
        return sum(self.counts[s] for s in NEGOTIATION_STATES)


def snapshot_on(day: date, *, session: Session | None = None, region_id: int | None = None) -> PipelineSnapshot:
    """The pipeline at the end of ``day``: of one region, or of every region (None)."""
    return PipelineSnapshot(
        day=day,
        counts=count_by_state_on(day, session=session, region_id=region_id),
        active_services=count_active_services_on(day, session=session, region_id=region_id),
    )


# -- new municipalities -----------------------------------------------------------------
def create_municipality(
    *,
    name: str,
    ico: str,
    district: str,
    state: OnboardingState | str = S.NOT_CONTACTED,
    effective_date: date | None = None,
    note: str = "",
    actor: Any = None,
    session: Session | None = None,
    region_id: int | None = None,
) -> Municipality:
    """Add a municipality to the pipeline (its first state dated and noted) of
    ``region_id``, else of the acting operator's region, else of the deployment's
    default. Raises OnboardingError naming the field; does not commit."""
    from app.identifiers import is_valid_ico, slugify

    session = session or db_session()
    name, ico, district = (name or "").strip(), (ico or "").strip().replace(" ", ""), (district or "").strip()
    if not name:
        raise OnboardingError("name", _("Vyplňte název obce."))
    if len(name) > 200:
        raise OnboardingError("name", _("Název obce je delší než 200 znaků."))
    if not is_valid_ico(ico):
        raise OnboardingError("ico", _("IČO musí mít 8 číslic a platnou kontrolní číslici."))
    ico = ico.zfill(8)
    if session.scalar(select(Municipality.id).where(Municipality.ico == ico)) is not None:
        raise OnboardingError("ico", _("Obec s tímto IČO už v portálu je."))
    if len(district) > 100:
        raise OnboardingError("district", _("Název okresu je delší než 100 znaků."))
    try:
        state = OnboardingState(state)
    except ValueError:
        raise OnboardingError("state", _("Neznámý stav: %(s)s.", s=repr(state))) from None
    effective_date = effective_date or prague_today()
    if effective_date > prague_today():
        raise OnboardingError("date", _("Datum účinnosti nesmí být v budoucnosti."))
    base = slugify(name) or "obec"
    slug, n = base, 1
    while session.scalar(select(Municipality.id).where(Municipality.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    from app.regions import get_or_create_region

    # The acting operator's region; the deployment's default for the CLI and the seed.
    region_id = region_id or getattr(actor, "region_id", None) or get_or_create_region(session).id
    m = Municipality(
        name=name,
        slug=slug,
        ico=ico,
        district=district or None,
        onboarding_state=state,
        demo_mode=True,
        region_id=region_id,
    )
    session.add(m)
    if state != S.NOT_CONTACTED:
        session.add(
            MunicipalityStateChange(
                municipality=m,
                from_state=None,
                to_state=state,
                effective_date=effective_date,
                note=(note or "").strip()[:MAX_NOTE],
                staff_id=_staff_id(actor),
            )
        )
    session.flush()
    return m
