"""Office queries.

They fetch the phones, hours and exceptions the query selects for every office at once, in
the same session (one query each), so those fields and ``isOpen`` resolve synchronously.
"""

from collections.abc import Iterable, Sequence

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.types.nodes import Selection

from models.errors import InvalidInput
from models.office import Office
from models.services import catalog, offices
from models.services.pagination import Page, PageArgs
from schema.articles.selection import children_of, fields_of, nodes_of
from schema.context import Context, Info
from schema.node import from_global_id
from schema.offices.types import OFFICE, OfficeChildren, OfficeType
from schema.pagination import Connection, total_of
from schema.sources import Root, declare_roots


def _needs(office: Iterable[Selection]) -> frozenset[str]:
    """The child lists (phones, hours, exceptions) the selected fields of an office read."""
    needs: frozenset[str] = frozenset()
    for field in fields_of(office):
        needs |= OFFICE.relations_of(field.name)
    return needs


async def _children(
    session: AsyncSession, rows: Sequence[Office], needs: frozenset[str]
) -> dict[int | None, OfficeChildren]:
    """Each office's selected child lists; one query per kind for all the offices."""
    ids = [row.id for row in rows if row.id is not None]
    if not ids or not needs:
        return dict.fromkeys(ids, OfficeChildren())
    phones = await offices.phones_of_offices(session, office_ids=ids) if "phones" in needs else None
    hours = await offices.hours_of_offices(session, office_ids=ids) if "hours" in needs else None
    exceptions = (
        await offices.exceptions_of_offices(session, office_ids=ids)
        if "exceptions" in needs
        else None
    )
    return {
        id: OfficeChildren(
            phones=None if phones is None else phones[i],
            hours=None if hours is None else hours[i],
            exceptions=None if exceptions is None else exceptions[i],
        )
        for i, id in enumerate(ids)
    }


declare_roots(
    {
        "office": Root("catalog.find", arguments=frozenset({"id", "slug"})),
        "offices": Root(
            "catalog.list_by_name", arguments=frozenset({"first", "after", "last", "before"})
        ),
    }
)


async def read_office(
    context: Context, needs: frozenset[str], id: strawberry.ID | None, slug: str | None
) -> tuple[Office, OfficeChildren] | None:
    """``office(id, slug)``: the row and the child lists in ``needs``, for every path."""
    if id is None and slug is None:
        raise InvalidInput("Pass id or slug", field="id")
    pk = from_global_id(id, "Office")[1] if id is not None else None
    async with context.session() as session:
        found = await catalog.find(session, Office, id=pk, slug=slug)
        if found is None:
            return None
        children = await _children(session, [found], needs)
    return found, children[found.id]


async def read_offices(
    context: Context, needs: frozenset[str], page: PageArgs
) -> tuple[Page[Office], dict[int | None, OfficeChildren]]:
    """``offices(first, after, last, before)``: a page and each office's child lists."""
    async with context.session() as session:
        found = await catalog.list_by_name(session, Office, page=page)
        children = await _children(session, found.items, needs)
    return found, children


@strawberry.type
class OfficeQuery:
    @strawberry.field(description="One office by ID or slug.")
    async def office(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> OfficeType | None:
        needs = _needs(children_of(info.selected_fields))
        found = await read_office(info.context, needs, id, slug)
        return None if found is None else OfficeType.from_model(*found)

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
        needs = _needs(nodes_of(children_of(info.selected_fields)))
        found, children = await read_offices(info.context, needs, page)
        return Connection.of(
            found,
            lambda office: OfficeType.from_model(office, children[office.id]),
            total_of(info, Office),
        )
