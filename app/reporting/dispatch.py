"""E-mailing the monthly report on the first working day of the month: each region's
report to its operator staff and its ``Region.report_recipients``, the national report
to national staff and the REPORT_RECIPIENTS config key. Cron calls
``send_due_monthly_report`` daily (``flask report send-due``); a row in
``report_dispatch`` per report and month (kind ``monthly`` for the national one,
``monthly:<region id>`` for a region's) makes it send each once."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.db import db_session, utcnow
from app.mail import deliver, mail_configured, sender
from app.models import Region, ReportDispatch, StaffRole, StaffUser
from app.money import format_czk
from app.reporting.monthly import build_monthly_report
from app.reporting.render import monthly_title, render_monthly
from app.timeutil import czech_date, first_working_day, prague_today, shift_month

log = logging.getLogger(__name__)
KIND = "monthly"
# A claim older than this is from a run that died while sending: take it over.
STALE_CLAIM = timedelta(minutes=30)


def report_recipients(region: Region | None = None) -> list[str]:
    """A region's active operator staff and its ``report_recipients``; for None (the
    national report) national staff and the REPORT_RECIPIENTS config key."""
    active = StaffUser.active.is_(True)
    if region is not None:
        emails = list(db_session.scalars(select(StaffUser.email).where(
            StaffUser.role == StaffRole.OPERATOR, StaffUser.region_id == region.id, active)))
        emails += region.recipients
        return sorted(set(emails))
    emails = list(db_session.scalars(select(StaffUser.email).where(StaffUser.role == StaffRole.NATIONAL, active)))
    configured = current_app.config.get("REPORT_RECIPIENTS") or []
    if isinstance(configured, str):
        configured = configured.split(",")
    emails += [e.strip() for e in configured if e and e.strip()]
    return sorted(set(emails))


def send_due_monthly_report(today: date | None = None) -> str:
    """Send last month's reports (each region's, the national one) if today is on or
    after this month's first working day and they have not been sent yet. Returns what
    happened (also logged): "sent" when any was sent now, else the first outcome."""
    today = today or prague_today()
    if today < first_working_day(today.year, today.month):
        log.info("monthly report: not due before %s", first_working_day(today.year, today.month))
        return "not_due"
    year, month = shift_month(today.year, today.month, -1)
    period = f"{year:04d}-{month:02d}"
    if not mail_configured():
        log.warning("monthly report %s: MAIL_SERVER is not configured, not sending", period)
        return "mail_not_configured"
    regions: list[Region | None] = [*db_session.scalars(select(Region).order_by(Region.id)), None]
    outcomes = [outcome for region in regions if (outcome := _send_one(region, year, month)) != "no_recipients"]
    if not outcomes:
        log.warning("monthly report %s: no recipients (no operator or national staff, no region's or "
                    "REPORT_RECIPIENTS)", period)
        return "no_recipients"
    return "sent" if "sent" in outcomes else outcomes[0]


def _send_one(region: Region | None, year: int, month: int) -> str:
    period = f"{year:04d}-{month:02d}"
    recipients = report_recipients(region)
    if not recipients:
        return "no_recipients"
    kind = KIND if region is None else f"{KIND}:{region.id}"
    name = region.slug if region is not None else "national"
    claim = _claim(period, kind)
    if claim is None:
        log.info("monthly report %s (%s): already sent", period, name)
        return "already_sent"
    try:
        report = build_monthly_report(year, month, region_id=region.id if region is not None else None)
        message = _message(report, recipients)
        deliver(message)
    except Exception:
        log.exception("monthly report %s (%s): sending failed; the next run retries", period, name)
        db_session.rollback()
        db_session.execute(delete(ReportDispatch).where(ReportDispatch.id == claim))
        db_session.commit()
        raise
    row = db_session.get(ReportDispatch, claim)
    assert row is not None
    row.status = "sent"
    row.sent_at = utcnow()
    row.recipients = ", ".join(recipients)[:2000]
    db_session.commit()
    log.info("monthly report %s (%s) sent to %s", period, name, ", ".join(recipients))
    return "sent"


def _claim(period: str, kind: str = KIND) -> int | None:
    """Insert the dispatch row (unique per kind and period) before sending; None if taken."""
    row = ReportDispatch(kind=kind, period=period, status="sending")
    db_session.add(row)
    try:
        db_session.commit()
        return row.id
    except IntegrityError:
        db_session.rollback()
    existing = db_session.scalar(
        select(ReportDispatch).where(ReportDispatch.kind == kind, ReportDispatch.period == period).with_for_update()
    )
    if existing is not None and existing.status == "sending" and _age(existing) > STALE_CLAIM:
        existing.created_at = utcnow()
        db_session.commit()
        return existing.id
    db_session.rollback()
    return None


def _age(row: ReportDispatch) -> timedelta:
    created = row.created_at
    now = utcnow()
    if created.tzinfo is None:
        now = now.replace(tzinfo=None)
    return now - created


def _message(report, recipients: list[str]) -> EmailMessage:  # type: ignore[no-untyped-def]
    msg = EmailMessage()
    msg["From"] = sender()
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = monthly_title(report)
    t = report.total.current
    msg.set_content(
        f"Dobrý den,\n\n"
        f"v příloze je měsíční zpráva o Platebním portálu za {report.label} (stav k {czech_date(report.as_of)}).\n\n"
        f"Připojené obce: {len(report.joined)}\n"
        f"Obce v jednání: {len(report.in_negotiation)}\n"
        f"Nově připojené obce: {len(report.newly_joined)}\n"
        f"Aktivní služby: {report.active_services}\n"
        f"Platby: {t.count} v objemu {format_czk(t.volume)}\n"
        f"Vrácené platby: {report.refunds.current.count} ({format_czk(report.refunds.current.volume)})\n\n"
        f"Termín odevzdání zprávy: {czech_date(report.due_date)}.\n\n"
        f"Platební portál\n"
    )
    for fmt in ("pdf", "xlsx"):
        rendered = render_monthly(report, fmt)
        maintype, subtype = rendered.mimetype.split(";")[0].split("/")
        msg.add_attachment(rendered.content, maintype=maintype, subtype=subtype, filename=rendered.filename)
    return msg
