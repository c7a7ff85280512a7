"""Editors write authors and tags through GraphQL over HTTP: payloads, errors, audit, deletes."""
# ruff: noqa: RUF001  (Belarusian Cyrillic letters look like Latin ones; names use them)

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from models import AuditEntry, Author, Role, Tag
from models.db import SessionMaker
from models.services import catalog
from models.services.tokens import create_token
from schema.node import to_global_id
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

MARCH_1 = datetime(2024, 3, 1, tzinfo=UTC)

AUTHOR_FIELDS = "author { id slug name bio avatarUrl email }"

CREATE_AUTHOR = f"""
mutation CreateAuthor($input: CreateAuthorInput!) {{
  createAuthor(input: $input) {{ {AUTHOR_FIELDS} errors {{ field message code }} }}
}}
"""

UPDATE_AUTHOR = """
mutation UpdateAuthor($id: ID!, $input: UpdateAuthorInput!) {
  updateAuthor(id: $id, input: $input) {
    author { id slug name bio avatarUrl email updatedAt }
    errors { field message code }
  }
}
"""

DELETE_AUTHOR = """
mutation DeleteAuthor($id: ID!) {
  deleteAuthor(id: $id) { deletedId errors { field message code } }
}
"""

CREATE_TAG = """
mutation CreateTag($input: CreateTagInput!) {
  createTag(input: $input) { tag { id slug name } errors { field message code } }
}
"""

UPDATE_TAG = """
mutation UpdateTag($id: ID!, $input: UpdateTagInput!) {
  updateTag(id: $id, input: $input) { tag { id slug name } errors { field message code } }
}
"""

DELETE_TAG = """
mutation DeleteTag($id: ID!) {
  deleteTag(id: $id) { deletedId errors { field message code } }
}
"""

ARTICLE_LINKS = """
query ArticleLinks($id: ID!) {
  article(id: $id) { slug authors { slug } tags { slug } }
}
"""

AUTHOR_AND_TAG = """
query AuthorAndTag($author: ID!, $tag: ID!) {
  author(id: $author) { slug }
  tag(id: $tag) { slug }
}
"""

SLUG_MESSAGE = "Use lowercase Latin letters, digits and single hyphens"
REQUIRED = "This field is required"


# --- helpers -----------------------------------------------------------------------------------


async def graphql(
    client: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def token_for(sessionmaker: SessionMaker, role: Role, name: str = "desk") -> str:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name=name, role=role)
    return secret


@pytest.fixture
async def editor(sessionmaker: SessionMaker) -> str:
    """An editor's bearer secret; its token is named "desk"."""
    return await token_for(sessionmaker, Role.EDITOR)


async def audit_log(sessionmaker: SessionMaker) -> list[tuple[Any, ...]]:
    async with sessionmaker() as session:
        rows = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        return [(e.actor, e.action, e.entity_type, e.entity_id, e.details) for e in rows]


async def stored(sessionmaker: SessionMaker) -> dict[str, list[tuple[Any, ...]]]:
    """Every author and tag row, for "nothing was written" checks."""
    async with sessionmaker() as session:
        authors = await session.exec(select(Author).order_by(col(Author.id)))
        tags = await session.exec(select(Tag).order_by(col(Tag.id)))
        return {
            "authors": [
                (a.id, a.slug, a.name, a.bio, a.avatar_url, a.email, a.updated_at) for a in authors
            ],
            "tags": [(t.id, t.slug, t.name) for t in tags],
        }


async def pin_updated_at(engine: AsyncEngine, author: Author, moment: datetime) -> None:
    # Timestamps have whole seconds: pin an old one so "it was set" is visible.
    async with engine.begin() as connection:
        await connection.execute(
            sa.update(Author).where(sa.column("id") == author.id).values(updated_at=moment)
        )


def author_id(pk: int | None) -> str:
    return to_global_id("Author", pk)


def tag_id(pk: int | None) -> str:
    return to_global_id("Tag", pk)


def refused(field: str, *errors: tuple[list[str], str, str]) -> Any:
    """The payload of a mutation that wrote nothing: its entity null, one error per problem."""
    entity = {"createAuthor": "author", "updateAuthor": "author"}.get(field, "tag")
    return {
        "data": {
            field: {
                entity: None,
                "errors": [
                    {"field": path, "message": message, "code": code}
                    for path, message, code in errors
                ],
            }
        }
    }


