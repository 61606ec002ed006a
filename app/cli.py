"""`flask …` commands for operators and cron."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from app import jobs


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--active", default=81, show_default=True, help="How many municipalities are joined.")
    def seed_demo_cmd(active: int) -> None:
        """Load the Liberec Region's municipalities and their typical fees."""
        from app.services.demo_data import seed_demo

        counts = seed_demo(active_count=active)
        click.echo(f"Seeded {counts['municipalities']} municipalities and {counts['services']} services.")

    @app.cli.group("payments")
    def payments_group() -> None:
        """Housekeeping of payments (run from cron)."""

    @payments_group.command("expire")
    def expire_cmd() -> None:
        """Expire abandoned payments (asks the gateway first)."""
        click.echo(f"expired {jobs.expire_abandoned()}")

    @payments_group.command("poll")
    def poll_cmd() -> None:
        """Ask the gateway about payments stuck in started."""
        click.echo(f"changed {jobs.poll_started()}")

    @app.cli.group("receipts")
    def receipts_group() -> None:
        """Receipts (potvrzení o zaplacení)."""

    @receipts_group.command("send-unsent")
    def send_unsent_cmd() -> None:
        """E-mail every receipt that has not been e-mailed yet (after an SMTP outage)."""
        from app.services.receipts import unsent_receipt_ids

        ids = unsent_receipt_ids()
        for receipt_id in ids:
            jobs.enqueue(jobs.send_receipt_email, receipt_id)
        click.echo(f"queued {len(ids)}")

    @receipts_group.command("resend")
    @click.argument("external_id")
    def resend_cmd(external_id: str) -> None:
        """E-mail a payment's receipt again (same number)."""
        from app.services.payments import find_payment
        from app.services.receipts import receipt_for_payment

        payment = find_payment(external_id)
        receipt = receipt_for_payment(payment) if payment else None
        if receipt is None:
            raise click.ClickException("no receipt for this payment")
        jobs.enqueue(jobs.send_receipt_email, receipt.id, force=True)
        click.echo(f"queued {receipt.full_number}")
    @app.cli.group("obligations")
    def obligations_group() -> None:
        """Payer lists (předpisy) of services."""

    @obligations_group.command("import")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--service", "service_ref", required=True, help="<municipality-slug>/<service-slug>")
    @click.option("--allow-partial", is_flag=True, help="Import the good rows even when some are bad.")
    def import_obligations_cmd(file: Path, service_ref: str, allow_partial: bool) -> None:
        """Import a payer list (CSV or XLSX) into a service; prints the report."""
        from sqlalchemy import select

        from app.db import db_session
        from app.models import Municipality, Service
        from app.services.obligations import ImportReport, _max_bytes, _too_big, import_obligations

        municipality_slug, _, service_slug = service_ref.partition("/")
        service = db_session.scalar(
            select(Service)
            .join(Municipality, Municipality.id == Service.municipality_id)
            .where(Municipality.slug == municipality_slug, Service.slug == service_slug)
        )
        if service is None:
            raise click.ClickException(f"Služba „{service_ref}“ neexistuje (zadejte obec/služba, např. liberec/odpad).")
        if not file.exists():
            raise click.ClickException(f"Soubor {file} neexistuje.")
        size = file.stat().st_size
        if size > _max_bytes():
            # Refused before reading it at all.
            report = ImportReport(filename=file.name)
            report.file_errors.append(_too_big(size, _max_bytes()))
        else:
            report = import_obligations(service, file.read_bytes(), file.name, allow_partial=allow_partial)
        for line in report.lines():
            click.echo(line)
        if not report.imported:
            raise SystemExit(1)
