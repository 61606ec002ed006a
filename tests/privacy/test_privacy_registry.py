"""The registry is the one source: settings per kind with statutory minimums refused,
and docs/PRIVACY.md generated from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.privacy.document import render_records
from app.privacy.registry import PROCESSINGS, RetentionSettingError, load_settings
from tests.conftest import make_test_app

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_overrides() -> None:
    settings = load_settings({})
    assert settings["paid_payments"] == 10 and settings["abandoned_payments"] == 90
    assert load_settings({"RETENTION_DAYS_ABANDONED_PAYMENTS": "30"})["abandoned_payments"] == 30
    assert load_settings({"RETENTION_YEARS_PAID_PAYMENTS": 5})["paid_payments"] == 5


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("RETENTION_YEARS_PAID_PAYMENTS", "4", "below the statutory minimum of 5 years"),
        ("RETENTION_YEARS_OBLIGATIONS", 2, "563/1991 Sb."),
        ("RETENTION_DAYS_CONSENT_RECORDS", "tři roky", "must be a whole number of days"),
        ("RETENTION_DAYS_EXPORT_FILES", "0", "at least 1 day"),
        ("RETENTION_DAYS_AUDIT_LOG", "-5", "at least 1 day"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(key: str, value: object, message: str) -> None:
    with pytest.raises(RetentionSettingError) as exc:
        load_settings({key: value})
    assert key in str(exc.value) and message in str(exc.value)


def test_the_app_does_not_start_below_the_accounting_minimum(db_url: str) -> None:
    with pytest.raises(RetentionSettingError, match="RETENTION_YEARS_PAID_PAYMENTS=3 is below the statutory minimum"):
        make_test_app(db_url, RETENTION_YEARS_PAID_PAYMENTS=3)


def test_the_cli_refuses_a_setting_from_the_environment() -> None:
    env = {**os.environ, "RETENTION_YEARS_PAID_PAYMENTS": "2", "DATABASE_URL": "sqlite://"}
    r = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "privacy", "settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "RETENTION_YEARS_PAID_PAYMENTS=2 is below the statutory minimum of 5 years" in r.stderr
    env["RETENTION_YEARS_PAID_PAYMENTS"] = "7"
    r = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "privacy", "settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "RETENTION_YEARS_PAID_PAYMENTS=7" in r.stdout and "RETENTION_DAYS_ABANDONED_PAYMENTS=90" in r.stdout


def test_privacy_md_is_generated_from_the_registry() -> None:
    committed = (ROOT / "docs" / "PRIVACY.md").read_text(encoding="utf-8")
    assert committed == render_records(), "docs/PRIVACY.md is out of date: run `flask privacy doc`"
    for p in PROCESSINGS:
        assert f"## {p.title}" in committed
        if p.setting:
            assert f"`{p.setting}`" in committed


def test_every_personal_column_is_covered() -> None:
    """A new column with a person's name, e-mail or birth number must be handled by the
    erasure (or named here as not personal) before it ships."""
    from app.db import Base
    from app.privacy.erasure import BANK_LINE_FIELDS, OBLIGATION_FIELDS, PAYMENT_FIELDS, REFUND_FIELDS

    covered = {("payment", k) for k in PAYMENT_FIELDS} | {("obligation", k) for k in OBLIGATION_FIELDS}
    covered |= {("bank_line", k) for k in BANK_LINE_FIELDS} | {("refund", k) for k in REFUND_FIELDS}
    # Deleted with the account, staff data, or names of things rather than people.
    handled = {
        ("citizen", "name"),
        ("citizen", "email"),
        ("citizen", "birth_number_hmac"),
        ("staff_user", "name"),
        ("staff_user", "email"),
        ("audit_log", "staff_email"),
        ("staff_invitation", "email"),
        ("staff_invitation", "name"),
        ("receipt", "email_attempts"),
        ("password_reset", "email"),
        ("municipality", "name"),
        ("municipality", "email"),
        ("service", "name"),
        ("obligation_import", "filename"),
        ("bank_account", "name"),
        ("bank_statement", "filename"),
        ("consent_text", "title"),
        ("api_key", "name"),  # the label of an agenda system's key, not a person
        ("municipality", "search_name"),
        # A region and the agency that runs its portal: organisations, their public contacts.
        ("region", "name"),
        ("region", "name_genitive"),
        ("region", "operator_name"),
        ("region", "contact_email"),
        ("region", "contact_phone"),
        # An address that asked for no more reminders: kept so that the objection is honoured.
        ("reminder_opt_out", "email"),
    }
    personal = {
        (t.name, c.name)
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if any(w in c.name for w in ("name", "email", "birth", "phone", "address"))
        and not c.name.endswith(("_id", "gateway_name", "_at"))
    }
    assert personal - covered - handled == set()
