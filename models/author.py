"""Authors: the people (or desks) in an article's byline."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow


class AuthorBase(SQLModel):
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    bio: str = Field(default="", max_length=5000)
    avatar_url: str | None = Field(default=None, max_length=2000)
    # Private: only editors and admins may read it (see schema permissions).
    email: str | None = Field(default=None, max_length=320)


class Author(AuthorBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuthorCreate(AuthorBase):
    pass
