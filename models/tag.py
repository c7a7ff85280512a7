"""Tags: a flat vocabulary attached to articles."""

from typing import Any, TypeAlias

import pydantic
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.inputs import SLUG_PATTERN, EditorInput


class TagBase(SQLModel):
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class Tag(TagBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


TagRead: TypeAlias = Tag | sa.Row[Any]
"""A tag as read: the instance, or (an article's tags) a row of its columns by name."""


class TagCreate(TagBase):
    """Every stored column, as given: for seeding and test data."""


class TagInput(EditorInput):
    """An editor's new tag; validated all at once (see models.validation)."""

    name: str = pydantic.Field(min_length=1, max_length=100)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)


class TagPatch(EditorInput):
    """The fields an update changes; absent fields stay as they are. Neither may be null."""

    name: str | None = pydantic.Field(default=None, min_length=1, max_length=100)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
