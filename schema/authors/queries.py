"""Author queries."""

import strawberry

from models.author import Author
from models.services.pagination import PageArgs
from schema.authors.types import AuthorType
from schema.context import Info
from schema.pagination import Connection, find_named, list_named
from schema.sources import Root, declare_roots

declare_roots(
    {
        "author": Root("catalog.find", arguments=frozenset({"id", "slug"})),
        "authors": Root(
            "catalog.list_by_name", arguments=frozenset({"first", "after", "last", "before"})
        ),
    }
)


@strawberry.type
class AuthorQuery:
    @strawberry.field(description="One author by ID or slug.")
    async def author(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> AuthorType | None:
        return await find_named(info, Author, AuthorType.from_model, id, slug)

    @strawberry.field(description="Authors in alphabetical order.")
    async def authors(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuthorType]:
        page = PageArgs(first=first, after=after, last=last, before=before)
        return await list_named(info, Author, AuthorType.from_model, page)
