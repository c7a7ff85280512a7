"""Content events: what changed, told to caches, webhooks and subscribers once it commits.

A content use case records its event in its own transaction (``audit.record`` does it for
every audited change). Just before that transaction commits:

1. the content version (``content_state``) moves forward, so a cache in any process can
   tell that what it holds is older than the change;
2. on PostgreSQL, ``pg_notify`` queues the events on :data:`CHANNEL`; PostgreSQL delivers
   a notification only if, and when, its transaction commits, to every listening process.

After the commit the events go to this process's listeners at once (:data:`local_bus`):
that is all SQLite has, and on PostgreSQL it spares the writing process the round trip;
:func:`listen` skips notifications this process sent itself.
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Article, ArticleStatus
from models.columns import utcnow
from models.content import STATE_ID, ContentState
from models.content_event import PROCESS_ID
from models.content_event import ContentEvent as ContentEvent  # re-exported: listeners get these
from models.db import CONNECT_TIMEOUT_SECONDS
from models.services import outbox
from models.waiting import wait_at_most

logger = logging.getLogger("vestnik.events")

CHANNEL = "vestnik_content"
# How often an idle listening connection is checked.
KEEPALIVE_SECONDS = 30.0
# PostgreSQL refuses a notification payload of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900
_PENDING = "vestnik.events"
# Entities whose changes show in what anonymous readers get (tokens are not content).
CONTENT_ENTITIES = frozenset({"article", "author", "tag", "office"})


Listener = Callable[[ContentEvent], None]


class LocalBus:
    """This process's listeners; called synchronously, so they must only schedule work."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, event: ContentEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the others or the writer
                logger.exception("content event listener failed")


local_bus = LocalBus()


def record(session: AsyncSession, action: str, entity: str, id: int | None, **details: Any) -> None:
    """Announce a change when (and only if) ``session``'s transaction commits."""
    pending: list[ContentEvent] = session.info.setdefault(_PENDING, [])
    pending.append(ContentEvent(action=action, entity=entity, id=id, details=details))


async def next_scheduled_publication(session: AsyncSession, now: datetime) -> datetime | None:
    """When the next scheduled article goes public: content changes then with no commit."""
    return await session.scalar(
        sa.select(sa.func.min(col(Article.published_at))).where(
            col(Article.status) == ArticleStatus.PUBLISHED, col(Article.published_at) > now
        )
    )


def content_changed(session: AsyncSession) -> None:
    """Bulk or low-level writes (seed, imports): move the version without a named event."""
    record(session, "content.changed", "content", None)


def database_name(url: sa.URL) -> str:
    """Which database an event belongs to, without the password."""
    return url.render_as_string(hide_password=True)


async def current_version(session: AsyncSession) -> int:
    version = await session.scalar(
        sa.select(col(ContentState.version)).where(col(ContentState.id) == STATE_ID)
    )
    return int(version or 0)


@sa_event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    events: list[ContentEvent] = session.info.get(_PENDING) or []
    if not any(e.entity in CONTENT_ENTITIES or e.entity == "content" for e in events):
        return
    bind = session.get_bind()
    version = session.execute(
        sa.update(ContentState)
        .where(col(ContentState.id) == STATE_ID)
        .values(version=col(ContentState.version) + 1, changed_at=utcnow())
        .returning(col(ContentState.version))
    ).scalar_one_or_none()
    if version is None:
        # The row is gone (a database emptied by hand): count on from a random point, so no
        # cache can mistake the new counts for the ones it saw before.
        version = secrets.randbelow(2**31 - 2**20) + 1
        session.execute(
            sa.insert(ContentState).values(id=STATE_ID, version=version, changed_at=utcnow())
        )
    database = database_name(bind.engine.url)
    stamped = [
        ContentEvent(**{**asdict(e), "version": version, "database": database}) for e in events
    ]
    session.info[_PENDING] = stamped
    # The transactional outbox: deliveries commit (or roll back) with the change.
    outbox.enqueue(session, stamped)
    if bind.dialect.name == "postgresql":
        for stamped_event in stamped:
            payload = stamped_event.to_json()
            if len(payload) > MAX_PAYLOAD_BYTES:  # keep what listeners need, drop the details
                payload = ContentEvent(
                    **{**asdict(stamped_event), "details": {"truncated": True}}
                ).to_json()
            session.execute(
                sa.select(sa.func.pg_notify(CHANNEL, payload.decode())),
            )


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    events: list[ContentEvent] = session.info.pop(_PENDING, None) or []
    for stamped in events:
        if stamped.version:
            local_bus.publish(stamped)


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_PENDING, None)


@contextlib.asynccontextmanager
async def listen(
    engine: AsyncEngine,
    on_event: Listener,
    on_gap: Callable[[], Awaitable[None] | None],
    *,
    on_lost: Callable[[], None] | None = None,
    retry_seconds: float = 1.0,
) -> AsyncIterator[None]:
    """Deliver other processes' events from PostgreSQL to ``on_event`` while inside.

    While the listening connection is down, notifications are lost; ``on_gap`` is called
    each time it is (re)established, so callers can drop whatever they may have missed,
    and ``on_lost`` (if given) when it breaks, so they can stop trusting what they hold.
    On SQLite there are no other writers' notifications: only :data:`local_bus` exists.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    task = asyncio.create_task(
        _listen_forever(engine, on_event, on_gap, on_lost or (lambda: None), retry_seconds)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _listen_forever(
    engine: AsyncEngine,
    on_event: Listener,
    on_gap: Callable[[], Awaitable[None] | None],
    on_lost: Callable[[], None],
    retry_seconds: float,
) -> None:
    database = database_name(engine.url)

    def received(_connection: Any, _pid: int, _channel: str, payload: object) -> None:
        try:
            assert isinstance(payload, str)
            event = ContentEvent.from_json(payload)
        except Exception:
            logger.warning("ignored a malformed content notification")
            return
        if event.origin != PROCESS_ID and event.database == database:
            on_event(event)

    while True:
        try:
            # A connection of its own, outside the pool: a pooled one would go back to the
            # pool still listening.
            connection = await asyncpg.connect(
                engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except Exception as error:
            logger.warning("content notifications unavailable: %s", error)
            await asyncio.sleep(retry_seconds)
            continue
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            await connection.add_listener(CHANNEL, received)
            gap = on_gap()
            if gap is not None:
                await gap
            while not await wait_at_most(lost, KEEPALIVE_SECONDS):
                # A connection that died silently (network) raises here.
                await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
            logger.warning("lost the content notification connection; reconnecting")
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.warning("content notifications interrupted: %s", error)
        finally:
            on_lost()
            connection.terminate()
        await asyncio.sleep(retry_seconds)
