"""Tag queries."""

import strawberry

from models.errors import InvalidInput
from models.services import tags
from models.services.pagination import PageArgs
from models.tag import Tag
from schema.context import Info
from schema.node import from_global_id
from schema.pagination import Connection, total_of
from schema.tags.types import TagType


@strawberry.type
class TagQuery:
    @strawberry.field(description="One tag by ID or slug.")
    async def tag(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> TagType | None:
        if id is None and slug is None:
            raise InvalidInput("Pass id or slug", field="id")
        pk = from_global_id(id, "Tag")[1] if id is not None else None
        async with info.context.session() as session:
            found = await tags.get_tag(session, id=pk, slug=slug)
        return TagType.from_model(found) if found else None

    @strawberry.field(description="Tags in alphabetical order.")
    async def tags(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TagType]:
        async with info.context.session() as session:
            page = await tags.list_tags(
                session, page=PageArgs(first=first, after=after, last=last, before=before)
            )
        return Connection.of(page, TagType.from_model, total_of(info, Tag))
