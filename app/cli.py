"""`flask …` commands for operators and cron."""

from __future__ import annotations

import click
from flask import Flask

from app import jobs


def register(app: Flask) -> None:
    from app.reporting.cli import report_group

    app.cli.add_command(report_group)

    @app.cli.command("seed-demo")
    @click.option("--active", default=81, show_default=True, help="How many municipalities are joined.")
    @click.option("--payments/--no-payments", default=True, show_default=True, help="Also the 2025 payments.")
    def seed_demo_cmd(active: int, payments: bool) -> None:
        """Load the Liberec Region's municipalities, their onboarding history and typical
        fees as the 2025 annual report describes them (and that year's payments)."""
        from app.services.demo_data import seed_demo, seed_demo_payments

        counts = seed_demo(active_count=active)
        click.echo(f"Seeded {counts['municipalities']} municipalities and {counts['services']} services.")
        if payments:
            click.echo(f"Seeded {seed_demo_payments(2025)} payments of 2025.")

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
