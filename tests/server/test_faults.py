"""Faults end to end: PostgreSQL going away under a running server, slow statements, and
SIGTERM in the middle of a mutation.

These tests stop and lock their database, so they use a PostgreSQL cluster of their own,
never the suite's shared one. Under ``CI=true`` a missing PostgreSQL fails them.
"""

import itertools
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from models import db
from models.db import DatabaseFailure, database_failure, make_engine
from models.migrate import upgrade
from server.app import create_app
from server.settings import Settings
from tests.pgcluster import PostgresCluster, find_bindir, free_port
from tests.server.running import VESTNIK, environment, serving, vestnik, wait_until_healthy

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The contract: a request during an outage is answered within this many seconds.
OUTAGE_ANSWER_SECONDS = 5
# After the grace period uvicorn cancels what still runs, then shuts the app down.
SHUTDOWN_OVERHEAD_SECONDS = 1.5

OFFICE_COUNT = "{ offices { totalCount } }"
CREATE_ARTICLE = """
mutation Create($title: String!) {
  createArticle(input: {title: $title}) { article { slug } errors { code } }
}
"""
CREATED = {"data": {"createArticle": {"article": {"slug": "budget-hearing"}, "errors": []}}}
TABLES = ("article", "article_revision", "audit_entry")
_DATABASES = itertools.count(1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """A cluster for this module alone: its tests stop it and lock its tables."""
    if find_bindir() is None:
        if IN_CI:
            pytest.fail("PostgreSQL binaries not found (CI=true): install postgresql-15")
        pytest.skip("PostgreSQL binaries not found; install postgresql-15 to run these tests")
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
def database(cluster: PostgresCluster) -> str:
    """A fresh, empty database in the module's cluster."""
    return cluster.create_database(f"faults_{next(_DATABASES)}")


@pytest.fixture
async def engine_on(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database)
    try:
        yield engine
    finally:
        await engine.dispose()


def issue_token(cwd: Path, env: dict[str, str]) -> str:
    created = vestnik("token", "create", "--name", "Desk", cwd=cwd, env=env)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def graphql(base_url: str, query: str, secret: str | None = None) -> tuple[httpx.Response, float]:
    """The response and how long it took."""
    headers = {"authorization": f"Bearer {secret}"} if secret else {}
    began = time.monotonic()
    response = httpx.post(f"{base_url}/graphql", json={"query": query}, headers=headers, timeout=30)
    return response, time.monotonic() - began


# -- PostgreSQL stops while the server runs -------------------------------------------------------


def test_while_postgresql_is_down_requests_get_a_quick_503_and_then_service_resumes(
    cluster, database, tmp_path
):
    # given: a server on its own database, answering, with an editor token
    env = environment(database_url=database, seed_on_start="false")
    secret = issue_token(tmp_path, env)
    with serving(tmp_path, env, tmp_path / "serve.log") as base_url:
        before, _ = graphql(base_url, OFFICE_COUNT)

        # when: PostgreSQL stops
        cluster.stop_server()
        try:
            anonymous, anonymous_seconds = graphql(base_url, OFFICE_COUNT)
            editor, editor_seconds = graphql(base_url, OFFICE_COUNT, secret)
            began = time.monotonic()
            ready = httpx.get(f"{base_url}/readyz", timeout=30)
            ready_seconds = time.monotonic() - began
            healthy = httpx.get(f"{base_url}/healthz", timeout=30)
        finally:
            cluster.start_server()

        # ... and starts again
        after, _ = graphql(base_url, OFFICE_COUNT)

    # then: quick, clean errors while it is down, and service without a restart after
    assert (before.status_code, before.json()) == (200, {"data": {"offices": {"totalCount": 0}}})
    for response, seconds in ((anonymous, anonymous_seconds), (editor, editor_seconds)):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        [error] = response.json()["errors"]
        assert error["message"] == "The database is unavailable; try again shortly"
        assert error["extensions"] == {
            "code": "DATABASE_UNAVAILABLE",
            "requestId": response.headers["x-request-id"],
        }
        assert seconds < OUTAGE_ANSWER_SECONDS
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
    assert ready_seconds < OUTAGE_ANSWER_SECONDS
    assert healthy.status_code == 200
    assert (after.status_code, after.json()) == (200, before.json())


# -- pooled connections across a restart --------------------------------------------------------


async def _select_one(engine: AsyncEngine) -> int | None:
    async with engine.connect() as connection:
        return (await connection.execute(sa.text("SELECT 1"))).scalar()


def _count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings = [0]
    dialect = engine.sync_engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings[0] += 1
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


@pytest.mark.anyio
async def test_a_connection_in_steady_use_is_not_pinged(database, monkeypatch):
    # given: a connection used again at once
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = make_engine(database)
    pings = _count_pings(engine, monkeypatch)
    try:
        # when
        answers = [await _select_one(engine) for _ in range(5)]
    finally:
        await engine.dispose()

    # then
    assert answers == [1] * 5
    assert pings[0] == 0


@pytest.mark.anyio
async def test_an_idle_connection_whose_server_restarted_is_replaced_before_use(
    cluster, database, monkeypatch
):
    # given: a pooled connection, idle (any idle time counts), and PostgreSQL restarted
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_engine(database)
    pings = _count_pings(engine, monkeypatch)
    try:
        assert await _select_one(engine) == 1
        cluster.stop_server()
        cluster.start_server()

        # when
        after = await _select_one(engine)
    finally:
        await engine.dispose()

    # then: the ping found it dead and a new connection answered
    assert after == 1
    assert pings[0] == 1


@pytest.mark.anyio
async def test_a_connection_broken_while_in_steady_use_fails_once_and_the_pool_recovers(
    cluster, database, monkeypatch
):
    # given: a pooled connection not idle long enough to be pinged, and PostgreSQL restarted
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = make_engine(database)
    try:
        assert await _select_one(engine) == 1
        cluster.stop_server()
        cluster.start_server()

        # when
        with pytest.raises(DBAPIError) as failed:
            await _select_one(engine)
        after = await _select_one(engine)
    finally:
        await engine.dispose()

    # then: that request is told the database was unavailable; the next one is served
    assert database_failure(failed.value) is DatabaseFailure.UNAVAILABLE
    assert after == 1


# -- slow statements ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_every_connection_has_the_statement_timeout(database):
    # given
    engine = make_engine(database, statement_timeout_ms=200)

    # when
    try:
        async with engine.connect() as connection:
            setting = await connection.scalar(sa.text("SHOW statement_timeout"))
            jit = await connection.scalar(sa.text("SHOW jit"))
            with pytest.raises(DBAPIError) as caught:
                await connection.execute(sa.text("SELECT pg_sleep(5)"))
    finally:
        await engine.dispose()

    # then
    assert setting == "200ms"
    assert jit == "off"  # short queries: compiling them costs more than it saves
    assert database_failure(caught.value) is DatabaseFailure.TIMEOUT


@pytest.mark.anyio
async def test_the_app_passes_statement_timeout_ms_to_its_engine(database):
    # given
    app = create_app(Settings(database_url=database, statement_timeout_ms=1234))
    engine: AsyncEngine = app.state.engine

    # when
    try:
        async with engine.connect() as connection:
            setting = await connection.scalar(sa.text("SHOW statement_timeout"))
    finally:
        await engine.dispose()

    # then
    assert setting == "1234ms"


@pytest.mark.anyio
async def test_migrations_are_not_cut_short_by_the_statement_timeout(database, monkeypatch):
    # given: an engine with a 100 ms statement timeout, and a migration step that takes 300 ms
    engine = make_engine(database, statement_timeout_ms=100)
    original = command.upgrade

    def slow_upgrade(config: Config, revision: str) -> None:
        config.attributes["connection"].execute(sa.text("SELECT pg_sleep(0.3)"))
        original(config, revision)

    monkeypatch.setattr(command, "upgrade", slow_upgrade)

    # when
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.scalar(
                sa.text("SELECT count(*) FROM pg_tables WHERE tablename = 'article'")
            )
    finally:
        await engine.dispose()

    # then
    assert tables == 1


@pytest.mark.anyio
async def test_a_statement_past_the_timeout_is_a_timeout_error(database, engine_on):
    # given: the offices table locked by someone else, and a 300 ms statement timeout
    await upgrade(engine_on)
    app = create_app(
        Settings(
            database_url=database,
            statement_timeout_ms=300,
            migrate_on_start=False,
            seed_on_start=False,
        )
    )
    transport = httpx.ASGITransport(app=app)

    # when
    async with engine_on.connect() as locker:
        await locker.execute(sa.text("LOCK TABLE office IN ACCESS EXCLUSIVE MODE"))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            with anyio.fail_after(5):
                response = await client.post("/graphql", json={"query": OFFICE_COUNT})
        await locker.rollback()
    await app.state.engine.dispose()

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "The database took too long to answer",
                "locations": [{"line": 1, "column": 3}],
                "path": ["offices"],
                "extensions": {"code": "TIMEOUT", "requestId": response.headers["x-request-id"]},
            }
        ],
    }


