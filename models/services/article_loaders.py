"""Batch reads of articles and what hangs off them, one statement per batch: the
DataLoader batch functions (results in key order) and the planner's page-wide reads.

Each takes the ids of a batch (articles, authors, tags or translation groups) and reads
them with one statement whatever their number (``models.db.one_of``), through the same
visibility, orderings and column projection as the single reads of
``models.services.articles``.
"""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Article, ArticleAuthor, ArticleTag
from models.author import Author, AuthorRead
from models.columns import NOW
from models.db import dialect_of, one_of, one_of_parameter, table_of
from models.revision import ArticleCorrection, ArticleRevision
from models.services import pagination
from models.services.articles import (
    ORDERINGS,
    ArticleOrder,
    ArticleRead,
    article_select,
    ordering_keys,
    read_rows,
    visible,
    visible_to,
)
from models.services.pagination import (
    PARENT_IDS,
    Page,
    PageArgs,
    Window,
    check_page_args,
    pages_by_parent,
    paginate_per_parent,
)
from models.tag import Tag, TagRead
from models.viewer import Viewer


async def articles_by_ids(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    ids: Sequence[int],
    columns: frozenset[str] | None = None,
) -> list[ArticleRead | None]:
    stmt = article_select(columns).where(
        one_of(session, col(Article.id), ids), visible_to(viewer, now)
    )
    found = {article.id: article for article in await read_rows(session, stmt, columns)}
    return [found.get(id) for id in ids]


# The order of a byline and of an article's tags, for every read of them (here, and the
# JSON arrays of models/services/article_json.py).
BYLINE_ORDER: tuple[Any, ...] = (col(ArticleAuthor.position), col(Author.id))
TAG_ORDER: tuple[Any, ...] = (col(Tag.name), col(Tag.id))


async def authors_of_articles(
    session: AsyncSession, *, article_ids: Sequence[int]
) -> list[list[AuthorRead]]:
    """Each article's byline, in byline order."""
    return await _linked(session, ArticleAuthor, Author, BYLINE_ORDER, article_ids)


async def _linked(
    session: AsyncSession,
    link: type[ArticleAuthor] | type[ArticleTag],
    model: type[Author] | type[Tag],
    order: tuple[Any, ...],
    article_ids: Sequence[int],
) -> list[list[Any]]:
    """Each article's rows of ``model`` through ``link``, in ``order``: plain rows of the
    table's columns (no ORM instances: a page's tags are hundreds of them)."""
    stmt = _linked_statement(link, model, order, dialect_of(session))
    found: dict[int, list[Any]] = {id: [] for id in article_ids}
    connection = await session.connection()
    for row in (await connection.execute(stmt, {_ARTICLE_IDS: list(article_ids)})).all():
        found[row.article_id].append(row)
    return [found[id] for id in article_ids]


_ARTICLE_IDS = "vestnik_article_ids"


@functools.lru_cache(maxsize=16)
def _linked_statement(
    link: type[ArticleAuthor] | type[ArticleTag],
    model: type[Author] | type[Tag],
    order: tuple[Any, ...],
    dialect: str,
) -> Select[Any]:
    """Built once per relation and database: bylines and tags are read on every page."""
    table, linked = table_of(model), table_of(link)
    other = linked.c.author_id if link is ArticleAuthor else linked.c.tag_id
    return (
        sa.select(linked.c.article_id, *table.columns)
        .join(table, table.c.id == other)
        .where(one_of_parameter(dialect, linked.c.article_id, _ARTICLE_IDS))
        .order_by(linked.c.article_id, *order)
    )


@dataclass(frozen=True)
class Related:
    """Bylines and tags of a batch of articles, read together with them.

    ``None`` where the read did not ask for them; otherwise every article id of the
    batch has an entry (an empty list when it has none).
    """

    authors: dict[int, list[AuthorRead]] | None = None
    tags: dict[int, list[TagRead]] | None = None


NOTHING_RELATED = Related()


def ids_of(rows: Iterable[ArticleRead]) -> list[int]:
    """The primary keys of read articles (stored rows always have one)."""
    ids = [row.id for row in rows]
    assert None not in ids
    return cast(list[int], ids)


async def related_of_articles(
    session: AsyncSession, *, article_ids: Sequence[int], authors: bool, tags: bool
) -> Related:
    """Bylines and/or tags of a whole page at once: one query each, whatever the page size."""
    ids = list(dict.fromkeys(article_ids))
    if not ids or not (authors or tags):
        empty: dict[int, list[Any]] = {id: [] for id in ids}
        return Related(authors=dict(empty) if authors else None, tags=dict(empty) if tags else None)
    bylines = await authors_of_articles(session, article_ids=ids) if authors else None
    tagged = await tags_of_articles(session, article_ids=ids) if tags else None
    return Related(
        authors=dict(zip(ids, bylines, strict=True)) if bylines is not None else None,
        tags=dict(zip(ids, tagged, strict=True)) if tagged is not None else None,
    )


async def tags_of_articles(
    session: AsyncSession, *, article_ids: Sequence[int]
) -> list[list[TagRead]]:
    """Each article's tags, in tag order."""
    return await _linked(session, ArticleTag, Tag, TAG_ORDER, article_ids)


