"""`flask banking …`: bank accounts, statement imports and Fio pulls (cron)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

banking_group = AppGroup("banking", help="Bank accounts, statements and transfers.")


@banking_group.command("add-account")
@click.argument("account")
@click.option("--municipality", "municipality_slug", required=True)
@click.option("--service", "service_slug", default=None, help="The account belongs to this service only.")
@click.option("--name", default="")
@click.option("--fio-token-file", type=click.File("r"), default=None, help="A file holding the Fio API token.")
def add_account_cmd(account: str, municipality_slug: str, service_slug: str | None, name: str, fio_token_file) -> None:  # type: ignore[no-untyped-def]
    """Register a municipality's account (123456789/0100 or an IBAN)."""
    from sqlalchemy import select

    from app.banking.accounts import create_account
    from app.banking.errors import BankingError
    from app.db import db_session
    from app.models import Municipality, Service

    municipality = db_session.scalar(select(Municipality).where(Municipality.slug == municipality_slug))
    if municipality is None:
        raise click.ClickException(f"no municipality {municipality_slug!r}")
    service_id = None
    if service_slug:
        service_id = db_session.scalar(
            select(Service.id).where(Service.municipality_id == municipality.id, Service.slug == service_slug)
        )
        if service_id is None:
            raise click.ClickException(f"no service {service_slug!r} in {municipality_slug}")
    try:
        row = create_account(
            municipality.id, account, name=name, service_id=service_id,
            fio_token=fio_token_file.read() if fio_token_file else None,
        )  # fmt: skip
    except BankingError as exc:
        raise click.ClickException(exc.describe()) from None
    db_session.commit()
    click.echo(f"account {row.display} ({row.iban}) of {municipality.name}")


@banking_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--account", "account_ref", required=True, help="123456789/0100 or an IBAN: the statement's account")
def import_cmd(file: Path, account_ref: str) -> None:
    """Import a statement (camt.053, GPC/ABO, MT940, Fio JSON) and match its lines."""
    from app.banking.accounts import find_account
    from app.banking.errors import BankingError
    from app.banking.importing import import_statement, parse_upload
    from app.banking.statements import MAX_BYTES
    from app.db import db_session

    account = find_account(account_ref)
    if account is None:
        raise click.ClickException(f"no account {account_ref!r} in the portal")
    if file.stat().st_size > MAX_BYTES:
        raise click.ClickException(f"{file.name}: larger than {MAX_BYTES // (1024 * 1024)} MB, nothing imported")
    try:
        statement = parse_upload(file.read_bytes(), file.name)
        result = import_statement(account.id, statement, source="cli", filename=file.name)
        db_session.commit()
    except BankingError as exc:
        db_session.rollback()
        raise click.ClickException(f"{file.name}: {exc.describe()} Nothing was imported.") from None
    click.echo(
        f"{file.name}: {result.lines} lines, {result.new_lines} new ({result.duplicates} already imported): "
        f"{result.matched} matched, {result.unmatched} unmatched, {result.outgoing} outgoing"
    )


@banking_group.command("pull")
@click.option("--queue", "use_queue", is_flag=True, help="Enqueue a job per account instead of pulling here.")
def pull_cmd(use_queue: bool) -> None:
    """Pull new movements from Fio for every account with a token (cron: every few minutes)."""
    from app.banking import jobs
    from app.banking.pulling import pull_all
    from app.jobs import enqueue

    if use_queue:
        enqueue(jobs.pull_all_job)
        click.echo("queued")
        return
    for outcome in pull_all():
        extra = f" {outcome.new_lines} new lines" if outcome.status == "imported" else ""
        extra += f" ({outcome.error})" if outcome.error else ""
        click.echo(f"account {outcome.account_id}: {outcome.status}{extra}")


@banking_group.command("rotate-tokens")
def rotate_tokens_cmd() -> None:
    """Re-encrypt every stored Fio token with the first of SECRET_ENCRYPTION_KEYS (after
    ``flask secrets rotate``, before dropping the old key)."""
    from sqlalchemy import select

    from app.banking.secrets import rotate_token
    from app.db import db_session
    from app.models import BankAccount

    count = 0
    for account in db_session.scalars(select(BankAccount).where(BankAccount.fio_token_encrypted.is_not(None))):
        account.fio_token_encrypted = rotate_token(account.fio_token_encrypted)
        count += 1
    db_session.commit()
    click.echo(f"{count} Fio tokens re-encrypted")
