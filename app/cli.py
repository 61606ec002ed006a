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
