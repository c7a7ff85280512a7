"""The hot reads use indexes: EXPLAIN of the SQL the services really send.

Each test runs a service call, records its statements, and asks the database for their
plans: ``EXPLAIN (FORMAT JSON)`` on PostgreSQL with ``enable_seqscan = off`` (with a few
rows a sequential scan is cheapest, so the test is about an index being *available*: if
none is, PostgreSQL still scans), ``EXPLAIN QUERY PLAN`` on SQLite.

SQLite picks among indexes by statistics; without them it guesses, and guesses wrong for
the slug lookup and an author's articles (it walks every published article). The tests
gather statistics with ``ANALYZE`` first, as a database in use has them (``PRAGMA
optimize``); PostgreSQL's autovacuum does the same on its own.
"""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from models import ArticleAuthor, ArticleStatus, ArticleTag
from models.columns import utcnow
from models.db import SessionMaker, is_sqlite
from models.services import article_loaders, articles
from models.services.pagination import PageArgs
from models.viewer import ANONYMOUS, Role, Viewer
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

EDITOR = Viewer(role=Role.EDITOR, token_name="test")
LIST_COLUMNS = frozenset({"title", "slug", "lead", "published_at"})
SIZE = 60


@pytest.fixture
async def library(sessionmaker: SessionMaker, engine: AsyncEngine) -> dict[str, Any]:
    """Sixty articles by ten authors with five tags, a sixth of them drafts; two match a search."""
    authors = [await make_author(sessionmaker) for _ in range(10)]
    tags = [await make_tag(sessionmaker) for _ in range(5)]
    now = utcnow()
    for i in range(SIZE):
        words = "harvest festival" if i in (7, 41) else f"district news {i}"
        await make_article(
            sessionmaker,
            slug=f"story-{i}",
            status=ArticleStatus.DRAFT if i % 6 == 0 else ArticleStatus.PUBLISHED,
            published_at=None if i % 6 == 0 else now - timedelta(hours=i + 1),
            authors=[authors[i % 10]],
            tags=[tags[i % 5]],
            body=f"Body about {words}.",
        )
    async with engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE")
    return {"authors": authors, "tags": tags}


Statement = tuple[str, Any]


@asynccontextmanager
async def recording(engine: AsyncEngine) -> AsyncIterator[list[Statement]]:
    statements: list[Statement] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)


async def plans(
    engine: AsyncEngine, sessionmaker: SessionMaker, call: Callable[[Any], Awaitable[Any]]
) -> list[str]:
    """Run ``call(session)``; the plan of each SELECT it sent, as one text per statement."""
    async with recording(engine) as statements:
        async with sessionmaker() as session:
            await call(session)
    assert statements, "the call sent no SELECT"
    found = []
    async with engine.connect() as connection:
        if is_sqlite(engine):
            for statement, parameters in statements:
                result = await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
                found.append("\n".join(row[-1] for row in result.all()))
        else:
            await connection.exec_driver_sql("SET enable_seqscan = off")
            for statement, parameters in statements:
                result = await connection.exec_driver_sql(
                    f"EXPLAIN (FORMAT JSON) {statement}", parameters
                )
                plan = result.scalar_one()
                found.append(json.dumps(plan if isinstance(plan, list) else json.loads(plan)))
    return found


def pg_nodes(plan: str) -> list[dict[str, Any]]:
    """Every node of a JSON plan, depth first."""
    nodes: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return nodes


def pg_indexes(plan: str) -> set[str]:
    return {node["Index Name"] for node in pg_nodes(plan) if "Index Name" in node}


def pg_node_types(plan: str) -> set[str]:
    return {node["Node Type"] for node in pg_nodes(plan)}


def assert_no_full_scan(plan: str, engine: AsyncEngine) -> None:
    if is_sqlite(engine):
        scans = [line for line in plan.splitlines() if line.startswith("SCAN article ")]
        assert not [line for line in scans if "INDEX" not in line], plan
    else:
        assert "Seq Scan" not in pg_node_types(plan), plan


def list_page(**page: Any) -> Callable[[Any], Awaitable[Any]]:
    async def call(session: Any) -> Any:
        return await articles.list_articles(
            session, viewer=ANONYMOUS, now=utcnow(), page=PageArgs(**page), columns=LIST_COLUMNS
        )

    return call


async def test_list_page_walks_the_published_index_in_order(engine, sessionmaker, library):
    # when
    [plan] = await plans(engine, sessionmaker, list_page(first=20))

    # then: the newest published rows come straight off the index, no sort
    assert_no_full_scan(plan, engine)
    if is_sqlite(engine):
        assert "USING INDEX ix_article_status_published_at" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert pg_indexes(plan) == {"ix_article_status_published_at"}, plan
        assert "Sort" not in pg_node_types(plan), plan


async def test_a_later_page_starts_inside_the_index(engine, sessionmaker, library):
    # given: the cursor at the end of the first page
    async with sessionmaker() as session:
        first = await list_page(first=20)(session)

    # when
    [plan] = await plans(engine, sessionmaker, list_page(first=20, after=first.cursors[-1]))

    # then: the cursor is part of the index condition, not a filter over the newer rows
    assert_no_full_scan(plan, engine)
    if is_sqlite(engine):
        assert "USING INDEX ix_article_status_published_at" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        # (with a few rows PostgreSQL may prefer a bitmap scan and a sort of what it finds)
        [scan] = [node for node in pg_nodes(plan) if "Index Name" in node]
        assert scan["Index Name"] == "ix_article_status_published_at", plan
        assert "ROW(published_at, id) <" in scan["Index Cond"], plan
        assert "Filter" not in scan, plan


