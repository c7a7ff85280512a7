"""Authors: the people (or desks) in an article's byline."""

from datetime import datetime
from typing import Any, ClassVar, TypeAlias

import pydantic
import sqlalchemy as sa
from pydantic import EmailStr
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow
from models.inputs import MAX_URL_LENGTH, SLUG_PATTERN, EditorInput, WebUrl


class AuthorBase(SQLModel):
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    bio: str = Field(default="", max_length=5000)
    avatar_url: str | None = Field(default=None, max_length=MAX_URL_LENGTH)
    # Private: only editors and admins may read it (see schema permissions).
    email: str | None = Field(default=None, max_length=320)


class Author(AuthorBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


AuthorRead: TypeAlias = Author | sa.Row[Any]
"""An author as read: the instance, or (an article's byline) a row of its columns by name."""


class AuthorCreate(AuthorBase):
    """Every stored column, as given: for seeding and test data."""


class AuthorInput(EditorInput):
    """An editor's new author; validated all at once (see models.validation)."""

    name: str = pydantic.Field(min_length=1, max_length=200)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
    bio: str = pydantic.Field(default="", max_length=5000, description="Markdown or plain text.")
    avatar_url: WebUrl | None = None
    email: EmailStr | None = None


class AuthorPatch(EditorInput):
    """The fields an update changes; absent fields stay as they are."""

    name: str | None = pydantic.Field(default=None, min_length=1, max_length=200)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
    bio: str | None = pydantic.Field(default=None, max_length=5000)
    avatar_url: WebUrl | None = None
    email: EmailStr | None = None

    # Fields that may be cleared by sending null; the rest must have a value when sent.
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"avatar_url", "email"})
