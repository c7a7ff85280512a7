"""The ``Article`` type."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Self, cast

import strawberry
from strawberry.scalars import JSON

from models.article import Article
from models.author import AuthorRead
from models.rendering import reading_time_minutes
from models.revision import ArticleCorrection, ArticleRevision
from models.services.article_loaders import NOTHING_RELATED, Related
from models.services.articles import ArticleRead
from models.tag import TagRead
from schema.authors.types import AuthorType
from schema.context import Info
from schema.enums import ArticleStatus, Language
from schema.errors import camel
from schema.jsonld import news_article
from schema.node import Node, to_global_id
from schema.permissions import IsEditor
from schema.sources import Column, Computed, GlobalId, Relation, Request, declare
from schema.tags.types import TagType

CORRECTION = declare("Correction", {"note": Column("note"), "createdAt": Column("created_at")})


@strawberry.type(description="A public, timestamped correction to a published article.")
class Correction:
    note: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: ArticleCorrection) -> Self:
        return cls(**CORRECTION.values(partial(getattr, row)))


def _snapshot(name: str) -> Computed:
    return Computed(("snapshot",), lambda snapshot: snapshot.get(name, ""), attribute=name)


REVISION = declare(
    "Revision",
    {
        "version": Column("version"),
        "createdAt": Column("created_at"),
        "author": Column("actor", attribute="author"),
        "changedFields": Computed(
            ("changed_fields",),
            lambda names: [camel(name) for name in names],
            attribute="changed_fields",
        ),
        "title": _snapshot("title"),
        "slug": _snapshot("slug"),
        "lead": _snapshot("lead"),
        "body": _snapshot("body"),
    },
)


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
        return cls(**REVISION.values(partial(getattr, row)))


class _NotLoaded:
    """Stands in for a column the read did not select.

    Selections are computed so that no resolved field needs one; if one ever slipped
    through, GraphQL cannot serialise it and the field fails, instead of answering wrongly.
    """

    def __repr__(self) -> str:
        return "<column not loaded>"


NOT_LOADED: Any = _NotLoaded()


JSON_LD_COLUMNS = (
    "title",
    "lead",
    "language",
    "published_at",
    "updated_at",
    "source_name",
    "source_url",
)
"""What ``schema.jsonld.news_article`` reads of an article, besides its byline."""


@dataclass(frozen=True)
class ArticleRows:
    """An article's related rows, by relation name (None: not read), as derived values and
    the planner read them."""

    authors: Sequence[AuthorRead] | None
    tags: Sequence[TagRead] | None = None

    @classmethod
    def of(cls, related: Related, pk: int) -> "ArticleRows":
        """This article's, from a batch's ``Related``."""
        return cls(
            authors=None if related.authors is None else related.authors[pk],
            tags=None if related.tags is None else related.tags[pk],
        )


def _json_ld(article: ArticleRead, rows: ArticleRows, _a: Mapping[str, Any], _r: Request) -> object:
    # news_article reads only columns (the selection asks for them), so a row will do.
    assert rows.authors is not None
    return JSON(news_article(cast(Article, article), rows.authors))


ARTICLE = declare(
    "Article",
    {
        "id": GlobalId(),
        "slug": Column("slug"),
        "title": Column("title"),
        "lead": Column("lead"),
        "body": Column("body"),
        "bodyHtml": Column("body_html"),
        "status": Column("status"),
        "language": Column("language"),
        "publishedAt": Column("published_at"),
        "createdAt": Column("created_at"),
        "updatedAt": Column("updated_at"),
        "version": Column("version"),
        "sourceName": Column("source_name"),
        "sourceUrl": Column("source_url"),
        "readingTimeMinutes": Computed(("lead", "body"), reading_time_minutes),
        "authors": Relation("Author", via="authors_of_articles (BYLINE_ORDER)"),
        "tags": Relation("Tag", via="tags_of_articles (TAG_ORDER)"),
        "jsonLd": Computed(JSON_LD_COLUMNS, relations=frozenset({"authors"}), derive=_json_ld),
        "corrections": Relation("Correction", via="corrections_of_articles"),
        "revisions": Relation("Revision", via="revisions_of_articles", editors_only=True),
        "translations": Relation(
            "Article", via="translations_of_groups", columns=("translation_group",)
        ),
    },
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
    model: strawberry.Private[ArticleRead]
    # Rows the root resolver fetched for the whole page; None: ask the DataLoader.
    byline: strawberry.Private[list[AuthorRead] | None] = None
    tag_rows: strawberry.Private[list[TagRead] | None] = None

    @classmethod
    def from_model(cls, article: ArticleRead, related: Related = NOTHING_RELATED) -> Self:
        """From a whole ``Article`` or a row with some of its columns (the rest: NOT_LOADED)."""
        pk = article.id
        assert pk is not None
        if isinstance(article, Article):
            column: Callable[[str], Any] = partial(getattr, article)
        else:
            values = article._asdict()  # one call, instead of a failed lookup per absent column

            def column(name: str) -> Any:
                return values.get(name, NOT_LOADED)

        return cls(
            model=article,
            id=to_global_id("Article", pk),
            pk=pk,
            **ARTICLE.values(column),
            byline=None if related.authors is None else related.authors[pk],
            tag_rows=None if related.tags is None else related.tags[pk],
        )

    @strawberry.field(description="Estimated reading time of lead and body, in minutes.")
    def reading_time_minutes(self) -> int:
        return cast(int, ARTICLE.compute("readingTimeMinutes", self))

    # Prefetched relations resolve synchronously: no coroutine, no DataLoader round per
    # article. Otherwise the resolver hands GraphQL an awaitable (graphql_type names the type).
    @strawberry.field(description="The byline, in order.", graphql_type=list[AuthorType])
    def authors(self, info: Info) -> list[AuthorType] | Awaitable[list[AuthorType]]:
        if self.byline is not None:
            return [AuthorType.from_model(author) for author in self.byline]
        return self._load_authors(info)

    async def _load_authors(self, info: Info) -> list[AuthorType]:
        found = await info.context.loaders.authors_of_article.load(self.pk)
        return [AuthorType.from_model(author) for author in found]

    @strawberry.field(graphql_type=list[TagType])
    def tags(self, info: Info) -> list[TagType] | Awaitable[list[TagType]]:
        if self.tag_rows is not None:
            return [TagType.from_model(tag) for tag in self.tag_rows]
        return self._load_tags(info)

    async def _load_tags(self, info: Info) -> list[TagType]:
        found = await info.context.loaders.tags_of_article.load(self.pk)
        return [TagType.from_model(tag) for tag in found]

    @strawberry.field(
        description="schema.org NewsArticle as JSON-LD, for a page's structured data.",
        graphql_type=JSON,
    )
    def json_ld(self, info: Info) -> object:
        if self.byline is not None:
            return self._json_ld(info, self.byline)
        return self._load_json_ld(info)

    async def _load_json_ld(self, info: Info) -> object:
        return self._json_ld(info, await info.context.loaders.authors_of_article.load(self.pk))

    def _json_ld(self, info: Info, authors: Sequence[AuthorRead]) -> object:
        derive = ARTICLE.computed("jsonLd").derive
        assert derive is not None
        return derive(self.model, ArticleRows(authors), {}, info.context)

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
