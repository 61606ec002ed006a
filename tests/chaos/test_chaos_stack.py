"""The chaos suite reads the worker and cron commands from the README's production section."""

from __future__ import annotations

from benchmarks.chaos.stack import readme_commands

OLD = """- Web: `gunicorn -w 4 wsgi:app`. Worker: `rq worker --url "$REDIS_URL" portal`
  (jobs run inline when `REDIS_URL` is not set).
- Cron: `flask payments expire` and `flask payments poll` every few minutes;
  `flask report send-due` daily (sends the monthly report on the first working day).
- Staff: `flask staff create --email …`
"""
NESTED = """- Processes to run:
  - web: `gunicorn -w 4 wsgi:app`;
  - job worker (one or more): `flask worker`. It builds the app once;
  - cron:
    - every minute `flask jobs sweep`: schedules every notification still unprocessed;
    - every minute `flask payments poll`;
    - daily `flask report send-due`.
- Staff: `flask staff create --email …`
"""


def test_both_readme_shapes() -> None:
    assert readme_commands(OLD) == (
        'rq worker --url "$REDIS_URL" portal',
        ["flask payments expire", "flask payments poll"],
    )
    assert readme_commands(NESTED) == ("flask worker", ["flask jobs sweep", "flask payments poll"])


def test_this_readme_names_a_worker_and_the_poll() -> None:
    worker, cron = readme_commands()
    assert "worker" in worker
    assert "flask payments poll" in cron
