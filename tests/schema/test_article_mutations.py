"""Editors' article mutations over HTTP: each one's success and each of its error codes,
slugs, scheduling, revisions, corrections, who may do what, and the audit log.

Callers are real bearer tokens: "Desk" (editor) and "Root" (admin).
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Role
from models.columns import utcnow
from models.db import SessionMaker
from models.services.tokens import create_token
from schema.node import to_global_id
from tests.factories import make_author, make_tag

pytestmark = pytest.mark.anyio

MARCH_1 = datetime(2024, 3, 1, 12, tzinfo=UTC)
MARCH_1_JSON = "2024-03-01T12:00:00+00:00"
MISSING_ARTICLE = to_global_id("Article", 999)

ARTICLE_FIELDS = """
fragment ArticleFields on Article {
  id slug title lead status language version publishedAt
}
"""

CREATE_ARTICLE = (
    """
mutation CreateArticle($input: CreateArticleInput!) {
  createArticle(input: $input) { article { ...ArticleFields } errors { field message code } }
}
"""
    + ARTICLE_FIELDS
)

UPDATE_ARTICLE = (
    """
mutation UpdateArticle($id: ID!, $expectedVersion: Int!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, expectedVersion: $expectedVersion, input: $input) {
    article { ...ArticleFields }
    errors { field message code }
  }
}
"""
    + ARTICLE_FIELDS
)

PUBLISH_ARTICLE = (
    """
mutation PublishArticle($id: ID!, $at: DateTime) {
  publishArticle(id: $id, at: $at) { article { ...ArticleFields } errors { field message code } }
}
"""
    + ARTICLE_FIELDS
)

UNPUBLISH_ARTICLE = (
    """
mutation UnpublishArticle($id: ID!) {
  unpublishArticle(id: $id) { article { ...ArticleFields } errors { field message code } }
}
"""
    + ARTICLE_FIELDS
)

ARCHIVE_ARTICLE = (
    """
mutation ArchiveArticle($id: ID!) {
  archiveArticle(id: $id) { article { ...ArticleFields } errors { field message code } }
}
"""
    + ARTICLE_FIELDS
)

DELETE_ARTICLE = """
mutation DeleteArticle($id: ID!) {
  deleteArticle(id: $id) { deletedId errors { field message code } }
}
"""

ADD_CORRECTION = """
mutation AddCorrection($articleId: ID!, $note: String!) {
  addCorrection(articleId: $articleId, note: $note) {
    correction { note createdAt }
    article { id corrections { note } }
    errors { field message code }
  }
}
"""

RESTORE_REVISION = (
    """
mutation RestoreRevision($id: ID!, $revision: Int!, $expectedVersion: Int!) {
  restoreArticleRevision(id: $id, revision: $revision, expectedVersion: $expectedVersion) {
    article { ...ArticleFields }
    errors { field message code }
  }
}
"""
    + ARTICLE_FIELDS
)

ARTICLE_BY_ID = (
    """
