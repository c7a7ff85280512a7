"""The ``Author`` type."""

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from models.author import AuthorRead
from models.services.pagination import PageArgs
from schema.articles.selection import connection_selection_of
from schema.context import Info
from schema.node import Node, to_global_id
from schema.pagination import Connection
from schema.permissions import can_read_private
from schema.sources import Column, GlobalId, Relation, declare

if TYPE_CHECKING:
    from schema.articles.types import ArticleType


AUTHOR = declare(
    "Author",
    {
        "id": GlobalId(),
        "slug": Column("slug"),
        "name": Column("name"),
        "bio": Column("bio"),
        "avatarUrl": Column("avatar_url"),
        "createdAt": Column("created_at"),
        "updatedAt": Column("updated_at"),
        "email": Column("email", attribute="private_email", editors_only=True),
        "articles": Relation(
            "Article",
            via="articles_of_author",
            arguments=frozenset({"first", "after"}),
            counted_by="article_count_of_author",
        ),
    },
)


@strawberry.type(name="Author")
class AuthorType(Node):
    id: strawberry.ID
    slug: str
    name: str
    bio: str
    avatar_url: str | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    private_email: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, author: AuthorRead) -> Self:
        assert author.id is not None
        return cls(
            id=to_global_id("Author", author.id),
            pk=author.id,
            **AUTHOR.values(partial(getattr, author)),
        )

    @strawberry.field(description="Private: null unless the caller is an editor or admin.")
    def email(self, info: Info) -> str | None:
        return self.private_email if can_read_private(info) else None

    @strawberry.field(description="Published articles by this author, newest first.")
    async def articles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated["ArticleType", strawberry.lazy("schema.articles.types")]]:
        from schema.articles.types import ArticleType

        loaders, articles = info.context.loaders, AUTHOR.relation("articles")
        selection = connection_selection_of(info.selected_fields)
        page, related = await loaders.by_name(articles.via).load(
            (self.pk, PageArgs(first=first, after=after), selection)
        )
        return Connection.of(
            page,
            lambda row: ArticleType.from_model(row, related),
            lambda: loaders.by_name(articles.counted_by).load(self.pk),
        )
