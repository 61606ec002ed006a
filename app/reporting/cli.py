"""`flask report …`: the monthly report, the yearly indicators, and the daily cron hook
that e-mails the monthly report on the first working day of the month."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app.reporting.render import FORMATS, Rendered

report_group = AppGroup("report", help="Reports for the regional operator.")
FORMAT_CHOICE = click.Choice(sorted(FORMATS))


REGION_OPTION = click.option("--region", "region_slug", default=None,
                             help="A region's slug (app/data/regions.csv); the whole country when omitted.")


def _region_id(slug: str | None) -> int | None:
    if not slug:
        return None
    from sqlalchemy import select

    from app.db import db_session
    from app.models import Region

    rid = db_session.scalar(select(Region.id).where(Region.slug == slug))
    if rid is None:
        raise click.BadParameter(f"no region {slug!r} in the portal", param_hint="--region")
    return rid


def _write(rendered: Rendered, output: str | None) -> None:
    if output == "-":
        sys.stdout.buffer.write(rendered.content)
        sys.stdout.buffer.flush()
        return
    path = Path(output or rendered.filename)
    path.write_bytes(rendered.content)
    click.echo(f"{path} ({len(rendered.content):,} B)", err=True)


@report_group.command("monthly")
@click.argument("period")
@click.option("--format", "fmt", type=FORMAT_CHOICE, default="pdf", show_default=True)
@click.option("--output", "-o", help="File to write ('-' for standard output); default: a name by the period.")
@REGION_OPTION
def monthly_cmd(period: str, fmt: str, output: str | None, region_slug: str | None) -> None:
    """The monthly report for PERIOD (YYYY-MM), as of the month's last day."""
    from app.reporting.monthly import ReportPeriodError, build_monthly_report, parse_period
    from app.reporting.render import render_monthly

    try:
        year, month = parse_period(period)
    except ReportPeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="PERIOD") from None
    _write(render_monthly(build_monthly_report(year, month, region_id=_region_id(region_slug)), fmt), output)


@report_group.command("yearly")
@click.argument("year", type=click.IntRange(2000, 2999))
@click.option("--format", "fmt", type=FORMAT_CHOICE, default="xlsx", show_default=True)
@click.option("--output", "-o", help="File to write ('-' for standard output); default: a name by the year.")
@REGION_OPTION
def yearly_cmd(year: int, fmt: str, output: str | None, region_slug: str | None) -> None:
    """The yearly indicators for YEAR, in the shape of the annual report."""
    from app.reporting.render import render_yearly
    from app.reporting.yearly import build_yearly_indicators

    _write(render_yearly(build_yearly_indicators(year, region_id=_region_id(region_slug)), fmt), output)


@report_group.command("send-due")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Pretend today is this day (tests).")
def send_due_cmd(today) -> None:  # type: ignore[no-untyped-def]
    """E-mail last month's report if today is its day (cron: daily). Sends each month once."""
    from app.reporting import jobs as report_jobs

    day: date | None = today.date() if today else None
    click.echo(report_jobs.send_monthly_report(day.isoformat() if day else None))


@report_group.command("rebuild-summary")
def rebuild_summary_cmd() -> None:
    """Recount the payment summary the reports read (after a bulk load of payments)."""
    from app.reporting.summary import rebuild_payment_summary

    click.echo(f"{rebuild_payment_summary()} summary rows")


@report_group.command("verify")
@click.argument("period")
def verify_cmd(period: str) -> None:
    """Compare the payment summary of PERIOD (YYYY-MM) with a recount; exit 1 on a difference."""
    from app.reporting.monthly import ReportPeriodError, parse_period
    from app.reporting.summary import verify_month

    try:
        year, month = parse_period(period)
    except ReportPeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="PERIOD") from None
    problems = verify_month(year, month)
    for line in problems:
        click.echo(line)
    if problems:
        raise SystemExit(1)
    click.echo(f"{period}: the summary matches the payments")
