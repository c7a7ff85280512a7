"""Reads routed to a PostgreSQL streaming replica, proved on a real one.

The module starts a primary and a hot standby made from it with ``pg_basebackup`` (a pair
of its own: its tests pause replay and stop the primary), and runs the app with its lifespan
and ``VESTNIK_DATABASE_REPLICA_URLS`` pointing at the standby. The evidence is where each
SQL statement goes, recorded per server port on every engine, and what still answers when
replay is paused or the primary is down. PostgreSQL only (SQLite has no replicas); under
``CI=true`` missing PostgreSQL binaries fail the module instead of skipping it.
"""

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from models import Article, ArticleStatus
from models.db import SessionMaker, make_engine, make_sessionmaker
from models.migrate import upgrade
from models.rawdb import RawReader, Record
from models.services.tokens import create_token
from models.viewer import Role
from schema.node import to_global_id
from server import replicas
from server.app import create_app
from server.settings import Settings
from tests.conftest import IN_CI
from tests.factories import make_article
from tests.pgcluster import PostgresCluster, find_bindir

pytestmark = pytest.mark.anyio

NEWS = "query News { articles(first: 10) { nodes { title } } }"
CREATE = """
mutation Create($title: String!) {
  createArticle(input: {title: $title}) { article { title } errors { code } }
}
"""
RENAME = """
mutation Rename($id: ID!, $version: Int!, $title: String!) {
  updateArticle(id: $id, expectedVersion: $version, input: {title: $title}) {
    article { title } errors { code }
  }
}
"""


