"""E-mail reminders of unpaid obligations, before and after the due date.

A municipality chooses the days (``Municipality.reminder_days_before`` / ``_after``; none
= no reminders). ``send_reminders`` (``flask reminders send``, daily from cron) e-mails
each unpaid obligation that has an e-mail address in the payer list, with a link to pay
it and a link to unsubscribe. Never twice: a reminder is first claimed by inserting its
``ObligationReminder`` row (unique per obligation and kind; a concurrent run's insert
fails), then sent; a row whose sending failed has no ``sent_at`` and is tried again by
the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError

from app.db import db_session, utcnow
from app.mail import MAIL_ERRORS, deliver, mail_configured, sender
from app.models import (
    Municipality,
    Obligation,
    ObligationReminder,
    OnboardingState,
    ReminderKind,
    ReminderOptOut,
    Service,
)
from app.money import format_czk

log = logging.getLogger(__name__)
PAY_LINK_DAYS = 120  # a reminder's pay link works this long


@dataclass
class ReminderRun:
    claimed: int = 0
    sent: int = 0
    failed: int = 0


# -- links ---------------------------------------------------------------------------
def _pay_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="reminder-pay")


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="reminder-unsubscribe")


def pay_token(obligation: Obligation) -> str:
    return _pay_serializer().dumps([obligation.service_id, obligation.customer_id])


def obligation_from_pay_token(service: Service, token: str) -> Obligation | None:
    """The obligation a reminder's pay link names, if the link is genuine, fresh and for
    this service."""
    if not token or len(token) > 300:
        return None
    try:
        service_id, customer_id = _pay_serializer().loads(token, max_age=PAY_LINK_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    if service_id != service.id:
        return None
    return db_session.scalar(
        select(Obligation).where(Obligation.service_id == service.id, Obligation.customer_id == customer_id)
    )


def unsubscribe_token(municipality_id: int, email: str) -> str:
    return _unsubscribe_serializer().dumps([municipality_id, email.strip().lower()])


def read_unsubscribe_token(token: str) -> tuple[Municipality, str] | None:
    if not token or len(token) > 600:
        return None
    try:
        municipality_id, email = _unsubscribe_serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    m = db_session.get(Municipality, municipality_id) if isinstance(municipality_id, int) else None
    return (m, str(email)) if m is not None else None


def unsubscribe(municipality: Municipality, email: str) -> None:
    """No more reminders from this municipality to this address (kept across imports)."""
    email = email.strip().lower()
    exists_already = db_session.scalar(
        select(ReminderOptOut.id).where(
            ReminderOptOut.municipality_id == municipality.id, ReminderOptOut.email == email
        )
    )
    if exists_already is None:
        db_session.add(ReminderOptOut(municipality_id=municipality.id, email=email))
        try:
            db_session.commit()
        except IntegrityError:  # a second click at the same moment
            db_session.rollback()


# -- choosing and sending ------------------------------------------------------------
def due_reminders(today: date) -> list[tuple[Obligation, ReminderKind]]:
    """Unpaid obligations with an e-mail whose reminder day has come and that have no
    reminder of that kind yet: "before" from N days before the due date until it,
    "after" from M days after it."""
    opted_out = exists().where(
        ReminderOptOut.municipality_id == Obligation.municipality_id,
        ReminderOptOut.email == func.lower(Obligation.payer_email),
    )
    out: list[tuple[Obligation, ReminderKind]] = []
    for kind in (ReminderKind.BEFORE_DUE, ReminderKind.AFTER_DUE):
        already = exists().where(ObligationReminder.obligation_id == Obligation.id, ObligationReminder.kind == kind)
        stmt = (
            select(Obligation, Municipality)
            .join(
                Service,
                and_(Service.id == Obligation.service_id, Service.municipality_id == Obligation.municipality_id),
            )
            .join(Municipality, Municipality.id == Obligation.municipality_id)
            .where(
                Municipality.onboarding_state == OnboardingState.ACTIVE,
                Service.active.is_(True),
                Obligation.payer_email.is_not(None),
                Obligation.due_date.is_not(None),
                Obligation.amount_paid < Obligation.amount,
                ~already,
                ~opted_out,
            )
            .order_by(Obligation.id)
        )
        if kind == ReminderKind.BEFORE_DUE:
            stmt = stmt.where(Municipality.reminder_days_before.is_not(None), Obligation.due_date >= today)
        else:
            stmt = stmt.where(Municipality.reminder_days_after.is_not(None), Obligation.due_date < today)
        for obligation, m in db_session.execute(stmt):
            assert obligation.due_date is not None
            if kind == ReminderKind.BEFORE_DUE:
                on_day = obligation.due_date - timedelta(days=m.reminder_days_before or 0)
            else:
                on_day = obligation.due_date + timedelta(days=m.reminder_days_after or 0)
            if today >= on_day:
                out.append((obligation, kind))
    return out


def _claim(obligation: Obligation, kind: ReminderKind) -> bool:
    """Insert the reminder's row; False when another run has it already."""
    try:
        with db_session.begin_nested():
            db_session.add(ObligationReminder(obligation_id=obligation.id, kind=kind))
    except IntegrityError:
        return False
    return True


