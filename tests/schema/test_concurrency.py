"""Many editors at once, and failures halfway through a mutation.

Races need a database that runs transactions side by side, so they run on
PostgreSQL only. A failure injected after a mutation's first writes must leave
nothing behind on either database: each mutation is one transaction.
"""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession as SqlAlchemyAsyncSession
from sqlmodel import col, select

from models import Article, ArticleStatus, Role, Viewer
from models.audit import AuditEntry
from models.columns import utcnow
from models.db import SessionMaker
from models.errors import Conflict
from models.revision import ArticleRevision
from models.services import article_edits, audit
from models.services.tokens import create_token
from schema.node import to_global_id
from tests.factories import make_article, make_author, make_tag

pytestmark = pytest.mark.anyio

EDITORS = 20
MAX_ATTEMPTS = 3 * EDITORS
DESK = Viewer(Role.EDITOR, "Desk")

UPDATE_LEAD = """
mutation UpdateLead($id: ID!, $expectedVersion: Int!, $lead: String!) {
  updateArticle(id: $id, expectedVersion: $expectedVersion, input: {lead: $lead}) {
    article { id lead version }
    errors { field message code }
  }
}
"""

CREATE_ARTICLE = """
mutation CreateArticle($input: CreateArticleInput!) {
  createArticle(input: $input) { article { slug } errors { field message code } }
}
"""

UPDATE_ARTICLE = """
mutation UpdateArticle($id: ID!, $expectedVersion: Int!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, expectedVersion: $expectedVersion, input: $input) {
    article { id } errors { field message code }
  }
}
"""

RESTORE_REVISION = """
mutation RestoreRevision($id: ID!, $revision: Int!, $expectedVersion: Int!) {
  restoreArticleRevision(id: $id, revision: $revision, expectedVersion: $expectedVersion) {
    article { id } errors { field message code }
  }
}
"""

PUBLISH_ARTICLE = """
mutation PublishArticle($id: ID!) { publishArticle(id: $id) { article { id } errors { code } } }
"""

UNPUBLISH_ARTICLE = """
mutation UnpublishArticle($id: ID!) {
  unpublishArticle(id: $id) { article { id } errors { code } }
}
"""

ARCHIVE_ARTICLE = """
mutation ArchiveArticle($id: ID!) { archiveArticle(id: $id) { article { id } errors { code } } }
"""

DELETE_ARTICLE = """
mutation DeleteArticle($id: ID!) { deleteArticle(id: $id) { deletedId errors { code } } }
"""

ADD_CORRECTION = """
mutation AddCorrection($articleId: ID!, $note: String!) {
  addCorrection(articleId: $articleId, note: $note) { correction { note } errors { code } }
}
"""

# Everything an article mutation may write.
EDITORIAL_TABLES = (
    "article",
    "article_author",
    "article_tag",
    "article_revision",
    "article_slug_alias",
    "article_correction",
    "audit_entry",
)


