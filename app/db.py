"""Database: the declarative base with a naming convention, the engine and the session.

Plain SQLAlchemy 2 (no Flask extension) so jobs, the CLI and benchmarks use the same
session factory as the views. ``db_session`` is scoped to the thread and removed at the
end of every request and job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: ``timestamptz`` on PostgreSQL, aware UTC in Python on every database.

    With ``timestamp without time zone`` PostgreSQL converted aware values with the
    session's time zone (PGTZ=Europe/Prague stored 21:30 UTC as 23:30, a month's last
    evening in the next month). Values going in are made UTC (naive ones are taken as
    UTC); SQLite keeps them as naive UTC text and gives them back naive, so values
    coming out are made aware UTC whatever the database and its session's time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, datetime):
            return value
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, datetime):
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every ``Mapped[datetime]`` column is an instant (UTCDateTime); calendar days are ``date``.
    type_annotation_map = {datetime: UTCDateTime}


SessionFactory = sessionmaker(expire_on_commit=False)
db_session = scoped_session(SessionFactory)
# Reads that may lag the primary by a replica's delay (the reports, the statistics) go
# through ``read_session()``: this session when DATABASE_REPLICA_URL names a read replica.
ReplicaSessionFactory = sessionmaker(expire_on_commit=False)
replica_session = scoped_session(ReplicaSessionFactory)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    from app.czech import register_sqlite_collation

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            # ORDER BY … COLLATE "cs-CZ-x-icu" means the same on SQLite as on PostgreSQL.
            register_sqlite_collation(dbapi_conn)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def autocommit_reads() -> None:
    """For views that only read: run this request's session in autocommit, which saves
    the BEGIN and ROLLBACK round trips (a quarter of a simple page's time on PostgreSQL).

    Call it first thing in a view that never writes; the session is removed at the end
    of the request and the next one starts with normal transactions again. A session
    already in a transaction (a test sharing the thread's session) is left as it is."""
    if not db_session().in_transaction():
        db_session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def read_session() -> Session:
    """The session for reads that may be a little behind: the monthly and yearly reports
    and the public statistics. With DATABASE_REPLICA_URL set it reads the replica (the
    primary keeps the writes and every read that must see them); without it, it is
    ``db_session()`` itself, so a report sees what the same request has just flushed."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.extensions.get("db_replica_engine") is not None:
        return replica_session()
    return db_session()


def init_db(app) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(app.config["DATABASE_URL"])
    SessionFactory.configure(bind=engine)
    app.extensions["db_engine"] = engine
    replica_url = app.config.get("DATABASE_REPLICA_URL")
    app.extensions["db_replica_engine"] = None
    if replica_url:
        replica = make_engine(replica_url)
        ReplicaSessionFactory.configure(bind=replica)
        app.extensions["db_replica_engine"] = replica

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db_session.remove()
        replica_session.remove()