# --- createAuthor ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.EDITOR, Role.ADMIN])
async def test_create_author_with_every_field(client, sessionmaker, role):
    # given
    token = await token_for(sessionmaker, role)

    # when
    body = await graphql(
        client,
        CREATE_AUTHOR,
        token,
        input={
            "name": "  Zoya Ulasava ",
            "slug": "zoya",
            "bio": "Economy desk. *Minsk*.",
            "avatarUrl": "https://example.by/avatars/zoya.png",
            "email": "zoya@Example.BY",
        },
    )

    # then: whitespace trimmed, the e-mail's domain normalised
    assert body == {
        "data": {
            "createAuthor": {
                "author": {
                    "id": author_id(1),
                    "slug": "zoya",
                    "name": "Zoya Ulasava",
                    "bio": "Economy desk. *Minsk*.",
                    "avatarUrl": "https://example.by/avatars/zoya.png",
                    "email": "zoya@example.by",
                },
                "errors": [],
            }
        }
    }
    assert await audit_log(sessionmaker) == [
        ("desk", "author.created", "author", 1, {"slug": "zoya"})
    ]


async def test_create_author_with_only_a_name(client, sessionmaker, editor):
    # when
    body = await graphql(client, CREATE_AUTHOR, editor, input={"name": "Anna Kowalska"})

    # then: the slug follows the name, the rest is empty
    assert body == {
        "data": {
            "createAuthor": {
                "author": {
                    "id": author_id(1),
                    "slug": "anna-kowalska",
                    "name": "Anna Kowalska",
                    "bio": "",
                    "avatarUrl": None,
                    "email": None,
                },
                "errors": [],
            }
        }
    }


async def test_generated_author_slugs_get_a_free_numeric_suffix(client, sessionmaker, editor):
    # given: the plain slug and its -2 are taken; a longer slug that merely starts the same is not
    await make_author(sessionmaker, slug="andrej-ivanou")
    await make_author(sessionmaker, slug="andrej-ivanou-2")
    await make_author(sessionmaker, slug="andrej-ivanou-junior")

    # when
    first = await graphql(client, CREATE_AUTHOR, editor, input={"name": "Андрэй Іваноў"})
    second = await graphql(client, CREATE_AUTHOR, editor, input={"name": "Андрэй Іваноў"})
    nothing_latin = await graphql(client, CREATE_AUTHOR, editor, input={"name": "«…»"})

    # then: Belarusian letters are transliterated by Belarusian rules
    assert first["data"]["createAuthor"]["author"]["slug"] == "andrej-ivanou-3"
    assert second["data"]["createAuthor"]["author"]["slug"] == "andrej-ivanou-4"
    assert nothing_latin["data"]["createAuthor"]["author"]["slug"] == "author"


@pytest.mark.parametrize(
    ("given", "error"),
    [
        pytest.param({}, (["input", "name"], REQUIRED, "REQUIRED"), id="name-missing"),
        pytest.param({"name": None}, (["input", "name"], REQUIRED, "REQUIRED"), id="name-null"),
        pytest.param({"name": "   "}, (["input", "name"], REQUIRED, "REQUIRED"), id="name-blank"),
        pytest.param(
            {"name": "x" * 201},
            (["input", "name"], "String should have at most 200 characters", "TOO_LONG"),
            id="name-too-long",
        ),
        pytest.param(
            {"name": "A", "bio": "x" * 5001},
            (["input", "bio"], "String should have at most 5000 characters", "TOO_LONG"),
            id="bio-too-long",
        ),
        pytest.param(
            {"name": "A", "slug": "Zoya Ulasava"},
            (["input", "slug"], SLUG_MESSAGE, "INVALID"),
            id="slug-malformed",
        ),
        pytest.param(
            {"name": "A", "slug": "zoya--u"},
            (["input", "slug"], SLUG_MESSAGE, "INVALID"),
            id="slug-double-hyphen",
        ),
        pytest.param(
            {"name": "A", "avatarUrl": "ftp://example.by/zoya.png"},
            (["input", "avatarUrl"], "URL scheme should be 'http' or 'https'", "INVALID"),
            id="avatar-not-http",
        ),
        pytest.param(
            {"name": "A", "avatarUrl": "zoya.png"},
            (
                ["input", "avatarUrl"],
                "Input should be a valid URL, relative URL without a base",
                "INVALID",
            ),
            id="avatar-relative",
        ),
        pytest.param(
            {"name": "A", "avatarUrl": "https://example.by/" + "a" * 1982},
            (["input", "avatarUrl"], "This URL may have at most 2000 characters", "TOO_LONG"),
            id="avatar-too-long",
        ),
        pytest.param(
            {"name": "A", "email": "zoya.example.by"},
            (
                ["input", "email"],
                "value is not a valid email address: An email address must have an @-sign.",
                "INVALID",
            ),
            id="email-no-at",
        ),
        pytest.param(
            {"name": "A\x00B"},
            (["input", "name"], "This text contains characters that cannot be stored", "INVALID"),
            id="name-nul",
        ),
    ],
)
async def test_create_author_refuses_bad_input(client, sessionmaker, editor, given, error):
    # when
    body = await graphql(client, CREATE_AUTHOR, editor, input=given)

    # then
    assert body == refused("createAuthor", error)
    assert await stored(sessionmaker) == {"authors": [], "tags": []}
    assert await audit_log(sessionmaker) == []


