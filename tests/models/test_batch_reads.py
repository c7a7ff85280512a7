"""Batch reads by a list of keys (``models.db.one_of``): the rows of exactly those keys, in
one statement whose text does not depend on how many keys there are on PostgreSQL."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Tag
from models.db import SessionMaker
from models.services import catalog
from tests.conftest import QueryCounter
from tests.factories import make_tag

pytestmark = pytest.mark.anyio


async def test_a_batch_read_finds_exactly_its_keys(
    engine: AsyncEngine, sessionmaker: SessionMaker, count_queries: QueryCounter
) -> None:
    # given: five tags
    tags = [await make_tag(sessionmaker, f"Tag {i}") for i in range(5)]
    ids = [tag.id for tag in tags if tag.id is not None]
    assert len(ids) == 5
    missing = max(ids) + 100

    async def read(keys: list[int]) -> list[str | None]:
        async with sessionmaker() as session:
            found = await catalog.rows_by_ids(session, Tag, ids=keys)
        return [None if row is None else row.name for row in found]

    # when: read by one key, by several (repeated, missing), by none
    count_queries.reset()
    one = await read([ids[2]])
    several = await read([ids[4], missing, ids[0], ids[4]])
    none = await read([])

    # then: each key's row in key order, None where there is none
    assert one == ["Tag 2"]
    assert several == ["Tag 4", None, "Tag 0", "Tag 4"]
    assert none == []
    reads = [s for s in count_queries.statements if "FROM tag" in s]
    assert len(reads) == 3
    if engine.dialect.name == "postgresql":
        assert len(set(reads)) == 1  # one statement for any number of keys
        assert "ANY" in reads[0]
