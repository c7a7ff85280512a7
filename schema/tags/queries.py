"""Tag queries."""

import strawberry

from models.services.pagination import PageArgs
from models.tag import Tag
from schema.context import Info
from schema.pagination import Connection, find_named, list_named
from schema.sources import Root, declare_roots
from schema.tags.types import TagType

declare_roots(
    {
        "tag": Root("catalog.find", arguments=frozenset({"id", "slug"})),
        "tags": Root(
            "catalog.list_by_name", arguments=frozenset({"first", "after", "last", "before"})
        ),
    }
)


@strawberry.type
class TagQuery:
    @strawberry.field(description="One tag by ID or slug.")
    async def tag(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> TagType | None:
        return await find_named(info, Tag, TagType.from_model, id, slug)

    @strawberry.field(description="Tags in alphabetical order.")
    async def tags(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TagType]:
        page = PageArgs(first=first, after=after, last=last, before=before)
        return await list_named(info, Tag, TagType.from_model, page)
