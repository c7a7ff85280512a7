"""Reading tags: lookups, alphabetical pages, DataLoader batches."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    check_page_args,
    make_page,
    paginate,
)
from models.tag import Tag, TagCreate

TAGS_BY_NAME = Ordering(
    "tn", (OrderKey("name", col(Tag.name), kind="str"), OrderKey("id", col(Tag.id)))
)


async def get_tag(
    session: AsyncSession, *, id: int | None = None, slug: str | None = None
) -> Tag | None:
    stmt = select(Tag)
    if id is not None:
        stmt = stmt.where(col(Tag.id) == id)
    if slug is not None:
        stmt = stmt.where(col(Tag.slug) == slug)
    return (await session.exec(stmt.limit(1))).first()


async def list_tags(session: AsyncSession, *, page: PageArgs) -> Page[Tag]:
    window = check_page_args(page, TAGS_BY_NAME)
    rows = (await session.exec(paginate(select(Tag), TAGS_BY_NAME, window))).all()
    return make_page(rows, TAGS_BY_NAME, window)


async def tags_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Tag | None]:
    found = {t.id: t for t in (await session.exec(select(Tag).where(col(Tag.id).in_(ids))))}
    return [found.get(id) for id in ids]


async def create_tag(session: AsyncSession, *, data: TagCreate) -> Tag:
    tag = Tag.model_validate(data)
    session.add(tag)
    await session.commit()
    return tag