query ArticleById($id: ID!) { article(id: $id) { ...ArticleFields } }
"""
    + ARTICLE_FIELDS
)

ARTICLE_DETAILS = """
query ArticleDetails($id: ID!) {
  article(id: $id) {
    body bodyHtml sourceName sourceUrl
    authors { slug }
    tags { slug }
  }
}
"""

ARTICLE_BY_SLUG = """
query ArticleBySlug($slug: String!, $language: Language) {
  article(slug: $slug, language: $language) { id slug }
}
"""

ARTICLE_IDS = "query ArticleIds { articles { nodes { id } totalCount } }"

REVISIONS = """
query Revisions($id: ID!) {
  article(id: $id) { revisions { version author changedFields title slug lead } }
}
"""

CORRECTIONS = """
query Corrections($id: ID!) { article(id: $id) { corrections { note createdAt } } }
"""

AUDIT_LOG = """
query AuditLog($first: Int, $after: String) {
  auditLog(first: $first, after: $after) {
    nodes { actor action entityType entityId details }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
"""

ALL_FIELDS = ["title", "slug", "lead", "body", "language", "sourceName", "sourceUrl"]
ALL_FIELDS += ["authorIds", "tagIds"]

# What a mutation writes; "nothing written" means none of these changed.
EDITORIAL_TABLES = (
    "article",
    "article_author",
    "article_tag",
    "article_revision",
    "article_slug_alias",
    "article_correction",
    "audit_entry",
)


@dataclass
class Api:
    """The GraphQL endpoint, called anonymously or with the editor's or the admin's token."""

    client: httpx.AsyncClient
    secrets: dict[Role, str]

    async def call(self, role: Role, query: str, **variables: Any) -> Any:
        headers = {}
        if role is not Role.ANONYMOUS:
            headers["Authorization"] = f"Bearer {self.secrets[role]}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def anonymous(self, query: str, **variables: Any) -> Any:
        return await self.call(Role.ANONYMOUS, query, **variables)

    async def editor(self, query: str, **variables: Any) -> Any:
        return await self.call(Role.EDITOR, query, **variables)

    async def admin(self, query: str, **variables: Any) -> Any:
        return await self.call(Role.ADMIN, query, **variables)


@pytest.fixture
async def api(client: httpx.AsyncClient, sessionmaker: SessionMaker) -> Api:
    secrets = {}
    for name, role in (("Desk", Role.EDITOR), ("Root", Role.ADMIN)):
        async with sessionmaker() as session:
            _, secrets[role] = await create_token(session, name=name, role=role)
    return Api(client, secrets)


def article_json(
    id: str,
    slug: str,
    title: str,
    *,
    lead: str = "",
    status: str = "DRAFT",
    language: str = "BE",
    version: int = 1,
    published_at: str | None = None,
) -> dict[str, Any]:
    """An article as ``ArticleFields`` shows it."""
    return {
        "id": id,
        "slug": slug,
        "title": title,
        "lead": lead,
        "status": status,
        "language": language,
        "version": version,
        "publishedAt": published_at,
    }


def refused(path: list[str], code: str, message: str) -> dict[str, Any]:
    """A GraphQL error for a caller without the needed token or role."""
    return {"message": message, "locations": ANY, "path": path, "extensions": {"code": code}}


def needs_token(*path: str) -> dict[str, Any]:
    return refused(
        list(path),
        "UNAUTHENTICATED",
        "Authentication required: send 'Authorization: Bearer <token>'",
    )


def error(field: list[str] | None, message: str, code: str) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


async def given_draft(api: Api, title: str = "Press conference", **fields: Any) -> Any:
    body = await api.editor(CREATE_ARTICLE, input={"title": title, **fields})
    payload = body["data"]["createArticle"]
    assert payload["errors"] == [], payload
    return payload["article"]


async def given_published(
    api: Api, title: str = "Press conference", at: datetime = MARCH_1, **fields: Any
) -> Any:
    article = await given_draft(api, title, **fields)
    body = await api.editor(PUBLISH_ARTICLE, id=article["id"], at=at.isoformat())
    payload = body["data"]["publishArticle"]
    assert payload["errors"] == [], payload
    return payload["article"]


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a mutation writes, in a stable order."""
    tables = {}
    async with engine.connect() as connection:
        for name in EDITORIAL_TABLES:
            rows = (await connection.execute(sa.text(f"SELECT * FROM {name}"))).all()
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def revision_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM article_revision")
        return int((await connection.execute(query)).scalar_one())


# --- createArticle ---------------------------------------------------------------------------


async def test_create_article_writes_a_draft(api, sessionmaker):
    # given
    author = await make_author(sessionmaker, "Hanna", slug="hanna")
    tag = await make_tag(sessionmaker, "Schools", slug="schools")

    # when
    body = await api.editor(
        CREATE_ARTICLE,
        input={
            "title": "  Press conference  ",
            "lead": "The governor spoke.",
            "body": "Read **this**.",
            "language": "EN",
            "sourceName": "BelTA",
            "sourceUrl": "https://belta.by/news/1",
            "authorIds": [to_global_id("Author", author.id)],
            "tagIds": [to_global_id("Tag", tag.id)],
        },
    )

    # then
    article = body["data"]["createArticle"]["article"]
    assert body == {
        "data": {
            "createArticle": {
                "article": article_json(
                    article["id"],
                    "press-conference",
                    "Press conference",
                    lead="The governor spoke.",
                    language="EN",
                ),
                "errors": [],
            }
        }
    }
    details = await api.editor(ARTICLE_DETAILS, id=article["id"])
    assert details == {
        "data": {
            "article": {
                "body": "Read **this**.",
                "bodyHtml": "<p>Read <strong>this</strong>.</p>\n",
                "sourceName": "BelTA",
                "sourceUrl": "https://belta.by/news/1",
                "authors": [{"slug": "hanna"}],
                "tags": [{"slug": "schools"}],
            }
        }
    }
    assert await api.anonymous(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": None}}


async def test_create_article_reports_every_error_at_once(api, engine, sessionmaker):
    # given
    author = await make_author(sessionmaker)
    before = await snapshot(engine)

    # when
    body = await api.editor(
        CREATE_ARTICLE,
        input={
            "title": "   ",
            "slug": "Not A Slug",
            "lead": "x" * 2001,
            "sourceUrl": "not a url",
            "authorIds": [to_global_id("Author", author.id), to_global_id("Author", 999)],
            "tagIds": [to_global_id("Tag", 999)],
        },
    )

    # then
    assert body == {
        "data": {
            "createArticle": {
                "article": None,
                "errors": [
                    error(["input", "title"], "This field is required", "REQUIRED"),
                    error(
                        ["input", "slug"],
                        "Use lowercase Latin letters, digits and single hyphens",
                        "INVALID",
                    ),
                    error(
                        ["input", "lead"], "String should have at most 2000 characters", "TOO_LONG"
                    ),
                    error(
                        ["input", "sourceUrl"],
                        "Input should be a valid URL, relative URL without a base",
                        "INVALID",
                    ),
                    error(["input", "authorIds", "1"], "No author with this ID", "NOT_FOUND"),
                    error(["input", "tagIds", "0"], "No tag with this ID", "NOT_FOUND"),
                ],
            }
        }
    }
    assert await snapshot(engine) == before


async def test_a_malformed_id_does_not_hide_the_other_errors(api, engine):
    # given: a bad ID among other bad fields of the same input
    before = await snapshot(engine)

    # when
    body = await api.editor(
        CREATE_ARTICLE,
        input={"title": "", "sourceUrl": "not a url", "authorIds": ["nope"]},
    )

    # then: one round of fixes shows every problem, the ID's included (in any order)
    payload = body["data"]["createArticle"]
    assert payload["article"] is None
    assert sorted(payload["errors"], key=repr) == sorted(
        [
            error(["input", "title"], "This field is required", "REQUIRED"),
            error(
                ["input", "sourceUrl"],
                "Input should be a valid URL, relative URL without a base",
                "INVALID",
            ),
            error(["input", "authorIds", "0"], "'nope' is not a valid ID", "INVALID"),
        ],
        key=repr,
    )
    assert await snapshot(engine) == before


async def test_create_article_refuses_a_title_over_the_limit(api):
    # when
    body = await api.editor(CREATE_ARTICLE, input={"title": "x" * 501})

    # then
    assert body == {
        "data": {
            "createArticle": {
                "article": None,
                "errors": [
                    error(
                        ["input", "title"], "String should have at most 500 characters", "TOO_LONG"
                    )
                ],
            }
        }
    }


@pytest.mark.parametrize(
    ("title", "language", "slug"),
    [
        ("Мінскі аблвыканкам абвясціў конкурс", "BE", "minski-ablvykankam-abvjasciu-konkurs"),
        ("Школа ў Шчучыне", "BE", "shkola-u-shchuchyne"),
        ("Беларусь і Расія", "BE", "belarus-i-rasija"),  # noqa: RUF001 (Belarusian letter, on purpose)
        ("Жыццё", "BE", "zhycce"),
        ("Новости Гродно: съезд", "RU", "novosti-grodno-sezd"),
        ("Ёлка на площади", "RU", "yolka-na-ploshhadi"),
        ("Hello, World!", "EN", "hello-world"),
        ("新闻", "EN", "article"),
    ],
)
async def test_slug_is_generated_from_the_title(api, title, language, slug):
    # when
    body = await api.editor(CREATE_ARTICLE, input={"title": title, "language": language})

    # then
    payload = body["data"]["createArticle"]
    assert payload == {
        "article": article_json(payload["article"]["id"], slug, title, language=language),
        "errors": [],
    }


async def test_a_taken_generated_slug_gets_a_numeric_suffix_per_language(api):
    # when
    first = await given_draft(api, "Рэформа школ", language="BE")
    second = await given_draft(api, "Рэформа школ", language="BE")
    third = await given_draft(api, "Рэформа  школ!", language="BE")
    russian = await given_draft(api, "Рэформа школ", language="RU")

    # then
    assert [first["slug"], second["slug"], third["slug"]] == [
        "reforma-shkol",
        "reforma-shkol-2",
        "reforma-shkol-3",
    ]
    assert russian["slug"] == "reforma-shkol"


async def test_an_explicit_slug_that_is_taken_is_a_duplicate(api, engine):
    # given
    await given_draft(api, "First", slug="budget-2025", language="BE")
    before = await snapshot(engine)

    # when
    taken = await api.editor(
        CREATE_ARTICLE, input={"title": "Second", "slug": "budget-2025", "language": "BE"}
    )

    # then
    assert taken == {
        "data": {
            "createArticle": {
                "article": None,
                "errors": [
                    error(["input", "slug"], "The slug 'budget-2025' is already used", "DUPLICATE")
                ],
            }
        }
    }
    assert await snapshot(engine) == before
    other_language = await given_draft(api, "Second", slug="budget-2025", language="RU")
    assert other_language["slug"] == "budget-2025"


async def test_body_html_is_sanitised(api):
    # given
    body = (
        "Hello <b>world</b>.\n\n"
        "<script>alert(1)</script>\n\n"
        '<p onclick="steal()">Click</p>\n\n'
        '<a href="JavaScript:alert(3)">caps</a> '
        '<img src="https://x.by/a.png" onerror="alert(4)">'
    )
    article = await given_draft(api, "Unsafe", body=body)

    # when
    created = await api.editor(ARTICLE_DETAILS, id=article["id"])
    updated = await api.editor(
        UPDATE_ARTICLE,
        id=article["id"],
        expectedVersion=1,
        input={"body": '<a href="javascript:alert(5)" onmouseover="x()">again</a>'},
    )
    after_update = await api.editor(ARTICLE_DETAILS, id=article["id"])

    # then
    html = created["data"]["article"]["bodyHtml"]
    assert html == (
        "<p>Hello <b>world</b>.</p>\n\n<p>Click</p>\n"
        '<p><a rel="noopener noreferrer">caps</a> <img src="https://x.by/a.png"></p>\n'
    )
    assert updated["data"]["updateArticle"]["errors"] == []
    assert after_update["data"]["article"]["bodyHtml"] == (
        '<p><a rel="noopener noreferrer">again</a></p>\n'
    )
    for rendered in (html, after_update["data"]["article"]["bodyHtml"]):
        assert "<script" not in rendered
        assert not re.search(r"\son\w+\s*=", rendered)
        assert "javascript:" not in rendered.lower()


# --- updateArticle ---------------------------------------------------------------------------


async def test_update_article_applies_the_fields_and_bumps_the_version(api, sessionmaker):
    # given
    article = await given_draft(api, "Press conference", lead="Old lead.")
    author = await make_author(sessionmaker, slug="new-byline")

    # when
    body = await api.editor(
        UPDATE_ARTICLE,
        id=article["id"],
        expectedVersion=1,
        input={
            "title": "Press conference moved",
            "lead": "New lead.",
            "authorIds": [to_global_id("Author", author.id)],
        },
    )

    # then: the title changed but the slug stays
    assert body == {
        "data": {
            "updateArticle": {
                "article": article_json(
                    article["id"],
                    "press-conference",
                    "Press conference moved",
                    lead="New lead.",
                    version=2,
                ),
                "errors": [],
            }
        }
    }
    details = await api.editor(ARTICLE_DETAILS, id=article["id"])
    assert details["data"]["article"]["authors"] == [{"slug": "new-byline"}]


async def test_update_article_without_changes_keeps_the_version(api, engine):
    # given
    article = await given_draft(api, "Same", lead="Same lead.")

    # when
    body = await api.editor(
        UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "Same lead."}
    )

    # then
    assert body == {"data": {"updateArticle": {"article": article, "errors": []}}}
    assert await revision_count(engine) == 1


@pytest.mark.parametrize(
    ("input", "errors"),
    [
        pytest.param(
            {"title": None},
            [error(["input", "title"], "This field is required", "REQUIRED")],
            id="required",
        ),
        pytest.param(
            {"slug": "Not A Slug"},
            [
                error(
                    ["input", "slug"],
                    "Use lowercase Latin letters, digits and single hyphens",
                    "INVALID",
                )
            ],
            id="invalid",
        ),
        pytest.param(
            {"title": "x" * 501},
            [error(["input", "title"], "String should have at most 500 characters", "TOO_LONG")],
            id="too-long",
        ),
        pytest.param(
            {"tagIds": [to_global_id("Tag", 999)]},
            [error(["input", "tagIds", "0"], "No tag with this ID", "NOT_FOUND")],
            id="not-found",
        ),
        pytest.param(
            {"title": None, "slug": "Bad", "lead": "x" * 2001},
            [
                error(["input", "title"], "This field is required", "REQUIRED"),
                error(
                    ["input", "slug"],
                    "Use lowercase Latin letters, digits and single hyphens",
                    "INVALID",
                ),
                error(["input", "lead"], "String should have at most 2000 characters", "TOO_LONG"),
            ],
            id="all-at-once",
        ),
    ],
)
async def test_update_article_refuses_bad_input(api, engine, input, errors):
    # given
    article = await given_draft(api)
    before = await snapshot(engine)

    # when
    body = await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input=input)

    # then: every problem of the input is reported (in any order)
    payload = body["data"]["updateArticle"]
    assert body == {"data": {"updateArticle": {"article": None, "errors": payload["errors"]}}}
    assert sorted(payload["errors"], key=repr) == sorted(errors, key=repr)
    assert await snapshot(engine) == before


async def test_update_article_refuses_a_slug_another_article_has(api, engine):
    # given
    await given_draft(api, "Taken", slug="taken")
    article = await given_draft(api, "Mine")
    before = await snapshot(engine)

    # when
    body = await api.editor(
        UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"slug": "taken"}
    )

    # then
    assert body == {
        "data": {
            "updateArticle": {
                "article": None,
                "errors": [
                    error(["input", "slug"], "The slug 'taken' is already used", "DUPLICATE")
                ],
            }
        }
    }
    assert await snapshot(engine) == before


