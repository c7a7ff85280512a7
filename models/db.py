"""Engines and sessions for the two supported databases.

SQLite (aiosqlite) is the zero-configuration default; PostgreSQL (asyncpg) is
the production database. Everything dialect-specific about connecting lives here.
"""

import sqlite3
import time
from collections.abc import Sequence
from enum import Enum
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models import pg_connect, sqlite_connect

SessionMaker = async_sessionmaker[AsyncSession]


def dialect_of(session: AsyncSession) -> str:
    """The database a session reads: ``"postgresql"`` or ``"sqlite"``."""
    return session.get_bind().dialect.name


def one_of(
    session: AsyncSession, column: ColumnElement[Any] | Mapped[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` for a batch read. On PostgreSQL ``column = ANY($1)``, one array
    parameter: the same statement (and prepared statement) for any number of values, and no
    per-value rendering (200 ids: 1.7 -> 0.7 ms a read); SQLite has no arrays."""
    element = cast(ColumnElement[Any], column)  # an ORM attribute is one at run time
    if dialect_of(session) == "postgresql":
        return element == sa.any_(sa.literal(list(values), sa.ARRAY(element.type)))
    return element.in_(values)


def one_of_parameter(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``one_of`` with the values left to the parameter ``name``, given at execution: for a
    statement built once and run again."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=sa.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's Core table, for reads that want rows, not instances."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]  # SQLModel declares it loosely
    return table


CONNECT_TIMEOUT_SECONDS = 2.0
POOL_TIMEOUT_SECONDS = 3.0
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(
    url: str,
    *,
    statement_timeout_ms: int | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    pool_timeout: float = POOL_TIMEOUT_SECONDS,
    **kwargs: Any,
) -> AsyncEngine:
    """Create the async engine for ``url``, tuned for its dialect.

    Every wait on PostgreSQL is bounded, so an outage becomes a quick error instead of a
    hung request: opening a connection (``connect_timeout``), waiting for a free one in the
    pool (``pool_timeout``), and, when given, each statement (``statement_timeout_ms``,
    PostgreSQL's own ``statement_timeout``; 0 turns it off). SQLite ignores all three.
    """
    parsed = sa.engine.make_url(url)
    # JSON columns (an office's breaks) are decoded by orjson: some 600 small values on
    # the offices page, where the standard library's decoder took about 7% of the time.
    kwargs.setdefault("json_deserializer", orjson.loads)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        sqlite_connect.open_connections_with(engine.sync_engine)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    connect_args: dict[str, Any] = {
        "timeout": connect_timeout,
        "server_settings": server_settings(statement_timeout_ms),
    }
    # Twenty connections kept, none beyond: overflow connections were closed on return and
    # opened again a moment later (16 concurrent deep requests: 0.09 connects each).
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(
        url, connect_args=connect_args, pool_timeout=pool_timeout, **kwargs
    )
    pg_connect.open_connections_with(engine.sync_engine)
    if not kwargs.get("pool_pre_ping"):
        ping_when_idle(engine.sync_engine, PING_AFTER_IDLE_SECONDS)
    return engine


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat idle for ``idle_seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout; asyncpg's ping is a transaction
    of its own (three round trips, about 0.7 ms of an 11 ms offices page). A connection
    in steady use is known alive; one that sat idle (the database may have restarted
    meanwhile) is pinged, and replaced when the ping finds it dead. A connection that
    breaks while in use is reported (``database_failure``) and the pool invalidated, as
    with pre-ping.
    """
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in steady use
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection and checks out another one.
                raise sa.exc.DisconnectionError(str(error)) from error
            raise

    sa.event.listen(engine, "checkin", checkin)
    sa.event.listen(engine, "checkout", checkout)


_IDLE_SINCE = "vestnik_idle_since"


def server_settings(statement_timeout_ms: int | None) -> dict[str, str]:
    """PostgreSQL settings for every connection we open."""
    # JIT compiling pays off for long analytical queries; for a content API's short ones it
    # costs more than it saves (170 ms of a 200 ms page query on the 1M-article benchmark).
    settings = {"jit": "off"}
    if statement_timeout_ms is not None:
        settings["statement_timeout"] = str(statement_timeout_ms)
    return settings


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    """Sessions that keep loaded values after commit, so results outlive the session."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


class DatabaseFailure(Enum):
    """Why a database call failed, when the cause is the database and not the request."""

    UNAVAILABLE = "unavailable"  # down, unreachable, restarting, out of connections
    TIMEOUT = "timeout"  # a statement ran past statement_timeout


# SQLSTATEs that mean "the server is not there for us": connection exceptions (class 08),
# shutdown or start-up in progress (57P01-57P03), too many connections (53300).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_QUERY_CANCELED = "57014"
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk I/O error")


def database_failure(error: BaseException | None) -> DatabaseFailure | None:
    """Classify an exception raised by a database call; ``None``: not the database's fault.

    Walks the chain SQLAlchemy builds (``DBAPIError.orig``, ``__cause__``), because the same
    outage surfaces as a raw ``ConnectionRefusedError`` when a new connection is refused and
    as an invalidated ``DBAPIError`` around an asyncpg error when a pooled one breaks.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return DatabaseFailure.UNAVAILABLE
        if isinstance(error, sa.exc.TimeoutError | sa.exc.DisconnectionError):
            return DatabaseFailure.UNAVAILABLE  # no free connection in time / broken one
        if isinstance(error, OSError):
            return DatabaseFailure.UNAVAILABLE  # refused, reset, or (TimeoutError) too slow
        # asyncpg's errors carry the server's SQLSTATE; read it without importing the driver.
        state = getattr(error, "sqlstate", None)
        if isinstance(state, str):
            if state == _QUERY_CANCELED:
                return DatabaseFailure.TIMEOUT
            if state.startswith(_UNAVAILABLE_STATES):
                return DatabaseFailure.UNAVAILABLE
        if isinstance(error, sqlite3.OperationalError) and str(error).startswith(
            _SQLITE_UNAVAILABLE
        ):
            return DatabaseFailure.UNAVAILABLE
        error = getattr(error, "orig", None) or error.__cause__
    return None
