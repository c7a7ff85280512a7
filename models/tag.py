"""Tags: a flat vocabulary attached to articles."""

from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict
from sqlmodel import Field, SQLModel

from models.article import SLUG_PATTERN
from models.columns import is_storable


class TagBase(SQLModel):
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class Tag(TagBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class TagCreate(TagBase):
    """Every stored column, as given: for seeding and test data."""


class _TagFields(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    @pydantic.field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
        if isinstance(value, str) and not is_storable(value):
            raise ValueError("This text contains characters that cannot be stored")
        return value


class TagInput(_TagFields):
    """An editor's new tag; validated all at once (see models.validation)."""

    name: str = pydantic.Field(min_length=1, max_length=100)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)


class TagPatch(_TagFields):
    """The fields an update changes; absent fields stay as they are. Neither may be null."""

    name: str | None = pydantic.Field(default=None, min_length=1, max_length=100)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
