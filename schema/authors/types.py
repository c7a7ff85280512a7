"""The ``Author`` type."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from models.author import Author
from models.services.pagination import PageArgs
from schema.articles.selection import connection_selection_of
from schema.context import Info
from schema.node import Node, to_global_id
from schema.pagination import Connection
from schema.permissions import can_read_private

if TYPE_CHECKING:
    from schema.articles.types import ArticleType


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
    def from_model(cls, author: Author) -> Self:
        assert author.id is not None
        return cls(
            id=to_global_id("Author", author.id),
            pk=author.id,
            slug=author.slug,
            name=author.name,
            bio=author.bio,
            avatar_url=author.avatar_url,
            created_at=author.created_at,
            updated_at=author.updated_at,
            private_email=author.email,
        )

    @strawberry.field(description="Private: null unless the caller is an editor or admin.")
    def email(self, info: Info) -> str | None:
        return self.private_email if can_read_private(info) else None

    @strawberry.field(description="Published articles by this author, newest first.")
    async def articles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated["ArticleType", strawberry.lazy("schema.articles.types")]]:
        from schema.articles.types import ArticleType

        loaders = info.context.loaders
        selection = connection_selection_of(info.selected_fields)
        page, related = await loaders.articles_of_author.load(
            (self.pk, PageArgs(first=first, after=after), selection)
        )
        return Connection.of(
            page,
            lambda row: ArticleType.from_model(row, related),
            lambda: loaders.article_count_of_author.load(self.pk),
        )
