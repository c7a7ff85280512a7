"""Article queries: one article by ID or slug, and the filtered, searchable list.

Each reads only the columns the query selects, and fetches the bylines and tags it selects
for the whole page in the same session (one query each), so those fields resolve without
a DataLoader round per article.
"""

from datetime import datetime
from typing import Annotated

import strawberry

from models.columns import require_aware
from models.errors import InvalidInput
from models.services import articles
from models.services.pagination import PageArgs
from schema.articles.selection import article_selection_of, connection_selection_of
from schema.articles.types import ArticleType
from schema.context import Info
from schema.enums import ArticleOrder, ArticleStatus, Language
from schema.node import from_global_id
from schema.pagination import Connection


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
        if id is None and slug is None:
            raise InvalidInput("Pass id or slug", field="id")
        pk = from_global_id(id, "Article")[1] if id is not None else None
        selection = article_selection_of(info.selected_fields)
        async with info.context.session() as session:
            found = await articles.get_article(
                session,
                viewer=info.context.viewer,
                now=info.context.now,
                id=pk,
                slug=slug,
                language=language,
                columns=selection.columns,
            )
            if found is None:
                return None
            related = await articles.related_of_articles(
                session,
                article_ids=articles.ids_of([found]),
                authors=selection.authors,
                tags=selection.tags,
            )
        return ArticleType.from_model(found, related)

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
        domain_filter = filter.to_domain() if filter else None
        selection = connection_selection_of(info.selected_fields)
        async with context.session() as session:
            page = await articles.list_articles(
                session,
                viewer=context.viewer,
                now=context.now,
                page=PageArgs(first=first, after=after, last=last, before=before),
                filter=domain_filter,
                search=search,
                order=order_by,
                columns=selection.columns,
            )
            related = await articles.related_of_articles(
                session,
                article_ids=articles.ids_of(page.items),
                authors=selection.authors,
                tags=selection.tags,
            )

        async def count() -> int:
            async with context.session() as session:
                return await articles.count_articles(
                    session,
                    viewer=context.viewer,
                    now=context.now,
                    filter=domain_filter,
                    search=search,
                )

        return Connection.of(page, lambda row: ArticleType.from_model(row, related), count)
