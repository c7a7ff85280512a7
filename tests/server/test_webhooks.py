"""Webhooks end to end: admins register receivers over GraphQL; content changes reach a real
HTTP receiver on 127.0.0.1, signed, retried with backoff, and recorded in webhookDeliveries."""

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from models import ArticleStatus, Role
from models.db import SessionMaker
from models.services import webhooks
from models.services.tokens import create_token
from models.services.webhook_delivery import WebhookDispatcher
from models.viewer import Viewer
from schema.node import to_global_id
from server.app import create_app
from server.settings import Settings
from tests.factories import make_article
from tests.pgcluster import free_port

pytestmark = pytest.mark.anyio

ADMIN = Viewer(role=Role.ADMIN, token_name="admin")

CREATE = """
mutation Create($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    webhook { id url events description active } secret errors { field message code }
  }
}
"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { webhook { url events active } errors { field code } }
}
"""
DELETE = """
mutation Delete($id: ID!) { deleteWebhook(id: $id) { deletedId errors { field message code } } }
"""
REDELIVER = """
mutation Redeliver($id: ID!) {
  redeliverWebhookDelivery(id: $id) { delivery { event status attempts } errors { code } }
}
"""
WEBHOOKS = "query Hooks { webhooks { totalCount nodes { id url events active } } }"
DELIVERIES = """
query Deliveries($webhookId: ID, $status: WebhookDeliveryStatus) {
  webhookDeliveries(webhookId: $webhookId, status: $status) {
    totalCount
    nodes {
      id databaseId event status attempts lastError responseStatus createdAt deliveredAt payload
    }
  }
}
"""
PUBLISH = """
mutation Publish($id: ID!) { publishArticle(id: $id) { article { status } errors { code } } }
"""
UPDATE_ARTICLE = """
mutation Edit($id: ID!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, expectedVersion: 1, input: $input) { article { title } errors { code } }
}
"""
AUDIT = "query Audit { auditLog { nodes { action details } } }"


