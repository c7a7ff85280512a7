"""Per-request DataLoaders: every nested relation is fetched in batches.

Each batch opens its own short session, so concurrent resolvers never share one.
"""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from models import (
    Article,
    ArticleAuthor,
    ArticleTag,
    Author,
    Office,
    Tag,
)
from models.author import AuthorRead
from models.db import SessionMaker
from models.office import StoredException, StoredHours, StoredPhone
from models.revision import ArticleCorrection, ArticleRevision
from models.services import article_loaders, catalog, offices
from models.services.article_loaders import Related
from models.services.articles import ArticleRead
from models.services.catalog import NamedRow
from models.services.pagination import Page, PageArgs
from models.tag import TagRead
from models.viewer import Viewer
from schema.articles.selection import ArticleSelection

K = TypeVar("K")
V = TypeVar("V")

ParentPage = tuple[int, PageArgs, ArticleSelection]
"""A parent's id, the page asked of its articles, and what is selected of each article."""
PageWithRelated = tuple[Page[ArticleRead], Related]


class Loaders:
    def __init__(self, sessionmaker: SessionMaker, viewer: Viewer, now: datetime) -> None:
        self._sessionmaker = sessionmaker
        self._viewer = viewer
        self._now = now
        self.article: DataLoader[int, ArticleRead | None] = self._loader(
            lambda s, ids: article_loaders.articles_by_ids(s, ids=ids, viewer=viewer, now=now)
        )
        self.author: DataLoader[int, NamedRow | None] = self._loader(
            lambda s, ids: catalog.rows_by_ids(s, Author, ids=ids)
        )
        self.tag: DataLoader[int, NamedRow | None] = self._loader(
            lambda s, ids: catalog.rows_by_ids(s, Tag, ids=ids)
        )
        self.office: DataLoader[int, NamedRow | None] = self._loader(
            lambda s, ids: catalog.rows_by_ids(s, Office, ids=ids)
        )
        self.authors_of_article: DataLoader[int, list[AuthorRead]] = self._loader(
            lambda s, ids: article_loaders.authors_of_articles(s, article_ids=ids)
        )
        self.tags_of_article: DataLoader[int, list[TagRead]] = self._loader(
            lambda s, ids: article_loaders.tags_of_articles(s, article_ids=ids)
        )
        self.translations: DataLoader[str, list[Article]] = self._loader(
            lambda s, groups: article_loaders.translations_of_groups(
                s, groups=groups, viewer=viewer, now=now
            )
        )
        self.corrections: DataLoader[int, list[ArticleCorrection]] = self._loader(
            lambda s, ids: article_loaders.corrections_of_articles(s, article_ids=ids)
        )
        self.revisions: DataLoader[int, list[ArticleRevision]] = self._loader(
            lambda s, ids: article_loaders.revisions_of_articles(s, article_ids=ids)
        )
        self.phones: DataLoader[int, list[StoredPhone]] = self._loader(
            lambda s, ids: offices.phones_of_offices(s, office_ids=ids)
        )
        self.hours: DataLoader[int, list[StoredHours]] = self._loader(
            lambda s, ids: offices.hours_of_offices(s, office_ids=ids)
        )
        self.exceptions: DataLoader[int, list[StoredException]] = self._loader(
            lambda s, ids: offices.exceptions_of_offices(s, office_ids=ids)
        )
        self.articles_of_author = DataLoader(self._pages_loader(ArticleAuthor))
        self.articles_of_tag = DataLoader(self._pages_loader(ArticleTag))
        self.article_count_of_author: DataLoader[int, int] = self._loader(
            lambda s, ids: article_loaders.count_articles_of_parents(
                s, link=ArticleAuthor, parent_ids=ids, viewer=viewer, now=now
            )
        )
        self.article_count_of_tag: DataLoader[int, int] = self._loader(
            lambda s, ids: article_loaders.count_articles_of_parents(
                s, link=ArticleTag, parent_ids=ids, viewer=viewer, now=now
            )
        )

    def by_name(self, name: str | None) -> DataLoader[Any, Any]:
        """The loader a declaration names (``schema.sources.Relation.via``, ``counted_by``)."""
        found = getattr(self, name or "", None)
        if not isinstance(found, DataLoader):
            raise LookupError(f"no loader named {name!r}")
        return found

    def _loader(
        self, batch: Callable[[AsyncSession, list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        async def load(keys: list[K]) -> Sequence[V]:
            async with self._sessionmaker() as session:
                return await batch(session, keys)

        return DataLoader(load)

    def _pages_loader(
        self, link: type[ArticleAuthor] | type[ArticleTag]
    ) -> Callable[[list[ParentPage]], Awaitable[list[PageWithRelated]]]:
        """Pages of each parent's articles, with the selected columns and related rows.

        One query per distinct page request and selection (in practice one: every author
        of a list asks the same), plus one per related kind for all of its pages together.
        """

        async def load(keys: list[ParentPage]) -> list[PageWithRelated]:
            by_request: dict[tuple[PageArgs, ArticleSelection], list[int]] = defaultdict(list)
            for parent_id, args, selection in keys:
                by_request[args, selection].append(parent_id)
            pages: dict[ParentPage, PageWithRelated] = {}
            async with self._sessionmaker() as session:
                for (args, selection), parent_ids in by_request.items():
                    found = await article_loaders.articles_of_parents(
                        session,
                        viewer=self._viewer,
                        now=self._now,
                        link=link,
                        parent_ids=parent_ids,
                        page=args,
                        columns=selection.columns,
                    )
                    related = await article_loaders.related_of_articles(
                        session,
                        article_ids=article_loaders.ids_of(
                            item for page in found for item in page.items
                        ),
                        authors=selection.authors,
                        tags=selection.tags,
                    )
                    for parent_id, page in zip(parent_ids, found, strict=True):
                        pages[parent_id, args, selection] = (page, related)
            return [pages[key] for key in keys]

        return load
