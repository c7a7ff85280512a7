"""Articles and their byline and tag links.

Bylines are ordered (``ArticleAuthor.position``); translations of one story share
a ``translation_group``. ``body_html`` is rendered from ``body`` when the article
is written, so reads never pay for Markdown rendering.
"""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

import pydantic
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.columns import UTCDateTime, utcnow
from models.inputs import SLUG_PATTERN, EditorInput, WebUrl


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Language(StrEnum):
    BE = "be"
    RU = "ru"
    EN = "en"


class ArticleBase(SQLModel):
    slug: str = Field(max_length=200)
    title: str = Field(max_length=500)
    lead: str = Field(default="", max_length=2000)
    body: str = Field(default="", sa_type=sa.Text)
    status: ArticleStatus = Field(default=ArticleStatus.DRAFT, sa_type=sa.String(16))
    language: Language = Field(default=Language.BE, sa_type=sa.String(2))
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source_name: str | None = Field(default=None, max_length=200)
    source_url: str | None = Field(default=None, max_length=2000)
    translation_group: str | None = Field(default=None, max_length=36, index=True)


class Article(ArticleBase, table=True):
    __table_args__ = (
        sa.UniqueConstraint("slug", "language", name="uq_article_slug_language"),
        sa.UniqueConstraint(
            "translation_group", "language", name="uq_article_translation_language"
        ),
        sa.Index("ix_article_status_published_at", "status", "published_at", "id"),
        sa.Index("ix_article_title", "title", "id"),
        sa.Index("ix_article_updated_at", "updated_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    body_html: str = Field(default="", sa_type=sa.Text)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ArticleCreate(ArticleBase):
    """Every stored column, as given: for seeding, imports and backups."""


# The content fields an editor writes; a revision snapshots exactly these.
CONTENT_FIELDS = (
    "title",
    "slug",
    "lead",
    "body",
    "language",
    "source_name",
    "source_url",
    "author_ids",
    "tag_ids",
)


class ArticleInput(EditorInput):
    """An editor's article content; validated all at once (see models.validation)."""

    title: str = pydantic.Field(min_length=1, max_length=500)
    slug: str | None = pydantic.Field(default=None, max_length=200, pattern=SLUG_PATTERN)
    lead: str = pydantic.Field(default="", max_length=2000)
    body: str = pydantic.Field(default="", max_length=200_000)
    language: Language = Language.BE
    source_name: str | None = pydantic.Field(default=None, max_length=200)
    source_url: WebUrl | None = None
    author_ids: list[int] = pydantic.Field(default_factory=list, max_length=50)
    tag_ids: list[int] = pydantic.Field(default_factory=list, max_length=50)
    translation_of: int | None = None


class ArticlePatch(EditorInput):
    """The fields an update changes; absent fields stay as they are."""

    title: str | None = pydantic.Field(default=None, min_length=1, max_length=500)
    slug: str | None = pydantic.Field(default=None, max_length=200, pattern=SLUG_PATTERN)
    lead: str | None = pydantic.Field(default=None, max_length=2000)
    body: str | None = pydantic.Field(default=None, max_length=200_000)
    language: Language | None = None
    source_name: str | None = pydantic.Field(default=None, max_length=200)
    source_url: WebUrl | None = None
    author_ids: list[int] | None = pydantic.Field(default=None, max_length=50)
    tag_ids: list[int] | None = pydantic.Field(default=None, max_length=50)

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"source_name", "source_url"})


class ArticleAuthor(SQLModel, table=True):
    """One name in an article's byline, in byline order."""

    __tablename__ = "article_author"

    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    author_id: int = Field(
        foreign_key="author.id", primary_key=True, ondelete="CASCADE", index=True
    )
    position: int = Field(default=0)


class ArticleTag(SQLModel, table=True):
    __tablename__ = "article_tag"

    article_id: int = Field(foreign_key="article.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE", index=True)


class ArticleSlugAlias(SQLModel, table=True):
    """A slug the article was published under before it was renamed; links keep working."""

    __tablename__ = "article_slug_alias"
    __table_args__ = (sa.UniqueConstraint("slug", "language", name="uq_slug_alias_language"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", ondelete="CASCADE", index=True)
    slug: str = Field(max_length=200)
    language: Language = Field(sa_type=sa.String(2))