def build_reminder_email(obligation: Obligation, kind: ReminderKind) -> EmailMessage:
    service, municipality = obligation.service, obligation.service.municipality
    base = current_app.config["BASE_URL"].rstrip("/")
    pay_url = f"{base}/obec/{municipality.slug}/{service.slug}/pripominka/{pay_token(obligation)}"
    unsubscribe_url = f"{base}/pripominky/odhlasit/{unsubscribe_token(municipality.id, obligation.payer_email or '')}"
    due = obligation.due_date
    subject = (
        f"Připomínka: {service.name} – splatnost {due.day}. {due.month}. {due.year}"
        if kind == ReminderKind.BEFORE_DUE and due
        else f"Upomínka: {service.name} – po splatnosti"
    )
    msg = EmailMessage()
    msg["Subject"] = f"{subject} ({municipality.name})"
    msg["From"] = formataddr(("Platební portál", sender()))
    msg["To"] = obligation.payer_email
    msg["Message-ID"] = make_msgid(domain=sender().rpartition("@")[2] or None)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg.set_content(
        render_template(
            "reminders/email.txt",
            obligation=obligation,
            service=service,
            municipality=municipality,
            before=kind == ReminderKind.BEFORE_DUE,
            remaining=format_czk(obligation.remaining),
            pay_url=pay_url,
            unsubscribe_url=unsubscribe_url,
        )
    )
    return msg


def send_reminders(today: date | None = None) -> ReminderRun:
    """Claim the reminders due today, then send every claimed and unsent one."""
    run = ReminderRun()
    if not mail_configured():
        log.warning("MAIL_SERVER not set: no reminders sent")
        return run
    today = today or date.today()
    for obligation, kind in due_reminders(today):
        if _claim(obligation, kind):
            run.claimed += 1
    db_session.commit()
    unsent = select(ObligationReminder).where(ObligationReminder.sent_at.is_(None)).order_by(ObligationReminder.id)
    if db_session.get_bind().dialect.name == "postgresql":
        unsent = unsent.with_for_update(skip_locked=True)
    for reminder_id in db_session.scalars(
        select(ObligationReminder.id).where(ObligationReminder.sent_at.is_(None))
    ).all():
        row = db_session.scalar(unsent.where(ObligationReminder.id == reminder_id))
        if row is None or row.sent_at is not None:
            db_session.commit()
            continue
        obligation = db_session.get(Obligation, row.obligation_id)
        if obligation is None or obligation.remaining <= 0 or not obligation.payer_email:
            row.sent_at = utcnow()  # paid meanwhile: nothing to remind of
            db_session.commit()
            continue
        try:
            deliver(build_reminder_email(obligation, ReminderKind(row.kind)))
        except MAIL_ERRORS as exc:
            log.warning("reminder %s of obligation %s not sent: %s", row.kind, obligation.id, exc)
            run.failed += 1
            db_session.rollback()
            continue
        row.sent_at = utcnow()
        db_session.commit()
        run.sent += 1
    return run
