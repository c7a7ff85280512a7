"""The public never sees drafts, archived articles or scheduled ones, by any path.

Each hidden article has an author and a tag and shares a translation group with a
published article, so that every way of reaching an article is a way it could leak.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from models import Article, ArticleStatus, Author, Language, Role, Tag, Viewer
from models.article import ArticleCreate
from models.columns import utcnow
from models.db import SessionMaker
from models.services.article_edits import insert_article
from schema.context import Context
from schema.node import to_global_id
from schema.root import build_schema
from tests.budgets import examples
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

BASE = datetime(2024, 3, 1, 12, tzinfo=UTC)
HIDDEN_KINDS = ["draft", "archived", "scheduled"]

LISTS = """
query Lists {
  newest: articles { nodes { slug } totalCount }
  oldest: articles(orderBy: PUBLISHED_AT_ASC) { nodes { slug } totalCount }
  byTitle: articles(orderBy: TITLE_ASC) { nodes { slug } totalCount }
  byUpdate: articles(orderBy: UPDATED_AT_DESC) { nodes { slug } totalCount }
  backwards: articles(last: 10) { nodes { slug } totalCount }
  paged: articles(first: 1) { nodes { slug } pageInfo { hasNextPage } totalCount }
  russian: articles(filter: {language: RU}) { nodes { slug } totalCount }
  byAuthor: articles(filter: {author: "desk"}) { nodes { slug } totalCount }
  byTag: articles(filter: {tag: "news"}) { nodes { slug } totalCount }
  search: articles(search: "zebra") { nodes { slug } totalCount }
  dated: articles(filter: {publishedAfter: "2000-01-01T00:00:00+00:00"}) { totalCount }
}
"""

LOOKUPS = """
query Lookups($id: ID!, $slug: String!) {
  node(id: $id) { id }
  byId: article(id: $id) { id }
  bySlugAndLanguage: article(slug: $slug, language: RU) { id }
  bySlug: article(slug: $slug) { id language }
  nodes(ids: [$id]) { id }
}
"""

PARENTS = """
query Parents {
  author(slug: "desk") {
    articles { nodes { slug } totalCount }
    firstOnly: articles(first: 1) { nodes { slug } pageInfo { hasNextPage } totalCount }
  }
  authors { nodes { slug articles { nodes { slug } totalCount } } }
  tag(slug: "news") {
    articles { nodes { slug } totalCount }
    firstOnly: articles(first: 1) { nodes { slug } pageInfo { hasNextPage } totalCount }
  }
  tags { nodes { slug articles { nodes { slug } totalCount } } }
}
"""

TRANSLATIONS = """
query Translations($id: ID!) {
  articles { nodes { slug translations { slug } } }
  node(id: $id) { ... on Article { translations { slug } } }
}
"""

EVERYTHING = """
query Everything($ids: [ID!]!) {
  articles(first: 100) { nodes { id translations { id } } totalCount }
  nodes(ids: $ids) { id }
  author(slug: "desk") { articles(first: 100) { nodes { id } totalCount } }
  tag(slug: "news") { articles(first: 100) { nodes { id } totalCount } }
}
"""

BY_SLUG = """
query BySlug($slug: String!, $language: Language!) {
  article(slug: $slug, language: $language) { id }
}
"""


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


@dataclass(frozen=True)
class Story:
    """A translation group: a published English article and a hidden Russian one."""

    kind: str
    published: Article
    hidden: Article


async def given_hidden_stories(sessionmaker: SessionMaker, engine: AsyncEngine) -> list[Story]:
    """One story per hidden kind; the hidden article is created first, so it has the lower id,
    shares its slug with the published one, and is the most recently updated."""
    desk = await make_author(sessionmaker, "Desk", slug="desk")
    news = await make_tag(sessionmaker, "News", slug="news")
    tomorrow = utcnow() + timedelta(days=1)
    hidden_as = {
        "draft": {"status": ArticleStatus.DRAFT, "published_at": BASE},
        "archived": {"status": ArticleStatus.ARCHIVED, "published_at": BASE},
        "scheduled": {"status": ArticleStatus.PUBLISHED, "published_at": tomorrow},
    }
    stories = []
    for n, kind in enumerate(HIDDEN_KINDS):
        common = {"authors": [desk], "tags": [news], "translation_group": f"g-{kind}"}
        hidden = await make_article(
            sessionmaker, f"{kind.title()} zebra", slug=f"{kind}-story",
            language=Language.RU, **common, **hidden_as[kind],
        )  # fmt: skip
        published = await make_article(
            sessionmaker, f"Published {kind}", slug=f"{kind}-story", language=Language.EN,
            published_at=BASE - timedelta(days=n), **common,
        )  # fmt: skip
        stories.append(Story(kind, published, hidden))
    # Hidden articles updated last: a leak would put them first in UPDATED_AT_DESC.
    async with engine.begin() as connection:
        for n, story in enumerate(stories):
            for article, updated_at in (
                (story.published, BASE + timedelta(minutes=n)),
                (story.hidden, BASE + timedelta(days=30)),
            ):
                await connection.execute(
                    sa.update(Article)
                    .where(sa.column("id") == article.id)
                    .values(updated_at=updated_at)
                )
    return stories


def slug_list(slugs: list[str]) -> Any:
    return {"nodes": [{"slug": slug} for slug in slugs], "totalCount": len(slugs)}


# Published ones only: "draft-story" (BASE), "archived-story" (-1 day), "scheduled-story" (-2 days)
NEWEST = ["draft-story", "archived-story", "scheduled-story"]


async def test_editors_see_the_hidden_articles(sessionmaker, engine):
    # given: the data the other tests hide is really there
    stories = await given_hidden_stories(sessionmaker, engine)
    context = Context(sessionmaker=sessionmaker, viewer=Viewer(Role.EDITOR, "desk"))

    # when
    result = await build_schema().execute(LISTS, context_value=context)

    # then
    assert result.errors is None
    assert result.data is not None
    assert result.data["newest"]["totalCount"] == 6
    assert result.data["search"]["totalCount"] == 3
    assert {a.status for s in stories for a in (s.published, s.hidden)} == {
        ArticleStatus.PUBLISHED,
        ArticleStatus.DRAFT,
        ArticleStatus.ARCHIVED,
    }


async def test_lists_show_only_published(client, sessionmaker, engine):
    # given
    await given_hidden_stories(sessionmaker, engine)

    # when
    body = await graphql(client, LISTS)

    # then
    assert body == {
        "data": {
            "newest": slug_list(NEWEST),
            "oldest": slug_list(NEWEST[::-1]),
            "byTitle": slug_list(["archived-story", "draft-story", "scheduled-story"]),
            "byUpdate": slug_list(NEWEST[::-1]),
            "backwards": slug_list(NEWEST),
            "paged": {
                "nodes": [{"slug": "draft-story"}],
                "pageInfo": {"hasNextPage": True},
                "totalCount": 3,
            },
            "russian": slug_list([]),
            "byAuthor": slug_list(NEWEST),
            "byTag": slug_list(NEWEST),
            "search": slug_list([]),
            "dated": {"totalCount": 3},
        }
    }


@pytest.mark.parametrize("kind", HIDDEN_KINDS)
async def test_single_lookups_do_not_find_hidden_articles(client, sessionmaker, engine, kind):
    # given
    stories = {s.kind: s for s in await given_hidden_stories(sessionmaker, engine)}
    story = stories[kind]

    # when
    body = await graphql(
        client, LOOKUPS, id=to_global_id("Article", story.hidden.id), slug=f"{kind}-story"
    )

    # then: the slug alone finds only the published translation
    assert body == {
        "data": {
            "node": None,
            "byId": None,
            "bySlugAndLanguage": None,
            "bySlug": {"id": to_global_id("Article", story.published.id), "language": "EN"},
            "nodes": [None],
        }
    }


async def test_authors_and_tags_count_and_list_only_published(client, sessionmaker, engine):
    # given
    await given_hidden_stories(sessionmaker, engine)

    # when
    body = await graphql(client, PARENTS)

    # then
    first_only = {
        "nodes": [{"slug": "draft-story"}],
        "pageInfo": {"hasNextPage": True},
        "totalCount": 3,
    }
    assert body == {
        "data": {
            "author": {"articles": slug_list(NEWEST), "firstOnly": first_only},
            "authors": {"nodes": [{"slug": "desk", "articles": slug_list(NEWEST)}]},
            "tag": {"articles": slug_list(NEWEST), "firstOnly": first_only},
            "tags": {"nodes": [{"slug": "news", "articles": slug_list(NEWEST)}]},
        }
    }


async def test_translations_leave_out_hidden_articles(client, sessionmaker, engine):
    # given
    stories = await given_hidden_stories(sessionmaker, engine)

    # when
    body = await graphql(client, TRANSLATIONS, id=to_global_id("Article", stories[0].published.id))

    # then
    assert body == {
        "data": {
            "articles": {"nodes": [{"slug": slug, "translations": []} for slug in NEWEST]},
            "node": {"translations": []},
        }
    }


# --- property: any mix of statuses and publish times ------------------------------------------

# Whole hours from now, so that no article is on the edge of "now" while a test runs.
PUBLISH_OFFSETS = st.one_of(st.none(), st.integers(-72, -1), st.integers(1, 72))
ARTICLE_STATES = st.tuples(st.sampled_from(list(ArticleStatus)), PUBLISH_OFFSETS)
STORIES = st.lists(
    st.dictionaries(st.sampled_from(list(Language)), ARTICLE_STATES, min_size=1, max_size=3),
    min_size=1,
    max_size=4,
)


def is_public(status: ArticleStatus, offset_hours: int | None) -> bool:
    """The rule, stated independently: published, with a publish time that has come."""
    return status is ArticleStatus.PUBLISHED and offset_hours is not None and offset_hours < 0


async def make_exact_article(
    sessionmaker: SessionMaker,
    *,
    n: int,
    language: Language,
    status: ArticleStatus,
    published_at: datetime | None,
    author: Author,
    tag: Tag,
) -> Article:
    """Like ``make_article``, but a published article may keep a null ``published_at``."""
    data = ArticleCreate(
        slug=f"story-{n}", title=f"Story {n}", status=status, language=language,
        published_at=published_at, translation_group=f"g{n}",
    )  # fmt: skip
    async with sessionmaker() as session:
        return await insert_article(session, data=data, author_ids=[author.id], tag_ids=[tag.id])


async def clear(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await connection.execute(table.delete())


@settings(max_examples=examples("visibility"))
@given(stories=STORIES)
async def test_public_sees_exactly_the_published_articles(client, sessionmaker, engine, stories):
    # given
    await clear(engine)
    desk = await make_author(sessionmaker, "Desk", slug="desk")
    news = await make_tag(sessionmaker, "News", slug="news")
    now = utcnow()
    public: set[str] = set()
    groups: dict[str, set[str]] = {}
    everything: list[tuple[Article, bool]] = []
    for n, story in enumerate(stories):
        for language, (status, offset) in story.items():
            article = await make_exact_article(
                sessionmaker, n=n, language=language, status=status,
                published_at=None if offset is None else now + timedelta(hours=offset),
                author=desk, tag=news,
            )  # fmt: skip
            article_id = to_global_id("Article", article.id)
            everything.append((article, is_public(status, offset)))
            if is_public(status, offset):
                public.add(article_id)
                groups.setdefault(f"g{n}", set()).add(article_id)
    ids = [to_global_id("Article", article.id) for article, _ in everything]

    # when
    body = await graphql(client, EVERYTHING, ids=ids)
    by_slug = [
        await graphql(client, BY_SLUG, slug=article.slug, language=article.language.name)
        for article, _ in everything
    ]

    # then
    data = body["data"]
    listed = [node["id"] for node in data["articles"]["nodes"]]
    assert sorted(listed) == sorted(public)
    assert data["articles"]["totalCount"] == len(public)
    assert [node["id"] if node else None for node in data["nodes"]] == [
        id if id in public else None for id in ids
    ]
    for parent in ("author", "tag"):
        articles = data[parent]["articles"]
        assert sorted(node["id"] for node in articles["nodes"]) == sorted(public)
        assert articles["totalCount"] == len(public)
    group_of = {to_global_id("Article", a.id): a.translation_group for a, _ in everything}
    for node in data["articles"]["nodes"]:
        others = groups[group_of[node["id"]]] - {node["id"]}
        assert sorted(t["id"] for t in node["translations"]) == sorted(others)
    assert [found["data"]["article"] for found in by_slug] == [
        {"id": to_global_id("Article", article.id)} if visible else None
        for article, visible in everything
    ]
    assert "errors" not in body, json.dumps(body)
