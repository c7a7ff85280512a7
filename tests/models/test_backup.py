"""Backups: export, restore into an empty database, export again: the same bytes.

Each test runs with the ``engine`` fixture as the source (SQLite and PostgreSQL); the
restore goes into a fresh database of the same kind, or of the other kind.
"""

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import make_engine, make_sessionmaker
from models.migrate import alembic_config, upgrade
from models.office import OfficeCreate
from models.opening_hours import DayHours, Interval
from models.services import backup, events, tokens
from models.services.article_edits import (
    add_correction,
    create_article,
    publish_article,
    update_article,
)
from models.services.authors import add_author
from models.services.documents import add_trusted, register_automatic
from models.services.offices import ExceptionSpec, create_office
from models.viewer import Role, Viewer
from models.webhook import Webhook, WebhookDelivery
from server.app import create_app
from server.settings import Settings
from tests.factories import make_office, make_tag

pytestmark = pytest.mark.anyio

EDITOR = Viewer(role=Role.EDITOR, token_name="press-office")
NewDatabase = Callable[[str], Awaitable[AsyncEngine]]
_names = itertools.count(1)
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()

READ_BACK = """
query ReadBack($slug: String!) {
  article(slug: $slug, language: RU) {
    id slug title lead body bodyHtml status language publishedAt createdAt updatedAt version
    sourceName sourceUrl readingTimeMinutes
    authors { id slug name email } tags { id slug name }
    translations { id language slug }
    corrections { note createdAt }
    revisions { version createdAt author changedFields title slug }
  }
  renamed: article(slug: "pervaya-versiya", language: RU) { id slug }
  found: articles(search: "Копыль", first: 10) { totalCount nodes { slug } }
  offices(first: 10) {
    nodes {
      id slug name latitude longitude updatedAt hoursText
      phones { kind label e164 }
      hours { weekday opens closes breaks { start end label } }
      exceptions { date closed opens closes breaks { start end label } note }
    }
  }
  auditLog(first: 50) { nodes { at actor action entityType } }
  apiTokens { name role createdAt revokedAt }
}
"""


