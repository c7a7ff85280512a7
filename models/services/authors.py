"""Writing authors. Reads go through ``models.services.catalog``."""

from sqlmodel.ext.asyncio.session import AsyncSession

from models.author import Author, AuthorCreate


async def create_author(session: AsyncSession, *, data: AuthorCreate) -> Author:
    author = Author.model_validate(data)
    session.add(author)
    await session.commit()
    return author
