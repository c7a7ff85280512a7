"""Author queries."""

import strawberry

from models.author import Author
from models.errors import InvalidInput
from models.services import authors
from models.services.pagination import PageArgs
from schema.authors.types import AuthorType
from schema.context import Info
from schema.node import from_global_id
from schema.pagination import Connection, total_of


@strawberry.type
class AuthorQuery:
    @strawberry.field(description="One author by ID or slug.")
    async def author(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> AuthorType | None:
        if id is None and slug is None:
            raise InvalidInput("Pass id or slug", field="id")
        pk = from_global_id(id, "Author")[1] if id is not None else None
        async with info.context.session() as session:
            found = await authors.get_author(session, id=pk, slug=slug)
        return AuthorType.from_model(found) if found else None

    @strawberry.field(description="Authors in alphabetical order.")
    async def authors(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuthorType]:
        async with info.context.session() as session:
            page = await authors.list_authors(
                session, page=PageArgs(first=first, after=after, last=last, before=before)
            )
        return Connection.of(page, AuthorType.from_model, total_of(info, Author))
