"""Reads straight through asyncpg: the services' statements, the same rows, shapes compiled once."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

from models import ArticleStatus, rawdb
from models.columns import utcnow
from models.db import SessionMaker, is_sqlite
from models.rawdb import RawReader
from models.services import article_loaders, articles
from models.services.article_json import with_related
from models.services.pagination import Ordering, PageArgs, Window
from models.viewer import ANONYMOUS
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

COLUMNS = frozenset({"title", "slug", "published_at"})


def page(after: str | None = None, first: int = 2) -> tuple[Select[Any], Ordering, Window]:
    return articles.page_statement(
        viewer=ANONYMOUS,
        now=utcnow(),
        page=PageArgs(first=first, after=after),
        filter=None,
        search=None,
        order=articles.ArticleOrder.PUBLISHED_AT_DESC,
        columns=COLUMNS,
        dialect="postgresql",
    )


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[RawReader]:
    found = RawReader.for_engine(engine)
    if found is None:
        assert is_sqlite(engine)  # SQLite has none: the compiled path is off there
        pytest.skip("SQLite: no raw reads")
    yield found
    await found.close()


async def test_sqlite_has_no_raw_reader(engine: AsyncEngine) -> None:
    assert (RawReader.for_engine(engine) is None) == is_sqlite(engine)


async def test_reads_the_rows_the_service_reads(
    reader: RawReader, sessionmaker: SessionMaker
) -> None:
    now = utcnow()
    for hours in range(1, 6):
        await make_article(sessionmaker, published_at=now - timedelta(hours=hours))
    await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    await make_article(sessionmaker, published_at=now + timedelta(hours=1))  # scheduled
    async with sessionmaker() as session:
        expected = await articles.list_articles(
            session, viewer=ANONYMOUS, now=utcnow(), page=PageArgs(first=2), columns=COLUMNS
        )
    stmt, _ordering, _window = page()
    rows = await reader.fetch(stmt)
    assert [row["id"] for row in rows[:2]] == [item.id for item in expected.items]
    assert [row["title"] for row in rows[:2]] == [item.title for item in expected.items]
    assert [row["published_at"] for row in rows[:2]] == [
        item.published_at for item in expected.items
    ]
    assert len(rows) == 3  # the extra row that tells there is a next page


async def test_one_shape_is_compiled_once_with_each_requests_values(
    reader: RawReader, sessionmaker: SessionMaker
) -> None:
    now = utcnow()
    for hours in range(1, 6):
        await make_article(sessionmaker, published_at=now - timedelta(hours=hours))
    stmt, _ordering, _window = page(first=1)
    first = await reader.fetch(stmt)
    stmt, _ordering, _window = page(first=3)
    three = await reader.fetch(stmt)
    assert (len(first), len(three)) == (2, 4)
    assert len(reader.shapes) == 1


async def test_bylines_and_tags_come_in_the_services_order(
    reader: RawReader, sessionmaker: SessionMaker
) -> None:
    zara, adam = await make_author(sessionmaker, "Zara"), await make_author(sessionmaker, "Adam")
    beta, alpha = await make_tag(sessionmaker, "Beta"), await make_tag(sessionmaker, "Alpha")
    article = await make_article(sessionmaker, authors=[zara, adam], tags=[beta, alpha])
    lonely = await make_article(sessionmaker)
    assert article.id is not None and lonely.id is not None
    stmt, _ordering, _window = page(first=5)
    rows = await reader.fetch(with_related(stmt, authors=("id", "name"), tags=("name", "slug")))
    by_id = {row["id"]: row for row in rows}
    async with sessionmaker() as session:
        related = await article_loaders.related_of_articles(
            session, article_ids=[article.id, lonely.id], authors=True, tags=True
        )
    assert related.authors is not None and related.tags is not None
    assert (
        orjson.loads(by_id[article.id]["authors"])
        == [[a.id, a.name] for a in related.authors[article.id]]
        == [[zara.id, "Zara"], [adam.id, "Adam"]]
    )
    assert (
        orjson.loads(by_id[article.id]["tags"])
        == [[t.name, t.slug] for t in related.tags[article.id]]
        == [["Alpha", alpha.slug], ["Beta", beta.slug]]
    )
    assert orjson.loads(by_id[lonely.id]["authors"]) == []
    assert orjson.loads(by_id[lonely.id]["tags"]) == []


async def test_only_columns_that_read_back_the_same_may_be_json() -> None:
    stmt, _ordering, _window = page()
    with pytest.raises(ValueError, match="created_at"):
        with_related(stmt, authors=("created_at",))


async def test_closing_does_not_wait_for_a_read_that_never_ends(
    reader: RawReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rawdb, "CLOSE_TIMEOUT_SECONDS", 0.5)
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await reader.fetch(sa.select(sa.func.pg_sleep(30)))

    task = asyncio.create_task(slow())
    await started.wait()
    await asyncio.sleep(0.3)  # the statement is running
    before = time.monotonic()
    await reader.close()
    assert time.monotonic() - before < 5
    with pytest.raises(Exception):  # noqa: B017  # the cut-off read fails, as it must
        await task
