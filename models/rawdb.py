"""Single-statement reads straight through asyncpg, for the compiled query path.

SQLAlchemy builds each statement (with the same builders the services use), but a pooled
``AsyncSession`` around a read, with its pre-ping, transaction and result objects, costs
about 0.35 ms of CPU per read on the benchmark machine: more than the read itself. A hot
anonymous page needs none of it: one statement in autocommit sees one snapshot. So the
statement is compiled once per shape (SQLAlchemy's own cache key tells shapes apart and
extracts each request's values) and run as an asyncpg prepared statement on a small pool
of its own, with the same server settings as the engine's connections.

PostgreSQL only; ``RawReader.for_engine`` returns None for SQLite.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

from models import pg_connect
from models.columns import NOW
from models.db import CONNECT_TIMEOUT_SECONDS, POOL_TIMEOUT_SECONDS, server_settings

# Connections per process for these reads, besides the engine's pool: they are held for
# one short statement each, so a few serve many concurrent requests.
POOL_SIZE = 8
# How long closing waits for busy connections before cutting them off.
CLOSE_TIMEOUT_SECONDS = 5.0
# Statement shapes kept compiled (a shape: which filters, columns and relations).
MAX_SHAPES = 500

Record = asyncpg.Record


class Uncompilable(Exception):
    """The statement needs run-time SQL expansion (e.g. an ``IN`` list); use a session."""


@dataclass(frozen=True)
class Prepared:
    """A statement compiled with its values, ready to run again; ``NOW`` filled per run."""

    sql: str
    args: tuple[Any, ...]
    now_at: int | None
    now_process: Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    compiler: SQLCompiler
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


class RawReader:
    """Runs built ``SELECT`` statements on one PostgreSQL database; start it lazily."""

    def __init__(self, engine: AsyncEngine, *, statement_timeout_ms: int | None = None) -> None:
        self.dialect: Dialect = engine.dialect
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.statement_timeout_ms = statement_timeout_ms
        self.shapes: OrderedDict[object, _Compiled] = OrderedDict()
        self._pool: asyncpg.Pool | None = None
        self._starting = asyncio.Lock()

    @classmethod
    def for_engine(
        cls, engine: AsyncEngine, *, statement_timeout_ms: int | None = None
    ) -> "RawReader | None":
        if engine.dialect.name != "postgresql":
            return None
        return cls(engine, statement_timeout_ms=statement_timeout_ms)

    async def fetch(self, stmt: Select[Any]) -> list[Record]:
        """The rows of ``stmt``; database errors propagate as asyncpg's (or OSError)."""
        sql, args = self.compile(stmt)
        return await self._fetch(sql, args)

    def prepare(self, stmt: Select[Any]) -> Prepared:
        """``stmt`` compiled once, for ``fetch_prepared`` to run with each request's instant.

        Building and keying a statement costs SQLAlchemy more CPU than running it (about
        0.25 ms for an article with its byline and tags), so callers keep these by the
        inputs the statement was built from.
        """
        compiled, args = self._compiled(stmt)
        if NOW.key in compiled.names:
            at = compiled.names.index(NOW.key)
            return Prepared(compiled.sql, tuple(args), at, compiled.processors[at])
        return Prepared(compiled.sql, tuple(args), None, None)

    async def fetch_prepared(self, prepared: Prepared, now: datetime) -> list[Record]:
        args = prepared.args
        if prepared.now_at is not None:
            value = now if prepared.now_process is None else prepared.now_process(now)
            args = (*args[: prepared.now_at], value, *args[prepared.now_at + 1 :])
        return await self._fetch(prepared.sql, args)

    async def _fetch(self, sql: str, args: Sequence[Any]) -> list[Record]:
        pool = self._pool or await self._start()
        async with pool.acquire(timeout=POOL_TIMEOUT_SECONDS) as connection:
            rows: list[Record] = await connection.fetch(sql, *args)
            return rows

    def compile(self, stmt: Select[Any]) -> tuple[str, list[Any]]:
        """SQL with ``$n`` placeholders and this statement's values, in order."""
        compiled, args = self._compiled(stmt)
        return compiled.sql, args

    def _compiled(self, stmt: Select[Any]) -> tuple["_Compiled", list[Any]]:
        key = stmt._generate_cache_key()  # what SQLAlchemy's own statement cache is keyed by
        if key is None:
            raise Uncompilable("the statement cannot be cached")
        compiled = self.shapes.get(key.key)
        if compiled is None:
            compiled = self._compile(stmt, key)
            self.shapes[key.key] = compiled
            if len(self.shapes) > MAX_SHAPES:
                self.shapes.popitem(last=False)
        else:
            self.shapes.move_to_end(key.key)
        # This statement's values under the names of the cached compilation's parameters.
        values = compiled.compiler.construct_params(extracted_parameters=key.bindparams)
        args = [
            value if process is None else process(value)
            for value, process in zip(
                (values[name] for name in compiled.names), compiled.processors, strict=True
            )
        ]
        return compiled, args

    def _compile(self, stmt: Select[Any], key: Any) -> _Compiled:
        compiler = self.dialect.statement_compiler(self.dialect, stmt, cache_key=key)
        if "POSTCOMPILE" in compiler.string or compiler.positiontup is None:
            raise Uncompilable("the statement expands at execution time")
        names = tuple(compiler.positiontup)
        processors = tuple(compiler.binds[name].type.bind_processor(self.dialect) for name in names)
        return _Compiled(compiler, compiler.string, names, processors)

    async def _start(self) -> asyncpg.Pool:
        async with self._starting:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=0,
                    max_size=POOL_SIZE,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    server_settings=server_settings(self.statement_timeout_ms),
                    reset=_nothing_to_reset,
                    connect=pg_connect.connect,
                )
            return self._pool

    async def close(self) -> None:
        """Close the pool; connections still busy after a few seconds are cut off.

        asyncpg's graceful close waits for every connection to come back, with no limit of
        its own: a shutdown must not hang on a read that never returns.
        """
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                await pool.close()
        except TimeoutError:
            pool.terminate()


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Only single ``SELECT``s in autocommit run here: no session state to undo.

    asyncpg still rolls back a transaction left open; its full reset (``RESET ALL``,
    ``UNLISTEN *``, ``CLOSE ALL``, advisory locks) would be one more round trip per read.
    """