async def test_create_author_accepts_a_url_of_exactly_2000_characters(client, editor):
    # given
    url = "https://example.by/" + "a" * 1981

    # when
    body = await graphql(client, CREATE_AUTHOR, editor, input={"name": "A", "avatarUrl": url})

    # then
    assert len(url) == 2000
    assert body["data"]["createAuthor"]["author"]["avatarUrl"] == url
    assert body["data"]["createAuthor"]["errors"] == []


async def test_create_author_with_a_taken_slug_is_a_duplicate(client, sessionmaker, editor):
    # given
    await make_author(sessionmaker, "Zoya", slug="zoya")
    before = await stored(sessionmaker)

    # when
    body = await graphql(client, CREATE_AUTHOR, editor, input={"name": "Z", "slug": "zoya"})

    # then
    assert body == refused(
        "createAuthor", (["input", "slug"], "The slug 'zoya' is already used", "DUPLICATE")
    )
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []


async def test_create_author_reports_every_problem_at_once(client, sessionmaker, editor):
    # given
    await make_author(sessionmaker, "Zoya", slug="zoya")

    # when
    body = await graphql(
        client,
        CREATE_AUTHOR,
        editor,
        input={
            "slug": "zoya",
            "bio": "x" * 5001,
            "avatarUrl": "mailto:zoya@example.by",
            "email": "zoya@",
        },
    )

    # then: the taken slug is reported although other fields are bad too
    assert body == refused(
        "createAuthor",
        (["input", "name"], REQUIRED, "REQUIRED"),
        (["input", "bio"], "String should have at most 5000 characters", "TOO_LONG"),
        (["input", "avatarUrl"], "URL scheme should be 'http' or 'https'", "INVALID"),
        (
            ["input", "email"],
            "value is not a valid email address: There must be something after the @-sign.",
            "INVALID",
        ),
        (["input", "slug"], "The slug 'zoya' is already used", "DUPLICATE"),
    )


# --- updateAuthor ------------------------------------------------------------------------------


async def test_update_author_changes_the_given_fields(client, sessionmaker, engine, editor):
    # given
    author = await make_author(
        sessionmaker,
        "Zoya",
        slug="zoya",
        bio="Old bio.",
        avatar_url="https://example.by/old.png",
        email="zoya@example.by",
    )
    await pin_updated_at(engine, author, MARCH_1)

    # when: a new name and bio, avatar and e-mail cleared, slug not sent
    body = await graphql(
        client,
        UPDATE_AUTHOR,
        editor,
        id=author_id(author.id),
        input={"name": "Zoya Ulasava", "bio": "New bio.", "avatarUrl": None, "email": None},
    )

    # then
    updated_at = body["data"]["updateAuthor"]["author"].pop("updatedAt")
    assert body == {
        "data": {
            "updateAuthor": {
                "author": {
                    "id": author_id(author.id),
                    "slug": "zoya",
                    "name": "Zoya Ulasava",
                    "bio": "New bio.",
                    "avatarUrl": None,
                    "email": None,
                },
                "errors": [],
            }
        }
    }
    assert datetime.fromisoformat(updated_at) > MARCH_1
    assert await audit_log(sessionmaker) == [
        (
            "desk",
            "author.updated",
            "author",
            author.id,
            {"fields": ["avatar_url", "bio", "email", "name"]},
        )
    ]


