"""Sending webhook deliveries in the background: signed, retried with backoff, recorded.

A :class:`WebhookDispatcher` runs as one asyncio task per server process. It wakes when
this process commits a content change (``events.local_bus``) and polls every few seconds
for other processes' changes and for retries that come due.

Claiming is a short transaction that leases each due delivery (moves its
``next_attempt_at`` past the send's deadline); on PostgreSQL the rows are locked with
``FOR UPDATE SKIP LOCKED`` while claimed, so several processes never send one delivery at
the same time. A process that dies mid-send leaves the lease to expire, and the delivery is
sent again later: delivery is at least once, and receivers tell repeats apart by
``X-Vestnik-Delivery``. Nothing here runs inside a mutation, so a slow or broken receiver
never slows or fails one.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import sqlalchemy as sa
from sqlmodel import col, select

from models.content_event import ContentEvent
from models.db import SessionMaker
from models.services import events
from models.services.webhooks import refused_address, resolve
from models.waiting import wait_at_most
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

logger = logging.getLogger("vestnik.webhooks")

USER_AGENT = "Vestnik-Webhooks/1"
BATCH_SIZE = 20
POLL_SECONDS = 5.0
# Retries wait a little more or less than the exact doubling, so receivers that came back
# are not hit by every sender at once.
JITTER = 0.1


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Vestnik-Signature``: HMAC-SHA256 of ``"<timestamp>.<body>"``, hex, with a prefix."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def now() -> datetime:
    # Not models.columns.utcnow: retries in tests are fractions of a second apart.
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claimed:
    """A delivery leased for one attempt, with what is needed to send it."""

    id: int
    event: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status: int | None = None
    error: str | None = None


class Refused(Exception):
    """The receiver's address is not allowed (checked after DNS resolution)."""