@pytest.mark.parametrize(
    ("id", "errors"),
    [
        (MISSING_ARTICLE, [error(["id"], "No article with this ID", "NOT_FOUND")]),
        ("nope", [error(["id"], "'nope' is not a valid ID", "INVALID")]),
        (to_global_id("Tag", 1), [error(["id"], "ID is of type Tag, expected Article", "INVALID")]),
    ],
)
async def test_update_article_needs_an_existing_article(api, id, errors):
    # when
    body = await api.editor(UPDATE_ARTICLE, id=id, expectedVersion=1, input={"lead": "x"})

    # then
    assert body == {"data": {"updateArticle": {"article": None, "errors": errors}}}


async def test_a_stale_expected_version_is_a_conflict_showing_the_current_article(api, engine):
    # given: someone else got to version 2 first
    article = await given_draft(api, "Contested", lead="Original.")
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "Theirs."})
    before = await snapshot(engine)

    # when
    body = await api.editor(
        UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "Mine."}
    )

    # then
    assert body == {
        "data": {
            "updateArticle": {
                "article": article_json(
                    article["id"], "contested", "Contested", lead="Theirs.", version=2
                ),
                "errors": [
                    error(
                        ["expectedVersion"],
                        "The article was changed by someone else: it is now at version 2",
                        "CONFLICT",
                    )
                ],
            }
        }
    }
    assert await snapshot(engine) == before


