"""Office queries."""

import strawberry

from models.office import Office
from models.services.pagination import PageArgs
from schema.context import Info
from schema.offices.types import OfficeType
from schema.pagination import Connection, find_named, list_named


@strawberry.type
class OfficeQuery:
    @strawberry.field(description="One office by ID or slug.")
    async def office(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> OfficeType | None:
        return await find_named(info, Office, OfficeType.from_model, id, slug)

    @strawberry.field(description="Offices in alphabetical order.")
    async def offices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OfficeType]:
        page = PageArgs(first=first, after=after, last=last, before=before)
        return await list_named(info, Office, OfficeType.from_model, page)
