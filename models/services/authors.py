"""Reading authors: lookups, alphabetical pages, DataLoader batches."""

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.author import Author, AuthorCreate
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    check_page_args,
    make_page,
    paginate,
)

AUTHORS_BY_NAME = Ordering(
    "an", (OrderKey("name", col(Author.name), kind="str"), OrderKey("id", col(Author.id)))
)


async def get_author(
    session: AsyncSession, *, id: int | None = None, slug: str | None = None
) -> Author | None:
    stmt = select(Author)
    if id is not None:
        stmt = stmt.where(col(Author.id) == id)
    if slug is not None:
        stmt = stmt.where(col(Author.slug) == slug)
    return (await session.exec(stmt.limit(1))).first()


async def list_authors(session: AsyncSession, *, page: PageArgs) -> Page[Author]:
    window = check_page_args(page, AUTHORS_BY_NAME)
    rows = (await session.exec(paginate(select(Author), AUTHORS_BY_NAME, window))).all()
    return make_page(rows, AUTHORS_BY_NAME, window)


async def authors_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Author | None]:
    found = {a.id: a for a in (await session.exec(select(Author).where(col(Author.id).in_(ids))))}
    return [found.get(id) for id in ids]


async def create_author(session: AsyncSession, *, data: AuthorCreate) -> Author:
    author = Author.model_validate(data)
    session.add(author)
    await session.commit()
    return author
