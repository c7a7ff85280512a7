"""Each parent's page read in one batch equals the page read for that parent alone.

On PostgreSQL a batch has two ways per parent (``pagination._lateral_pages``): sort a sparse
parent's rows, walk the ordering's index for a dense one. ``SPARSE_PARENT_ROWS`` is set so
that every parent goes one way, then the other; on SQLite both runs take the window path.
"""

from datetime import timedelta
from typing import Any

import pytest

from models import ArticleAuthor, ArticleStatus
from models.columns import utcnow
from models.db import SessionMaker
from models.services import article_loaders, articles, pagination
from models.services.articles import ArticleFilter, ArticleOrder
from models.services.pagination import PageArgs
from models.viewer import ANONYMOUS
from tests.factories import make_article, make_author

pytestmark = pytest.mark.anyio

COLUMNS = frozenset({"title", "slug", "published_at"})


@pytest.mark.parametrize("sparse_rows", [0, 1000], ids=["dense", "sparse"])
@pytest.mark.parametrize("order", list(ArticleOrder))
async def test_a_batch_pages_each_parent_as_alone(
    sessionmaker: SessionMaker, monkeypatch: pytest.MonkeyPatch, sparse_rows: int, order: Any
) -> None:
    # given: authors with 0, 1 and 7 visible articles (plus drafts and shared bylines,
    # some undated, some at the same instant)
    monkeypatch.setattr(pagination, "SPARSE_PARENT_ROWS", sparse_rows)
    none, one, many = [await make_author(sessionmaker) for _ in range(3)]
    now = utcnow()
    await make_article(sessionmaker, status=ArticleStatus.DRAFT, authors=[none, many])
    await make_article(sessionmaker, published_at=now - timedelta(hours=1), authors=[one, many])
    for i in range(6):
        await make_article(
            sessionmaker, published_at=now - timedelta(hours=2 + i // 2), authors=[many]
        )
    parents = [many, none, one, many]
    ids = [parent.id for parent in parents]
    assert None not in ids

    async def batch(page: PageArgs) -> list[Any]:
        async with sessionmaker() as session:
            return await article_loaders.articles_of_parents(
                session,
                viewer=ANONYMOUS,
                now=now,
                link=ArticleAuthor,
                parent_ids=[id for id in ids if id is not None],
                page=page,
                order=order,
                columns=COLUMNS,
            )

    async def alone(slug: str, page: PageArgs) -> Any:
        async with sessionmaker() as session:
            return await articles.list_articles(
                session,
                viewer=ANONYMOUS,
                now=now,
                page=page,
                filter=ArticleFilter(author=slug),
                order=order,
                columns=COLUMNS,
            )

    def shape(page: Any) -> Any:
        return ([row.id for row in page.items], page.cursors, page.has_next, page.has_previous)

    # when / then: first pages, then pages around a cursor inside the big author's list
    full = await alone(many.slug, PageArgs(first=100))
    middle = full.cursors[3]
    for page in (
        PageArgs(first=3),
        PageArgs(first=0),
        PageArgs(last=2),
        PageArgs(first=2, after=middle),
        PageArgs(last=2, before=middle),
        PageArgs(after=full.cursors[1], before=full.cursors[5]),
    ):
        got = await batch(page)
        expected = [await alone(parent.slug, page) for parent in parents]
        assert [shape(p) for p in got] == [shape(p) for p in expected], page


async def test_a_first_page_statement_kept_between_reads_takes_each_reads_instant(
    sessionmaker: SessionMaker,
) -> None:
    # given: an author with an article that goes public in an hour
    author = await make_author(sessionmaker)
    now = utcnow()
    await make_article(sessionmaker, published_at=now + timedelta(hours=1), authors=[author])
    assert author.id is not None

    async def titles_at(when: Any) -> list[str]:
        async with sessionmaker() as session:
            [page] = await article_loaders.articles_of_parents(
                session,
                viewer=ANONYMOUS,
                now=when,
                link=ArticleAuthor,
                parent_ids=[author.id],  # type: ignore[list-item]
                page=PageArgs(first=5),
                columns=COLUMNS,
            )
        return [row.title for row in page.items]

    # when: the same page asked now and after that hour (the same statement, kept)
    before, after = await titles_at(now), await titles_at(now + timedelta(hours=2))

    # then
    assert before == []
    assert len(after) == 1
