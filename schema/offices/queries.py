"""Office queries.

They fetch the phones, hours and exceptions the query selects for every office at once, in
the same session (one query each), so those fields and ``isOpen`` resolve synchronously.
"""

from collections.abc import Iterable, Sequence

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.types.nodes import Selection

from models.office import Office
from models.services import offices
from models.services.pagination import PageArgs
from schema.articles.selection import children_of, fields_of, nodes_of
from schema.context import Info
from schema.offices.types import OFFICE, OfficeChildren, OfficeType
from schema.pagination import Connection, read_listed, read_named, total_of
from schema.sources import Root, declare_roots


def _needs(office: Iterable[Selection]) -> frozenset[str]:
    """The child lists (phones, hours, exceptions) the selected fields of an office read."""
    needs: frozenset[str] = frozenset()
    for field in fields_of(office):
        needs |= OFFICE.relations_of(field.name)
    return needs


async def office_children(
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


@strawberry.type
class OfficeQuery:
    @strawberry.field(description="One office by ID or slug.")
    async def office(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> OfficeType | None:
        needs = _needs(children_of(info.selected_fields))
        found = await read_named(info.context, Office, id, slug, office_children, needs)
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
        found, children = await read_listed(info.context, Office, page, office_children, needs)
        return Connection.of(
            found,
            lambda office: OfficeType.from_model(office, children[office.id]),
            total_of(info.context, Office),
        )
