"""Office queries."""

import strawberry

from models.errors import InvalidInput
from models.office import Office
from models.services import offices
from models.services.pagination import PageArgs
from schema.context import Info
from schema.node import from_global_id
from schema.offices.types import OfficeType
from schema.pagination import Connection, total_of


@strawberry.type
class OfficeQuery:
    @strawberry.field(description="One office by ID or slug.")
    async def office(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> OfficeType | None:
        if id is None and slug is None:
            raise InvalidInput("Pass id or slug", field="id")
        pk = from_global_id(id, "Office")[1] if id is not None else None
        async with info.context.session() as session:
            found = await offices.get_office(session, id=pk, slug=slug)
        return OfficeType.from_model(found) if found else None

    @strawberry.field(description="Offices in alphabetical order.")
    async def offices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OfficeType]:
        async with info.context.session() as session:
            page = await offices.list_offices(
                session, page=PageArgs(first=first, after=after, last=last, before=before)
            )
        return Connection.of(page, OfficeType.from_model, total_of(info, Office))