# --- a receiver on 127.0.0.1 ---------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """A tiny HTTP/1.1 server: records each request and answers the next queued status."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/vestnik"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(headers, body, time.monotonic()))
            self.arrived.set()
            status = self.statuses.pop(0) if self.statuses else 200
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok".encode())
            await writer.drain()
        finally:
            writer.close()

    async def wait_for(self, count: int, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver


def dispatcher(sessionmaker: SessionMaker, **options: Any) -> WebhookDispatcher:
    settings: dict[str, Any] = {
        "timeout_seconds": 1.0,
        "max_attempts": 3,
        "retry_base_seconds": 0.05,
        "allow_private_addresses": True,  # the receiver is on 127.0.0.1
        "poll_seconds": 0.2,
        **options,
    }
    return WebhookDispatcher(sessionmaker, **settings)


# --- helpers -------------------------------------------------------------------------------


async def token(sessionmaker: SessionMaker, name: str, role: Role) -> str:
    async with sessionmaker() as session:
        return (await create_token(session, name=name, role=role))[1]


async def gql(client: httpx.AsyncClient, secret: str | None, query: str, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.json()


async def register(
    sessionmaker: SessionMaker, url: str, events: list[str], secret: str = "s" * 32
) -> str:
    """A webhook on a private address (the receiver), as only the service can allow here."""
    async with sessionmaker() as session:
        webhook, _ = await webhooks.create_webhook(
            session,
            viewer=ADMIN,
            data={"url": url, "events": events, "secret": secret},
            allow_private=True,
        )
    assert webhook.id is not None
    return to_global_id("Webhook", webhook.id)


async def eventually(check: Callable[[], Any], seconds: float = 5.0) -> Any:
    """Poll ``check`` (async) until it returns something truthy."""
    async with asyncio.timeout(seconds):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.02)


def verify(secret: str, received: Received, tolerance: int = 300) -> bool:
    """The README's verification, as a receiver would write it."""
    timestamp = received.headers["x-vestnik-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(
        "sha256=" + expected, received.headers["x-vestnik-signature"]
    )


# --- tests ---------------------------------------------------------------------------------


async def test_publishing_sends_one_signed_post(client, sessionmaker, receiver):
    # given
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    article_id = to_global_id("Article", article.id or 0)
    hook = await register(sessionmaker, receiver.url, ["article.published"], secret="x" * 40)

    async with dispatcher(sessionmaker).running():
        # when
        started = time.monotonic()
        published = await gql(client, admin, PUBLISH, id=article_id)
        mutation_seconds = time.monotonic() - started
        await receiver.wait_for(1)
        deliveries = await eventually(
            lambda: _deliveries(client, admin, webhookId=hook, status="SUCCEEDED")
        )

    # then
    assert published == {
        "data": {"publishArticle": {"article": {"status": "PUBLISHED"}, "errors": []}}
    }
    assert mutation_seconds < 1
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-vestnik-event"] == "article.published"
    assert verify("x" * 40, request)
    assert not verify("y" * 40, request)
    body = httpx.Response(200, content=request.body).json()
    assert body["event"] == "article.published"
    assert body["entity"] == {"type": "article", "id": article_id, "databaseId": article.id}
    [delivery] = deliveries
    assert request.headers["x-vestnik-delivery"] == str(delivery["databaseId"])
    assert delivery["payload"] == body
    assert (delivery["event"], delivery["attempts"], delivery["responseStatus"]) == (
        "article.published",
        1,
        200,
    )
    assert delivery["lastError"] is None and delivery["deliveredAt"] is not None


async def _deliveries(client: httpx.AsyncClient, admin: str, **variables: Any) -> list[Any]:
    body = await gql(client, admin, DELIVERIES, **variables)
    nodes: list[Any] = body["data"]["webhookDeliveries"]["nodes"]
    return nodes


async def test_a_failing_receiver_is_retried_with_backoff(client, sessionmaker, receiver):
    # given: the receiver fails twice, then answers 200
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    hook = await register(sessionmaker, receiver.url, ["article.*"])
    receiver.statuses = [500, 503]

    async with dispatcher(sessionmaker, retry_base_seconds=0.1).running():
        # when
        await gql(client, admin, PUBLISH, id=to_global_id("Article", article.id or 0))
        await receiver.wait_for(3)
        [delivery] = await eventually(
            lambda: _deliveries(client, admin, webhookId=hook, status="SUCCEEDED")
        )

    # then: waits of about 0.1 s and 0.2 s (±10%) between the attempts
    first, second, third = (r.at for r in receiver.requests)
    assert second - first >= 0.09
    assert third - second >= 0.18
    assert {r.headers["x-vestnik-delivery"] for r in receiver.requests} == {
        str(delivery["databaseId"])
    }
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == (
        "SUCCEEDED",
        3,
        200,
    )


async def test_a_receiver_that_is_down_fails_after_the_last_attempt(client, sessionmaker):
    # given: nothing listens on the port
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    hook = await register(sessionmaker, f"http://127.0.0.1:{free_port()}/hook", ["*"])

    async with dispatcher(sessionmaker).running():
        # when
        started = time.monotonic()
        published = await gql(client, admin, PUBLISH, id=to_global_id("Article", article.id or 0))
        mutation_seconds = time.monotonic() - started
        [delivery] = await eventually(
            lambda: _deliveries(client, admin, webhookId=hook, status="FAILED")
        )

    # then: the mutation neither waited nor failed; every attempt is counted
    assert published["data"]["publishArticle"]["errors"] == []
    assert mutation_seconds < 1
    assert delivery["attempts"] == 3
    assert delivery["lastError"] == "could not connect (ConnectError)"
    assert delivery["responseStatus"] is None and delivery["deliveredAt"] is None


async def test_a_rolled_back_mutation_sends_nothing(client, sessionmaker, receiver):
    # given
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    article = await make_article(sessionmaker)
    await register(sessionmaker, receiver.url, ["*"])

    async with dispatcher(sessionmaker).running():
        # when: a validation error
        edited = await gql(
            client,
            admin,
            UPDATE_ARTICLE,
            id=to_global_id("Article", article.id or 0),
            input={"title": ""},
        )
        await asyncio.sleep(0.3)  # more than a poll

    # then
    assert edited["data"]["updateArticle"]["errors"] == [{"code": "REQUIRED"}]
    assert receiver.requests == []
    assert await _deliveries(client, admin) == []


async def test_admins_register_and_the_secret_is_never_readable_again(
    client, sessionmaker, receiver
):
    # given
    admin = await token(sessionmaker, "Admin", Role.ADMIN)

    # when
    created = await gql(
        client,
        admin,
        CREATE,
        input={
            "url": "https://93.184.215.14/hooks",
            "events": ["article.published", "office.*"],
            "description": "Portal cache",
        },
    )

    # then
    payload = created["data"]["createWebhook"]
    secret = payload["secret"]
    assert secret.startswith("whsec_")
    assert payload["errors"] == []
    assert payload["webhook"] == {
        "id": payload["webhook"]["id"],
        "url": "https://93.184.215.14/hooks",
        "events": ["article.published", "office.*"],
        "description": "Portal cache",
        "active": True,
    }
    hook = payload["webhook"]["id"]
    updated = await gql(client, admin, UPDATE, id=hook, input={"active": False, "secret": "n" * 20})
    assert updated["data"]["updateWebhook"] == {
        "webhook": {
            "url": "https://93.184.215.14/hooks",
            "events": ["article.published", "office.*"],
            "active": False,
        },
        "errors": [],
    }
    listed = await gql(client, admin, WEBHOOKS)
    assert listed["data"]["webhooks"]["totalCount"] == 1
    audit = await gql(client, admin, AUDIT)
    assert [e["action"] for e in audit["data"]["auditLog"]["nodes"]] == [
        "webhook.updated",
        "webhook.created",
    ]
    for body in (listed, audit, updated, await gql(client, admin, DELIVERIES)):
        assert secret not in str(body) and "n" * 20 not in str(body)


async def test_private_addresses_and_unknown_events_are_refused(client, sessionmaker):
    admin = await token(sessionmaker, "Admin", Role.ADMIN)

    refused = await gql(
        client,
        admin,
        CREATE,
        input={"url": "http://127.0.0.1:9000/hook", "events": ["article.published", "nope"]},
    )

    assert refused == {
        "data": {
            "createWebhook": {
                "webhook": None,
                "secret": None,
                "errors": [
                    {
                        "field": ["input", "url"],
                        "message": "The URL points to a loopback or private address; "
                        "webhooks go to public ones",
                        "code": "INVALID",
                    },
                    {
                        "field": ["input", "events", "1"],
                        "message": "Unknown event 'nope'",
                        "code": "INVALID",
                    },
                ],
            }
        }
    }
    assert (await gql(client, admin, WEBHOOKS))["data"]["webhooks"]["totalCount"] == 0


async def test_with_the_setting_admins_may_register_intranet_receivers(engine, sessionmaker):
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    settings = Settings(
        migrate_on_start=False, seed_on_start=False, webhook_allow_private_addresses=True
    )
    app = create_app(settings, engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as intranet:
        created = await gql(
            intranet,
            admin,
            CREATE,
            input={"url": "http://127.0.0.1:9000/hook", "events": ["article.published"]},
        )

    assert created["data"]["createWebhook"]["errors"] == []
    assert created["data"]["createWebhook"]["webhook"]["url"] == "http://127.0.0.1:9000/hook"


async def test_the_sender_refuses_a_private_address_without_the_setting(
    client, sessionmaker, receiver
):
    # given: registered while allowed, sent by a server that does not allow it
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    hook = await register(sessionmaker, receiver.url, ["*"])
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)

    async with dispatcher(sessionmaker, allow_private_addresses=False, max_attempts=1).running():
        await gql(client, admin, PUBLISH, id=to_global_id("Article", article.id or 0))
        [delivery] = await eventually(
            lambda: _deliveries(client, admin, webhookId=hook, status="FAILED")
        )

    assert receiver.requests == []
    assert delivery["lastError"] == "refused: the URL resolves to a private address"


async def test_editors_and_the_public_cannot_see_or_register_webhooks(client, sessionmaker):
    editor = await token(sessionmaker, "Desk", Role.EDITOR)
    create = {"input": {"url": "https://93.184.215.14/", "events": ["*"]}}

    for secret, code in ((editor, "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        for query, variables in ((CREATE, create), (WEBHOOKS, {}), (DELIVERIES, {})):
            body = await gql(client, secret, query, **variables)
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == code

    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    assert (await gql(client, admin, WEBHOOKS))["data"]["webhooks"]["totalCount"] == 0


async def test_deleting_a_webhook_removes_its_deliveries(client, sessionmaker, receiver):
    # given: a delivery that failed once and waits for its retry
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    hook = await register(sessionmaker, receiver.url, ["*"])
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    await gql(client, admin, PUBLISH, id=to_global_id("Article", article.id or 0))
    [delivery] = await _deliveries(client, admin, webhookId=hook)

    # when
    deleted = await gql(client, admin, DELETE, id=hook)
    again = await gql(client, admin, DELETE, id=hook)
    redelivered = await gql(client, admin, REDELIVER, id=delivery["id"])

    # then
    assert deleted == {"data": {"deleteWebhook": {"deletedId": hook, "errors": []}}}
    assert again["data"]["deleteWebhook"]["errors"] == [
        {"field": ["id"], "message": "No webhook with this ID", "code": "NOT_FOUND"}
    ]
    assert redelivered["data"]["redeliverWebhookDelivery"]["errors"] == [{"code": "NOT_FOUND"}]
    assert await _deliveries(client, admin) == []


async def test_a_delivery_can_be_sent_again(client, sessionmaker, receiver):
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    hook = await register(sessionmaker, receiver.url, ["article.published"])
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    async with dispatcher(sessionmaker).running():
        await gql(client, admin, PUBLISH, id=to_global_id("Article", article.id or 0))
        [first] = await eventually(lambda: _deliveries(client, admin, status="SUCCEEDED"))

        again = await gql(client, admin, REDELIVER, id=first["id"])
        await receiver.wait_for(2)

    assert again["data"]["redeliverWebhookDelivery"] == {
        "delivery": {"event": "article.published", "status": "PENDING", "attempts": 0},
        "errors": [],
    }
    assert receiver.requests[0].body == receiver.requests[1].body
    assert len(await _deliveries(client, admin, webhookId=hook)) == 2


async def test_the_server_sends_deliveries_while_it_runs(engine, sessionmaker, receiver):
    """The app's lifespan starts the dispatcher, woken by the change it commits itself."""
    settings = Settings(
        migrate_on_start=False,
        seed_on_start=False,
        webhook_allow_private_addresses=True,
        webhook_retry_base_seconds=0.05,
    )
    app = create_app(settings, engine=engine)
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    article = await make_article(sessionmaker, status=ArticleStatus.DRAFT)
    await register(sessionmaker, receiver.url, ["article.published"])
    transport = httpx.ASGITransport(app=app)

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            started = time.monotonic()
            await gql(client, admin, PUBLISH, id=to_global_id("Article", article.id or 0))
            await receiver.wait_for(1, seconds=2)  # well before the 5 s poll: woken

    assert time.monotonic() - started < 2
    assert receiver.requests[0].headers["x-vestnik-event"] == "article.published"
