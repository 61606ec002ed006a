"""`flask …` commands for operators and cron."""

from __future__ import annotations

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
