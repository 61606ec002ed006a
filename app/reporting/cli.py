"""`flask report …`: the monthly report, the yearly indicators, and the daily cron hook
that e-mails the monthly report on the first working day."""

from __future__ import annotations

import click
from flask.cli import AppGroup

report_group = AppGroup("report", help="Reports for the regional operator.")
