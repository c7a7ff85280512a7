"""Authors: the people (or desks) in an article's byline."""

from datetime import datetime
from typing import Annotated, Any, ClassVar

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, HttpUrl
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel

from models.article import SLUG_PATTERN
from models.columns import UTCDateTime, is_storable, utcnow

MAX_URL_LENGTH = 2000


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


class AuthorCreate(AuthorBase):
    """Every stored column, as given: for seeding and test data."""


def _fits_column(value: Any) -> Any:
    # Checked on the raw text and again after normalising (an IDN host grows as punycode):
    # pydantic's own URL limit is 2083, longer than the column.
    if len(str(value)) > MAX_URL_LENGTH:
        raise PydanticCustomError(
            "string_too_long",
            "This URL may have at most {max_length} characters",
            {"max_length": MAX_URL_LENGTH},
        )
    return value


WebUrl = Annotated[HttpUrl, BeforeValidator(_fits_column), AfterValidator(_fits_column)]


class _AuthorFields(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    @pydantic.field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
        if isinstance(value, str) and not is_storable(value):
            raise ValueError("This text contains characters that cannot be stored")
        return value


class AuthorInput(_AuthorFields):
    """An editor's new author; validated all at once (see models.validation)."""

    name: str = pydantic.Field(min_length=1, max_length=200)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
    bio: str = pydantic.Field(default="", max_length=5000, description="Markdown or plain text.")
    avatar_url: WebUrl | None = None
    email: EmailStr | None = None


class AuthorPatch(_AuthorFields):
    """The fields an update changes; absent fields stay as they are."""

    name: str | None = pydantic.Field(default=None, min_length=1, max_length=200)
    slug: str | None = pydantic.Field(default=None, max_length=100, pattern=SLUG_PATTERN)
    bio: str | None = pydantic.Field(default=None, max_length=5000)
    avatar_url: WebUrl | None = None
    email: EmailStr | None = None

    # Fields that may be cleared by sending null; the rest must have a value when sent.
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"avatar_url", "email"})