async def test_update_author_slug_and_contacts(client, sessionmaker, editor):
    # given
    author = await make_author(sessionmaker, "Zoya", slug="zoya", email=None)

    # when
    body = await graphql(
        client,
        UPDATE_AUTHOR,
        editor,
        id=author_id(author.id),
        input={"slug": "zoya-ulasava", "avatarUrl": "http://example.by", "email": "z@example.by"},
    )

    # then: the URL is stored normalised
    author_data = body["data"]["updateAuthor"]["author"]
    assert {k: author_data[k] for k in ("slug", "avatarUrl", "email")} == {
        "slug": "zoya-ulasava",
        "avatarUrl": "http://example.by/",
        "email": "z@example.by",
    }
    assert body["data"]["updateAuthor"]["errors"] == []


async def test_update_author_without_changes_writes_nothing(client, sessionmaker, engine, editor):
    # given
    author = await make_author(sessionmaker, "Zoya", slug="zoya", bio="Bio.")
    await pin_updated_at(engine, author, MARCH_1)

    # when: the same values again (its own slug is no duplicate), and an empty input
    same = await graphql(
        client,
        UPDATE_AUTHOR,
        editor,
        id=author_id(author.id),
        input={"name": "Zoya", "slug": "zoya", "bio": "Bio."},
    )
    empty = await graphql(client, UPDATE_AUTHOR, editor, id=author_id(author.id), input={})

    # then
    for body in (same, empty):
        assert body["data"]["updateAuthor"]["errors"] == []
        assert body["data"]["updateAuthor"]["author"]["updatedAt"] == MARCH_1.isoformat()
    assert await audit_log(sessionmaker) == []


async def test_update_author_to_a_taken_slug_is_a_duplicate(client, sessionmaker, editor):
    # given
    await make_author(sessionmaker, "Anna", slug="anna")
    zoya = await make_author(sessionmaker, "Zoya", slug="zoya")
    before = await stored(sessionmaker)

    # when
    body = await graphql(
        client, UPDATE_AUTHOR, editor, id=author_id(zoya.id), input={"slug": "anna"}
    )

    # then
    assert body == refused(
        "updateAuthor", (["input", "slug"], "The slug 'anna' is already used", "DUPLICATE")
    )
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []


async def test_update_author_reports_every_problem_at_once(client, sessionmaker, editor):
    # given
    author = await make_author(sessionmaker, "Zoya", slug="zoya")
    before = await stored(sessionmaker)

    # when: name and slug may not be cleared; bio may not be null either (send "" to empty it)
    body = await graphql(
        client,
        UPDATE_AUTHOR,
        editor,
        id=author_id(author.id),
        input={
            "name": "",
            "slug": None,
            "bio": None,
            "avatarUrl": "javascript:alert(1)",
            "email": "not an address",
        },
    )

    # then
    errors = body["data"]["updateAuthor"]["errors"]
    assert body == refused(
        "updateAuthor",
        (["input", "name"], REQUIRED, "REQUIRED"),
        (["input", "avatarUrl"], "URL scheme should be 'http' or 'https'", "INVALID"),
        (["input", "email"], errors[2]["message"], "INVALID"),
        (["input", "slug"], REQUIRED, "REQUIRED"),
        (["input", "bio"], REQUIRED, "REQUIRED"),
    )
    assert errors[2]["message"].startswith("value is not a valid email address")
    assert await stored(sessionmaker) == before


async def test_update_unknown_author_is_not_found(client, sessionmaker, editor):
    # when: also a bad field, reported with it
    body = await graphql(
        client, UPDATE_AUTHOR, editor, id=author_id(999), input={"name": "x" * 201}
    )

    # then
    assert body == refused(
        "updateAuthor",
        (["id"], "No author with this ID", "NOT_FOUND"),
        (["input", "name"], "String should have at most 200 characters", "TOO_LONG"),
    )


