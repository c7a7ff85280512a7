"""Reading articles: visibility, filters, search, ordering; one article or one page of them.

Every query that can return an article goes through ``visible_to`` so that the
public never sees a draft, an archived article or one scheduled for later.

Reads may name the columns they need (``columns``, plain column names): then they
select just those, plus the primary key and the ordering's keys, as lightweight rows
read by attribute (``row.title``), so a list page never reads ``body`` and builds no
ORM objects. Without ``columns`` they return whole ``Article`` objects. Reads of many at
once (DataLoader batches, pages per author or tag) are in ``models.services.article_loaders``.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import (
    Article,
    ArticleAuthor,
    ArticleSlugAlias,
    ArticleStatus,
    ArticleTag,
    Language,
)
from models.author import Author
from models.columns import is_storable
from models.db import dialect_of, table_of
from models.errors import InvalidInput
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    S,
    Window,
    check_page_args,
    make_page,
    paginate,
)
from models.tag import Tag
from models.viewer import Viewer


class ArticleOrder(StrEnum):
    PUBLISHED_AT_DESC = "PUBLISHED_AT_DESC"
    PUBLISHED_AT_ASC = "PUBLISHED_AT_ASC"
    TITLE_ASC = "TITLE_ASC"
    UPDATED_AT_DESC = "UPDATED_AT_DESC"


_ID_DESC = OrderKey("id", col(Article.id), descending=True)
_ID_ASC = OrderKey("id", col(Article.id))
_PUBLISHED = col(Article.published_at)

ORDERINGS = {
    ArticleOrder.PUBLISHED_AT_DESC: Ordering(
        "pd", (OrderKey("published_at", _PUBLISHED, True, "datetime", True), _ID_DESC)
    ),
    ArticleOrder.PUBLISHED_AT_ASC: Ordering(
        "pa", (OrderKey("published_at", _PUBLISHED, False, "datetime", True), _ID_ASC)
    ),
    ArticleOrder.TITLE_ASC: Ordering(
        "ta", (OrderKey("title", col(Article.title), False, "str"), _ID_ASC)
    ),
    ArticleOrder.UPDATED_AT_DESC: Ordering(
        "ud", (OrderKey("updated_at", col(Article.updated_at), True, "datetime"), _ID_DESC)
    ),
}


_ARTICLE_TABLE = table_of(Article)
ARTICLE_COLUMNS: frozenset[str] = frozenset(_ARTICLE_TABLE.columns.keys())

ArticleRow = sa.Row[Any]
"""Some columns of one article, by attribute name; what a read with ``columns`` returns."""
ArticleRead = Article | ArticleRow


def article_select(columns: frozenset[str] | None, *keys: str) -> Select[Any]:
    """``SELECT article`` (whole objects), or just ``columns`` + the primary key + ``keys``."""
    if columns is None:
        return select(Article)
    names = columns | {"id", *keys}
    unknown = names - ARTICLE_COLUMNS
    if unknown:
        raise ValueError(f"not article columns: {sorted(unknown)}")
    # Table order, so equal column sets make equal statements (SQLAlchemy caches them).
    return sa.select(*(column for column in _ARTICLE_TABLE.columns if column.key in names))


async def read_rows(
    session: AsyncSession,
    stmt: Select[Any],
    columns: frozenset[str] | None,
    params: Mapping[str, Any] | None = None,
) -> Sequence[Any]:
    """The rows of an ``article_select(columns, ...)`` statement: ``Article`` objects
    (``columns`` None) or plain rows, read on the session's connection: the ORM's result
    handling adds nothing to rows (about 0.5 ms a page of 200)."""
    if columns is not None:
        connection = await session.connection()
        found: Sequence[Any] = (await connection.execute(stmt, params)).all()
        return found
    # sqlmodel's overloads tell the two kinds apart by static type; this one is either.
    result = await session.exec(stmt, params=params)  # type: ignore[call-overload]
    rows: Sequence[Any] = result.all()
    return rows


def ordering_keys(ordering: Ordering) -> tuple[str, ...]:
    """The attributes a cursor is made of: every read that pages must select them."""
    return tuple(key.attr for key in ordering.keys)


@dataclass(frozen=True)
class ArticleFilter:
    language: Language | None = None
    tag: str | None = None
    author: str | None = None
    source_name: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    status: ArticleStatus | None = None


Instant = datetime | sa.BindParameter[datetime]
"""A moment, or a bound parameter standing for one (``models.columns.NOW``)."""


def visible_to(viewer: Viewer, now: Instant) -> ColumnElement[bool]:
    """The articles ``viewer`` may see at ``now``."""
    return visible(viewer.sees_unpublished, now)


def visible(sees_unpublished: bool, now: Instant) -> ColumnElement[bool]:
    """``visible_to`` for a viewer who sees unpublished articles (editors) or does not."""
    if sees_unpublished:
        return sa.true()
    # The table's columns, not the ORM attributes: the same SQL, built several times faster
    # (this is on every public read).
    return sa.and_(
        _ARTICLE_TABLE.c.status == ArticleStatus.PUBLISHED.value,
        _ARTICLE_TABLE.c.published_at <= now,
    )


# A search box's text; PostgreSQL refuses a search of about a megabyte with an error of its own.
MAX_SEARCH_LENGTH = 500


def _filtered(stmt: S, flt: ArticleFilter | None, search: str | None, dialect: str) -> S:
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise InvalidInput(
            f"The search text is longer than {MAX_SEARCH_LENGTH} characters", field="search"
        )
    if flt is not None:
        texts = (flt.tag, flt.author, flt.source_name)
        if not all(is_storable(text) for text in texts if text is not None):
            return stmt.where(sa.false())  # nothing stored can equal such a string
        if flt.language is not None:
            stmt = stmt.where(col(Article.language) == flt.language.value)
        if flt.status is not None:
            stmt = stmt.where(col(Article.status) == flt.status.value)
        if flt.source_name is not None:
            stmt = stmt.where(col(Article.source_name) == flt.source_name)
        if flt.published_after is not None:
            stmt = stmt.where(_PUBLISHED >= flt.published_after)
        if flt.published_before is not None:
            stmt = stmt.where(_PUBLISHED < flt.published_before)
        if flt.tag is not None:
            stmt = stmt.where(
                col(Article.id).in_(
                    select(ArticleTag.article_id)
                    .join(Tag, col(Tag.id) == col(ArticleTag.tag_id))
                    .where(col(Tag.slug) == flt.tag)
                )
            )
        if flt.author is not None:
            stmt = stmt.where(
                col(Article.id).in_(
                    select(ArticleAuthor.article_id)
                    .join(Author, col(Author.id) == col(ArticleAuthor.author_id))
                    .where(col(Author.slug) == flt.author)
                )
            )
    if search is not None and search.strip():
        stmt = stmt.where(_matches(search, dialect))
    return stmt


_WORD = re.compile(r"\w+")


def _matches(search: str, dialect: str) -> ColumnElement[bool]:
    """All words of ``search`` occur in the title, lead or body (full-text index)."""
    words = _WORD.findall(search.lower())
    if not words:
        return sa.false()
    if dialect == "postgresql":
        query = sa.func.plainto_tsquery(sa.literal_column("'simple'"), " ".join(words))
        return sa.literal_column("article.search_vector").op("@@")(query)
    # FTS5: each word as a quoted string, implicitly AND-ed; no query syntax gets through.
    match = " ".join(f'"{word}"' for word in words)
    fts = sa.text("SELECT rowid FROM article_fts WHERE article_fts MATCH :match").bindparams(
        match=match
    )
    return col(Article.id).in_(fts.columns(sa.column("rowid", sa.Integer)))


@overload
async def get_article(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    id: int | None = None,
    slug: str | None = None,
    language: Language | None = None,
    columns: None = None,
) -> Article | None: ...


@overload
async def get_article(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    id: int | None = None,
    slug: str | None = None,
    language: Language | None = None,
    columns: frozenset[str],
) -> ArticleRow | None: ...


async def get_article(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    id: int | None = None,
    slug: str | None = None,
    language: Language | None = None,
    columns: frozenset[str] | None = None,
) -> ArticleRead | None:
    """By ID, or by slug (and language); a slug the article was renamed from still finds it."""
    for stmt in lookup_statements(
        viewer=viewer, now=now, id=id, slug=slug, language=language, columns=columns
    ):
        found = _first(await read_rows(session, stmt, columns))
        if found is not None:
            return found
    return None


def lookup_statements(
    *,
    viewer: Viewer,
    now: Instant,
    id: int | None = None,
    slug: str | None = None,
    language: Language | None = None,
    columns: frozenset[str] | None = None,
) -> list[Select[Any]]:
    """The reads ``get_article`` tries in turn, the first row found being the answer.

    By slug: the current slug, then a slug the article was renamed from. Shared with the
    compiled query path (``schema/compiled``), so both find the same article.
    """
    if slug is not None and not is_storable(slug):
        return []
    stmt = article_select(columns).where(visible_to(viewer, now))
    if id is not None:
        stmt = stmt.where(col(Article.id) == id)
    if language is not None:
        stmt = stmt.where(col(Article.language) == language.value)
    if slug is None:
        return [stmt.limit(1)]
    current = stmt.where(col(Article.slug) == slug).order_by(col(Article.id)).limit(1)
    renamed = select(ArticleSlugAlias.article_id).where(col(ArticleSlugAlias.slug) == slug)
    if language is not None:
        renamed = renamed.where(col(ArticleSlugAlias.language) == language.value)
    alias = stmt.where(col(Article.id).in_(renamed)).order_by(col(Article.id)).limit(1)
    return [current, alias]


def _first(rows: Sequence[ArticleRead]) -> ArticleRead | None:
    return rows[0] if rows else None


@overload
async def list_articles(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    page: PageArgs,
    filter: ArticleFilter | None = None,
    search: str | None = None,
    order: ArticleOrder = ArticleOrder.PUBLISHED_AT_DESC,
    columns: None = None,
) -> Page[Article]: ...


@overload
async def list_articles(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    page: PageArgs,
    filter: ArticleFilter | None = None,
    search: str | None = None,
    order: ArticleOrder = ArticleOrder.PUBLISHED_AT_DESC,
    columns: frozenset[str],
) -> Page[ArticleRow]: ...


async def list_articles(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    page: PageArgs,
    filter: ArticleFilter | None = None,
    search: str | None = None,
    order: ArticleOrder = ArticleOrder.PUBLISHED_AT_DESC,
    columns: frozenset[str] | None = None,
) -> Page[Article] | Page[ArticleRow]:
    stmt, ordering, window = page_statement(
        viewer=viewer,
        now=now,
        page=page,
        filter=filter,
        search=search,
        order=order,
        columns=columns,
        dialect=dialect_of(session),
    )
    return make_page(await read_rows(session, stmt, columns), ordering, window)


def page_statement(
    *,
    viewer: Viewer,
    now: Instant,
    page: PageArgs,
    filter: ArticleFilter | None,
    search: str | None,
    order: ArticleOrder,
    columns: frozenset[str] | None,
    dialect: str,
) -> tuple[Select[Any], Ordering, Window]:
    """The read of one page of ``list_articles``, with what ``make_page`` needs to finish it.

    Shared with the compiled query path (``schema/compiled``), so both read the same rows.
    """
    ordering = ORDERINGS[order]
    window = check_page_args(page, ordering)
    stmt = article_select(columns, *ordering_keys(ordering)).where(visible_to(viewer, now))
    stmt = _filtered(stmt, filter, search, dialect)
    return paginate(stmt, ordering, window), ordering, window


async def count_articles(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    filter: ArticleFilter | None = None,
    search: str | None = None,
) -> int:
    stmt = select(sa.func.count()).select_from(Article).where(visible_to(viewer, now))
    stmt = _filtered(stmt, filter, search, dialect_of(session))
    return (await session.exec(stmt)).one()
