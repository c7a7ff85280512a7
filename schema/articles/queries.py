"""Article queries: one article by ID or slug, and the filtered, searchable list.

Each reads only the columns the query selects, and fetches the bylines and tags it selects
for the whole page in the same session (one query each), so those fields resolve without
a DataLoader round per article.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import require_aware
from models.errors import InvalidInput
from models.services import article_loaders, articles
from models.services.pagination import Page, PageArgs
from schema.articles.selection import (
    ArticleSelection,
    article_selection_of,
    connection_selection_of,
)
from schema.articles.types import ArticleType
from schema.context import Context, Info
from schema.enums import ArticleOrder, ArticleStatus, Language
from schema.node import from_global_id
from schema.pagination import Connection
from schema.sources import Root, declare_roots


@strawberry.input(description="Narrows an article list; all given conditions must hold.")
class ArticleFilter:
    language: Language | None = None
    status: ArticleStatus | None = strawberry.field(
        default=None, description="Editors: e.g. DRAFT. The public sees only PUBLISHED."
    )
    tag: str | None = strawberry.field(default=None, description="A tag slug.")
    author: str | None = strawberry.field(default=None, description="An author slug.")
    source_name: str | None = None
    published_after: datetime | None = strawberry.field(
        default=None, description="Published at or after this instant."
    )
    published_before: datetime | None = strawberry.field(
        default=None, description="Published before this instant."
    )

    def to_domain(self) -> articles.ArticleFilter:
        return articles.ArticleFilter(
            language=self.language,
            status=self.status,
            tag=self.tag,
            author=self.author,
            source_name=self.source_name,
            published_after=_aware(self.published_after, "publishedAfter"),
            published_before=_aware(self.published_before, "publishedBefore"),
        )


def _aware(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else require_aware(value, field)


@dataclass(frozen=True)
class ArticleLookup:
    """``article(id, slug, language)`` as the services take it."""

    id: int | None
    slug: str | None
    language: Language | None


def article_lookup(
    *, id: strawberry.ID | None = None, slug: str | None = None, language: Language | None = None
) -> ArticleLookup:
    """The meaning of ``article``'s arguments, for the resolver and the compiled path."""
    if id is None and slug is None:
        raise InvalidInput("Pass id or slug", field="id")
    pk = from_global_id(id, "Article")[1] if id is not None else None
    return ArticleLookup(id=pk, slug=slug, language=language)


@dataclass(frozen=True)
class ArticleList:
    """``articles(...)`` as the services take it."""

    page: PageArgs
    filter: articles.ArticleFilter | None
    search: str | None
    order: ArticleOrder


def article_list(
    *,
    order_by: ArticleOrder,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: ArticleFilter | None = None,
    search: str | None = None,
) -> ArticleList:
    """The meaning of ``articles``'s arguments, for the resolver and the compiled path."""
    return ArticleList(
        page=PageArgs(first=first, after=after, last=last, before=before),
        filter=filter.to_domain() if filter else None,
        search=search,
        order=order_by,
    )


async def _related(
    session: AsyncSession, rows: Sequence[articles.ArticleRead], selection: ArticleSelection
) -> article_loaders.Related:
    return await article_loaders.related_of_articles(
        session,
        article_ids=article_loaders.ids_of(rows),
        authors=selection.authors,
        tags=selection.tags,
    )


async def read_article(
    context: Context, lookup: ArticleLookup, selection: ArticleSelection
) -> tuple[articles.ArticleRead, article_loaders.Related] | None:
    """The article ``lookup`` finds, if the viewer may see it, with its selected columns and
    related rows; the resolver and the planner both read so."""
    async with context.session() as session:
        found = await articles.get_article(
            session,
            viewer=context.viewer,
            now=context.now,
            id=lookup.id,
            slug=lookup.slug,
            language=lookup.language,
            columns=selection.columns,
        )
        if found is None:
            return None
        return found, await _related(session, [found], selection)


async def read_articles(
    context: Context, asked: ArticleList, selection: ArticleSelection
) -> tuple[Page[Any], article_loaders.Related]:
    """The page ``asked`` for, as the viewer may see it, with the selected columns and related
    rows; the resolver and the planner both read so."""
    async with context.session() as session:
        page = await articles.list_articles(
            session,
            viewer=context.viewer,
            now=context.now,
            page=asked.page,
            filter=asked.filter,
            search=asked.search,
            order=asked.order,
            columns=selection.columns,
        )
        return page, await _related(session, page.items, selection)


def count_of(context: Context, asked: ArticleList) -> Callable[[], Awaitable[int]]:
    """A deferred ``totalCount`` of the articles ``asked`` for (every page together)."""

    async def count() -> int:
        async with context.session() as session:
            return await articles.count_articles(
                session,
                viewer=context.viewer,
                now=context.now,
                filter=asked.filter,
                search=asked.search,
            )

    return count


_PAGE = frozenset({"first", "after", "last", "before"})
declare_roots(
    {
        "article": Root("get_article", arguments=frozenset({"id", "slug", "language"})),
        "articles": Root("list_articles", arguments=_PAGE | {"filter", "search", "orderBy"}),
    }
)


@strawberry.type
class ArticleQuery:
    @strawberry.field(description="One article by ID, or by slug (and language).")
    async def article(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        slug: str | None = None,
        language: Language | None = None,
    ) -> ArticleType | None:
        lookup = article_lookup(id=id, slug=slug, language=language)
        found = await read_article(info.context, lookup, article_selection_of(info.selected_fields))
        return None if found is None else ArticleType.from_model(*found)

    @strawberry.field(description="Articles, newest first unless orderBy says otherwise.")
    async def articles(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ArticleFilter | None = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words that must all occur in title, lead or body; "
                f"at most {articles.MAX_SEARCH_LENGTH} characters."
            ),
        ] = None,
        order_by: ArticleOrder = ArticleOrder.PUBLISHED_AT_DESC,
    ) -> Connection[ArticleType]:
        context = info.context
        asked = article_list(
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            search=search,
            order_by=order_by,
        )
        selection = connection_selection_of(info.selected_fields)
        page, related = await read_articles(context, asked, selection)
        return Connection.of(
            page, lambda row: ArticleType.from_model(row, related), count_of(context, asked)
        )