@pytest.mark.parametrize(
    ("bad_id", "message"),
    [
        ("not-an-id", "'not-an-id' is not a valid ID"),
        (to_global_id("Tag", 1), "ID is of type Tag, expected Author"),
    ],
)
async def test_update_author_with_a_malformed_id_is_invalid(
    client, sessionmaker, editor, bad_id, message
):
    # given: a tag with that pk exists, so only the type can be wrong
    await make_tag(sessionmaker)

    # when
    body = await graphql(client, UPDATE_AUTHOR, editor, id=bad_id, input={"name": "A"})

    # then
    assert body == refused("updateAuthor", (["id"], message, "INVALID"))


# --- deleteAuthor ------------------------------------------------------------------------------


async def test_delete_author_removes_its_bylines_but_keeps_the_articles(
    client, sessionmaker, editor
):
    # given
    zoya = await make_author(sessionmaker, "Zoya", slug="zoya")
    anna = await make_author(sessionmaker, "Anna", slug="anna")
    tag = await make_tag(sessionmaker, slug="economy")
    article = await make_article(sessionmaker, slug="budget", authors=[zoya, anna], tags=[tag])

    # when
    body = await graphql(client, DELETE_AUTHOR, editor, id=author_id(zoya.id))
    links = await graphql(client, ARTICLE_LINKS, id=to_global_id("Article", article.id))
    lookup = await graphql(client, AUTHOR_AND_TAG, author=author_id(zoya.id), tag=tag_id(tag.id))

    # then
    assert body == {"data": {"deleteAuthor": {"deletedId": author_id(zoya.id), "errors": []}}}
    assert links == {
        "data": {
            "article": {
                "slug": "budget",
                "authors": [{"slug": "anna"}],
                "tags": [{"slug": "economy"}],
            }
        }
    }
    assert lookup == {"data": {"author": None, "tag": {"slug": "economy"}}}
    assert await audit_log(sessionmaker) == [
        ("desk", "author.deleted", "author", zoya.id, {"slug": "zoya"})
    ]


@pytest.mark.parametrize(
    ("bad_id", "error"),
    [
        (author_id(999), (["id"], "No author with this ID", "NOT_FOUND")),
        ("QXV0aG9yOjA=", (["id"], "'QXV0aG9yOjA=' is not a valid ID", "INVALID")),  # Author:0
    ],
)
async def test_delete_author_that_is_not_there(client, sessionmaker, editor, bad_id, error):
    # given
    await make_author(sessionmaker)
    before = await stored(sessionmaker)

    # when
    body = await graphql(client, DELETE_AUTHOR, editor, id=bad_id)

    # then
    path, message, code = error
    assert body == {
        "data": {
            "deleteAuthor": {
                "deletedId": None,
                "errors": [{"field": path, "message": message, "code": code}],
            }
        }
    }
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []


# --- tags --------------------------------------------------------------------------------------


async def test_create_tag(client, sessionmaker, editor):
    # when
    given = await graphql(client, CREATE_TAG, editor, input={"name": " CSTO ", "slug": "csto"})
    generated = await graphql(client, CREATE_TAG, editor, input={"name": "Эканоміка і фінансы"})

    # then
    assert given == {
        "data": {
            "createTag": {"tag": {"id": tag_id(1), "slug": "csto", "name": "CSTO"}, "errors": []}
        }
    }
    assert generated == {
        "data": {
            "createTag": {
                "tag": {
                    "id": tag_id(2),
                    "slug": "ekanomika-i-finansy",
                    "name": "Эканоміка і фінансы",
                },
                "errors": [],
            }
        }
    }
    assert await audit_log(sessionmaker) == [
        ("desk", "tag.created", "tag", 1, {"slug": "csto"}),
        ("desk", "tag.created", "tag", 2, {"slug": "ekanomika-i-finansy"}),
    ]


