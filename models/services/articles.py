"""Reading articles: visibility, filters, search, ordering, and DataLoader batches.

Every query that can return an article goes through ``visible_to`` so that the
public never sees a draft, an archived article or one scheduled for later.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement
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
from models.revision import ArticleCorrection, ArticleRevision
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    S,
    check_page_args,
    make_page,
    pages_by_parent,
    paginate,
    paginate_per_parent,
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


@dataclass(frozen=True)
class ArticleFilter:
    language: Language | None = None
    tag: str | None = None
    author: str | None = None
    source_name: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    status: ArticleStatus | None = None


def visible_to(viewer: Viewer, now: datetime) -> ColumnElement[bool]:
    """The articles ``viewer`` may see at ``now``."""
    if viewer.sees_unpublished:
        return sa.true()
    return sa.and_(
        col(Article.status) == ArticleStatus.PUBLISHED.value,
        col(Article.published_at) <= now,
    )


def _filtered(stmt: S, flt: ArticleFilter | None, search: str | None, dialect: str) -> S:
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


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def get_article(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    id: int | None = None,
    slug: str | None = None,
    language: Language | None = None,
) -> Article | None:
    """By ID, or by slug (and language); a slug the article was renamed from still finds it."""
    if slug is not None and not is_storable(slug):
        return None
    stmt = select(Article).where(visible_to(viewer, now))
    if id is not None:
        stmt = stmt.where(col(Article.id) == id)
    if language is not None:
        stmt = stmt.where(col(Article.language) == language.value)
    if slug is None:
        return (await session.exec(stmt.limit(1))).first()
    current = await session.exec(
        stmt.where(col(Article.slug) == slug).order_by(col(Article.id)).limit(1)
    )
    found = current.first()
    if found is not None:
        return found
    renamed = select(ArticleSlugAlias.article_id).where(col(ArticleSlugAlias.slug) == slug)
    if language is not None:
        renamed = renamed.where(col(ArticleSlugAlias.language) == language.value)
    stmt = stmt.where(col(Article.id).in_(renamed)).order_by(col(Article.id)).limit(1)
    return (await session.exec(stmt)).first()


async def list_articles(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    page: PageArgs,
    filter: ArticleFilter | None = None,
    search: str | None = None,
    order: ArticleOrder = ArticleOrder.PUBLISHED_AT_DESC,
) -> Page[Article]:
    ordering = ORDERINGS[order]
    window = check_page_args(page, ordering)
    stmt = _filtered(
        select(Article).where(visible_to(viewer, now)), filter, search, _dialect(session)
    )
    rows = (await session.exec(paginate(stmt, ordering, window))).all()
    return make_page(rows, ordering, window)


async def count_articles(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    filter: ArticleFilter | None = None,
    search: str | None = None,
) -> int:
    stmt = select(sa.func.count()).select_from(Article).where(visible_to(viewer, now))
    stmt = _filtered(stmt, filter, search, _dialect(session))
    return (await session.exec(stmt)).one()


async def articles_by_ids(
    session: AsyncSession, *, viewer: Viewer, now: datetime, ids: Sequence[int]
) -> list[Article | None]:
    stmt = select(Article).where(col(Article.id).in_(ids), visible_to(viewer, now))
    found = {article.id: article for article in (await session.exec(stmt)).all()}
    return [found.get(id) for id in ids]


async def authors_of_articles(
    session: AsyncSession, *, article_ids: Sequence[int]
) -> list[list[Author]]:
    """Each article's byline, in byline order."""
    stmt = (
        select(ArticleAuthor.article_id, Author)
        .join(Author, col(Author.id) == col(ArticleAuthor.author_id))
        .where(col(ArticleAuthor.article_id).in_(article_ids))
        .order_by(col(ArticleAuthor.article_id), col(ArticleAuthor.position), col(Author.id))
    )
    byline: dict[int, list[Author]] = {id: [] for id in article_ids}
    for article_id, author in (await session.exec(stmt)).all():
        byline[article_id].append(author)
    return [byline[id] for id in article_ids]


async def tags_of_articles(session: AsyncSession, *, article_ids: Sequence[int]) -> list[list[Tag]]:
    stmt = (
        select(ArticleTag.article_id, Tag)
        .join(Tag, col(Tag.id) == col(ArticleTag.tag_id))
        .where(col(ArticleTag.article_id).in_(article_ids))
        .order_by(col(ArticleTag.article_id), col(Tag.name), col(Tag.id))
    )
    tags: dict[int, list[Tag]] = {id: [] for id in article_ids}
    for article_id, tag in (await session.exec(stmt)).all():
        tags[article_id].append(tag)
    return [tags[id] for id in article_ids]


async def translations_of_groups(
    session: AsyncSession, *, viewer: Viewer, now: datetime, groups: Sequence[str]
) -> list[list[Article]]:
    """All visible articles of each translation group, by language."""
    stmt = (
        select(Article)
        .where(col(Article.translation_group).in_(groups), visible_to(viewer, now))
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
) -> list[Page[Article]]:
    """A page of articles for each author (``ArticleAuthor``) or tag (``ArticleTag``)."""
    ordering = ORDERINGS[order]
    window = check_page_args(page, ordering)
    parent = col(link.author_id) if link is ArticleAuthor else col(link.tag_id)  # type: ignore[union-attr]
    stmt = (
        select(Article)
        .join(link, col(link.article_id) == col(Article.id))
        .where(parent.in_(parent_ids), visible_to(viewer, now))
    )
    query = paginate_per_parent(stmt, Article, parent, ordering, window)
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return pages_by_parent(rows, parent_ids, ordering, window)


async def count_articles_of_parents(
    session: AsyncSession,
    *,
    viewer: Viewer,
    now: datetime,
    link: type[ArticleAuthor] | type[ArticleTag],
    parent_ids: Sequence[int],
) -> list[int]:
    """How many visible articles each author or tag has, in one grouped query."""
    parent = col(link.author_id) if link is ArticleAuthor else col(link.tag_id)  # type: ignore[union-attr]
    stmt = (
        select(parent, sa.func.count())
        .join(Article, col(Article.id) == col(link.article_id))
        .where(parent.in_(parent_ids), visible_to(viewer, now))
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
        .where(col(ArticleCorrection.article_id).in_(article_ids))
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
        .where(col(ArticleRevision.article_id).in_(article_ids))
        .order_by(col(ArticleRevision.version).desc())
    )
    grouped: dict[int, list[ArticleRevision]] = {id: [] for id in article_ids}
    for row in (await session.exec(stmt)).all():
        grouped[row.article_id].append(row)
    return [grouped[id] for id in article_ids]
