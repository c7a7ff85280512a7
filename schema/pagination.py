"""Relay connections: ``edges { cursor node }``, ``nodes``, ``pageInfo``, ``totalCount``."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

import strawberry
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import InvalidInput
from models.services import catalog
from models.services.catalog import Named, NamedRow
from models.services.pagination import Page, PageArgs, count_rows
from schema.context import Context, Info
from schema.node import from_global_id
from schema.sources import Column, Computed, Nested, Relation, declare

T = TypeVar("T")


PAGE_INFO = declare(
    "PageInfo",
    {
        "hasNextPage": Column("has_next", attribute="has_next_page"),
        "hasPreviousPage": Column("has_previous", attribute="has_previous_page"),
        "startCursor": Column("start_cursor"),
        "endCursor": Column("end_cursor"),
    },
)
"""A page's attributes (``models.services.pagination.Page``), not a table's columns."""

# Every ``XConnection`` and ``XEdge`` (see schema.sources.GENERIC_SUFFIXES).
declare(
    "Connection",
    {
        "edges": Relation("Edge", via="the page's rows, in its order"),
        "nodes": Relation("Node", via="the page's rows, in its order"),
        "pageInfo": Nested("PageInfo", attribute="page_info"),
        "totalCount": Computed((), relations=frozenset({"count"})),
    },
)
declare(
    "Edge",
    {
        "cursor": Computed((), relations=frozenset({"ordering"})),  # the ordering's columns
        "node": Relation("Node", via="the page's row"),
    },
)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    # Counting is a separate query, run only when a client asks for totalCount.
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def of(
        cls, page: Page[Any], wrap: Callable[[Any], T], count: Callable[[], Awaitable[int]]
    ) -> "Connection[T]":
        edges = [Edge(cursor=page.cursor(item), node=wrap(item)) for item in page.items]
        info = PageInfo(**PAGE_INFO.values(partial(getattr, page)))
        return cls(edges=edges, page_info=info, count=count)


def total_of(context: Context, model: type[SQLModel]) -> Callable[[], Awaitable[int]]:
    """A deferred ``totalCount`` for an unfiltered listing of ``model``."""

    async def count() -> int:
        async with context.session() as session:
            return await count_rows(session, model)

    return count


# The related rows of some rows, by their ids: those ``needs`` names (e.g. an office's
# phones); each value is what the type's object is built with.
Related = Callable[
    [AsyncSession, Sequence[Any], frozenset[str]], Awaitable[Mapping[int | None, Any]]
]


async def no_related(
    _session: AsyncSession, rows: Sequence[Any], _needs: frozenset[str]
) -> Mapping[int | None, Any]:
    return dict.fromkeys((row.id for row in rows), None)


async def read_named(
    context: Context,
    model: type[Named],
    id: strawberry.ID | None,
    slug: str | None,
    related: Related = no_related,
    needs: frozenset[str] = frozenset(),
) -> tuple[NamedRow, Any] | None:
    """``author(id, slug)``, ``tag(...)``, ``office(...)``: one row by global ID or slug and
    its ``related`` rows; the resolvers and the planner both read so."""
    if id is None and slug is None:
        raise InvalidInput("Pass id or slug", field="id")
    pk = from_global_id(id, model.__name__)[1] if id is not None else None
    async with context.session() as session:
        found = await catalog.find(session, model, id=pk, slug=slug)
        if found is None:
            return None
        rows = await related(session, [found], needs)
    return found, rows[found.id]


async def read_listed(
    context: Context,
    model: type[Named],
    page: PageArgs,
    related: Related = no_related,
    needs: frozenset[str] = frozenset(),
) -> tuple[Page[NamedRow], Mapping[int | None, Any]]:
    """``authors``, ``tags``, ``offices``: a page in alphabetical order and each row's
    ``related`` rows; the resolvers and the planner both read so."""
    async with context.session() as session:
        found = await catalog.list_by_name(session, model, page=page)
        rows = await related(session, found.items, needs)
    return found, rows


async def read_by_ids(
    context: Context,
    model: type[Named],
    pks: Sequence[int],
    related: Related = no_related,
    needs: frozenset[str] = frozenset(),
) -> dict[int, tuple[NamedRow, Any]]:
    """Rows of ``model`` by primary key (those that exist) and their ``related`` rows."""
    async with context.session() as session:
        rows = [row for row in await catalog.rows_by_ids(session, model, ids=pks) if row]
        found = await related(session, rows, needs)
    return {row.id: (row, found[row.id]) for row in rows if row.id is not None}


async def find_named(
    info: Info,
    model: type[Named],
    wrap: Callable[[NamedRow], T],
    id: strawberry.ID | None,
    slug: str | None,
) -> T | None:
    found = await read_named(info.context, model, id, slug)
    return None if found is None else wrap(found[0])


async def list_named(
    info: Info, model: type[Named], wrap: Callable[[NamedRow], T], page: PageArgs
) -> Connection[T]:
    found, _ = await read_listed(info.context, model, page)
    return Connection.of(found, wrap, total_of(info.context, model))
