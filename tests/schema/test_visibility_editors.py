"""Whatever editors do through the API, the public sees exactly what is published by now.

Random sequences of editor mutations (write, translate, publish now / later / earlier,
unpublish, archive, edit, rename, delete) run over HTTP with an editor's token; then an
anonymous caller reads through every path an article can be reached by.

Hypothesis runs the examples inside one test on the ``client`` fixture (anyio's pytest
plugin drives ``@given`` async tests), so both databases are covered; the tables are
emptied at the start of every example.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from models import Role
from models.columns import utcnow
from models.db import SessionMaker
from models.services.tokens import create_token
from schema.node import to_global_id
from tests.budgets import examples
from tests.factories import make_author, make_tag

pytestmark = pytest.mark.anyio

LANGUAGES = ("BE", "RU", "EN")
OPERATIONS = (
    "create",
    "translate",
    "publish_now",
    "publish_later",
    "publish_earlier",
    "unpublish",
    "archive",
    "update",
    "rename",
    "delete",
)
STEPS = st.lists(
    st.tuples(st.sampled_from(OPERATIONS), st.integers(min_value=0, max_value=7)),
    min_size=1,
    max_size=10,
)

CREATE_ARTICLE = """
mutation CreateArticle($input: CreateArticleInput!) {
  createArticle(input: $input) {
    article { id slug status version publishedAt }
    errors { field message code }
  }
}
"""

UPDATE_ARTICLE = """
mutation UpdateArticle($id: ID!, $expectedVersion: Int!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, expectedVersion: $expectedVersion, input: $input) {
    article { id slug status version publishedAt }
    errors { field message code }
  }
}
"""

PUBLISH_ARTICLE = """
mutation PublishArticle($id: ID!, $at: DateTime) {
  publishArticle(id: $id, at: $at) {
    article { id slug status version publishedAt }
    errors { field message code }
  }
}
"""

UNPUBLISH_ARTICLE = """
mutation UnpublishArticle($id: ID!) {
  unpublishArticle(id: $id) {
    article { id slug status version publishedAt }
    errors { field message code }
  }
}
"""

ARCHIVE_ARTICLE = """
mutation ArchiveArticle($id: ID!) {
  archiveArticle(id: $id) {
    article { id slug status version publishedAt }
    errors { field message code }
  }
}
"""

DELETE_ARTICLE = """
mutation DeleteArticle($id: ID!) {
  deleteArticle(id: $id) { deletedId errors { field message code } }
}
"""

EVERYTHING = """
query Everything($ids: [ID!]!) {
  articles(first: 100) { nodes { id translations { id } } totalCount }
  backwards: articles(last: 100) { nodes { id } totalCount }
  byTitle: articles(first: 100, orderBy: TITLE_ASC) { nodes { id } totalCount }
  byUpdate: articles(first: 100, orderBy: UPDATED_AT_DESC) { nodes { id } totalCount }
  published: articles(first: 100, filter: {status: PUBLISHED}) { nodes { id } totalCount }
  drafts: articles(first: 100, filter: {status: DRAFT}) { nodes { id } totalCount }
  archived: articles(first: 100, filter: {status: ARCHIVED}) { nodes { id } totalCount }
  be: articles(first: 100, filter: {language: BE}) { nodes { id } totalCount }
  ru: articles(first: 100, filter: {language: RU}) { nodes { id } totalCount }
  en: articles(first: 100, filter: {language: EN}) { nodes { id } totalCount }
  byAuthor: articles(first: 100, filter: {author: "desk"}) { nodes { id } totalCount }
  byTag: articles(first: 100, filter: {tag: "news"}) { nodes { id } totalCount }
  search: articles(first: 100, search: "zebra") { nodes { id } totalCount }
  nodes(ids: $ids) { id }
  author(slug: "desk") { articles(first: 100) { nodes { id } totalCount } }
  tag(slug: "news") { articles(first: 100) { nodes { id } totalCount } }
}
"""

LOOKUP = """
query Lookup($id: ID!, $slug: String!, $language: Language!) {
  node(id: $id) { id ... on Article { translations { id } } }
  byId: article(id: $id) { id translations { id } }
  bySlug: article(slug: $slug, language: $language) { id }
  bySlugOnly: article(slug: $slug) { id }
}
"""

BY_SLUG = "query BySlug($slug: String!) { article(slug: $slug) { id } }"

EDITOR_COUNT = "query EditorCount { articles { totalCount } }"

# Every list in EVERYTHING that must hold exactly the public articles.
ALL_PUBLIC = ("articles", "backwards", "byTitle", "byUpdate", "published", "byAuthor", "byTag")
ALL_PUBLIC += ("search",)


@dataclass
class Tracked:
    """What the test expects of one article it wrote."""

    id: str
    story: int
    language: str
    slug: str
    status: str = "DRAFT"
    published_at: datetime | None = None
    version: int = 1
    old_slugs: list[str] = field(default_factory=list)

    def is_public(self, now: datetime) -> bool:
        return (
            self.status == "PUBLISHED"
            and self.published_at is not None
            and self.published_at <= now
        )


@dataclass
class Editor:
    """Runs mutations with the editor's token and keeps the model of what they did."""

    client: httpx.AsyncClient
    secret: str
    byline: list[str]
    articles: list[Tracked] = field(default_factory=list)
    deleted: list[Tracked] = field(default_factory=list)
    stories: int = 0

    async def call(self, query: str, name: str, **variables: Any) -> Any:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.secret}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        payload = body["data"][name]
        assert payload["errors"] == [], payload
        return payload

    async def create(self, step: int, translating: Tracked | None = None) -> None:
        if translating is None:
            story, language, extra = self.stories, "BE", {}
            self.stories += 1
        else:
            taken = {a.language for a in self.articles if a.story == translating.story}
            free = [language for language in LANGUAGES if language not in taken]
            if not free:
                return await self.create(step)
            story, language = translating.story, free[0]
            extra = {"translationOf": translating.id}
        payload = await self.call(
            CREATE_ARTICLE,
            "createArticle",
            input={
                "title": f"Story {story} {language} {step}",
                "lead": "A zebra escaped.",
                "language": language,
                "authorIds": self.byline[:1],
                "tagIds": self.byline[1:],
                **extra,
            },
        )
        article = payload["article"]
        assert (article["status"], article["version"]) == ("DRAFT", 1)
        self.articles.append(Tracked(article["id"], story, language, article["slug"]))

    async def publish(self, target: Tracked, at: datetime | None) -> None:
        variables = {"id": target.id, "at": at.isoformat() if at else None}
        article = (await self.call(PUBLISH_ARTICLE, "publishArticle", **variables))["article"]
        assert article["status"] == "PUBLISHED"
        assert article["version"] == target.version
        target.status = "PUBLISHED"
        target.published_at = datetime.fromisoformat(article["publishedAt"])
        if at is not None:
            assert target.published_at == at

    async def unpublish(self, target: Tracked) -> None:
        article = (await self.call(UNPUBLISH_ARTICLE, "unpublishArticle", id=target.id))["article"]
        assert (article["status"], article["publishedAt"]) == ("DRAFT", None)
        target.status, target.published_at = "DRAFT", None

    async def archive(self, target: Tracked) -> None:
        article = (await self.call(ARCHIVE_ARTICLE, "archiveArticle", id=target.id))["article"]
        assert article["status"] == "ARCHIVED"
        target.status = "ARCHIVED"

    async def update(self, target: Tracked, input: dict[str, Any]) -> None:
        payload = await self.call(
            UPDATE_ARTICLE,
            "updateArticle",
            id=target.id,
            expectedVersion=target.version,
            input=input,
        )
        article = payload["article"]
        assert article["version"] == target.version + 1
        assert article["status"] == target.status
        target.version = article["version"]
        if article["slug"] != target.slug:
            target.old_slugs.append(target.slug)
            target.slug = article["slug"]

    async def delete(self, target: Tracked) -> None:
        payload = await self.call(DELETE_ARTICLE, "deleteArticle", id=target.id)
        assert payload["deletedId"] == target.id
        self.articles.remove(target)
        self.deleted.append(target)

    async def perform(self, operation: str, pick: int, step: int, now: datetime) -> None:
        if operation == "create" or not self.articles:
            return await self.create(step)
        target = self.articles[pick % len(self.articles)]
        if operation == "translate":
            await self.create(step, translating=target)
        elif operation == "publish_now":
            await self.publish(target, None)
        elif operation == "publish_later":
            await self.publish(target, now + timedelta(days=1))
        elif operation == "publish_earlier":
            await self.publish(target, now - timedelta(days=1))
        elif operation == "unpublish":
            await self.unpublish(target)
        elif operation == "archive":
            await self.archive(target)
        elif operation == "update":
            await self.update(target, {"lead": f"A zebra escaped, edit {step}."})
        elif operation == "rename":
            await self.update(target, {"slug": f"renamed-{step}"})
        else:
            await self.delete(target)


