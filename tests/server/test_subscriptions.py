"""Subscriptions end to end: the real ``vestnik serve``, a ``websockets`` client speaking
graphql-transport-ws, and content changed through HTTP mutations with an editor token.

Every subscription is confirmed live before the change it waits for: each connection
also subscribes to tag changes and pokes (creates a tag) until that answers.
"""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from models.content_event import ContentEvent
from schema.subscriptions.broker import Broker, SubscriptionEnded
from tests.server.running import environment, serving, vestnik

pytestmark = pytest.mark.anyio

PROTOCOL = "graphql-transport-ws"
WAIT_SECONDS = 15.0

ARTICLE_PUBLISHED = "subscription { articlePublished { title status publishedAt } }"
ARTICLE_CHANGES = "subscription { contentChanged(entities: [ARTICLE]) { action entity id } }"
TAG_CHANGES = "subscription { contentChanged(entities: [TAG]) { action } }"
CREATE_DRAFT = """
mutation Draft($title: String!) {
  createArticle(input: {title: $title, language: EN, body: "Text"}) {
    article { id } errors { message }
  }
}
"""
UPDATE = """
mutation Edit($id: ID!) {
  updateArticle(id: $id, expectedVersion: 1, input: {lead: "Lead"}) { errors { message } }
}
"""
PUBLISH = """
mutation Publish($id: ID!, $at: DateTime) {
  publishArticle(id: $id, at: $at) { errors { message } }
}
"""
CREATE_TAG = """
mutation Poke($name: String!) { createTag(input: {name: $name}) { errors { message } } }
"""


