"""Writing tags. Reads go through ``models.services.catalog``."""

from sqlmodel.ext.asyncio.session import AsyncSession

from models.tag import Tag, TagCreate


async def create_tag(session: AsyncSession, *, data: TagCreate) -> Tag:
    tag = Tag.model_validate(data)
    session.add(tag)
    await session.commit()
    return tag