async def test_status_changes_do_not_count_as_versions(api, engine):
    # given
    article = await given_draft(api, "Counted")
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "Edit."})

    # when
    published = await api.editor(PUBLISH_ARTICLE, id=article["id"])
    unpublished = await api.editor(UNPUBLISH_ARTICLE, id=article["id"])
    archived = await api.editor(ARCHIVE_ARTICLE, id=article["id"])
    next_edit = await api.editor(
        UPDATE_ARTICLE, id=article["id"], expectedVersion=2, input={"lead": "Edit again."}
    )

    # then
    assert [
        published["data"]["publishArticle"]["article"]["version"],
        unpublished["data"]["unpublishArticle"]["article"]["version"],
        archived["data"]["archiveArticle"]["article"]["version"],
    ] == [2, 2, 2]
    assert next_edit["data"]["updateArticle"]["errors"] == []
    assert next_edit["data"]["updateArticle"]["article"]["version"] == 3
    assert await revision_count(engine) == 3


# --- slugs after a rename --------------------------------------------------------------------


async def test_a_published_article_keeps_answering_to_its_old_slug(api):
    # given
    article = await given_published(api, "Old name")

    # when
    renamed = await api.editor(
        UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"slug": "new-name"}
    )

    # then
    assert renamed["data"]["updateArticle"]["errors"] == []
    found = {"data": {"article": {"id": article["id"], "slug": "new-name"}}}
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="old-name") == found
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="old-name", language="BE") == found
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="new-name") == found
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="old-name", language="RU") == {
        "data": {"article": None}
    }
    # the old slug stays reserved: neither given nor generated for another article
    taken = await api.editor(CREATE_ARTICLE, input={"title": "Other", "slug": "old-name"})
    assert taken["data"]["createArticle"]["errors"] == [
        error(["input", "slug"], "The slug 'old-name' is already used", "DUPLICATE")
    ]
    assert (await given_draft(api, "Old name"))["slug"] == "old-name-2"