async def test_generated_tag_slugs_get_a_free_numeric_suffix(client, sessionmaker, editor):
    # given
    await make_tag(sessionmaker, slug="economy")

    # when
    second = await graphql(client, CREATE_TAG, editor, input={"name": "Economy"})
    third = await graphql(client, CREATE_TAG, editor, input={"name": "ECONOMY!"})
    nothing_latin = await graphql(client, CREATE_TAG, editor, input={"name": "★"})

    # then
    assert second["data"]["createTag"]["tag"]["slug"] == "economy-2"
    assert third["data"]["createTag"]["tag"]["slug"] == "economy-3"
    assert nothing_latin["data"]["createTag"]["tag"]["slug"] == "tag"


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        pytest.param({}, [(["input", "name"], REQUIRED, "REQUIRED")], id="name-missing"),
        pytest.param(
            {"name": "x" * 101},
            [(["input", "name"], "String should have at most 100 characters", "TOO_LONG")],
            id="name-too-long",
        ),
        pytest.param(
            {"name": "Economy", "slug": "-economy"},
            [(["input", "slug"], SLUG_MESSAGE, "INVALID")],
            id="slug-malformed",
        ),
        pytest.param(
            {"name": "Economy", "slug": "taken"},
            [(["input", "slug"], "The slug 'taken' is already used", "DUPLICATE")],
            id="slug-taken",
        ),
        pytest.param(
            {"name": "", "slug": "taken"},
            [
                (["input", "name"], REQUIRED, "REQUIRED"),
                (["input", "slug"], "The slug 'taken' is already used", "DUPLICATE"),
            ],
            id="all-at-once",
        ),
        pytest.param(
            {"name": "x" * 101, "slug": "Ekanomika"},
            [
                (["input", "name"], "String should have at most 100 characters", "TOO_LONG"),
                (["input", "slug"], SLUG_MESSAGE, "INVALID"),
            ],
            id="all-at-once-malformed-slug",
        ),
    ],
)
async def test_create_tag_refuses_bad_input(client, sessionmaker, editor, given, errors):
    # given
    await make_tag(sessionmaker, slug="taken")
    before = await stored(sessionmaker)

    # when
    body = await graphql(client, CREATE_TAG, editor, input=given)

    # then
    assert body == refused("createTag", *errors)
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []


async def test_a_slug_taken_between_check_and_write_is_still_a_duplicate(
    client, sessionmaker, editor, monkeypatch
):
    # given: the check misses the other tag, as when it is created at the same moment
    await make_tag(sessionmaker, slug="economy")
    before = await stored(sessionmaker)

    async def never_taken(*args: Any, **kwargs: Any) -> bool:
        return False

    monkeypatch.setattr(catalog, "slug_taken", never_taken)

    # when
    body = await graphql(client, CREATE_TAG, editor, input={"name": "E", "slug": "economy"})

    # then: the unique index refuses it, and the audit entry is rolled back with it
    assert body == refused(
        "createTag", (["input", "slug"], "The slug 'economy' is already used", "DUPLICATE")
    )
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []


async def test_update_tag(client, sessionmaker, editor):
    # given
    tag = await make_tag(sessionmaker, "Economy", slug="economy")

    # when
    renamed = await graphql(client, UPDATE_TAG, editor, id=tag_id(tag.id), input={"name": "Econ"})
    reslugged = await graphql(client, UPDATE_TAG, editor, id=tag_id(tag.id), input={"slug": "econ"})
    unchanged = await graphql(client, UPDATE_TAG, editor, id=tag_id(tag.id), input={"slug": "econ"})

    # then
    assert renamed == {
        "data": {
            "updateTag": {
                "tag": {"id": tag_id(tag.id), "slug": "economy", "name": "Econ"},
                "errors": [],
            }
        }
    }
    assert (
        reslugged
        == unchanged
        == {
            "data": {
                "updateTag": {
                    "tag": {"id": tag_id(tag.id), "slug": "econ", "name": "Econ"},
                    "errors": [],
                }
            }
        }
    )
    assert await audit_log(sessionmaker) == [
        ("desk", "tag.updated", "tag", tag.id, {"fields": ["name"]}),
        ("desk", "tag.updated", "tag", tag.id, {"fields": ["slug"]}),
    ]


