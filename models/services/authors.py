"""Writing authors. Reads go through ``models.services.catalog``.

The editor's use cases (``add_author``, ``update_author``, ``delete_author``) each
are one transaction with their audit entry. Removing an author takes it out of
every byline (the links cascade in the database); the articles stay.
"""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from models.author import Author, AuthorCreate, AuthorInput, AuthorPatch
from models.columns import utcnow
from models.errors import NotFound
from models.services import audit, events
from models.services.catalog import (
    delete_named,
    duplicate_slug,
    free_slug,
    slug_from_name,
    taken_slug_errors,
)
from models.validation import check, raise_all
from models.viewer import Viewer

ENTITY = "author"


async def create_author(session: AsyncSession, *, data: AuthorCreate) -> Author:
    """Store an author exactly as given (seed content, test data): no checks, no audit."""
    author = Author.model_validate(data)
    session.add(author)
    events.content_changed(session)
    await session.commit()
    return author


async def add_author(session: AsyncSession, *, viewer: Viewer, data: dict[str, Any]) -> Author:
    """A new author from an editor's input; the slug comes from the name when not given."""
    given, errors = check(AuthorInput, data)
    errors += await taken_slug_errors(session, Author, AuthorPatch, data)
    raise_all(errors)
    assert given is not None
    slug = given.slug or await free_slug(session, Author, slug_from_name(given.name, ENTITY))
    author = Author(
        slug=slug,
        name=given.name,
        bio=given.bio,
        avatar_url=str(given.avatar_url) if given.avatar_url else None,
        email=given.email,
    )
    session.add(author)
    try:
        await session.flush()
        audit.record(session, viewer, "author.created", ENTITY, author.id, slug=slug)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise duplicate_slug(slug) from None
    return author


async def update_author(
    session: AsyncSession, *, viewer: Viewer, id: int, data: dict[str, Any]
) -> Author:
    """Apply the given fields; an input that changes nothing writes nothing."""
    patch, errors = check(AuthorPatch, data)
    author = await session.get(Author, id)
    if author is None:
        errors.insert(0, NotFound("No author with this ID", field="id"))
    errors += AuthorPatch.nulled_required(data)
    errors += await taken_slug_errors(session, Author, AuthorPatch, data, own_id=id)
    raise_all(errors)
    assert author is not None and patch is not None
    after = {name: getattr(patch, name) for name in patch.model_fields_set}
    if after.get("avatar_url") is not None:
        after["avatar_url"] = str(after["avatar_url"])
    changed = sorted(name for name, value in after.items() if getattr(author, name) != value)
    if not changed:
        return author
    slug = after.get("slug", author.slug)
    for name in changed:
        setattr(author, name, after[name])
    author.updated_at = utcnow()
    audit.record(session, viewer, "author.updated", ENTITY, id, fields=changed)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise duplicate_slug(slug) from None
    return author


async def delete_author(session: AsyncSession, *, viewer: Viewer, id: int) -> int:
    """Remove the author and its byline entries; its articles stay."""
    return await delete_named(session, viewer=viewer, model=Author, id=id)