async def test_renaming_back_to_an_old_slug_works(api):
    # given
    article = await given_published(api, "Old name")
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"slug": "new"})

    # when
    back = await api.editor(
        UPDATE_ARTICLE, id=article["id"], expectedVersion=2, input={"slug": "old-name"}
    )

    # then
    assert back["data"]["updateArticle"]["errors"] == []
    found = {"data": {"article": {"id": article["id"], "slug": "old-name"}}}
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="new") == found
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="old-name") == found


async def test_a_draft_renamed_leaves_no_old_slug_behind(api):
    # given
    article = await given_draft(api, "Old name")

    # when
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"slug": "new"})

    # then: the old slug finds nothing, even for editors, and is free again
    assert await api.editor(ARTICLE_BY_SLUG, slug="old-name") == {"data": {"article": None}}
    assert (await given_draft(api, "Old name"))["slug"] == "old-name"


# --- publishArticle, unpublishArticle, archiveArticle ----------------------------------------


async def test_publish_now_makes_the_article_public(api):
    # given
    article = await given_draft(api, "Now")
    before = utcnow()

    # when
    body = await api.editor(PUBLISH_ARTICLE, id=article["id"])

    # then
    published = body["data"]["publishArticle"]["article"]
    assert body == {
        "data": {
            "publishArticle": {
                "article": article_json(
                    article["id"], "now", "Now", status="PUBLISHED", published_at=ANY
                ),
                "errors": [],
            }
        }
    }
    assert before <= datetime.fromisoformat(published["publishedAt"]) <= utcnow()
    assert await api.anonymous(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": published}}


async def test_publish_in_the_future_schedules_without_showing_it_yet(api):
    # given
    article = await given_draft(api, "Later")
    at = utcnow() + timedelta(hours=1)

    # when
    body = await api.editor(PUBLISH_ARTICLE, id=article["id"], at=at.isoformat())

    # then
    scheduled = article_json(
        article["id"], "later", "Later", status="PUBLISHED", published_at=at.isoformat()
    )
    assert body == {"data": {"publishArticle": {"article": scheduled, "errors": []}}}
    assert await api.anonymous(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": None}}
    assert await api.anonymous(ARTICLE_BY_SLUG, slug="later") == {"data": {"article": None}}
    assert await api.anonymous(ARTICLE_IDS) == {
        "data": {"articles": {"nodes": [], "totalCount": 0}}
    }
    assert await api.editor(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": scheduled}}
    assert await api.editor(ARTICLE_IDS) == {
        "data": {"articles": {"nodes": [{"id": article["id"]}], "totalCount": 1}}
    }


async def test_publish_in_the_past_is_public_at_once(api):
    # given
    article = await given_draft(api, "Backdated")

    # when
    body = await api.editor(PUBLISH_ARTICLE, id=article["id"], at=MARCH_1_JSON)

    # then
    published = article_json(
        article["id"], "backdated", "Backdated", status="PUBLISHED", published_at=MARCH_1_JSON
    )
    assert body == {"data": {"publishArticle": {"article": published, "errors": []}}}
    assert await api.anonymous(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": published}}


@pytest.mark.parametrize(
    ("id", "at", "errors"),
    [
        (MISSING_ARTICLE, None, [error(["id"], "No article with this ID", "NOT_FOUND")]),
        ("nope", None, [error(["id"], "'nope' is not a valid ID", "INVALID")]),
        (
            None,
            "2024-03-01T12:00:00",
            [
                error(
                    ["at"],
                    "at must include a UTC offset, e.g. 2024-01-10T10:00:00+03:00",
                    "INVALID",
                )
            ],
        ),
    ],
)
async def test_publish_article_refuses(api, engine, id, at, errors):
    # given
    article = await given_draft(api)
    before = await snapshot(engine)

    # when
    body = await api.editor(PUBLISH_ARTICLE, id=id or article["id"], at=at)

    # then
    assert body == {"data": {"publishArticle": {"article": None, "errors": errors}}}
    assert await snapshot(engine) == before


async def test_unpublish_article_makes_it_a_draft_again(api):
    # given
    article = await given_published(api, "Withdrawn")

    # when
    body = await api.editor(UNPUBLISH_ARTICLE, id=article["id"])

    # then
    assert body == {
        "data": {
            "unpublishArticle": {
                "article": article_json(article["id"], "withdrawn", "Withdrawn"),
                "errors": [],
            }
        }
    }
    assert await api.anonymous(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": None}}


async def test_archive_article_hides_it_and_keeps_its_date(api):
    # given
    article = await given_published(api, "Old news")

    # when
    body = await api.editor(ARCHIVE_ARTICLE, id=article["id"])

    # then
    assert body == {
        "data": {
            "archiveArticle": {
                "article": article_json(
                    article["id"],
                    "old-news",
                    "Old news",
                    status="ARCHIVED",
                    published_at=MARCH_1_JSON,
                ),
                "errors": [],
            }
        }
    }
    assert await api.anonymous(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": None}}


@pytest.mark.parametrize(
    ("mutation", "name"),
    [(UNPUBLISH_ARTICLE, "unpublishArticle"), (ARCHIVE_ARTICLE, "archiveArticle")],
)
@pytest.mark.parametrize(
    ("id", "errors"),
    [
        (MISSING_ARTICLE, [error(["id"], "No article with this ID", "NOT_FOUND")]),
        ("nope", [error(["id"], "'nope' is not a valid ID", "INVALID")]),
    ],
)
async def test_status_changes_need_an_existing_article(api, engine, mutation, name, id, errors):
    # given
    await given_published(api)
    before = await snapshot(engine)

    # when
    body = await api.editor(mutation, id=id)

    # then
    assert body == {"data": {name: {"article": None, "errors": errors}}}
    assert await snapshot(engine) == before


# --- deleteArticle ---------------------------------------------------------------------------


async def test_delete_article_removes_it_with_its_history(api, engine, sessionmaker):
    # given: links, revisions, an old slug and a correction that must all go
    author = await make_author(sessionmaker)
    tag = await make_tag(sessionmaker)
    article = await given_published(
        api,
        "Doomed",
        authorIds=[to_global_id("Author", author.id)],
        tagIds=[to_global_id("Tag", tag.id)],
    )
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"slug": "gone"})
    await api.editor(ADD_CORRECTION, articleId=article["id"], note="A fix.")

    # when
    body = await api.editor(DELETE_ARTICLE, id=article["id"])
    again = await api.editor(DELETE_ARTICLE, id=article["id"])

    # then
    assert body == {"data": {"deleteArticle": {"deletedId": article["id"], "errors": []}}}
    assert again == {
        "data": {
            "deleteArticle": {
                "deletedId": None,
                "errors": [error(["id"], "No article with this ID", "NOT_FOUND")],
            }
        }
    }
    assert await api.editor(ARTICLE_BY_ID, id=article["id"]) == {"data": {"article": None}}
    tables = await snapshot(engine)
    assert {name: rows for name, rows in tables.items() if name != "audit_entry"} == {
        name: [] for name in EDITORIAL_TABLES if name != "audit_entry"
    }
    assert (await given_draft(api, "Doomed"))["slug"] == "doomed"


async def test_delete_article_refuses_a_malformed_id(api):
    # when
    body = await api.editor(DELETE_ARTICLE, id="nope")

    # then
    assert body == {
        "data": {
            "deleteArticle": {
                "deletedId": None,
                "errors": [error(["id"], "'nope' is not a valid ID", "INVALID")],
            }
        }
    }


# --- addCorrection ---------------------------------------------------------------------------


async def test_corrections_are_public_oldest_first(api):
    # given
    article = await given_published(api, "Corrected")

    # when
    first = await api.editor(ADD_CORRECTION, articleId=article["id"], note="  Wrong date.  ")
    second = await api.editor(ADD_CORRECTION, articleId=article["id"], note="Wrong name.")

    # then
    assert first == {
        "data": {
            "addCorrection": {
                "correction": {"note": "Wrong date.", "createdAt": ANY},
                "article": {"id": article["id"], "corrections": [{"note": "Wrong date."}]},
                "errors": [],
            }
        }
    }
    assert second["data"]["addCorrection"]["article"]["corrections"] == [
        {"note": "Wrong date."},
        {"note": "Wrong name."},
    ]
    public = await api.anonymous(CORRECTIONS, id=article["id"])
    assert public == {
        "data": {
            "article": {
                "corrections": [
                    {"note": "Wrong date.", "createdAt": ANY},
                    {"note": "Wrong name.", "createdAt": ANY},
                ]
            }
        }
    }


@pytest.mark.parametrize(
    ("article_id", "note", "errors"),
    [
        (None, "   ", [error(["note"], "A correction needs a note", "REQUIRED")]),
        (
            None,
            "x" * 2001,
            [error(["note"], "A note may have at most 2000 characters", "TOO_LONG")],
        ),
        (MISSING_ARTICLE, "Fix.", [error(["articleId"], "No article with this ID", "NOT_FOUND")]),
        ("nope", "Fix.", [error(["articleId"], "'nope' is not a valid ID", "INVALID")]),
    ],
)
async def test_add_correction_refuses(api, engine, article_id, note, errors):
    # given
    article = await given_published(api)
    before = await snapshot(engine)

    # when
    body = await api.editor(ADD_CORRECTION, articleId=article_id or article["id"], note=note)

    # then
    assert body == {
        "data": {"addCorrection": {"correction": None, "article": None, "errors": errors}}
    }
    assert await snapshot(engine) == before


# --- revisions and restoreArticleRevision ----------------------------------------------------


async def test_revisions_record_who_changed_what(api):
    # given
    article = await given_draft(api, "History", lead="First.")
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "Second."})
    await api.admin(UPDATE_ARTICLE, id=article["id"], expectedVersion=2, input={"title": "Story"})

    # when
    body = await api.editor(REVISIONS, id=article["id"])

    # then
    assert body == {
        "data": {
            "article": {
                "revisions": [
                    {
                        "version": 3,
                        "author": "Root",
                        "changedFields": ["title"],
                        "title": "Story",
                        "slug": "history",
                        "lead": "Second.",
                    },
                    {
                        "version": 2,
                        "author": "Desk",
                        "changedFields": ["lead"],
                        "title": "History",
                        "slug": "history",
                        "lead": "Second.",
                    },
                    {
                        "version": 1,
                        "author": "Desk",
                        "changedFields": ALL_FIELDS,
                        "title": "History",
                        "slug": "history",
                        "lead": "First.",
                    },
                ]
            }
        }
    }


async def test_revisions_are_for_editors_only(api):
    # given
    article = await given_published(api, "Public")

    # when
    body = await api.anonymous(REVISIONS, id=article["id"])

    # then
    assert body == {"data": {"article": None}, "errors": [needs_token("article", "revisions")]}


async def test_restore_revision_brings_back_old_content_as_a_new_version(api, sessionmaker):
    # given
    author = await make_author(sessionmaker, slug="first-byline")
    article = await given_draft(
        api, "Original", lead="Original lead.", authorIds=[to_global_id("Author", author.id)]
    )
    await api.editor(
        UPDATE_ARTICLE,
        id=article["id"],
        expectedVersion=1,
        input={"title": "Vandalised", "lead": "Bad.", "authorIds": []},
    )

    # when
    body = await api.editor(RESTORE_REVISION, id=article["id"], revision=1, expectedVersion=2)

    # then
    assert body == {
        "data": {
            "restoreArticleRevision": {
                "article": article_json(
                    article["id"], "original", "Original", lead="Original lead.", version=3
                ),
                "errors": [],
            }
        }
    }
    details = await api.editor(ARTICLE_DETAILS, id=article["id"])
    assert details["data"]["article"]["authors"] == [{"slug": "first-byline"}]
    revisions = await api.editor(REVISIONS, id=article["id"])
    assert revisions["data"]["article"]["revisions"][0] == {
        "version": 3,
        "author": "Desk",
        "changedFields": ["title", "lead", "authorIds"],
        "title": "Original",
        "slug": "original",
        "lead": "Original lead.",
    }


@pytest.mark.parametrize(
    ("id", "revision", "expected_version", "errors"),
    [
        (None, 9, 2, [error(["revision"], "Article has no revision 9", "NOT_FOUND")]),
        (MISSING_ARTICLE, 1, 2, [error(["id"], "No article with this ID", "NOT_FOUND")]),
        ("nope", 1, 2, [error(["id"], "'nope' is not a valid ID", "INVALID")]),
    ],
)
async def test_restore_revision_refuses(api, engine, id, revision, expected_version, errors):
    # given
    article = await given_draft(api, "Kept")
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "New."})
    before = await snapshot(engine)

    # when
    body = await api.editor(
        RESTORE_REVISION,
        id=id or article["id"],
        revision=revision,
        expectedVersion=expected_version,
    )

    # then
    assert body == {"data": {"restoreArticleRevision": {"article": None, "errors": errors}}}
    assert await snapshot(engine) == before