async def translations_of_groups(
    session: AsyncSession, *, viewer: Viewer, now: datetime, groups: Sequence[str]
) -> list[list[Article]]:
    """All visible articles of each translation group, by language."""
    stmt = (
        select(Article)
        .where(one_of(session, col(Article.translation_group), groups), visible_to(viewer, now))
        .order_by(col(Article.language), col(Article.id))
    )
    members: dict[str, list[Article]] = {group: [] for group in groups}
    for article in (await session.exec(stmt)).all():
        assert article.translation_group is not None
        members[article.translation_group].append(article)
    return [members[group] for group in groups]


async def articles_of_parents(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    link: type[ArticleAuthor] | type[ArticleTag],
    parent_ids: Sequence[int],
    page: PageArgs,
    order: ArticleOrder = ArticleOrder.PUBLISHED_AT_DESC,
    columns: frozenset[str] | None = None,
) -> list[Page[ArticleRead]]:
    """A page of articles for each author (``ArticleAuthor``) or tag (``ArticleTag``)."""
    ordering = ORDERINGS[order]
    window = check_page_args(page, ordering)
    lateral = dialect_of(session) == "postgresql"
    if window.after is None and window.before is None:
        # A first (or last) page, the common case: one statement per shape, built once.
        shape = (window.limit, window.backwards, viewer.sees_unpublished, lateral)
        # The sparse/dense threshold is part of the statement (tests move it).
        query = _first_pages(link, columns, order, *shape, pagination.SPARSE_PARENT_ROWS)
    else:
        query = _pages(link, columns, order, window, viewer.sees_unpublished, lateral)
    params = {PARENT_IDS: list(dict.fromkeys(parent_ids)), NOW.key: now}
    rows = await read_rows(session, query, columns, params)
    return pages_by_parent(rows, parent_ids, ordering, window, flat=columns is not None)


@functools.lru_cache(maxsize=256)
def _first_pages(
    link: type[ArticleAuthor] | type[ArticleTag],
    columns: frozenset[str] | None,
    order: ArticleOrder,
    limit: int,
    backwards: bool,
    sees_unpublished: bool,
    lateral: bool,
    _sparse_parent_rows: int,
) -> Select[Any]:
    """``_pages`` for a page without cursors, kept: building it (the lateral pages'
    subqueries and their column collections) took about a tenth of an authors overview's
    time, every request."""
    window = Window(limit, backwards, None, None)
    return _pages(link, columns, order, window, sees_unpublished, lateral)


def _pages(
    link: type[ArticleAuthor] | type[ArticleTag],
    columns: frozenset[str] | None,
    order: ArticleOrder,
    window: Window,
    sees_unpublished: bool,
    lateral: bool,
) -> Select[Any]:
    """The statement of ``articles_of_parents``, taking the parents' ids (``PARENT_IDS``)
    and the instant (``NOW``) as parameters."""
    stmt = _articles_of(link, columns, order, visible(sees_unpublished, NOW))
    entity = Article if columns is None else None
    ordering = ORDERINGS[order]
    return paginate_per_parent(stmt, entity, _parent(link), ordering, window, lateral=lateral)


def _articles_of(
    link: type[ArticleAuthor] | type[ArticleTag],
    columns: frozenset[str] | None,
    order: ArticleOrder,
    visible: ColumnElement[bool],
) -> Select[Any]:
    return (
        article_select(columns, *ordering_keys(ORDERINGS[order]))
        .join(link, col(link.article_id) == col(Article.id))
        .where(visible)
    )


def _parent(link: type[ArticleAuthor] | type[ArticleTag]) -> Any:
    return col(link.author_id) if link is ArticleAuthor else col(link.tag_id)  # type: ignore[union-attr]


async def count_articles_of_parents(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    link: type[ArticleAuthor] | type[ArticleTag],
    parent_ids: Sequence[int],
) -> list[int]:
    """How many visible articles each author or tag has, in one grouped query."""
    parent = _parent(link)
    stmt = (
        select(parent, sa.func.count())
        .join(Article, col(Article.id) == col(link.article_id))
        .where(one_of(session, parent, parent_ids), visible_to(viewer, now))
        .group_by(parent)
    )
    counts = dict((await session.exec(stmt)).all())
    return [counts.get(id, 0) for id in parent_ids]


async def corrections_of_articles(
    session: AsyncSession, *, article_ids: Sequence[int]
) -> list[list[ArticleCorrection]]:
    """Each article's public corrections, oldest first."""
    stmt = (
        select(ArticleCorrection)
        .where(one_of(session, col(ArticleCorrection.article_id), article_ids))
        .order_by(col(ArticleCorrection.created_at), col(ArticleCorrection.id))
    )
    grouped: dict[int, list[ArticleCorrection]] = {id: [] for id in article_ids}
    for row in (await session.exec(stmt)).all():
        grouped[row.article_id].append(row)
    return [grouped[id] for id in article_ids]


async def revisions_of_articles(
    session: AsyncSession, *, article_ids: Sequence[int]
) -> list[list[ArticleRevision]]:
    """Each article's revisions, newest first."""
    stmt = (
        select(ArticleRevision)
        .where(one_of(session, col(ArticleRevision.article_id), article_ids))
        .order_by(col(ArticleRevision.version).desc())
    )
    grouped: dict[int, list[ArticleRevision]] = {id: [] for id in article_ids}
    for row in (await session.exec(stmt)).all():
        grouped[row.article_id].append(row)
    return [grouped[id] for id in article_ids]
