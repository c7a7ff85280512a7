"""Alembic environment.

``models.migrate.upgrade(engine)`` hands an open connection in through
``config.attributes["connection"]``. Run as plain ``alembic`` (see alembic.ini),
the URL comes from ``VESTNIK_DATABASE_URL`` or the embedded default.
"""

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)

config = context.config
target_metadata = SQLModel.metadata


# Full-text search objects are written by hand in the migrations (they differ per
# dialect); autogenerate must not propose dropping them.
HAND_WRITTEN = {"search_vector", "ix_article_search"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if name in HAND_WRITTEN or (name or "").startswith("article_fts"):
        return False
    return True


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    do_run_migrations(connection)
else:
    url = os.environ.get("VESTNIK_DATABASE_URL", "sqlite+aiosqlite:///./vestnik.db")
    asyncio.run(run_async_migrations(url))
