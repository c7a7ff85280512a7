"""The migrations build exactly the schema the models describe, on both databases.

Autogenerate's comparison is the judge: after ``upgrade`` it must find nothing to
change. The full-text search objects are written by hand per dialect and hidden
from autogenerate by ``include_object`` in ``models/migrations/env.py``; that module
runs migrations when imported, so the filter is lifted out of its source instead.
"""

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)
from models.db import make_engine
from models.migrate import MIGRATIONS, alembic_config, is_current, upgrade

pytestmark = pytest.mark.anyio

IncludeObject = Callable[[object, str | None, str, bool, object], bool]


def env_include_object() -> IncludeObject:
    """``include_object`` and the names it uses, compiled from env.py's own source."""
    env = MIGRATIONS / "env.py"
    tree = ast.parse(env.read_text(encoding="utf-8"))
    wanted = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name == "include_object")
        or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "HAND_WRITTEN" for t in node.targets)
        )
    ]
    assert len(wanted) == 2, "env.py no longer defines HAND_WRITTEN and include_object"
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(body=wanted, type_ignores=[]), str(env), "exec"), namespace)
    return namespace["include_object"]


INCLUDE_OBJECT = env_include_object()


async def differences(engine: AsyncEngine, include_object: IncludeObject | None) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        opts: dict[str, Any] = {"compare_type": True, "compare_server_default": True}
        if include_object is not None:
            opts["include_object"] = include_object
        context = MigrationContext.configure(connection, opts=opts)
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


def names_in(diffs: list[Any]) -> set[str]:
    """The schema object names a list of autogenerate differences touches."""
    names: set[str] = set()
    for diff in diffs:
        for op in diff if isinstance(diff, list) else [diff]:  # column changes come in lists
            kind, *rest = op
            if kind in ("add_column", "remove_column"):
                names.add(rest[2].name)
            else:
                names.add(getattr(rest[0], "name", str(rest[0])))
    return names


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def versions(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        result = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return list(result.scalars())


def head() -> str:
    [revision] = ScriptDirectory.from_config(alembic_config()).get_heads()
    return revision


async def test_migrated_schema_matches_the_models(engine):
    # when
    diffs = await differences(engine, INCLUDE_OBJECT)

    # then
    assert diffs == []


async def test_the_filter_hides_only_the_hand_written_search_objects(engine):
    # when: compared without the filter
    diffs = await differences(engine, None)

    # then: autogenerate sees the search objects, and nothing else
    hidden = names_in(diffs)
    assert hidden, "the hand-written full-text search objects are missing"
    assert all(not INCLUDE_OBJECT(None, name, "", True, None) for name in hidden), hidden


async def test_every_table_of_the_models_exists(engine):
    # when
    tables = await table_names(engine)

    # then
    assert set(SQLModel.metadata.tables) <= tables


async def test_upgrade_is_idempotent(engine):
    # given
    tables_before = await table_names(engine)

    # when
    await upgrade(engine)
    await upgrade(engine)

    # then
    assert await table_names(engine) == tables_before
    assert await versions(engine) == [head()]
    assert await is_current(engine) is True
    assert await differences(engine, INCLUDE_OBJECT) == []


async def test_is_current_after_upgrade(engine):
    assert await is_current(engine) is True


async def test_is_current_is_false_on_an_empty_database(tmp_path: Path):
    # given
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        # when / then
        assert await is_current(engine) is False
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_back_up(tmp_path: Path):
    # given: SQLite only, a database of this test's own (the PostgreSQL one is shared)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}")

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    try:
        await upgrade(engine)

        # when
        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        tables_after_downgrade = await table_names(engine)
        await upgrade(engine)

        # then: nothing left behind, and the schema comes back whole
        assert tables_after_downgrade == {"alembic_version"}
        assert await is_current(engine) is True
        assert await differences(engine, INCLUDE_OBJECT) == []
    finally:
        await engine.dispose()
