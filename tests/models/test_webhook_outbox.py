"""The webhook outbox: a committed content change leaves one pending delivery per subscriber,
in its own transaction; registration refuses what a webhook must not point at."""

import asyncio
import base64

import pytest
from sqlmodel import col, select

from models.content_event import ContentEvent
from models.db import SessionMaker
from models.errors import DomainError, ValidationFailed
from models.global_ids import to_global_id
from models.services import outbox, webhooks
from models.services.article_edits import publish_article, update_article
from models.services.authors import add_author
from models.services.tokens import create_token
from models.services.webhook_delivery import WebhookDispatcher, sign
from models.viewer import Role, Viewer
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery
from tests.factories import make_article

pytestmark = pytest.mark.anyio

ADMIN = Viewer(role=Role.ADMIN, token_name="admin")
PUBLIC_URL = "https://93.184.215.14/hooks/vestnik"  # an IP literal: no DNS in tests


async def register(sessionmaker: SessionMaker, events: list[str], **data: object) -> Webhook:
    async with sessionmaker() as session:
        webhook, _secret = await webhooks.create_webhook(
            session,
            viewer=ADMIN,
            data={"url": PUBLIC_URL, "events": events, **data},
            allow_private=False,
        )
    return webhook


async def deliveries(sessionmaker: SessionMaker) -> list[WebhookDelivery]:
    async with sessionmaker() as session:
        stmt = select(WebhookDelivery).order_by(col(WebhookDelivery.id))
        return list((await session.exec(stmt)).all())


async def test_a_committed_change_leaves_a_delivery_per_subscribed_active_webhook(
    sessionmaker: SessionMaker,
) -> None:
    # given
    article = await make_article(sessionmaker)
    published = await register(sessionmaker, ["article.published"])
    everything = await register(sessionmaker, ["*"])
    articles = await register(sessionmaker, ["article.*"])
    await register(sessionmaker, ["office.updated"])
    await register(sessionmaker, ["article.published"], active=False)
    assert article.id is not None

    # when
    async with sessionmaker() as session:
        await publish_article(session, viewer=ADMIN, id=article.id)

    # then
    rows = await deliveries(sessionmaker)
    assert sorted(row.webhook_id for row in rows) == [published.id, everything.id, articles.id]
    assert {(row.event, row.status, row.attempts) for row in rows} == {
        ("article.published", DeliveryStatus.PENDING, 0)
    }
    payload = rows[0].payload
    assert payload["event"] == "article.published"
    assert payload["entity"] == {
        "type": "article",
        "id": base64.urlsafe_b64encode(f"Article:{article.id}".encode()).decode(),
        "databaseId": article.id,
    }
    assert payload["contentVersion"] > 0
    # make_article publishes it; publishing it again keeps it public
    assert payload["data"] == {"at": payload["data"]["at"], "was_public": True, "is_public": True}
    assert payload["occurredAt"].endswith("+00:00")


def test_global_ids_are_relay_ones() -> None:
    assert to_global_id("Article", 42) == "QXJ0aWNsZTo0Mg=="
    assert base64.urlsafe_b64decode(to_global_id("WebhookDelivery", 7)) == b"WebhookDelivery:7"


def test_a_payload_names_its_entity_by_the_apis_global_id() -> None:
    from schema.node import to_global_id as api_id  # the API's own; models may not import it

    event = ContentEvent("article.published", "article", 42, version=3)
    assert outbox.payload_of(event)["entity"] == {
        "type": "article",
        "id": api_id("Article", 42),
        "databaseId": 42,
    }
    assert outbox.payload_of(ContentEvent("content.changed", "content", None))["entity"] == {
        "type": "content",
        "id": None,
        "databaseId": None,
    }


async def test_a_rolled_back_change_leaves_no_delivery(sessionmaker: SessionMaker) -> None:
    # given
    article = await make_article(sessionmaker)
    await register(sessionmaker, ["*"])
    assert article.id is not None

    # when: a validation error rolls the update back
    async with sessionmaker() as session:
        with pytest.raises(DomainError):
            await update_article(
                session, viewer=ADMIN, id=article.id, expected_version=1, data={"title": ""}
            )

    # then
    assert await deliveries(sessionmaker) == []


async def test_tokens_and_webhooks_themselves_are_not_events(sessionmaker: SessionMaker) -> None:
    await register(sessionmaker, ["*"])
    async with sessionmaker() as session:
        await create_token(session, name="Desk", role=Role.EDITOR, viewer=ADMIN)
    await register(sessionmaker, ["*"])

    assert await deliveries(sessionmaker) == []