async def test_restore_revision_with_a_stale_version_is_a_conflict(api, engine):
    # given
    article = await given_draft(api, "Kept")
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "New."})
    before = await snapshot(engine)

    # when
    body = await api.editor(RESTORE_REVISION, id=article["id"], revision=1, expectedVersion=1)

    # then
    assert body == {
        "data": {
            "restoreArticleRevision": {
                "article": article_json(article["id"], "kept", "Kept", lead="New.", version=2),
                "errors": [
                    error(
                        ["expectedVersion"],
                        "The article was changed by someone else: it is now at version 2",
                        "CONFLICT",
                    )
                ],
            }
        }
    }
    assert await snapshot(engine) == before


# --- who may do what -------------------------------------------------------------------------

Variables = Callable[[str], dict[str, Any]]

MUTATIONS: dict[str, tuple[str, Variables]] = {
    "createArticle": (CREATE_ARTICLE, lambda id: {"input": {"title": "Another"}}),
    "updateArticle": (
        UPDATE_ARTICLE,
        lambda id: {"id": id, "expectedVersion": 1, "input": {"lead": "Changed."}},
    ),
    "publishArticle": (PUBLISH_ARTICLE, lambda id: {"id": id}),
    "unpublishArticle": (UNPUBLISH_ARTICLE, lambda id: {"id": id}),
    "archiveArticle": (ARCHIVE_ARTICLE, lambda id: {"id": id}),
    "deleteArticle": (DELETE_ARTICLE, lambda id: {"id": id}),
    "addCorrection": (ADD_CORRECTION, lambda id: {"articleId": id, "note": "Fixed."}),
    "restoreArticleRevision": (
        RESTORE_REVISION,
        lambda id: {"id": id, "revision": 1, "expectedVersion": 1},
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
async def test_anonymous_callers_may_not_mutate_and_nothing_is_written(api, engine, name):
    # given
    article = await given_published(api)
    before = await snapshot(engine)
    query, variables = MUTATIONS[name]

    # when
    body = await api.anonymous(query, **variables(article["id"]))

    # then
    assert body == {"data": None, "errors": [needs_token(name)]}
    assert await snapshot(engine) == before


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN])
@pytest.mark.parametrize("name", MUTATIONS)
async def test_editors_and_admins_may_mutate(api, name, role):
    # given
    article = await given_published(api)
    query, variables = MUTATIONS[name]

    # when
    body = await api.call(role, query, **variables(article["id"]))

    # then
    assert "errors" not in body, body
    assert body["data"][name]["errors"] == []