# -- SIGTERM during a mutation --------------------------------------------------------------------


@contextmanager
def server_process(
    cwd: Path, env: dict[str, str], log: Path
) -> Iterator[tuple["subprocess.Popen[bytes]", str]]:
    """``vestnik serve`` and its URL; the test stops it (a leftover is killed)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*VESTNIK, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, base_url, log)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def mutate(base_url: str, secret: str, outcome: list[Any]) -> None:
    """Create an article; the response, or the transport error if the server went away."""
    async with httpx.AsyncClient(timeout=60) as client:
        try:
            outcome.append(
                await client.post(
                    f"{base_url}/graphql",
                    json={"query": CREATE_ARTICLE, "variables": {"title": "Budget hearing"}},
                    headers={"authorization": f"Bearer {secret}"},
                )
            )
        except httpx.TransportError as error:
            outcome.append(error)


async def backends(engine: AsyncEngine, where: str) -> int:
    """Other sessions on this database matching ``where`` (a pg_stat_activity condition)."""
    async with engine.connect() as connection:
        found: int = await connection.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                f"AND pid <> pg_backend_pid() AND {where}"
            )
        )
        return found


async def until(check: Any) -> None:
    """Poll ``check`` until it is true, for up to 15 s."""
    for _ in range(300):
        if await check():
            return
        await anyio.sleep(0.05)
    pytest.fail("gave up waiting")


async def pg_counts(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        return [await connection.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in TABLES]


def assert_response(outcome: Any, saved: bool) -> None:
    if saved:
        assert isinstance(outcome, httpx.Response), outcome
        assert (outcome.status_code, outcome.json()) == (200, CREATED)
    elif isinstance(outcome, httpx.Response):
        # Cancelled before it could answer: a 503 that says nothing was saved, if the
        # process lives long enough to send it ...
        assert outcome.status_code == 503, outcome.text
        assert outcome.headers["retry-after"] == "1"
        assert outcome.json()["errors"][0]["extensions"]["code"] == "SHUTTING_DOWN"
    else:
        # ... or else the connection closes without a response.
        assert isinstance(outcome, httpx.TransportError), outcome


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("release_after", "grace", "saved"),
    [
        pytest.param(0.5, 5.0, True, id="finishes-within-the-grace-period"),
        pytest.param(None, 1.0, False, id="outlasts-the-grace-period"),
    ],
)
async def test_sigterm_during_a_mutation_on_postgresql_keeps_all_of_it_or_none(
    database, engine_on, tmp_path, release_after, grace, saved
):
    # given: a server whose mutation will wait, mid-transaction, for a lock on the audit log
    # (the article row is written by then; its revision and audit entry are not)
    env = environment(
        database_url=database, seed_on_start="false", shutdown_grace_seconds=str(grace)
    )
    secret = issue_token(tmp_path, env)
    log = tmp_path / "serve.log"
    outcome: list[Any] = []
    with server_process(tmp_path, env, log) as (process, base_url):
        async with engine_on.connect() as locker:
            await locker.execute(sa.text("LOCK TABLE audit_entry IN SHARE MODE"))
            async with anyio.create_task_group() as group:
                group.start_soon(mutate, base_url, secret, outcome)
                await until(lambda: backends(engine_on, "wait_event_type = 'Lock'"))

                # when: the server is told to stop
                began = time.monotonic()
                process.send_signal(signal.SIGTERM)
                if release_after is not None:
                    await anyio.sleep(release_after)
                    await locker.rollback()
                returncode = await anyio.to_thread.run_sync(process.wait, grace + 30)
                exited_after = time.monotonic() - began
            await locker.rollback()

    # then: the server stopped in time, and the article is there with everything or not at all
    await engine_on.dispose()  # our own idle connections out of the way
    await until(lambda: _no_other_backends(engine_on))
    assert returncode in (0, -signal.SIGTERM), log.read_text()
    assert exited_after < grace + SHUTDOWN_OVERHEAD_SECONDS, log.read_text()
    assert_response(outcome[0], saved)
    assert await pg_counts(engine_on) == ([1, 1, 1] if saved else [0, 0, 0])
    cancelled = "timeout graceful shutdown exceeded" in log.read_text()
    assert cancelled is not saved, log.read_text()


async def _no_other_backends(engine: AsyncEngine) -> bool:
    return await backends(engine, "backend_type = 'client backend'") == 0


@pytest.mark.anyio
async def test_sigterm_during_a_mutation_on_sqlite_lets_it_finish(tmp_path):
    # given: a server on SQLite, and the database file locked for writing by someone else
    path = tmp_path / "vestnik.db"
    url = f"sqlite+aiosqlite:///{path}"
    env = environment(database_url=url, seed_on_start="false", shutdown_grace_seconds="5")
    secret = issue_token(tmp_path, env)
    log = tmp_path / "serve.log"
    outcome: list[Any] = []
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        with server_process(tmp_path, env, log) as (process, base_url):
            locker.execute("BEGIN IMMEDIATE")
            async with anyio.create_task_group() as group:
                group.start_soon(mutate, base_url, secret, outcome)
                # SQLite shows no one waiting for its lock; the request's reads take
                # milliseconds, so after this it waits for the write lock.
                await anyio.sleep(1.5)

                # when
                began = time.monotonic()
                process.send_signal(signal.SIGTERM)
                await anyio.sleep(0.5)
                locker.execute("ROLLBACK")
                returncode = await anyio.to_thread.run_sync(process.wait, 35)
                exited_after = time.monotonic() - began
        counts = [locker.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES]
    finally:
        locker.close()

    # then: the request in flight was answered and saved whole before the server exited
    assert returncode in (0, -signal.SIGTERM), log.read_text()
    assert exited_after < 5, log.read_text()
    assert_response(outcome[0], saved=True)
    assert counts == [1, 1, 1]
