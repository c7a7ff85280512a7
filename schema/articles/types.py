"""The ``Article`` type."""

from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry.scalars import JSON

from models.article import Article
from models.rendering import reading_time_minutes
from models.revision import ArticleCorrection, ArticleRevision
from schema.authors.types import AuthorType
from schema.context import Info
from schema.enums import ArticleStatus, Language
from schema.errors import camel
from schema.jsonld import news_article
from schema.node import Node, to_global_id
from schema.permissions import IsEditor
from schema.tags.types import TagType


@strawberry.type(description="A public, timestamped correction to a published article.")
class Correction:
    note: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: ArticleCorrection) -> Self:
        return cls(note=row.note, created_at=row.created_at)


@strawberry.type(description="The article's content as one edit left it (editors only).")
class Revision:
    version: int
    created_at: datetime
    author: str | None = strawberry.field(description="Name of the token that made the edit.")
    changed_fields: list[str]
    title: str
    slug: str
    lead: str
    body: str

    @classmethod
    def from_model(cls, row: ArticleRevision) -> Self:
        snapshot = row.snapshot
        return cls(
            version=row.version,
            created_at=row.created_at,
            author=row.actor,
            changed_fields=[camel(name) for name in row.changed_fields],
            title=snapshot.get("title", ""),
            slug=snapshot.get("slug", ""),
            lead=snapshot.get("lead", ""),
            body=snapshot.get("body", ""),
        )


@strawberry.type(name="Article", description="A news item, in one language.")
class ArticleType(Node):
    id: strawberry.ID
    slug: str
    title: str
    lead: str
    body: str = strawberry.field(description="Markdown source.")
    body_html: str = strawberry.field(description="The body rendered to sanitised HTML.")
    status: ArticleStatus
    language: Language
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    source_name: str | None = strawberry.field(description="Syndication source, e.g. BelTA.")
    source_url: str | None
    pk: strawberry.Private[int]
    translation_group: strawberry.Private[str | None]
    model: strawberry.Private[Article]

    @classmethod
    def from_model(cls, article: Article) -> Self:
        assert article.id is not None
        return cls(
            model=article,
            id=to_global_id("Article", article.id),
            pk=article.id,
            slug=article.slug,
            title=article.title,
            lead=article.lead,
            body=article.body,
            body_html=article.body_html,
            status=article.status,
            language=article.language,
            published_at=article.published_at,
            created_at=article.created_at,
            updated_at=article.updated_at,
            version=article.version,
            source_name=article.source_name,
            source_url=article.source_url,
            translation_group=article.translation_group,
        )

    @strawberry.field(description="Estimated reading time of lead and body, in minutes.")
    def reading_time_minutes(self) -> int:
        return reading_time_minutes(self.lead, self.body)

    @strawberry.field(description="The byline, in order.")
    async def authors(self, info: Info) -> list[AuthorType]:
        found = await info.context.loaders.authors_of_article.load(self.pk)
        return [AuthorType.from_model(author) for author in found]

    @strawberry.field
    async def tags(self, info: Info) -> list[TagType]:
        found = await info.context.loaders.tags_of_article.load(self.pk)
        return [TagType.from_model(tag) for tag in found]

    @strawberry.field(
        description="schema.org NewsArticle as JSON-LD, for a page's structured data."
    )
    async def json_ld(self, info: Info) -> JSON:
        authors = await info.context.loaders.authors_of_article.load(self.pk)
        return JSON(news_article(self.model, authors))

    @strawberry.field(description="Public corrections, oldest first.")
    async def corrections(self, info: Info) -> list[Correction]:
        rows = await info.context.loaders.corrections.load(self.pk)
        return [Correction.from_model(row) for row in rows]

    @strawberry.field(
        description="Every edit, newest first (editors only).", permission_classes=[IsEditor]
    )
    async def revisions(self, info: Info) -> list[Revision]:
        rows = await info.context.loaders.revisions.load(self.pk)
        return [Revision.from_model(row) for row in rows]

    @strawberry.field(description="The same story in the other languages.")
    async def translations(
        self, info: Info
    ) -> list[Annotated["ArticleType", strawberry.lazy("schema.articles.types")]]:
        if self.translation_group is None:
            return []
        group = await info.context.loaders.translations.load(self.translation_group)
        return [ArticleType.from_model(a) for a in group if a.id != self.pk]
