"""Tags: a flat vocabulary attached to articles."""

from sqlmodel import Field, SQLModel


class TagBase(SQLModel):
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class Tag(TagBase, table=True):
    id: int | None = Field(default=None, primary_key=True)


class TagCreate(TagBase):
    pass