async def test_refused_calls_are_not_logged_as_server_errors(api, caplog):
    # given: a refusal is the client's problem, like bad input, not the server's
    caplog.set_level(logging.ERROR)

    # when
    body = await api.anonymous(CREATE_ARTICLE, input={"title": "Sneaky"})

    # then
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert [record.getMessage() for record in caplog.records] == []


async def test_audit_log_is_for_admins_only(api):
    # given
    await given_draft(api)

    # when
    anonymous = await api.anonymous(AUDIT_LOG)
    editor = await api.editor(AUDIT_LOG)
    admin = await api.admin(AUDIT_LOG)

    # then
    assert anonymous == {"data": None, "errors": [needs_token("auditLog")]}
    assert editor == {
        "data": None,
        "errors": [refused(["auditLog"], "FORBIDDEN", "This needs the admin role")],
    }
    assert admin["data"]["auditLog"]["totalCount"] == 1
    assert "errors" not in admin


# --- the audit log ---------------------------------------------------------------------------


async def test_every_mutation_is_audited_with_the_token_name(api):
    # given
    article = await given_draft(api, "Audited")
    id = article["id"]
    await api.editor(UPDATE_ARTICLE, id=id, expectedVersion=1, input={"lead": "Edited."})
    await api.editor(PUBLISH_ARTICLE, id=id, at=MARCH_1_JSON)
    await api.editor(ADD_CORRECTION, articleId=id, note="Fixed.")
    await api.editor(UNPUBLISH_ARTICLE, id=id)
    await api.editor(ARCHIVE_ARTICLE, id=id)
    await api.admin(RESTORE_REVISION, id=id, revision=1, expectedVersion=2)
    await api.admin(DELETE_ARTICLE, id=id)

    # when
    body = await api.admin(AUDIT_LOG, first=20)

    # then: newest first
    def entry(actor: str, action: str, details: dict[str, Any]) -> dict[str, Any]:
        return {
            "actor": actor,
            "action": action,
            "entityType": "article",
            "entityId": id,
            "details": details,
        }

    assert body == {
        "data": {
            "auditLog": {
                "nodes": [
                    entry("Root", "article.deleted", {"slug": "audited"}),
                    entry("Root", "article.restored", {"version": 3, "fields": ["lead"]}),
                    entry("Desk", "article.archived", {}),
                    entry("Desk", "article.unpublished", {}),
                    entry("Desk", "article.corrected", {}),
                    entry("Desk", "article.published", {"at": MARCH_1_JSON}),
                    entry("Desk", "article.updated", {"version": 2, "fields": ["lead"]}),
                    entry("Desk", "article.created", {"slug": "audited"}),
                ],
                "pageInfo": {"hasNextPage": False, "endCursor": ANY},
                "totalCount": 8,
            }
        }
    }