@dataclass(frozen=True)
class Server:
    base_url: str
    token: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    async def mutate(self, query: str, **variables: object) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{self.base_url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        [payload] = body["data"].values()
        assert payload["errors"] == [], payload
        return body


def create_token(cwd: Path, env: dict[str, str]) -> str:
    created = vestnik(
        "token", "create", "--name", f"Desk {uuid.uuid4().hex[:8]}", "--role", "editor",
        cwd=cwd, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One SQLite server for the module: on SQLite, subscriptions are in-process."""
    site = tmp_path_factory.mktemp("subscriptions")
    env = environment(database_url=f"sqlite+aiosqlite:///{site / 'vestnik.db'}")
    token = create_token(site, env)
    with serving(site, env, site / "serve.log") as base_url:
        yield Server(base_url, token)


class Connection:
    """One graphql-transport-ws connection; messages are sorted by operation id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: dict[str, list[dict[str, Any]]] = {}

    async def subscribe(self, id: str, query: str) -> None:
        await self.ws.send(json.dumps({"id": id, "type": "subscribe", "payload": {"query": query}}))

    async def next_message(self, id: str) -> dict[str, Any]:
        """The next ``next``/``error``/``complete`` message of operation ``id``."""
        async with asyncio.timeout(WAIT_SECONDS):
            while not self.received.get(id):
                raw = await self.ws.recv()
                assert isinstance(raw, str), "text frames: browsers' clients parse only those"
                message = json.loads(raw)
                self.received.setdefault(message.get("id"), []).append(message)
        return self.received[id].pop(0)

    async def nothing_more(self, id: str, seconds: float = 0.5) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    message = json.loads(await self.ws.recv())
                    self.received.setdefault(message.get("id"), []).append(message)
        assert not self.received.get(id), self.received[id]


@contextlib.asynccontextmanager
async def connected(
    server: Server, *, init: dict[str, object] | None = None, **options: Any
) -> AsyncIterator[Connection]:
    async with connect(server.ws_url, subprotocols=[PROTOCOL], **options) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "connection_init", "payload": init or {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        yield Connection(ws)


async def live(server: Server, *connections: Connection) -> None:
    """Wait until the connections' subscriptions are registered: each subscribes to tag
    changes last, and tags are created until every one of them has heard of one."""
    for connection in connections:
        await connection.subscribe("sync", TAG_CHANGES)
    deadline = time.monotonic() + WAIT_SECONDS
    waiting = list(connections)
    while waiting:
        assert time.monotonic() < deadline, "subscriptions never became live"
        await server.mutate(CREATE_TAG, name=f"sync {uuid.uuid4().hex[:8]}")
        for connection in list(waiting):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await connection.next_message("sync")
                    waiting.remove(connection)
    for connection in connections:  # later pokes may still be on their way
        await connection.nothing_more("none", 0.3)
        connection.received.pop("sync", None)


def data(message: dict[str, Any]) -> Any:
    assert message["type"] == "next", message
    return message["payload"]["data"]


async def test_the_public_hears_of_a_publication_and_never_of_a_draft_editors_hear_all(server):
    # given: an anonymous connection and an editor's (token in connection_init)
    editor_init = {"Authorization": f"Bearer {server.token}"}
    async with connected(server) as anonymous, connected(server, init=editor_init) as editor:
        await anonymous.subscribe("published", ARTICLE_PUBLISHED)
        await anonymous.subscribe("changes", ARTICLE_CHANGES)
        await editor.subscribe("changes", ARTICLE_CHANGES)
        await live(server, anonymous, editor)

        # when: a draft is written, edited, then published
        title = f"Subscribed {uuid.uuid4().hex[:8]}"
        created = await server.mutate(CREATE_DRAFT, title=title)
        id = created["data"]["createArticle"]["article"]["id"]
        await server.mutate(UPDATE, id=id)
        await server.mutate(PUBLISH, id=id)

        # then: the editor hears of every step; the public only of the publication
        editor_heard = [data(await editor.next_message("changes")) for _ in range(3)]
        assert editor_heard == [
            {"contentChanged": {"action": action, "entity": "ARTICLE", "id": id}}
            for action in ("article.created", "article.updated", "article.published")
        ]
        assert data(await anonymous.next_message("changes")) == {
            "contentChanged": {"action": "article.published", "entity": "ARTICLE", "id": id}
        }
        published = data(await anonymous.next_message("published"))["articlePublished"]
        assert (published["title"], published["status"]) == (title, "PUBLISHED")
        await anonymous.nothing_more("changes")
        await anonymous.nothing_more("published")


async def test_a_scheduled_article_is_announced_when_its_time_comes(server):
    # given
    async with connected(server) as anonymous:
        await anonymous.subscribe("published", ARTICLE_PUBLISHED)
        await anonymous.subscribe("changes", ARTICLE_CHANGES)
        await live(server, anonymous)
        title = f"Scheduled {uuid.uuid4().hex[:8]}"
        id = (await server.mutate(CREATE_DRAFT, title=title))["data"]["createArticle"]["article"][
            "id"
        ]

        # when: it is published for two seconds from now
        at = datetime.now(UTC) + timedelta(seconds=2)
        await server.mutate(PUBLISH, id=id, at=at.isoformat())

        # then: nothing until then (scheduled is not public); at that moment, the article
        published = data(await anonymous.next_message("published"))["articlePublished"]
        heard_at = datetime.now(UTC)
        assert heard_at >= at
        assert published == {
            "title": title,
            "status": "PUBLISHED",
            "publishedAt": at.isoformat(),
        }
        assert data(await anonymous.next_message("changes")) == {
            "contentChanged": {"action": "article.published", "entity": "ARTICLE", "id": id}
        }


async def test_a_token_in_the_header_works_and_a_wrong_one_is_refused(server):
    # a valid header: accepted like the connection_init payload
    headers = {"Authorization": f"Bearer {server.token}"}
    async with connected(server, additional_headers=headers):
        pass
    # a wrong header: the handshake is refused, never downgraded to anonymous
    with pytest.raises(InvalidStatus) as refused:
        async with connected(server, additional_headers={"Authorization": "Bearer vst_nope"}):
            pass
    assert refused.value.response.status_code == 403
    # a wrong token in connection_init: the connection is closed with 4403
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": "Bearer vst_nope"}}
        await ws.send(json.dumps(init))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("message", ["not json", "[]", '{"type": "unheard of"}'])
async def test_a_malformed_message_closes_the_connection_with_4400(server, message):
    # when
    async with connected(server) as connection:
        await connection.ws.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            await connection.ws.recv()

    # then
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_pages_on_other_origins_may_not_connect(server):
    # a page elsewhere: refused (cross-site WebSocket hijacking)
    with pytest.raises(InvalidStatus) as refused:
        async with connected(server, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    # the same origin (GraphiQL on this server): allowed
    async with connected(server, origin=server.base_url):  # type: ignore[arg-type]
        pass


async def test_only_subscriptions_over_the_websocket_and_none_over_http(server):
    # when
    async with connected(server) as connection:
        await connection.subscribe("query", "{ articles { totalCount } }")
        over_websocket = await connection.next_message("query")
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(f"{server.base_url}/graphql", json={"query": ARTICLE_PUBLISHED})
    over_http = answer.json()

    # then
    assert over_websocket == {
        "id": "query",
        "type": "error",
        "payload": [
            {
                "message": "Only subscriptions run over the WebSocket; send queries and "
                "mutations as HTTP requests to /graphql",
                "extensions": {"code": "SUBSCRIPTIONS_ONLY"},
            }
        ],
    }
    assert over_http["errors"] == [
        {
            "message": "Subscriptions run over a WebSocket to /graphql "
            "(the graphql-transport-ws protocol), not over HTTP",
            "extensions": {"code": "WEBSOCKET_REQUIRED"},
        }
    ]


async def test_document_limits_and_the_subscription_limit_apply(server):
    nested = "subscription { articlePublished { " + "translations { " * 12 + "id" + " }" * 13 + " }"
    async with connected(server) as connection:
        # a document over the depth limit is refused like over HTTP
        await connection.subscribe("deep", nested)
        deep = await connection.next_message("deep")
        # at most 20 operations on one connection
        for n in range(21):
            await connection.subscribe(f"op{n}", ARTICLE_PUBLISHED)
        over = await connection.next_message("op20")

    assert deep["type"] == "error"
    assert [error["extensions"]["code"] for error in deep["payload"]] == ["QUERY_TOO_DEEP"]
    assert over == {
        "id": "op20",
        "type": "error",
        "payload": [{"message": "Subscription limit reached"}],
    }


async def test_a_slow_subscriber_is_ended_and_the_others_go_on(tmp_path):
    # given: a broker whose inboxes hold two events, one reader and one who never reads
    from models.db import make_engine, make_sessionmaker
    from models.migrate import upgrade

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}")
    await upgrade(engine)
    broker = Broker(make_sessionmaker(engine), inbox_size=2)
    heard: list[str] = []
    try:
        async with broker.running(engine):
            async with broker.subscribe() as fast, broker.subscribe() as slow:

                async def read() -> None:
                    async for change in fast:
                        heard.append(change.event.action)

                reader = asyncio.create_task(read())
                # when: five changes, the reader keeping up
                for n in range(5):
                    broker.accept(ContentEvent("tag.updated", "tag", n + 1, version=n + 1))
                    await asyncio.sleep(0.05)

                # then
                with pytest.raises(SubscriptionEnded) as ended:
                    async for _ in slow:
                        pass
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
    finally:
        await engine.dispose()
    assert heard == ["tag.updated"] * 5
    assert ended.value.code == "SUBSCRIBER_TOO_SLOW"


async def test_postgresql_a_change_on_one_process_reaches_a_subscriber_of_another(
    postgres_url, tmp_path
):
    # given: two server processes on one PostgreSQL database, an anonymous subscriber on the first
    env = environment(database_url=postgres_url)
    token = create_token(tmp_path, env)
    with (
        serving(tmp_path, env, tmp_path / "first.log") as first_url,
        serving(tmp_path, env, tmp_path / "second.log") as second_url,
    ):
        first, second = Server(first_url, token), Server(second_url, token)
        async with connected(first) as anonymous:
            await anonymous.subscribe("published", ARTICLE_PUBLISHED)
            await anonymous.subscribe("changes", ARTICLE_CHANGES)
            await live(second, anonymous)  # the pokes go to the second process too

            # when: an editor publishes through the second process
            title = f"Elsewhere {uuid.uuid4().hex[:8]}"
            id = (await second.mutate(CREATE_DRAFT, title=title))["data"]["createArticle"][
                "article"
            ]
            await second.mutate(PUBLISH, id=id["id"])

            # then: the first process's subscriber hears of it, and not of the draft
            assert data(await anonymous.next_message("changes")) == {
                "contentChanged": {
                    "action": "article.published",
                    "entity": "ARTICLE",
                    "id": id["id"],
                }
            }
            published = data(await anonymous.next_message("published"))["articlePublished"]
            assert (published["title"], published["status"]) == (title, "PUBLISHED")
