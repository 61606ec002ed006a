"""``flask privacy …``: the retention job for cron, a clerk's erasure of a payer, and the
records-of-processing document."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "PRIVACY.md"


@click.group("privacy")
def privacy_group() -> None:
    """Personal data: retention, erasure, records of processing."""


@privacy_group.command("retention")
@click.option("--dry-run", is_flag=True, help="Print what would be removed or anonymised; change nothing.")
@click.option("--now", "now_text", default=None, help="Pretend it is this moment (ISO 8601, UTC); for checks.")
def retention_cmd(dry_run: bool, now_text: str | None) -> None:
    """Remove or anonymise personal data past its retention period (run daily)."""
    from app.db import utcnow
    from app.privacy.retention import run_retention

    now = utcnow()
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter(f"{now_text!r} is not an ISO 8601 date/time", param_hint="--now") from None
        if now.tzinfo is None:
            from datetime import UTC

            now = now.replace(tzinfo=UTC)
    for outcome in run_retention(now=now, dry_run=dry_run):
        click.echo(outcome.line(dry_run))
    if dry_run:
        click.echo("dry run: nothing was changed")


@privacy_group.command("settings")
def settings_cmd() -> None:
    """Print the retention period in force for each kind of data."""
    from app.privacy.registry import PROCESSINGS

    settings = current_app.config["RETENTION"]
    for p in PROCESSINGS:
        if p.retention is not None:
            click.echo(f"{p.setting}={settings[p.key]}  ({p.title}; default {p.retention.default})")


@privacy_group.command("erase-payer")
@click.option("--municipality", "slug", required=True, help="The municipality's slug.")
@click.option("--customer-id", default=None, help="The payer's customer ID (číslo plátce) in that municipality.")
@click.option("--email", default=None, help="The e-mail the payer gave at payment.")
@click.option("--staff", "staff_email", default=None, help="The clerk who handles the request (for the audit log).")
@click.option("--yes", is_flag=True, help="Do it; without this, only print what would be erased.")
def erase_payer_cmd(slug: str, customer_id: str | None, email: str | None, staff_email: str | None, yes: bool) -> None:
    """Erase a payer's personal data in one municipality (GDPR Art. 17), keeping the
    accounting record of each payment."""
    from app.db import db_session
    from app.models import Municipality, StaffUser
    from app.privacy.erasure import erase_personal_data, find_payer

    if not (customer_id or email):
        raise click.UsageError("Give --customer-id or --email (or both).")
    municipality = db_session.scalar(select(Municipality).where(Municipality.slug == slug))
    if municipality is None:
        raise click.BadParameter(f"no municipality {slug!r}", param_hint="--municipality")
    staff = None
    if staff_email:
        staff = db_session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == staff_email.strip().lower()))
        if staff is None:
            raise click.BadParameter(f"no staff member {staff_email!r}", param_hint="--staff")
    payment_ids, obligation_ids = find_payer(municipality.id, customer_id=customer_id, email=email)
    click.echo(f"found {len(payment_ids)} payments and {len(obligation_ids)} obligations")
    if not (payment_ids or obligation_ids):
        raise SystemExit(1)
    if not yes:
        click.echo("nothing erased: add --yes to erase")
        return
    result = erase_personal_data(
        payment_ids=payment_ids,
        obligation_ids=obligation_ids,
        actor="clerk",
        staff_id=staff.id if staff else None,
    )
    click.echo(" ".join(f"{k}={v}" for k, v in result.counts().items()))


@privacy_group.command("doc")
@click.option("--check", is_flag=True, help="Exit 1 if docs/PRIVACY.md differs from the registry.")
def doc_cmd(check: bool) -> None:
    """Write docs/PRIVACY.md (records of processing) from app/privacy/registry.py."""
    from app.privacy.document import render_records

    text = render_records()
    if check:
        if not DOC_PATH.exists() or DOC_PATH.read_text(encoding="utf-8") != text:
            click.echo(f"{DOC_PATH} is out of date: run `flask privacy doc`", err=True)
            raise SystemExit(1)
        click.echo("docs/PRIVACY.md is up to date")
        return
    DOC_PATH.write_text(text, encoding="utf-8")
    click.echo(f"wrote {DOC_PATH}")