@pytest.fixture
async def new_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[NewDatabase]:
    """Makes empty, migrated databases of either kind; drops them afterwards."""
    made: list[tuple[AsyncEngine, str | None]] = []

    async def make(kind: str) -> AsyncEngine:
        name = f"restore_{next(_names)}"
        if kind == "sqlite":
            engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / name}.db")
            made.append((engine, None))
        else:
            url = sa.engine.make_url(request.getfixturevalue("postgres_url"))
            await _admin(url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
            engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
            made.append((engine, name))
        await upgrade(engine)
        return engine

    yield make
    for engine, name in made:
        url = engine.url
        await engine.dispose()
        if name is not None:
            await _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _admin(url: sa.URL, *statements: str) -> None:
    engine = make_engine(
        url.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def fill(engine: AsyncEngine) -> str:
    """Some of everything, through the services; returns an admin token's secret."""
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        _, secret = await tokens.create_token(session, name="Admin desk", role=Role.ADMIN)
    async with sessionmaker() as session:
        await tokens.create_token(session, name="Old laptop", role=Role.EDITOR)
    async with sessionmaker() as session:
        await tokens.revoke_token(session, name="Old laptop")
    async with sessionmaker() as session:
        author = await add_author(
            session, viewer=EDITOR, data={"name": "Ирина Ковальчук", "email": "ik@kopyl.gov.by"}
        )
    tag = await make_tag(sessionmaker, name="Копыльский район")
    async with sessionmaker() as session:
        article = await create_article(
            session,
            viewer=EDITOR,
            data={
                "title": "Первая версия",
                "lead": "Коротко: главное 🙂",
                "body": "Текст **новости**.\n\n- один\n- два",
                "language": "ru",
                "source_name": "БелТА",
                "source_url": "https://www.belta.by/society/view/1",
                "author_ids": [author.id],
                "tag_ids": [tag.id],
            },
        )
    assert article.id is not None
    async with sessionmaker() as session:
        await publish_article(
            session, viewer=EDITOR, id=article.id, at=datetime(2024, 3, 1, 7, 30, 15, tzinfo=UTC)
        )
    async with sessionmaker() as session:  # a published slug changes: an alias stays behind
        await update_article(
            session,
            viewer=EDITOR,
            id=article.id,
            expected_version=1,
            data={"title": "Копыль: новости района", "slug": "kopyl-novosti"},
        )
    async with sessionmaker() as session:
        await add_correction(session, viewer=EDITOR, article_id=article.id, note="Уточнена дата")
    async with sessionmaker() as session:
        await create_article(
            session,
            viewer=EDITOR,
            data={"title": "Капыль: навіны", "language": "be", "translation_of": article.id},
        )
    lunch = DayHours(time(8), time(17), (Interval(time(13), time(14), "абед"),))
    await make_office(
        sessionmaker,
        name="Копыльский райисполком",
        latitude=53.1504,
        longitude=27.0919,
    )
    async with sessionmaker() as session:
        await create_office(
            session,
            data=OfficeCreate(slug="zags", name="ЗАГС", timezone="Europe/Minsk"),
            weekly={2: lunch},
            exceptions=[
                ExceptionSpec(date(2025, 1, 7), None, "Рождество"),
                ExceptionSpec(date(2025, 12, 31), DayHours(time(9), time(15)), "короткий день"),
            ],
        )
    async with sessionmaker() as session:
        await add_trusted(session, body="{ articles { totalCount } }")
    async with sessionmaker() as session:
        await register_automatic(session, body="{ tags { totalCount } }")
    async with sessionmaker() as session:
        hook = Webhook.model_validate(
            {
                "url": "https://hooks.example.by/vestnik",
                "secret": "s3cret",
                "events": ["article.published", "office.updated"],
            }
        )
        session.add(hook)
        await session.flush()
        session.add(
            WebhookDelivery.model_validate(
                {
                    "webhook_id": hook.id,
                    "event": "article.published",
                    "payload": {"z": 1, "a": {"c": [1, 2.5, None], "b": "Б"}},
                    "status": "failed",
                    "attempts": 6,
                    # Microseconds too: every instant must come back exactly.
                    "next_attempt_at": datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
                    "last_error": "HTTP 503",
                    "response_status": 503,
                }
            )
        )
        await session.commit()
    return secret


async def export(engine: AsyncEngine) -> bytes:
    out = BytesIO()
    async with make_sessionmaker(engine)() as session:
        await backup.export_backup(session, out)
    return out.getvalue()


async def restore(engine: AsyncEngine, data: bytes) -> backup.Restored:
    async with make_sessionmaker(engine)() as session:
        return await backup.import_backup(session, data)


async def read_back(engine: AsyncEngine, secret: str) -> dict[str, Any]:
    settings = Settings(migrate_on_start=False, seed_on_start=False, response_cache=False)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/graphql",
            json={"query": READ_BACK, "variables": {"slug": "kopyl-novosti"}},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def other(kind: str) -> str:
    return "postgresql" if kind == "sqlite" else "sqlite"


async def version(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session:
        return await events.current_version(session)


async def test_every_table_is_in_the_backup(engine: AsyncEngine) -> None:
    # given
    await fill(engine)

    # when
    document = orjson.loads(await export(engine))

    # then
    assert document["format"] == "vestnik-backup" and document["version"] == 1
    with_rows = {t["name"] for t in document["tables"] if t["rows"]}
    expected = {t.name for t in backup.backed_up_tables()}
    # A new table with no rows here is not proven to round-trip: add some to fill().
    assert with_rows == expected
    assert "content_state" not in {t["name"] for t in document["tables"]}
    tokens_table = next(t for t in document["tables"] if t["name"] == "api_token")
    assert "secret_hash" in tokens_table["columns"] and "secret" not in tokens_table["columns"]


@pytest.mark.parametrize("target", ["same", "other"])
async def test_a_restored_backup_exports_the_same_bytes_and_answers_the_same(
    engine: AsyncEngine, new_database: NewDatabase, target: str
) -> None:
    # given
    secret = await fill(engine)
    first = await export(engine)
    before = await read_back(engine, secret)
    kind = engine.dialect.name
    fresh = await new_database(kind if target == "same" else other(kind))
    version_before = await version(fresh)

    # when
    restored = await restore(fresh, first)

    # then
    assert restored.total == sum(len(t["rows"]) for t in orjson.loads(first)["tables"])
    assert await export(fresh) == first
    assert await read_back(fresh, secret) == before
    assert await version(fresh) > version_before  # servers' caches drop what they hold


async def test_new_rows_after_a_restore_get_new_ids(
    engine: AsyncEngine, new_database: NewDatabase
) -> None:
    # given
    await fill(engine)
    fresh = await new_database(engine.dialect.name)
    await restore(fresh, await export(engine))

    # when
    async with make_sessionmaker(fresh)() as session:
        author = await add_author(session, viewer=EDITOR, data={"name": "Новый автор"})

    # then: the sequences moved past the restored ids (one author was restored)
    assert author.id == 2


async def test_a_database_with_content_is_refused_and_left_alone(engine: AsyncEngine) -> None:
    # given
    await fill(engine)
    data = await export(engine)
    version_before = await version(engine)

    # when
    with pytest.raises(backup.BackupError) as refused:
        await restore(engine, data)

    # then
    assert refused.value.message.startswith("The database is not empty (rows in api_token, ")
    assert refused.value.message.endswith(
        "a backup is restored only into an empty, migrated database"
    )
    assert await export(engine) == data
    assert await version(engine) == version_before


def _edit(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = orjson.loads(data)
    change(document)
    return orjson.dumps(document)


def _table(document: dict[str, Any], name: str) -> dict[str, Any]:
    table: dict[str, Any] = next(t for t in document["tables"] if t["name"] == name)
    return table


def _set_cell(name: str, column: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        table = _table(document, name)
        table["rows"][0][table["columns"].index(column)] = value

    return change


def _orphan_tag_link(document: dict[str, Any]) -> None:
    table = _table(document, "article_tag")
    table["rows"][0][table["columns"].index("tag_id")] = 999


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(format="other"),
            'Not a Vestnik backup: no "format": "vestnik-backup" at the top',
        ),
        (
            lambda d: d.update(version=2),
            "Backup format version 2 is not supported (this Vestnik reads version 1)",
        ),
        (
            lambda d: d.update(schema="0001"),
            "The backup was made at schema revision '0001' and this database is at "
            f"'{HEAD}': restore it with the Vestnik release that made it",
        ),
        (
            lambda d: d["tables"].append({"name": "users", "columns": [], "rows": []}),
            "The backup has a table this database does not: users",
        ),
        (
            _set_cell("article", "published_at", "2024-03-01T07:30:15"),
            "Table article, row 1: published_at: '2024-03-01T07:30:15' has no UTC offset",
        ),
        (
            _set_cell("author", "id", "one"),
            "Table author, row 1: id: 'one' is not an integer",
        ),
    ],
    ids=["format", "version", "schema", "unknown-table", "naive-timestamp", "wrong-type"],
)
async def test_a_bad_backup_is_refused_with_the_reason_and_nothing_is_written(
    engine: AsyncEngine,
    new_database: NewDatabase,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    # given
    await fill(engine)
    data = _edit(await export(engine), change)
    fresh = await new_database(engine.dialect.name)
    empty = await export(fresh)

    # when
    with pytest.raises(backup.BackupError) as refused:
        await restore(fresh, data)

    # then
    assert refused.value.message == message
    assert await export(fresh) == empty


async def test_rows_the_database_refuses_roll_back_the_whole_restore(
    engine: AsyncEngine, new_database: NewDatabase
) -> None:
    # given: a link to a tag that is not in the backup
    await fill(engine)
    data = _edit(await export(engine), _orphan_tag_link)
    fresh = await new_database(engine.dialect.name)
    empty = await export(fresh)

    # when
    with pytest.raises(backup.BackupError) as refused:
        await restore(fresh, data)

    # then
    assert refused.value.message.startswith("The database refused the backup's rows: ")
    assert "FOREIGN KEY" in refused.value.message.upper()
    assert await export(fresh) == empty


async def test_not_json_is_refused(engine: AsyncEngine) -> None:
    with pytest.raises(backup.BackupError) as refused:
        await restore(engine, b"<rss>")
    assert refused.value.message.startswith("The backup is not valid JSON: ")
