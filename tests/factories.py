"""Test data, built through the same services the product uses."""

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from models import Article, ArticleStatus, Author, Language, Office, Tag
from models.article import ArticleCreate
from models.author import AuthorCreate
from models.columns import utcnow
from models.db import SessionMaker
from models.office import OfficeCreate
from models.services.article_edits import insert_article
from models.services.authors import create_author
from models.services.offices import create_office
from models.services.seed import PHONES, WORKDAY
from models.services.tags import create_tag
from models.tag import TagCreate

_sequence = itertools.count(1)


async def make_author(
    sessionmaker: SessionMaker, name: str | None = None, **fields: object
) -> Author:
    n = next(_sequence)
    data = AuthorCreate.model_validate(
        {
            "slug": f"author-{n}",
            "name": name or f"Author {n}",
            "email": f"a{n}@example.by",
            **fields,
        }
    )
    async with sessionmaker() as session:
        return await create_author(session, data=data)


async def make_tag(sessionmaker: SessionMaker, name: str | None = None, **fields: object) -> Tag:
    n = next(_sequence)
    data = TagCreate.model_validate({"slug": f"tag-{n}", "name": name or f"Tag {n}", **fields})
    async with sessionmaker() as session:
        return await create_tag(session, data=data)


async def make_article(
    sessionmaker: SessionMaker,
    title: str | None = None,
    *,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    published_at: datetime | None = None,
    authors: Sequence[Author] = (),
    tags: Sequence[Tag] = (),
    language: Language = Language.EN,
    **fields: object,
) -> Article:
    """A published article (one hour old) unless told otherwise."""
    n = next(_sequence)
    if published_at is None and status is ArticleStatus.PUBLISHED:
        published_at = utcnow() - timedelta(hours=1)
    data = ArticleCreate.model_validate(
        {
            "slug": f"article-{n}",
            "title": title or f"Article {n}",
            "lead": f"Lead of article {n}.",
            "body": f"Body of article {n}.",
            "status": status,
            "language": language,
            "published_at": published_at,
            **fields,
        }
    )
    async with sessionmaker() as session:
        return await insert_article(
            session,
            data=data,
            author_ids=[a.id for a in authors if a.id is not None],
            tag_ids=[t.id for t in tags if t.id is not None],
        )


async def make_office(
    sessionmaker: SessionMaker, name: str | None = None, **fields: object
) -> Office:
    """An office with the seed's phones and Mon-Fri hours."""
    n = next(_sequence)
    data = OfficeCreate.model_validate(
        {"slug": f"office-{n}", "name": name or f"Office {n}", **fields}
    )
    async with sessionmaker() as session:
        return await create_office(
            session, data=data, phones=PHONES, weekly={day: WORKDAY for day in range(1, 6)}
        )