class WebhookDispatcher:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        *,
        timeout_seconds: float,
        max_attempts: int,
        retry_base_seconds: float,
        allow_private_addresses: bool,
        poll_seconds: float = POLL_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.allow_private_addresses = allow_private_addresses
        self.poll_seconds = poll_seconds
        # Twice the send's deadline plus DNS: a delivery is not claimed again before then.
        self.lease = timedelta(seconds=2 * timeout_seconds + 10)
        self._transport = transport
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- running ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["WebhookDispatcher"]:
        """Send in the background while inside; stopping cancels sends in flight (their
        leases expire and they are sent again later)."""
        self._loop = asyncio.get_running_loop()
        unsubscribe = events.local_bus.subscribe(self._on_event)
        task = asyncio.create_task(self._run(), name="webhook-dispatcher")
        try:
            yield self
        finally:
            unsubscribe()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look for due deliveries now (safe to call from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def _on_event(self, event: ContentEvent) -> None:
        self.wake()

    async def _run(self) -> None:
        async with self._client() as client:
            while True:
                self._wake.clear()
                delay = self.poll_seconds
                try:
                    while await self.deliver_due(client) == BATCH_SIZE:
                        pass  # a full batch: there may be more due
                    delay = await self._until_next_due()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database is down, say: try again at the next poll
                    logger.warning("webhook deliveries paused", exc_info=True)
                await wait_at_most(self._wake, delay)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            timeout=self.timeout_seconds,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address check must hold
            # No connection reuse: each send connects to the address just checked, with its
            # own TLS server name.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def _until_next_due(self) -> float:
        async with self.sessionmaker() as session:
            due = await session.scalar(
                sa.select(sa.func.min(col(WebhookDelivery.next_attempt_at)))
                .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
                .where(
                    col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                    col(Webhook.active),
                )
            )
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.0, (due - now()).total_seconds()))

    # --- one round -------------------------------------------------------------------------

    async def deliver_due(self, client: httpx.AsyncClient | None = None) -> int:
        """Claim the due deliveries (up to a batch), send them concurrently, record each
        outcome; how many were claimed."""
        claimed = await self.claim()
        if not claimed:
            return 0
        if client is None:
            async with self._client() as own:
                await asyncio.gather(*(self._attempt(own, c) for c in claimed))
        else:
            await asyncio.gather(*(self._attempt(client, c) for c in claimed))
        return len(claimed)

    async def claim(self) -> list[Claimed]:
        at = now()
        async with self.sessionmaker() as session:
            due = (
                select(WebhookDelivery, Webhook)
                .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
                .where(
                    col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                    col(WebhookDelivery.next_attempt_at) <= at,
                    col(Webhook.active),
                )
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
                .limit(BATCH_SIZE)
                # PostgreSQL: other processes skip these rows; SQLite has one writer anyway.
                .with_for_update(of=WebhookDelivery, skip_locked=True)
            )
            rows = (await session.exec(due)).all()
            if not rows:
                return []
            # Still due: with SQLite another process may have leased some since the select.
            leased = set(
                (
                    await session.exec(
                        sa.update(WebhookDelivery)
                        .where(
                            col(WebhookDelivery.id).in_([delivery.id for delivery, _ in rows]),
                            col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
                            col(WebhookDelivery.next_attempt_at) <= at,
                        )
                        .values(next_attempt_at=at + self.lease)
                        .returning(col(WebhookDelivery.id))
                    )
                ).scalars()
            )
            await session.commit()
        return [
            Claimed(
                id=delivery_id,
                event=delivery.event,
                payload=delivery.payload,
                attempts=delivery.attempts,
                url=webhook.url,
                secret=webhook.secret,
            )
            for delivery, webhook in rows
            if (delivery_id := delivery.id) is not None and delivery_id in leased
        ]

    async def _attempt(self, client: httpx.AsyncClient, delivery: Claimed) -> None:
        try:
            outcome = await self.send(client, delivery)
        except Exception:  # a bug, not the receiver: recorded as a failed attempt all the same
            logger.exception("webhook delivery %s failed unexpectedly", delivery.id)
            outcome = Outcome(False, error="internal error while sending")
        await self.record(delivery, outcome)

    async def send(self, client: httpx.AsyncClient, delivery: Claimed) -> Outcome:
        body = orjson.dumps(delivery.payload)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Vestnik-Event": delivery.event,
            "X-Vestnik-Delivery": str(delivery.id),
            "X-Vestnik-Timestamp": timestamp,
            "X-Vestnik-Signature": sign(delivery.secret, timestamp, body),
        }
        try:
            async with asyncio.timeout(self.timeout_seconds):
                url, extensions = await self._pinned(delivery.url, headers)
                response = await client.post(
                    url, content=body, headers=headers, extensions=extensions
                )
        except Refused:
            return Outcome(False, error="refused: the URL resolves to a private address")
        except (TimeoutError, httpx.TimeoutException):
            return Outcome(False, error=f"timed out after {self.timeout_seconds:g} s")
        except OSError:
            return Outcome(False, error="could not resolve the host name")
        except httpx.HTTPError as error:
            return Outcome(False, error=f"could not connect ({type(error).__name__})")
        if 200 <= response.status_code < 300:
            return Outcome(True, status=response.status_code)
        reason = f"HTTP {response.status_code}"
        if response.is_redirect:
            reason += " (redirects are not followed)"
        return Outcome(False, status=response.status_code, error=reason)

    async def _pinned(self, url: str, headers: dict[str, str]) -> tuple[httpx.URL, dict[str, Any]]:
        """The URL with its host replaced by an address checked just now.

        Connecting to the checked address (not resolving the name again) closes the gap a
        DNS answer that changes between the check and the connection would open. The name
        still goes in ``Host`` and, for https, in the TLS server name the certificate is
        verified against.
        """
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await resolve(host, port)
        if not self.allow_private_addresses and any(refused_address(a) for a in addresses):
            raise Refused
        target = httpx.URL(url)
        if addresses[0] == host:  # an IP literal: nothing to pin
            return target, {}
        headers["Host"] = target.netloc.decode("ascii")
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return target.copy_with(host=addresses[0]), extensions

    async def record(self, delivery: Claimed, outcome: Outcome) -> None:
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "response_status": outcome.status}
        if outcome.succeeded:
            values |= {
                "status": DeliveryStatus.SUCCEEDED.value,
                "delivered_at": now(),
                "next_attempt_at": None,
                "last_error": None,
            }
        elif attempts >= self.max_attempts:
            values |= {
                "status": DeliveryStatus.FAILED.value,
                "next_attempt_at": None,
                "last_error": outcome.error,
            }
        else:
            values |= {
                "next_attempt_at": now() + timedelta(seconds=self.backoff(attempts)),
                "last_error": outcome.error,
            }
        async with self.sessionmaker() as session:
            await session.exec(
                sa.update(WebhookDelivery)
                .where(col(WebhookDelivery.id) == delivery.id)
                .values(**values)
            )
            await session.commit()

    def backoff(self, attempts: int, jitter: Callable[[], float] = random.random) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: base, 2 base,
        4 base..., each up to ``JITTER`` longer or shorter."""
        exact = self.retry_base_seconds * 2.0 ** (attempts - 1)
        return exact * (1.0 + JITTER * (2.0 * jitter() - 1.0))
