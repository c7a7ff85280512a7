"""Lookups shared by the named entities (authors, tags, offices).

Each has a unique slug and a name; the public lists them alphabetically. One
implementation serves all three, so their lookups and paging cannot drift apart.
"""

from collections.abc import Sequence
from typing import TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.author import Author
from models.columns import is_storable
from models.office import Office
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    check_page_args,
    make_page,
    paginate,
)
from models.tag import Tag

Named = TypeVar("Named", Author, Tag, Office)

_BY_NAME = {
    model: Ordering(
        f"{model.__tablename__}-name",
        (OrderKey("name", col(model.name), kind="str"), OrderKey("id", col(model.id))),
    )
    for model in (Author, Tag, Office)
}


async def find(
    session: AsyncSession, model: type[Named], *, id: int | None = None, slug: str | None = None
) -> Named | None:
    """The row with this primary key and/or slug, or ``None``."""
    if slug is not None and not is_storable(slug):
        return None
    stmt = select(model)
    if id is not None:
        stmt = stmt.where(col(model.id) == id)
    if slug is not None:
        stmt = stmt.where(col(model.slug) == slug)
    return (await session.exec(stmt.limit(1))).first()


async def list_by_name(session: AsyncSession, model: type[Named], *, page: PageArgs) -> Page[Named]:
    ordering = _BY_NAME[model]
    window = check_page_args(page, ordering)
    rows = (await session.exec(paginate(select(model), ordering, window))).all()
    return make_page(rows, ordering, window)


async def rows_by_ids(
    session: AsyncSession, model: type[Named], *, ids: Sequence[int]
) -> list[Named | None]:
    """DataLoader batch: the rows for ``ids``, in key order, ``None`` where missing."""
    found = {row.id: row for row in await session.exec(select(model).where(col(model.id).in_(ids)))}
    return [found.get(id) for id in ids]