@dataclass(frozen=True)
class Pair:
    primary: PostgresCluster
    replica: PostgresCluster
    primary_url: str
    replica_url: str


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """A migrated database on a primary, and a streaming replica of it, for this module."""
    if find_bindir() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries not found (CI=true): install postgresql-15")
        pytest.skip("PostgreSQL binaries not found; install postgresql-15 to run these tests")
    with PostgresCluster() as primary:
        primary_url = primary.create_database("vestnik_replicas")
        # Fixtures may be set up while an event loop runs: migrate on a thread of its own.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _migrate(primary_url)).result()
        with primary.start_replica() as replica:
            yield Pair(primary, replica, primary_url, replica.url("vestnik_replicas"))


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def primary(pair: Pair) -> AsyncIterator[SessionMaker]:
    """Sessions on the primary for the test's own setup; the tables start empty each test."""
    engine = make_engine(pair.primary_url)
    try:
        await _truncate(engine)
        pair.replica.wait_for_replay()
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _truncate(engine: AsyncEngine) -> None:
    tables = ", ".join(table.name for table in SQLModel.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


# Set while the test makes a request: statements of the app's background tasks (webhook
# deliveries, the subscription broker's schedule), started before with their own context, are
# not the request's. The request's tasks (DataLoader batches) inherit it.
_REQUESTING: contextvars.ContextVar[bool] = contextvars.ContextVar("requesting", default=False)


@dataclass
class Statements:
    """The SQL statements any engine sends for the test's requests, with the server's port."""

    sent: list[tuple[int, str]] = field(default_factory=list)

    @contextlib.contextmanager
    def requesting(self) -> Iterator[None]:
        """Record what is sent from here on (and from tasks started here) until the end."""
        self.sent.clear()
        token = _REQUESTING.set(True)
        try:
            yield
        finally:
            _REQUESTING.reset(token)

    def to(self, cluster: PostgresCluster, table: str | None = None) -> list[str]:
        """The statements sent to ``cluster``, only those naming ``table`` if given."""
        return [
            statement
            for port, statement in self.sent
            if port == cluster.port and (table is None or table in statement)
        ]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    """Listens on every Engine, so it sees the app's primary and replica engines alike.

    And on the compiled query path's raw reads (models/rawdb.py), which bypass SQLAlchemy.
    """
    recorded = Statements()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _REQUESTING.get():
            recorded.sent.append((conn.engine.url.port, statement))

    fetch = RawReader._fetch

    async def record_raw(reader: RawReader, sql: str, args: Sequence[Any]) -> list[Record]:
        if _REQUESTING.get():
            recorded.sent.append((sa.engine.make_url(reader.dsn).port, sql))
        return await fetch(reader, sql, args)

    monkeypatch.setattr(RawReader, "_fetch", record_raw)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield recorded
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


@contextlib.asynccontextmanager
async def serving(pair: Pair, *, response_cache: bool) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the primary with the replica for anonymous reads, its lifespan running."""
    settings = Settings(
        database_url=pair.primary_url,
        database_replica_urls=[pair.replica_url],
        migrate_on_start=False,
        seed_on_start=False,
        rate_limit_per_minute=0,
        editor_rate_limit_per_minute=0,
        response_cache=response_cache,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # The cache is used once its notification connection is up.
        for _ in range(250):
            if app.state.cache is None or app.state.cache.trusted:
                break
            await asyncio.sleep(0.02)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@contextlib.contextmanager
def replay_paused(replica: PostgresCluster) -> Iterator[None]:
    """The replica keeps receiving WAL but applies none of it: a replica lagging behind."""
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")


async def editor(sessionmaker: SessionMaker) -> dict[str, str]:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    return {"Authorization": f"Bearer {secret}"}


async def titles(client: httpx.AsyncClient, **headers: str) -> list[str]:
    answer = await client.get("/graphql", params={"query": NEWS}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json()
    return [node["title"] for node in answer.json()["data"]["articles"]["nodes"]]


async def rename(
    client: httpx.AsyncClient, article: Article, title: str, headers: dict[str, str]
) -> dict[str, Any]:
    variables = {
        "id": to_global_id("Article", article.id),
        "version": article.version,
        "title": title,
    }
    answer = await client.post(
        "/graphql", json={"query": RENAME, "variables": variables}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_anonymous_reads_run_on_the_replica_and_editors_reads_on_the_primary(
    pair: Pair, primary: SessionMaker, statements: Statements
) -> None:
    await make_article(primary, "Harvest news")
    await make_article(primary, "Budget draft", status=ArticleStatus.DRAFT)
    headers = await editor(primary)
    pair.replica.wait_for_replay()

    async with serving(pair, response_cache=False) as client:
        with statements.requesting():
            anonymous = await titles(client)
        anonymous_statements = (
            statements.to(pair.replica, "FROM article"),
            statements.to(pair.primary),
        )
        with statements.requesting():
            editors = await titles(client, **headers)
        editor_statements = (
            statements.to(pair.replica),
            statements.to(pair.primary, "FROM article"),
        )

    assert anonymous == ["Harvest news"]
    on_replica, on_primary = anonymous_statements
    assert on_replica, "the anonymous query ran no statement on the replica"
    assert on_primary == []
    assert sorted(editors) == ["Budget draft", "Harvest news"]
    on_replica, on_primary = editor_statements
    assert on_replica == []
    assert on_primary, "the editor's query ran no statement on the primary"


async def test_mutations_write_the_primary_and_editors_see_them_before_the_replica_does(
    pair: Pair, primary: SessionMaker, statements: Statements
) -> None:
    headers = await editor(primary)
    pair.replica.wait_for_replay()

    async with serving(pair, response_cache=True) as client:
        with replay_paused(pair.replica):
            with statements.requesting():
                created = await client.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"title": "Council draft"}},
                    headers=headers,
                )
            writes = (statements.to(pair.primary, "INSERT"), statements.to(pair.replica))
            editors = await titles(client, **headers)  # the replica has not replayed it
        pair.replica.wait_for_replay()
        anonymous = await titles(client)

    assert created.json() == {
        "data": {"createArticle": {"article": {"title": "Council draft"}, "errors": []}}
    }
    on_primary, on_replica = writes
    assert any("INSERT INTO article " in statement for statement in on_primary)
    assert on_replica == []
    assert editors == ["Council draft"]
    assert anonymous == []  # a draft, on the replica too: never shown to anonymous readers


async def test_a_lagging_replica_answer_is_not_cached_and_the_change_shows_after_replay(
    pair: Pair, primary: SessionMaker, statements: Statements
) -> None:
    article = await make_article(primary, "Old title")
    headers = await editor(primary)
    pair.replica.wait_for_replay()

    async with serving(pair, response_cache=True) as client:
        assert await titles(client) == ["Old title"]
        with statements.requesting():
            assert await titles(client) == ["Old title"]
        assert statements.sent == []  # answered from the response cache

        with replay_paused(pair.replica):
            renamed = await rename(client, article, "New title", headers)
            assert renamed["data"]["updateArticle"]["errors"] == []
            assert await titles(client, **headers) == ["New title"]  # editors read the primary
            with statements.requesting():
                lagging = [await titles(client), await titles(client)]
            # Both computed on the replica: the first answer was not kept for the new version.
            lagging_reads = len(statements.to(pair.replica, "FROM article"))
            # Nor may a CDN keep it: it may be behind the primary.
            lagging_control = (await client.get("/graphql", params={"query": NEWS})).headers[
                "cache-control"
            ]

        pair.replica.wait_for_replay()
        replayed = await titles(client)
        with statements.requesting():
            cached = await titles(client)
        cached_statements = list(statements.sent)

    # Replication lag is inherent: while replay is paused, anonymous readers see the old title.
    assert lagging == [["Old title"], ["Old title"]]
    assert replayed == ["New title"]  # the old answer was not kept as the new version's
    assert lagging_reads >= 2
    assert lagging_control == "public, max-age=0"
    assert cached == ["New title"]
    assert cached_statements == []  # the replayed answer is the one kept


async def test_with_the_primary_down_anonymous_reads_still_answer_from_the_replica(
    pair: Pair, primary: SessionMaker
) -> None:
    await make_article(primary, "Storm warning")
    headers = await editor(primary)
    pair.replica.wait_for_replay()

    async with serving(pair, response_cache=False) as client:
        assert await titles(client, **headers) == ["Storm warning"]
        pair.primary.stop_server("fast")
        try:
            anonymous = await titles(client)
            editors = await client.get("/graphql", params={"query": NEWS}, headers=headers)
            mutation = await client.post(
                "/graphql",
                json={"query": CREATE, "variables": {"title": "Not now"}},
                headers=headers,
            )
        finally:
            pair.primary.start_server()
        after_restart = await titles(client, **headers)
    # The replica reconnects to the restarted primary on its own (every 5 s).
    pair.replica.wait_for_replay(timeout=60)

    assert anonymous == ["Storm warning"]
    for refused in (editors, mutation):
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    assert after_restart == ["Storm warning"]


async def test_with_the_replica_down_anonymous_reads_fall_back_to_the_primary(
    pair: Pair, primary: SessionMaker, statements: Statements, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replicas, "RETRY_SECONDS", 0.5)
    await make_article(primary, "Still readable")
    pair.replica.wait_for_replay()

    async with serving(pair, response_cache=False) as client:
        pair.replica.stop_server("fast")
        try:
            with statements.requesting():
                during = [await titles(client), await titles(client)]
            on_primary = len(statements.to(pair.primary, "FROM article"))
        finally:
            pair.replica.start_server()
        pair.replica.wait_for_replay(timeout=60)
        await asyncio.sleep(0.6)  # the replica's time out is over
        with statements.requesting():
            after = await titles(client)
        on_replica_again = len(statements.to(pair.replica, "FROM article"))

    assert during == [["Still readable"], ["Still readable"]]
    assert on_primary >= 2
    assert after == ["Still readable"]
    assert on_replica_again >= 1
