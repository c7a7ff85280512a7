"""An article's history: revisions (who changed what, and the content after) and
public corrections."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow


class ArticleRevision(SQLModel, table=True):
    """The article's editable content as it stood once ``version`` was reached."""

    __tablename__ = "article_revision"
    __table_args__ = (sa.UniqueConstraint("article_id", "version", name="uq_revision_version"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", index=True)
    version: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str | None = Field(default=None, max_length=100)
    changed_fields: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class ArticleCorrection(SQLModel, table=True):
    __tablename__ = "article_correction"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", index=True)
    note: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str | None = Field(default=None, max_length=100)
