"""Content events: the version moves with every committed change and only then."""

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models import ArticleStatus
from models.content_event import ContentEvent
from models.db import SessionMaker
from models.errors import DomainError
from models.services import events
from models.services.article_edits import archive_article, delete_article, unpublish_article
from models.services.authors import add_author, update_author
from models.viewer import Role, Viewer
from tests.factories import make_article, make_author

pytestmark = pytest.mark.anyio

EDITOR = Viewer(role=Role.EDITOR, token_name="press-office")


@pytest.fixture
def received() -> Iterator[list[ContentEvent]]:
    got: list[ContentEvent] = []
    unsubscribe = events.local_bus.subscribe(got.append)
    yield got
    unsubscribe()


async def version(sessionmaker: SessionMaker) -> int:
    async with sessionmaker() as session:
        return await events.current_version(session)


async def test_a_committed_change_moves_the_version_and_is_announced_after_commit(
    sessionmaker: SessionMaker, received: list[ContentEvent]
) -> None:
    before = await version(sessionmaker)

    async with sessionmaker() as session:
        author = await add_author(session, viewer=EDITOR, data={"name": "Ivan Petrov"})

    after = await version(sessionmaker)
    assert after != before
    assert [(e.action, e.entity, e.id, e.version) for e in received] == [
        ("author.created", "author", author.id, after)
    ]


async def test_a_failed_change_moves_nothing_and_announces_nothing(
    sessionmaker: SessionMaker, received: list[ContentEvent]
) -> None:
    author = await make_author(sessionmaker)
    before = await version(sessionmaker)
    received.clear()

    async with sessionmaker() as session:
        with pytest.raises(DomainError):
            await update_author(session, viewer=EDITOR, id=author.id or 0, data={"name": ""})

    assert await version(sessionmaker) == before
    assert received == []


async def test_postgresql_tells_other_processes_after_commit(
    engine: AsyncEngine,
    sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no other processes' notifications")
    # Pretend the notifications come from another process: the listener skips its own.
    monkeypatch.setattr(events, "PROCESS_ID", "another-process")
    heard: list[ContentEvent] = []
    connected = asyncio.Event()

    async with events.listen(engine, heard.append, connected.set):
        await asyncio.wait_for(connected.wait(), 5)
        async with sessionmaker() as session:
            author = await add_author(session, viewer=EDITOR, data={"name": "Anna Ivanova"})
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.02)

    assert [(e.action, e.id) for e in heard] == [("author.created", author.id)]
    assert heard[0].version == await version(sessionmaker)


async def test_withdrawing_an_article_tells_listeners_whether_the_public_could_read_it(
    sessionmaker: SessionMaker, received: list[ContentEvent]
) -> None:
    public = await make_article(sessionmaker, "Out")
    draft = await make_article(sessionmaker, "Not yet", status=ArticleStatus.DRAFT)
    received.clear()

    async with sessionmaker() as session:
        await unpublish_article(session, viewer=EDITOR, id=public.id or 0)
    async with sessionmaker() as session:
        await archive_article(session, viewer=EDITOR, id=draft.id or 0)
    async with sessionmaker() as session:
        await delete_article(session, viewer=EDITOR, id=public.id or 0)

    assert [(e.action, e.details.get("was_public")) for e in received] == [
        ("article.unpublished", True),
        ("article.archived", False),
        ("article.deleted", False),
    ]