async def test_one_transaction_with_several_events_leaves_one_delivery_each(
    sessionmaker: SessionMaker,
) -> None:
    hook = await register(sessionmaker, ["author.created"])
    async with sessionmaker() as session:
        author = await add_author(session, viewer=ADMIN, data={"name": "Ivan Petrov"})

    [row] = await deliveries(sessionmaker)
    assert (row.webhook_id, row.event, row.payload["entity"]["databaseId"]) == (
        hook.id,
        "author.created",
        author.id,
    )
    assert row.payload["data"] == {"slug": author.slug}


async def test_deleting_a_webhook_removes_its_deliveries(sessionmaker: SessionMaker) -> None:
    # given
    gone = await register(sessionmaker, ["*"])
    kept = await register(sessionmaker, ["*"])
    async with sessionmaker() as session:
        await add_author(session, viewer=ADMIN, data={"name": "Anna Ivanova"})
    assert len(await deliveries(sessionmaker)) == 2
    assert gone.id is not None

    # when
    async with sessionmaker() as session:
        await webhooks.delete_webhook(session, viewer=ADMIN, id=gone.id)

    # then
    assert [row.webhook_id for row in await deliveries(sessionmaker)] == [kept.id]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
    ],
)
async def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(DomainError) as refused:
        await webhooks.check_url(url, allow_private=False)
    assert refused.value.field == "url"
    assert "private" in refused.value.message

    assert await webhooks.check_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "Use an http or https URL"),
        ("https://user:pw@93.184.215.14/hook", "Put no credentials in the URL"),
        ("https:///hook", "Use an http or https URL"),
        ("https://93.184.215.14:99999/", "This is not a valid URL"),
        ("https://93.184.215.14/a b", "The URL contains characters"),
        ("", "A webhook needs a URL"),
    ],
)
async def test_malformed_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(DomainError) as refused:
        await webhooks.check_url(url, allow_private=True)
    assert refused.value.message.startswith(message)


async def test_every_problem_of_a_registration_is_reported(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        with pytest.raises(ValidationFailed) as refused:
            await webhooks.create_webhook(
                session,
                viewer=ADMIN,
                data={
                    "url": "http://10.0.0.1/",
                    "events": ["article.published", "article.exploded"],
                    "secret": "short",
                },
                allow_private=False,
            )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("url", "INVALID"),
        ("events.1", "INVALID"),
        ("secret", "INVALID"),
    ]
    assert await deliveries(sessionmaker) == []


async def test_a_generated_secret_is_returned_once_and_signs(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        webhook, secret = await webhooks.create_webhook(
            session, viewer=ADMIN, data={"url": PUBLIC_URL, "events": ["*"]}, allow_private=False
        )
    assert secret.startswith("whsec_") and len(secret) > 40
    assert webhook.secret == secret
    # The documented scheme: HMAC-SHA256 of "<timestamp>.<body>", hex.
    assert sign("key", "1700000000", b"{}") == (
        "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
    )


def dispatcher(sessionmaker: SessionMaker, **options: object) -> WebhookDispatcher:
    settings: dict[str, object] = {
        "timeout_seconds": 1.0,
        "max_attempts": 3,
        "retry_base_seconds": 2.0,
        "allow_private_addresses": True,
        **options,
    }
    return WebhookDispatcher(sessionmaker, **settings)  # type: ignore[arg-type]


async def test_two_dispatchers_never_claim_the_same_delivery(sessionmaker: SessionMaker) -> None:
    # given: 30 due deliveries (more than a batch)
    await register(sessionmaker, ["author.created"])
    for n in range(30):
        async with sessionmaker() as session:
            await add_author(session, viewer=ADMIN, data={"name": f"Author {n}"})
    expected = sorted(row.id for row in await deliveries(sessionmaker))

    # when: two claim at once, until nothing is left
    first, second = dispatcher(sessionmaker), dispatcher(sessionmaker)
    claimed: list[int] = []
    for _ in range(10):
        claims = await asyncio.gather(first.claim(), second.claim(), return_exceptions=True)
        # SQLite may refuse the second of two concurrent writers outright; that is fine.
        got = [c.id for claim in claims if isinstance(claim, list) for c in claim]
        claimed += got
        if not got and all(isinstance(claim, list) for claim in claims):
            break

    # then: each delivery was leased exactly once
    assert sorted(claimed) == expected


def test_backoff_doubles_with_a_little_jitter() -> None:
    sender = dispatcher(None)  # type: ignore[arg-type]
    assert [sender.backoff(n, jitter=lambda: 0.5) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert sender.backoff(1, jitter=lambda: 0.0) == pytest.approx(1.8)
    assert sender.backoff(1, jitter=lambda: 1.0) == pytest.approx(2.2)
