"""Writing tags. Reads go through ``models.services.catalog``.

The editor's use cases (``add_tag``, ``update_tag``, ``delete_tag``) each are one
transaction with their audit entry. Removing a tag takes it off every article (the
links cascade in the database); the articles stay.
"""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import NotFound
from models.services import audit, events
from models.services.catalog import (
    delete_named,
    duplicate_slug,
    free_slug,
    slug_from_name,
    taken_slug_errors,
)
from models.tag import Tag, TagCreate, TagInput, TagPatch
from models.validation import check, raise_all
from models.viewer import Viewer

ENTITY = "tag"


async def create_tag(session: AsyncSession, *, data: TagCreate) -> Tag:
    """Store a tag exactly as given (seed content, test data): no checks, no audit."""
    tag = Tag.model_validate(data)
    session.add(tag)
    events.content_changed(session)
    await session.commit()
    return tag


async def add_tag(session: AsyncSession, *, viewer: Viewer, data: dict[str, Any]) -> Tag:
    """A new tag from an editor's input; the slug comes from the name when not given."""
    given, errors = check(TagInput, data)
    errors += await taken_slug_errors(session, Tag, TagPatch, data)
    raise_all(errors)
    assert given is not None
    slug = given.slug or await free_slug(session, Tag, slug_from_name(given.name, ENTITY))
    tag = Tag(slug=slug, name=given.name)
    session.add(tag)
    try:
        await session.flush()
        audit.record(session, viewer, "tag.created", ENTITY, tag.id, slug=slug)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise duplicate_slug(slug) from None
    return tag


async def update_tag(
    session: AsyncSession, *, viewer: Viewer, id: int, data: dict[str, Any]
) -> Tag:
    """Apply the given fields; an input that changes nothing writes nothing.

    Tags have no ``updated_at`` column: the audit entry is the record of the change.
    """
    patch, errors = check(TagPatch, data)
    tag = await session.get(Tag, id)
    if tag is None:
        errors.insert(0, NotFound("No tag with this ID", field="id"))
    errors += TagPatch.nulled_required(data)
    errors += await taken_slug_errors(session, Tag, TagPatch, data, own_id=id)
    raise_all(errors)
    assert tag is not None and patch is not None
    after = {name: getattr(patch, name) for name in patch.model_fields_set}
    changed = sorted(name for name, value in after.items() if getattr(tag, name) != value)
    if not changed:
        return tag
    slug = after.get("slug", tag.slug)
    for name in changed:
        setattr(tag, name, after[name])
    audit.record(session, viewer, "tag.updated", ENTITY, id, fields=changed)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise duplicate_slug(slug) from None
    return tag


async def delete_tag(session: AsyncSession, *, viewer: Viewer, id: int) -> int:
    """Remove the tag and its links to articles; the articles stay."""
    return await delete_named(session, viewer=viewer, model=Tag, id=id)