@pytest.mark.parametrize(
    ("target", "given", "errors"),
    [
        pytest.param(
            "mine",
            {"name": None, "slug": "other"},
            [
                (["input", "name"], REQUIRED, "REQUIRED"),
                (["input", "slug"], "The slug 'other' is already used", "DUPLICATE"),
            ],
            id="all-at-once",
        ),
        pytest.param(
            "mine",
            {"name": "x" * 101, "slug": "Other"},
            [
                (["input", "name"], "String should have at most 100 characters", "TOO_LONG"),
                (["input", "slug"], SLUG_MESSAGE, "INVALID"),
            ],
            id="too-long-and-malformed",
        ),
        pytest.param(
            tag_id(999),
            {"name": "Economy"},
            [(["id"], "No tag with this ID", "NOT_FOUND")],
            id="not-found",
        ),
        pytest.param(
            author_id(1),
            {"name": "Economy"},
            [(["id"], "ID is of type Author, expected Tag", "INVALID")],
            id="author-id",
        ),
        pytest.param(
            "Tag:1",
            {"name": "Economy"},
            [(["id"], "'Tag:1' is not a valid ID", "INVALID")],
            id="raw",
        ),
    ],
)
async def test_update_tag_refuses_bad_input(client, sessionmaker, editor, target, given, errors):
    # given
    mine = await make_tag(sessionmaker, "Mine", slug="mine")
    await make_tag(sessionmaker, "Other", slug="other")
    before = await stored(sessionmaker)

    # when
    id = tag_id(mine.id) if target == "mine" else target
    body = await graphql(client, UPDATE_TAG, editor, id=id, input=given)

    # then
    assert body == refused("updateTag", *errors)
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []


async def test_delete_tag_takes_it_off_articles_but_keeps_them(client, sessionmaker, editor):
    # given
    economy = await make_tag(sessionmaker, slug="economy")
    budget = await make_tag(sessionmaker, slug="budget")
    author = await make_author(sessionmaker, slug="zoya")
    article = await make_article(
        sessionmaker, slug="budget-approved", authors=[author], tags=[economy, budget]
    )

    # when
    body = await graphql(client, DELETE_TAG, editor, id=tag_id(economy.id))
    again = await graphql(client, DELETE_TAG, editor, id=tag_id(economy.id))
    links = await graphql(client, ARTICLE_LINKS, id=to_global_id("Article", article.id))

    # then
    assert body == {"data": {"deleteTag": {"deletedId": tag_id(economy.id), "errors": []}}}
    assert again == {
        "data": {
            "deleteTag": {
                "deletedId": None,
                "errors": [
                    {"field": ["id"], "message": "No tag with this ID", "code": "NOT_FOUND"}
                ],
            }
        }
    }
    assert links == {
        "data": {
            "article": {
                "slug": "budget-approved",
                "authors": [{"slug": "zoya"}],
                "tags": [{"slug": "budget"}],
            }
        }
    }
    assert await audit_log(sessionmaker) == [
        ("desk", "tag.deleted", "tag", economy.id, {"slug": "economy"})
    ]


async def test_delete_tag_with_a_malformed_id_is_invalid(client, sessionmaker, editor):
    # when
    body = await graphql(client, DELETE_TAG, editor, id="%%%")

    # then
    assert body == {
        "data": {
            "deleteTag": {
                "deletedId": None,
                "errors": [
                    {"field": ["id"], "message": "'%%%' is not a valid ID", "code": "INVALID"}
                ],
            }
        }
    }


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "field", "variables"),
    [
        (CREATE_AUTHOR, "createAuthor", lambda a, t: {"input": {"name": "New"}}),
        (UPDATE_AUTHOR, "updateAuthor", lambda a, t: {"id": a, "input": {"name": "New"}}),
        (DELETE_AUTHOR, "deleteAuthor", lambda a, t: {"id": a}),
        (CREATE_TAG, "createTag", lambda a, t: {"input": {"name": "New"}}),
        (UPDATE_TAG, "updateTag", lambda a, t: {"id": t, "input": {"name": "New"}}),
        (DELETE_TAG, "deleteTag", lambda a, t: {"id": t}),
    ],
)
async def test_anonymous_callers_may_not_write(client, sessionmaker, document, field, variables):
    # given
    author = await make_author(sessionmaker, "Zoya", slug="zoya")
    tag = await make_tag(sessionmaker, "Economy", slug="economy")
    before = await stored(sessionmaker)

    # when
    body = await graphql(client, document, **variables(author_id(author.id), tag_id(tag.id)))

    # then
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Authentication required: send 'Authorization: Bearer <token>'",
                "locations": [{"line": 3, "column": 3}],
                "path": [field],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }
    assert await stored(sessionmaker) == before
    assert await audit_log(sessionmaker) == []
