"""Full backups: every table as JSON, restored exactly into an empty database.

The format is generic: it walks ``SQLModel.metadata.sorted_tables`` (parents before
children), so a table added later is backed up without touching this module. Values are
encoded by column type (timestamps as ISO 8601 in UTC, dates and times as ISO 8601, JSON
as JSON); rows come in primary-key order and JSON objects with sorted keys, so the same
content gives the same bytes whichever database it came from. One row per line::

    {"format":"vestnik-backup","version":1,"schema":"0004","tables":[
    {"name":"author","columns":["id","slug",...],"rows":[
    [1,"ivan-petrov",...]
    ]},
    ...
    ]}

Not in a backup: ``content_state``, the counter caches compare to learn that content
changed. It describes a database, not its content (like ``alembic_version`` and the
sequences): a restore must move it *forward* from what running servers last saw, never
back to the backup's value, so it is bumped by the restore's own commit instead.

A restore refuses a database that already holds anything, and a backup made at another
schema revision (restore it with the Vestnik release that made it, then upgrade).
"""

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import IO, Any, Protocol

import orjson
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from models.errors import DomainError
from models.services import events

FORMAT = "vestnik-backup"
FORMAT_VERSION = 1
SKIPPED_TABLES = frozenset({"content_state"})
BATCH_ROWS = 500
_JSON_OPTIONS = orjson.OPT_SORT_KEYS


class BackupError(DomainError):
    """A backup that cannot be read or restored; nothing was written."""

    code = "INVALID_BACKUP"


class Progress(Protocol):
    """Told how many rows there are, then as they are done (a progress bar, or nothing)."""

    def start(self, total: int) -> None: ...

    def advance(self, rows: int) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass


@dataclass(frozen=True)
class Restored:
    """Rows restored per table, in restore order."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def backed_up_tables() -> list[sa.Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


# --- export ----------------------------------------------------------------------------------


async def export_backup(
    session: AsyncSession, out: IO[bytes], *, progress: Progress | None = None
) -> dict[str, int]:
    """Write every table to ``out`` as it is read; returns the rows written per table.

    Everything is read in one transaction: on PostgreSQL a repeatable-read snapshot, on
    SQLite an explicit read transaction, so a server writing meanwhile cannot leave a
    child row in the backup whose parent is missing.
    """
    progress = progress or NoProgress()
    connection = await _snapshot(session)
    tables = backed_up_tables()
    counts = {
        table.name: int(await connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
        for table in tables
    }
    progress.start(sum(counts.values()))
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema": await _schema_revision(connection),
    }
    out.write(orjson.dumps(header)[:-1] + b',"tables":[\n')
    written: dict[str, int] = {}
    for index, table in enumerate(tables):
        columns = list(table.columns)
        start = {"name": table.name, "columns": [c.name for c in columns]}
        out.write((b",\n" if index else b"") + orjson.dumps(start)[:-1] + b',"rows":[')
        count = 0
        result = await connection.stream(sa.select(table).order_by(*_key_order(connection, table)))
        async for rows in result.partitions(BATCH_ROWS):
            chunk = b"".join(
                (b"\n" if count + i == 0 else b",\n")
                + orjson.dumps(
                    [_encode(c, v) for c, v in zip(columns, row, strict=True)], option=_JSON_OPTIONS
                )
                for i, row in enumerate(rows)
            )
            out.write(chunk)
            count += len(rows)
            progress.advance(len(rows))
        out.write(b"\n]}" if count else b"]}")
        written[table.name] = count
    out.write(b"\n]}\n")
    await session.rollback()  # read-only: end the snapshot
    return written


async def _snapshot(session: AsyncSession) -> AsyncConnection:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        )
    else:
        # pysqlite opens a transaction only before writes; without one, each SELECT would
        # see a different moment. The session's rollback ends it.
        await connection.exec_driver_sql("BEGIN")
    return connection


def _key_order(connection: AsyncConnection, table: sa.Table) -> list[sa.ColumnElement[Any]]:
    # Text keys in byte order on PostgreSQL too, as SQLite compares them: the same order
    # from either database.
    binary = connection.dialect.name == "postgresql"
    return [
        c.collate("C") if binary and isinstance(c.type, sa.String) else c
        for c in table.primary_key.columns
    ]


def _encode(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise BackupError(f"{column.table.name}.{column.name}: a timestamp without a timezone")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str | int | float | bool | dict | list):
        return value
    raise BackupError(
        f"{column.table.name}.{column.name}: cannot back up a {type(value).__name__} value"
    )


async def _schema_revision(connection: AsyncConnection) -> str:
    def current(sync: Connection) -> str:
        heads = MigrationContext.configure(sync).get_current_heads()
        return ",".join(sorted(heads))

    return await connection.run_sync(current)


# --- import ----------------------------------------------------------------------------------


async def import_backup(
    session: AsyncSession, data: bytes, *, progress: Progress | None = None
) -> Restored:
    """Restore a backup into an empty database in one transaction, keeping every id.

    Raises ``BackupError`` (and writes nothing) for a malformed backup, one made at
    another schema revision, or a database that is not empty.
    """
    progress = progress or NoProgress()
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise BackupError(f"The backup is not valid JSON: {error}") from None
    connection = await session.connection()
    tables = _check_header(document, await _schema_revision(connection))
    occupied = [t.name for t in backed_up_tables() if await _has_rows(connection, t)]
    if occupied:
        await session.rollback()
        raise BackupError(
            "The database is not empty (rows in " + ", ".join(occupied) + "); "
            "a backup is restored only into an empty, migrated database"
        )
    progress.start(sum(len(t["rows"]) for t in tables.values()))
    restored: dict[str, int] = {}
    try:
        for table in backed_up_tables():
            given = tables.get(table.name)
            if given is None:
                continue
            rows = list(_decode_rows(table, given["columns"], given["rows"]))
            for batch in _batches(rows, BATCH_ROWS):
                await connection.execute(table.insert(), batch)
                progress.advance(len(batch))
            restored[table.name] = len(rows)
        if connection.dialect.name == "postgresql":
            await _reset_sequences(connection)
        events.content_changed(session)
        await session.commit()
    except sa.exc.DBAPIError as error:
        await session.rollback()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise BackupError(f"The database refused the backup's rows: {reason}") from None
    except BaseException:
        await session.rollback()
        raise
    return Restored(restored)


def _check_header(document: Any, revision: str) -> dict[str, dict[str, Any]]:
    """The backup's tables by name, once its shape and schema revision check out."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f'Not a Vestnik backup: no "format": "{FORMAT}" at the top')
    if document.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"Backup format version {document.get('version')!r} is not supported "
            f"(this Vestnik reads version {FORMAT_VERSION})"
        )
    if document.get("schema") != revision:
        raise BackupError(
            f"The backup was made at schema revision {document.get('schema')!r} and this "
            f"database is at {revision!r}: restore it with the Vestnik release that made it"
        )
    known = {t.name: t for t in backed_up_tables()}
    tables: dict[str, dict[str, Any]] = {}
    given = document.get("tables")
    if not isinstance(given, list):
        raise BackupError('The backup has no "tables" list')
    for entry in given:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise BackupError("Each table in the backup needs a name")
        name = entry["name"]
        if name not in known:
            raise BackupError(f"The backup has a table this database does not: {name}")
        columns, rows = entry.get("columns"), entry.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise BackupError(f"Table {name}: needs a columns list and a rows list")
        unknown = [c for c in columns if c not in known[name].columns]
        if unknown:
            raise BackupError(f"Table {name}: unknown columns {', '.join(map(str, unknown))}")
        tables[name] = entry
    return tables