async def test_refused_and_failed_mutations_are_not_audited(api):
    # given
    article = await given_draft(api, "Quiet")

    # when
    await api.anonymous(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"lead": "x"})
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=7, input={"lead": "x"})
    await api.editor(UPDATE_ARTICLE, id=article["id"], expectedVersion=1, input={"title": None})

    # then
    body = await api.admin(AUDIT_LOG)
    assert [node["action"] for node in body["data"]["auditLog"]["nodes"]] == ["article.created"]


async def test_audit_log_pages_newest_first(api):
    # given
    for n in range(5):
        await given_draft(api, f"Story {n}")

    # when
    first = await api.admin(AUDIT_LOG, first=3)
    rest = await api.admin(
        AUDIT_LOG, first=3, after=first["data"]["auditLog"]["pageInfo"]["endCursor"]
    )

    # then
    def slugs(body: Any) -> list[str]:
        return [node["details"]["slug"] for node in body["data"]["auditLog"]["nodes"]]

    assert slugs(first) == ["story-4", "story-3", "story-2"]
    assert first["data"]["auditLog"]["pageInfo"]["hasNextPage"] is True
    assert slugs(rest) == ["story-1", "story-0"]
    assert rest["data"]["auditLog"]["pageInfo"]["hasNextPage"] is False
    assert rest["data"]["auditLog"]["totalCount"] == 5
