"""`flask …` commands for operators and cron."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask

from app import jobs
from app.payments import jobs as payment_jobs
from app.receipts import jobs as receipt_jobs


def register(app: Flask) -> None:
    from app.banking.cli import banking_group
    from app.reporting.cli import report_group

    app.cli.add_command(report_group)
    app.cli.add_command(banking_group)

    @app.cli.command("seed-demo")
    @click.option("--active", default=81, show_default=True, help="How many municipalities are joined.")
    @click.option("--payments/--no-payments", default=True, show_default=True, help="Also the 2025 payments.")
    def seed_demo_cmd(active: int, payments: bool) -> None:
        """Load the Liberec Region's municipalities, their onboarding history and typical
        fees as the 2025 annual report describes them (and that year's payments), and a
        second region with a few fictional municipalities."""
        from app.demo_data import seed_demo, seed_demo_payer_lists, seed_demo_payments, seed_demo_second_region

        counts = seed_demo(active_count=active)
        click.echo(f"Seeded {counts['municipalities']} municipalities and {counts['services']} services.")
        second = seed_demo_second_region()
        click.echo(f"Seeded a second region (Královéhradecký kraj): {second['municipalities']} fictional "
                   f"municipalities and {second['services']} services.")
        click.echo(f"Seeded {seed_demo_payer_lists()} obligations in payer lists (try customer ID 1001 in Liberec).")
        if payments:
            click.echo(f"Seeded {seed_demo_payments(2025)} payments of 2025.")
            year = date.today().year
            if year > 2025:
                click.echo(f"Seeded {seed_demo_payments(year)} payments of {year} so far.")

    @app.cli.group("webhooks")
    def webhooks_group() -> None:
        """Outbound webhooks (run ``retry`` from cron every few minutes)."""

    @webhooks_group.command("retry")
    def webhooks_retry_cmd() -> None:
        """Enqueue the webhook deliveries whose next try is due."""
        from app.webhooks_out.jobs import retry_due

        click.echo(f"enqueued {retry_due()}")

    @app.cli.group("payments")
    def payments_group() -> None:
        """Housekeeping of payments (run from cron)."""

    @payments_group.command("expire")
    def expire_cmd() -> None:
        """Expire abandoned payments (asks the gateway first)."""
        click.echo(f"expired {payment_jobs.expire_abandoned()}")

    @payments_group.command("poll")
    def poll_cmd() -> None:
        """Ask the gateway about payments stuck in started, and about refunds it completes later."""
        click.echo(f"changed {payment_jobs.poll_started()}; refunds completed {payment_jobs.poll_refunds()}")

    @app.cli.group("secrets")
    def secrets_group() -> None:
        """Gateway secrets encrypted at rest (SECRET_ENCRYPTION_KEYS)."""

    @secrets_group.command("rotate")
    def rotate_cmd() -> None:
        """Re-encrypt every stored gateway secret with the first key of SECRET_ENCRYPTION_KEYS."""
        from app.gateway_accounts.accounts import rotate_all

        click.echo(f"re-encrypted {rotate_all()} gateway accounts")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
    @click.option("--no-fork", is_flag=True, help="Run the jobs in this process (less CPU per job, no isolation).")
    def worker_cmd(burst: bool, no_fork: bool) -> None:
        """The job worker: builds the app once, then forks a child per job that runs in it."""
        from app.jobs import make_worker

        try:
            worker = make_worker(app, fork=not no_fork)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        # The scheduler runs the retries that wait (Retry intervals); burst mode runs what
        # is due and stops.
        worker.work(burst=burst, with_scheduler=True)

    @app.cli.group("jobs")
    def jobs_group() -> None:
        """The job queue's housekeeping (run `flask jobs sweep` from cron every minute)."""

    @jobs_group.command("sweep")
    def sweep_cmd() -> None:
        """Schedule notifications left unprocessed, and retry jobs whose worker died."""
        abandoned = jobs.clean_abandoned_jobs()
        scheduled = payment_jobs.sweep_notifications()
        click.echo(f"abandoned jobs retried or failed: {abandoned}; notifications scheduled: {scheduled}")

    @app.cli.group("receipts")
    def receipts_group() -> None:
        """Receipts (potvrzení o zaplacení)."""

    @receipts_group.command("send-unsent")
    def send_unsent_cmd() -> None:
        """E-mail every receipt that has not been e-mailed yet (after an SMTP outage)."""
        from app.receipts.issuing import unsent_receipt_ids

        ids = unsent_receipt_ids()
        for receipt_id in ids:
            jobs.enqueue(receipt_jobs.send_receipt_email, receipt_id)
        click.echo(f"queued {len(ids)}")

    @receipts_group.command("resend")
    @click.argument("external_id")
    def resend_cmd(external_id: str) -> None:
        """E-mail a payment's receipt again (same number)."""
        from app.payments.create import find_payment
        from app.receipts.issuing import receipt_for_payment

        payment = find_payment(external_id)
        receipt = receipt_for_payment(payment) if payment else None
        if receipt is None:
            raise click.ClickException("no receipt for this payment")
        jobs.enqueue(receipt_jobs.send_receipt_email, receipt.id, force=True)
        click.echo(f"queued {receipt.full_number}")
    @app.cli.group("reminders")
    def reminders_group() -> None:
        """E-mail reminders of obligations (run daily from cron)."""

    @reminders_group.command("send")
    @click.option("--date", "on_date", default=None, help="As if today were YYYY-MM-DD.")
    def reminders_send_cmd(on_date: str | None) -> None:
        """Send the reminders due before and after the due dates; each goes once."""
        from app.obligations.reminders import send_reminders

        run = send_reminders(date.fromisoformat(on_date) if on_date else None)
        click.echo(f"claimed {run.claimed}, sent {run.sent}, failed {run.failed}")

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
        from app.obligations.importing import import_obligations, max_import_bytes, too_big_message
        from app.obligations.report import ImportReport

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
        if size > max_import_bytes():
            # Refused before reading it at all.
            report = ImportReport(filename=file.name)
            report.file_errors.append(too_big_message(size, max_import_bytes()))
        else:
            report = import_obligations(service, file.read_bytes(), file.name, allow_partial=allow_partial)
        for line in report.lines():
            click.echo(line)
        if not report.imported:
            raise SystemExit(1)
    @app.cli.group("staff")
    def staff_group() -> None:
        """Staff accounts of the admin area."""

    @staff_group.command("create")
    @click.option("--email", required=True)
    @click.option("--role", required=True,
                  type=click.Choice(["national", "operator", "municipality_admin", "clerk", "viewer"]))
    @click.option("--municipality", "municipality_slug", default=None, help="Slug of the municipality (not for operator).")
    @click.option("--region", "region_slug", default=None,
                  help="An operator's region (app/data/regions.csv slug); DEFAULT_REGION when omitted.")
    @click.option("--name", default="")
    @click.option("--password", default=None, help="Generated and printed when omitted.")
    def staff_create_cmd(email: str, role: str, municipality_slug: str | None, region_slug: str | None, name: str,
                         password: str | None) -> None:
        """Create a staff account with TOTP already set up; prints the secret."""
        import secrets

        from sqlalchemy import select

        from app.db import db_session
        from app.models import Municipality
        from app.staff import accounts as staff_service

        mid = None
        if municipality_slug:
            m = db_session.scalar(select(Municipality).where(Municipality.slug == municipality_slug))
            if m is None:
                raise click.ClickException(f"no municipality with slug {municipality_slug!r}")
            mid = m.id
        region_id = None
        if role == "operator":
            from app.regions import get_or_create_region

            try:
                region_id = get_or_create_region(db_session(), region_slug).id
            except LookupError as exc:
                raise click.ClickException(str(exc)) from None
        password = password or secrets.token_urlsafe(12)
        secret = staff_service.new_totp_secret()
        try:
            user = staff_service.create_staff(email, role, mid, name=name, password=password, totp_secret=secret,
                                              region_id=region_id)
        except staff_service.StaffError as exc:
            raise click.ClickException(exc.message) from None
        db_session.commit()
        click.echo(f"email:        {user.email}")
        click.echo(f"password:     {password}")
        click.echo(f"TOTP secret:  {secret}")
        click.echo(f"TOTP URI:     {staff_service.provisioning_uri(user, secret)}")

    @staff_group.command("totp")
    @click.argument("email")
    def staff_totp_cmd(email: str) -> None:
        """Print the current TOTP code of a staff account (demo and support use)."""
        import pyotp

        from app.staff import accounts as staff_service

        user = staff_service.find_staff(email)
        if user is None or not user.totp_secret:
            raise click.ClickException("no such staff account with TOTP")
        click.echo(pyotp.TOTP(user.totp_secret).now())

    @staff_group.command("seed-demo")
    def staff_seed_demo_cmd() -> None:
        """Create the demo operators (two regions), the national coordinator and the demo
        municipality admin (known passwords)."""
        from app.staff.demo import seed_demo_staff

        for s in seed_demo_staff():
            click.echo(f"{s['role']:<20} {s['email']}  password: {s['password']}  TOTP secret: {s['totp_secret']}"
                       f"  {s['municipality']}")
        click.echo("Current TOTP code: .venv/bin/python -m flask --app wsgi staff totp EMAIL")
