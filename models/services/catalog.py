"""Lookups shared by the named entities (authors, tags, offices).

Each has a unique slug and a name; the public lists them alphabetically. One
implementation serves all three, so their lookups, paging and slugs cannot drift apart.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Language
from models.author import Author
from models.columns import is_storable
from models.db import one_of, table_of
from models.errors import DomainError, Duplicate, NotFound
from models.inputs import EditorInput
from models.office import Office
from models.services import audit
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    check_page_args,
    make_page,
    paginate,
)
from models.slugs import slugify
from models.tag import Tag
from models.validation import check
from models.viewer import Viewer

Named = TypeVar("Named", Author, Tag, Office)

_BY_NAME = {
    model: Ordering(
        f"{model.__tablename__}-name",
        (OrderKey("name", col(model.name), kind="str"), OrderKey("id", col(model.id))),
    )
    for model in (Author, Tag, Office)
}


NamedRow = sa.Row[Any]
"""An author, tag or office as read: a row of its table's columns, read by name (no ORM
instance: nothing changes it after a read, and lists build dozens)."""


async def _rows(session: AsyncSession, stmt: Select[Any]) -> Sequence[NamedRow]:
    connection = await session.connection()
    rows: Sequence[NamedRow] = (await connection.execute(stmt)).all()
    return rows


async def find(
    session: AsyncSession, model: type[Named], *, id: int | None = None, slug: str | None = None
) -> NamedRow | None:
    """The row with this primary key and/or slug, or ``None``."""
    if slug is not None and not is_storable(slug):
        return None
    table = table_of(model)
    stmt = sa.select(table)
    if id is not None:
        stmt = stmt.where(table.c.id == id)
    if slug is not None:
        stmt = stmt.where(table.c.slug == slug)
    found = await _rows(session, stmt.limit(1))
    return found[0] if found else None


async def list_by_name(
    session: AsyncSession, model: type[Named], *, page: PageArgs
) -> Page[NamedRow]:
    ordering = _BY_NAME[model]
    window = check_page_args(page, ordering)
    rows = await _rows(session, paginate(sa.select(table_of(model)), ordering, window))
    return make_page(rows, ordering, window)


async def rows_by_ids(
    session: AsyncSession, model: type[Named], *, ids: Sequence[int]
) -> list[NamedRow | None]:
    """DataLoader batch: the rows for ``ids``, in key order, ``None`` where missing."""
    table = table_of(model)
    stmt = sa.select(table).where(one_of(session, table.c.id, ids))
    found = {row.id: row for row in await _rows(session, stmt)}
    return [found.get(id) for id in ids]


# Letters only Belarusian Cyrillic has: their names transliterate by Belarusian rules.
_BELARUSIAN_ONLY = frozenset("іІўЎ")


def slug_from_name(name: str, fallback: str) -> str:
    """A slug for a name in Belarusian, Russian or Latin script; ``fallback`` if none is left.

    Names carry no language, so Belarusian-only letters pick the Belarusian table
    ("Андрэй Іваноў" -> "andrej-ivanou"); everything else reads as Russian.
    """
    language = Language.BE if _BELARUSIAN_ONLY.intersection(name) else Language.RU
    return slugify(name, language) or fallback


async def slug_taken(
    session: AsyncSession, model: type[Named], slug: str, own_id: int | None = None
) -> bool:
    """Whether a row of ``model`` other than ``own_id`` has this slug."""
    other = await find(session, model, slug=slug)
    return other is not None and other.id != own_id


async def free_slug(session: AsyncSession, model: type[Named], base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever no row of ``model`` has.

    Articles have their own version (per language, old slugs included) in
    ``models.services.article_edits``.
    """
    column = col(model.slug)
    # A slug has no LIKE wildcards (% or _), so ``base`` needs no escaping.
    stmt = select(column).where(sa.or_(column == base, column.like(f"{base}-%")))
    taken = set((await session.exec(stmt)).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def duplicate_slug(slug: str) -> Duplicate:
    return Duplicate(f"The slug '{slug}' is already used", field="slug")


async def taken_slug_errors(
    session: AsyncSession,
    model: type[Named],
    patch: type[EditorInput],
    data: dict[str, Any],
    own_id: int | None = None,
) -> list[DomainError]:
    """DUPLICATE for a well-formed slug that is taken, even when other fields are bad.

    A malformed slug is left to the full check, which reports it.
    """
    if data.get("slug") is None:
        return []
    only, _ = check(patch, {"slug": data["slug"]})
    slug = getattr(only, "slug", None)
    if slug is None or not await slug_taken(session, model, slug, own_id):
        return []
    return [duplicate_slug(slug)]


async def delete_named(
    session: AsyncSession, *, viewer: Viewer, model: type[Named], id: int
) -> int:
    """Delete one author, tag or office (its links and children cascade), audited."""
    row = await session.get(model, id)
    entity = str(model.__tablename__)
    if row is None:
        raise NotFound(f"No {entity} with this ID", field="id")
    await session.delete(row)
    audit.record(session, viewer, f"{entity}.deleted", entity, id, slug=row.slug)
    await session.commit()
    return id
