"""The ``Tag`` type."""

from functools import partial
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from models.services.pagination import PageArgs
from models.tag import TagRead
from schema.articles.selection import connection_selection_of
from schema.context import Info
from schema.node import Node, to_global_id
from schema.pagination import Connection
from schema.sources import Column, GlobalId, Relation, declare

if TYPE_CHECKING:
    from schema.articles.types import ArticleType


TAG = declare(
    "Tag",
    {
        "id": GlobalId(),
        "slug": Column("slug"),
        "name": Column("name"),
        "articles": Relation(
            "Article",
            via="articles_of_tag",
            arguments=frozenset({"first", "after"}),
            counted_by="article_count_of_tag",
        ),
    },
)


@strawberry.type(name="Tag")
class TagType(Node):
    id: strawberry.ID
    slug: str
    name: str
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, tag: TagRead) -> Self:
        assert tag.id is not None
        return cls(id=to_global_id("Tag", tag.id), pk=tag.id, **TAG.values(partial(getattr, tag)))

    @strawberry.field(description="Published articles with this tag, newest first.")
    async def articles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated["ArticleType", strawberry.lazy("schema.articles.types")]]:
        from schema.articles.types import ArticleType

        loaders, articles = info.context.loaders, TAG.relation("articles")
        selection = connection_selection_of(info.selected_fields)
        page, related = await loaders.by_name(articles.via).load(
            (self.pk, PageArgs(first=first, after=after), selection)
        )
        return Connection.of(
            page,
            lambda row: ArticleType.from_model(row, related),
            lambda: loaders.by_name(articles.counted_by).load(self.pk),
        )