def needs_postgresql(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite runs one writer at a time")


def lead_of(editor: int) -> str:
    return f"Lead as editor {editor} wrote it."


async def editor_token(sessionmaker: SessionMaker) -> str:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    return secret


async def graphql(client: httpx.AsyncClient, secret: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a mutation writes, in a stable order."""
    tables = {}
    async with engine.connect() as connection:
        for name in EDITORIAL_TABLES:
            rows = (await connection.execute(sa.text(f"SELECT * FROM {name}"))).all()
            tables[name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def revisions_of(sessionmaker: SessionMaker, article_id: int) -> list[ArticleRevision]:
    async with sessionmaker() as session:
        stmt = (
            select(ArticleRevision)
            .where(col(ArticleRevision.article_id) == article_id)
            .order_by(col(ArticleRevision.version))
        )
        return list((await session.exec(stmt)).all())


async def stored(sessionmaker: SessionMaker, article_id: int) -> Article:
    async with sessionmaker() as session:
        article = await session.get(Article, article_id)
    assert article is not None
    return article


# --- many editors, one article (PostgreSQL) ---------------------------------------------------


async def edit_until_applied(sessionmaker: SessionMaker, article_id: int, editor: int) -> int:
    """What a well-behaved client does: read the version, edit, and on CONFLICT start over."""
    viewer = Viewer(Role.EDITOR, f"editor-{editor}")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        async with sessionmaker() as session:
            current = await session.get(Article, article_id)
            assert current is not None
            try:
                await article_edits.update_article(
                    session,
                    viewer=viewer,
                    id=article_id,
                    expected_version=current.version,
                    data={"lead": lead_of(editor)},
                )
            except Conflict:
                continue
            return attempt
    raise AssertionError(f"editor {editor} got no edit in after {MAX_ATTEMPTS} attempts")


async def test_editors_who_retry_on_conflict_lose_no_edit(engine, sessionmaker):
    needs_postgresql(engine)
    # given
    article = await make_article(sessionmaker, "Contested", status=ArticleStatus.DRAFT)
    assert article.id is not None

    # when: every editor edits at the same time, each in a session of its own
    outcomes = await asyncio.gather(
        *(edit_until_applied(sessionmaker, article.id, n) for n in range(EDITORS)),
        return_exceptions=True,
    )

    # then: every acknowledged edit is kept, one version per edit
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    attempts = [o for o in outcomes if isinstance(o, int)]
    assert max(attempts) > 1, "the editors never actually raced"
    revisions = await revisions_of(sessionmaker, article.id)
    assert [r.version for r in revisions] == list(range(1, EDITORS + 2))
    edits = revisions[1:]
    assert sorted(r.snapshot["lead"] for r in edits) == sorted(map(lead_of, range(EDITORS)))
    for revision in edits:
        assert revision.changed_fields == ["lead"]
        assert revision.snapshot["lead"] == lead_of(int(revision.actor.removeprefix("editor-")))
    current = await stored(sessionmaker, article.id)
    assert current.version == 1 + EDITORS
    assert current.lead == edits[-1].snapshot["lead"]
    async with sessionmaker() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert sorted(e.details["version"] for e in entries) == list(range(2, EDITORS + 2))


async def test_editors_on_the_same_version_one_wins_the_rest_conflict(engine, client, sessionmaker):
    needs_postgresql(engine)
    # given
    secret = await editor_token(sessionmaker)
    article = await make_article(sessionmaker, "Contested", status=ArticleStatus.DRAFT)
    id = to_global_id("Article", article.id)

    # when: all of them send expectedVersion 1 at once, and nobody retries
    bodies = await asyncio.gather(
        *(
            graphql(client, secret, UPDATE_LEAD, id=id, expectedVersion=1, lead=lead_of(n))
            for n in range(EDITORS)
        )
    )

    # then
    winners = [b for b in bodies if b.get("data") and b["data"]["updateArticle"]["errors"] == []]
    assert len(winners) == 1, bodies
    winner = winners[0]["data"]["updateArticle"]["article"]
    assert winner == {"id": id, "lead": ANY, "version": 2}
    conflict = {
        "data": {
            "updateArticle": {
                "article": winner,
                "errors": [
                    {
                        "field": ["expectedVersion"],
                        "message": "The article was changed by someone else: "
                        "it is now at version 2",
                        "code": "CONFLICT",
                    }
                ],
            }
        }
    }
    assert [b for b in bodies if b not in (winners[0], conflict)] == []
    assert bodies.count(conflict) == EDITORS - 1
    current = await stored(sessionmaker, article.id)
    assert (current.version, current.lead) == (2, winner["lead"])
    assert [r.version for r in await revisions_of(sessionmaker, article.id)] == [1, 2]


async def test_editors_creating_articles_with_one_title_at_once_each_get_a_slug(
    engine, client, sessionmaker
):
    needs_postgresql(engine)
    # given
    secret = await editor_token(sessionmaker)

    # when: nobody chose a slug, so each must get one of its own
    bodies = await asyncio.gather(
        *(graphql(client, secret, CREATE_ARTICLE, input={"title": "Same title"}) for _ in range(5))
    )

    # then
    payloads = [body["data"]["createArticle"] for body in bodies]
    assert [p["errors"] for p in payloads] == [[]] * 5, payloads
    assert sorted(p["article"]["slug"] for p in payloads) == [
        "same-title",
        "same-title-2",
        "same-title-3",
        "same-title-4",
        "same-title-5",
    ]


# --- a failure halfway through (both databases) ----------------------------------------------


@dataclass
class Story:
    """A published article, edited once (new slug and links), with its API ID."""

    id: str
    pk: int
    spare_author: str
    spare_tag: str


async def given_story(sessionmaker: SessionMaker) -> Story:
    authors = [await make_author(sessionmaker) for _ in range(2)]
    tags = [await make_tag(sessionmaker) for _ in range(2)]
    async with sessionmaker() as session:
        article = await article_edits.create_article(
            session,
            viewer=DESK,
            data={"title": "Story", "author_ids": [authors[0].id], "tag_ids": [tags[0].id]},
        )
    assert article.id is not None
    async with sessionmaker() as session:
        await article_edits.publish_article(session, viewer=DESK, id=article.id)
    async with sessionmaker() as session:
        await article_edits.update_article(
            session,
            viewer=DESK,
            id=article.id,
            expected_version=1,
            data={"slug": "story-renamed", "author_ids": [authors[1].id]},
        )
    async with sessionmaker() as session:
        await article_edits.add_correction(session, viewer=DESK, article_id=article.id, note="A.")
    return Story(
        id=to_global_id("Article", article.id),
        pk=article.id,
        spare_author=to_global_id("Author", authors[0].id),
        spare_tag=to_global_id("Tag", tags[1].id),
    )


Call = Callable[[Story], tuple[str, dict[str, Any]]]

# Each mutation, with input that writes as much as it can: rows, links, old slugs, revisions.
MUTATIONS: dict[str, Call] = {
    "createArticle": lambda s: (
        CREATE_ARTICLE,
        {"input": {"title": "Story", "authorIds": [s.spare_author], "tagIds": [s.spare_tag]}},
    ),
    "updateArticle": lambda s: (
        UPDATE_ARTICLE,
        {
            "id": s.id,
            "expectedVersion": 2,
            "input": {
                "slug": "story-again",
                "lead": "New lead.",
                "authorIds": [s.spare_author],
                "tagIds": [s.spare_tag],
            },
        },
    ),
    "restoreArticleRevision": lambda s: (
        RESTORE_REVISION,
        {"id": s.id, "revision": 1, "expectedVersion": 2},
    ),
    "publishArticle": lambda s: (PUBLISH_ARTICLE, {"id": s.id}),
    "unpublishArticle": lambda s: (UNPUBLISH_ARTICLE, {"id": s.id}),
    "archiveArticle": lambda s: (ARCHIVE_ARTICLE, {"id": s.id}),
    "deleteArticle": lambda s: (DELETE_ARTICLE, {"id": s.id}),
    "addCorrection": lambda s: (ADD_CORRECTION, {"articleId": s.id, "note": "B."}),
}


def fail_in_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit entry, written last before the commit, cannot be written."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected: the audit log is unavailable")

    monkeypatch.setattr(audit, "record", broken)


def fail_at_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write reaches the database, then the commit fails (a lost connection)."""

    async def broken(self: SqlAlchemyAsyncSession) -> None:
        await self.flush()
        raise RuntimeError("injected: connection lost at commit")

    monkeypatch.setattr(SqlAlchemyAsyncSession, "commit", broken)


Injection = Callable[[pytest.MonkeyPatch], None]
INJECTIONS: dict[str, Injection] = {"audit": fail_in_audit, "commit": fail_at_commit}

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.mark.parametrize("injection", INJECTIONS)
@pytest.mark.parametrize("name", MUTATIONS)
async def test_a_failure_halfway_leaves_nothing_behind(
    engine, client, sessionmaker, count_queries, monkeypatch, name, injection
):
    # given
    secret = await editor_token(sessionmaker)
    story = await given_story(sessionmaker)
    query, variables = MUTATIONS[name](story)
    before = await snapshot(engine)
    INJECTIONS[injection](monkeypatch)
    count_queries.reset()

    # when
    body = await graphql(client, secret, query, **variables)

    # then: a masked error, and every table exactly as it was
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Internal server error",
                "locations": ANY,
                "path": [name],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": ANY},
            }
        ],
    }
    assert re.fullmatch(r"[0-9a-f]{32}", body["errors"][0]["extensions"]["requestId"])
    if injection == "commit":
        sent = [s.lstrip().upper() for s in count_queries.statements]
        assert any(s.startswith(WRITES) for s in sent), "the failure came before any write"
    assert await snapshot(engine) == before

    # and nothing was left locked or half-counted: the same call now goes through
    monkeypatch.undo()
    retried = await graphql(client, secret, query, **variables)
    assert "errors" not in retried, retried
    assert retried["data"][name]["errors"] == []


async def test_a_failed_update_keeps_the_version_for_the_next_editor(
    engine, client, sessionmaker, monkeypatch
):
    # given
    secret = await editor_token(sessionmaker)
    article = await make_article(
        sessionmaker, "Steady", status=ArticleStatus.PUBLISHED, published_at=utcnow()
    )
    id = to_global_id("Article", article.id)
    fail_in_audit(monkeypatch)

    # when
    failed = await graphql(client, secret, UPDATE_LEAD, id=id, expectedVersion=1, lead="Lost.")
    monkeypatch.undo()
    next_edit = await graphql(client, secret, UPDATE_LEAD, id=id, expectedVersion=1, lead="Kept.")

    # then
    assert failed["data"] is None
    assert next_edit == {
        "data": {
            "updateArticle": {"article": {"id": id, "lead": "Kept.", "version": 2}, "errors": []}
        }
    }
    assert [r.snapshot["lead"] for r in await revisions_of(sessionmaker, article.id)] == [
        article.lead,
        "Kept.",
    ]