async def anonymous(client: httpx.AsyncClient, query: str, **variables: Any) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def clear(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await connection.execute(table.delete())


async def given_an_editor(
    client: httpx.AsyncClient, engine: AsyncEngine, sessionmaker: SessionMaker
) -> Editor:
    await clear(engine)
    desk = await make_author(sessionmaker, "Desk", slug="desk")
    news = await make_tag(sessionmaker, "News", slug="news")
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    byline = [to_global_id("Author", desk.id), to_global_id("Tag", news.id)]
    return Editor(client, secret, byline)


def ids(connection: Any) -> list[str]:
    return sorted(node["id"] for node in connection["nodes"])


@settings(max_examples=examples("visibility editors"))
@given(steps=STEPS)
async def test_public_sees_exactly_what_editors_published_by_now(
    client, engine, sessionmaker, steps
):
    # given
    editor = await given_an_editor(client, engine, sessionmaker)
    now = utcnow()
    for step, (operation, pick) in enumerate(steps):
        await editor.perform(operation, pick, step, now)

    # when
    # SQLite hands a deleted article's row ID to the next one; such an ID is the new article's.
    live = {a.id for a in editor.articles}
    written = editor.articles + [a for a in editor.deleted if a.id not in live]
    everything_ids = [a.id for a in written]
    data = await anonymous(client, EVERYTHING, ids=everything_ids)
    lookups = [
        await anonymous(client, LOOKUP, id=a.id, slug=a.slug, language=a.language) for a in written
    ]
    old_slugs = {
        (a.id, slug): (await anonymous(client, BY_SLUG, slug=slug))["article"]
        for a in editor.articles
        for slug in a.old_slugs
    }

    # then
    read_at = utcnow()
    public = {a.id: a for a in editor.articles if a.is_public(read_at)}
    everyone = sorted(public)
    for name in ALL_PUBLIC:
        assert (ids(data[name]), data[name]["totalCount"]) == (everyone, len(everyone)), name
    for name in ("drafts", "archived"):
        assert data[name] == {"nodes": [], "totalCount": 0}, name
    for language in LANGUAGES:
        expected = sorted(id for id, a in public.items() if a.language == language)
        assert (ids(data[language.lower()]), data[language.lower()]["totalCount"]) == (
            expected,
            len(expected),
        ), language
    for parent in ("author", "tag"):
        articles = data[parent]["articles"]
        assert (ids(articles), articles["totalCount"]) == (everyone, len(everyone)), parent
    assert data["nodes"] == [{"id": id} if id in public else None for id in everything_ids]

    def translations(article: Tracked) -> list[dict[str, str]]:
        return [
            {"id": other.id}
            for other in sorted(public.values(), key=lambda other: other.language)
            if other.story == article.story and other.id != article.id
        ]

    for node in data["articles"]["nodes"]:
        assert node["translations"] == translations(public[node["id"]]), node["id"]
    for article, found in zip(written, lookups, strict=True):
        if article.id in public:
            shown = {"id": article.id, "translations": translations(article)}
            assert found == {
                "node": shown,
                "byId": shown,
                "bySlug": {"id": article.id},
                "bySlugOnly": {"id": article.id},
            }
        else:
            assert found == {"node": None, "byId": None, "bySlug": None, "bySlugOnly": None}
    for (id, slug), found in old_slugs.items():
        assert found is None or found["id"] in public, (slug, found)
        assert found is None or found["id"] != id or id in public, (slug, found)
    # and the editor, for contrast, sees every article that exists
    response = await client.post(
        "/graphql",
        json={"query": EDITOR_COUNT},
        headers={"Authorization": f"Bearer {editor.secret}"},
    )
    assert response.json() == {"data": {"articles": {"totalCount": len(editor.articles)}}}