async def _has_rows(connection: AsyncConnection, table: sa.Table) -> bool:
    found = await connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1))
    return found is not None


def _decode_rows(
    table: sa.Table, names: Sequence[str], rows: Sequence[Any]
) -> Iterator[dict[str, Any]]:
    columns = [table.columns[name] for name in names]
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list) or len(row) != len(columns):
            raise BackupError(f"Table {table.name}, row {number}: expected {len(columns)} values")
        try:
            yield {c.key: _decode(c, v) for c, v in zip(columns, row, strict=True)}
        except (TypeError, ValueError) as error:
            raise BackupError(f"Table {table.name}, row {number}: {error}") from None


def _decode(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.JSON):
        return value
    expected: tuple[type, ...]
    what: str
    if isinstance(kind, sa.DateTime):
        parsed = datetime.fromisoformat(_text(column, value))
        if parsed.tzinfo is None:
            raise ValueError(f"{column.name}: {value!r} has no UTC offset")
        return parsed
    if isinstance(kind, sa.Date):
        return date.fromisoformat(_text(column, value))
    if isinstance(kind, sa.Time):
        return time.fromisoformat(_text(column, value))
    if isinstance(kind, sa.Boolean):
        expected, what = (bool,), "true or false"
    elif isinstance(kind, sa.Integer):
        expected, what = (int,), "an integer"
    elif isinstance(kind, sa.Float | sa.Numeric):
        expected, what = (int, float), "a number"
    elif isinstance(kind, sa.String):
        expected, what = (str,), "a string"
    else:
        return value
    if not isinstance(value, expected) or (bool not in expected and isinstance(value, bool)):
        raise ValueError(f"{column.name}: {value!r} is not {what}")
    return value


def _text(column: sa.Column[Any], value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{column.name}: {value!r} is not an ISO 8601 text")
    return value


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _reset_sequences(connection: AsyncConnection) -> None:
    """Move each serial key's sequence past the restored ids, so new rows don't collide."""
    for table in SQLModel.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        key = keys[0]
        sequence = sa.func.pg_get_serial_sequence(table.name, key.name)
        highest = sa.func.max(key)
        # setval(seq, max, true): the next id is max + 1; on an empty table (1, false): 1.
        await connection.execute(
            sa.select(
                sa.func.setval(sequence, sa.func.coalesce(highest, 1), highest.is_not(None))
            ).select_from(table)
        )