async def test_article_by_slug_uses_the_slug_index(engine, sessionmaker, library):
    # when
    [plan] = await plans(
        engine,
        sessionmaker,
        lambda session: articles.get_article(
            session, viewer=ANONYMOUS, now=utcnow(), slug="story-13", columns=LIST_COLUMNS
        ),
    )

    # then
    assert_no_full_scan(plan, engine)
    if is_sqlite(engine):
        assert "(slug=?)" in plan, plan
    else:
        assert pg_indexes(plan) == {"uq_article_slug_language"}, plan


@pytest.mark.parametrize("viewer", [ANONYMOUS, EDITOR], ids=["anonymous", "editor"])
async def test_search_uses_an_index(engine, sessionmaker, library, viewer):
    # when
    async def search(session: Any) -> Any:
        page = await articles.list_articles(
            session,
            viewer=viewer,
            now=utcnow(),
            page=PageArgs(first=20),
            search="harvest festival",
            columns=LIST_COLUMNS,
        )
        assert [row.slug for row in page.items] == ["story-7", "story-41"]

    [plan] = await plans(engine, sessionmaker, search)

    # then: the words are looked up in the full-text index. PostgreSQL may instead walk the
    # published articles by date when that looks cheaper (it does with a few rows, and with
    # common words); without the visibility condition (an editor) only the GIN index is left.
    assert_no_full_scan(plan, engine)
    if is_sqlite(engine):
        assert "SCAN article_fts VIRTUAL TABLE INDEX" in plan, plan
    elif viewer is EDITOR:
        assert pg_indexes(plan) == {"ix_article_search"}, plan
    else:
        assert pg_indexes(plan) & {"ix_article_search", "ix_article_status_published_at"}, plan


@pytest.mark.parametrize("link", [ArticleAuthor, ArticleTag], ids=["author", "tag"])
async def test_articles_of_authors_and_tags_start_from_the_link_index(
    engine, sessionmaker, library, link
):
    # given
    parents = library["authors"] if link is ArticleAuthor else library["tags"]
    index = "ix_article_author_author_id" if link is ArticleAuthor else "ix_article_tag_tag_id"

    # when
    [plan] = await plans(
        engine,
        sessionmaker,
        lambda session: article_loaders.articles_of_parents(
            session,
            viewer=ANONYMOUS,
            now=utcnow(),
            link=link,
            parent_ids=[parent.id for parent in parents[:3]],
            page=PageArgs(first=10),
            columns=LIST_COLUMNS,
        ),
    )

    # then: no table is read whole. With many articles both databases start from the links
    # of those parents (the 2,000-article bench database does); with a few they may walk the
    # published articles by date and look each one up in the link table's key instead.
    assert_no_full_scan(plan, engine)
    if is_sqlite(engine):
        assert f"SEARCH {link.__tablename__} USING" in plan, plan
        assert not [line for line in plan.splitlines() if line.startswith("SCAN article_")], plan
    else:
        assert index in pg_indexes(plan), plan


async def test_bylines_and_tags_of_a_page_use_the_link_keys(engine, sessionmaker, library):
    # given
    async with sessionmaker() as session:
        page = await list_page(first=20)(session)
    ids = article_loaders.ids_of(page.items)

    # when
    found = await plans(
        engine,
        sessionmaker,
        lambda session: article_loaders.related_of_articles(
            session, article_ids=ids, authors=True, tags=True
        ),
    )

    # then: one statement each, reading the link table through an index (its primary key
    # starts with article_id; with ten authors PostgreSQL may start from them instead)
    bylines, tags = found
    for plan, link in ((bylines, "article_author"), (tags, "article_tag")):
        assert_no_full_scan(plan, engine)
        if is_sqlite(engine):
            assert f"SEARCH {link} USING" in plan, plan
        else:
            assert any(link in index for index in pg_indexes(plan)), plan


async def test_articles_of_authors_page_each_author_apart_on_postgresql(
    engine, sessionmaker, library
):
    if is_sqlite(engine):
        pytest.skip("SQLite has no LATERAL: it numbers every row with a window function")

    # when
    [plan] = await plans(
        engine,
        sessionmaker,
        lambda session: article_loaders.articles_of_parents(
            session,
            viewer=ANONYMOUS,
            now=utcnow(),
            link=ArticleAuthor,
            parent_ids=[author.id for author in library["authors"][:3]],
            page=PageArgs(first=10),
            columns=LIST_COLUMNS,
        ),
    )

    # then: a page per author, each with its own LIMIT. (How a busy author's page is read,
    # walking the published index backwards, depends on sizes: checked on the 1M bench data.)
    nodes = pg_nodes(plan)
    assert_no_full_scan(plan, engine)
    assert "WindowAgg" not in pg_node_types(plan), plan
    assert any(node.get("Function Name") == "unnest" for node in nodes), plan
    appends = [node for node in nodes if node["Node Type"] == "Append"]
    assert appends and all(
        child["Node Type"] == "Limit" for node in appends for child in node["Plans"]
    ), plan
