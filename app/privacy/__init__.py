"""Personal data: the records of processing and their retention periods (``registry``),
the retention job (``retention``), erasure of a person's data (``erasure``) and the
generated records document (``document``). ``init_app`` checks the retention settings at
start-up and registers ``flask privacy …``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.privacy.cli import privacy_group
    from app.privacy.registry import load_settings

    # Refuses to start with a retention below a statutory minimum (RetentionSettingError).
    app.config["RETENTION"] = load_settings(app.config)
    app.cli.add_command(privacy_group)
