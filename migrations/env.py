"""Alembic environment: the URL comes from DATABASE_URL (or -x url=…), metadata from app.models."""

from __future__ import annotations

from alembic import context

import app.models  # noqa: F401  (registers every model)
from app.config import from_env
from app.db import Base, UTCDateTime, make_engine

config = context.config
url = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url") or from_env()["DATABASE_URL"]
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Our instants are plain ``timestamptz`` to the database: no import of app/ in migrations.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True, render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True, compare_type=True, render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
