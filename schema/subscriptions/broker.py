"""Fans committed content events out to this process's subscribers.

Events come from :data:`models.services.events.local_bus` (this process's commits) and,
on PostgreSQL, from :func:`models.services.events.listen` (every other process's), so a
subscriber hears of a change whichever worker made it. One task classifies each event
once, for everybody: whether anonymous readers may hear of it (an article they cannot
see, before or after the change, stays among editors) and whether an article went live.

Each subscriber has a bounded inbox. The broker never waits for a subscriber: one that
falls :data:`INBOX_SIZE` events behind is ended with ``SUBSCRIBER_TOO_SLOW``, so a slow
client costs the others nothing.

A scheduled article (published with a future ``publishedAt``) goes live with no commit at
all; a timer wakes at the next such instant and announces it as ``article.published``
then, in every process (each tells its own subscribers).
"""

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from models.article import ArticleStatus
from models.columns import utcnow
from models.content_event import ContentEvent
from models.db import SessionMaker
from models.errors import DomainError
from models.services import article_loaders, articles, events
from models.services.pagination import PageArgs
from models.viewer import ANONYMOUS, Role, Viewer

logger = logging.getLogger("vestnik.subscriptions")

# Events one subscriber may fall behind before it is ended.
INBOX_SIZE = 100
# Subscriptions one process serves at once, over all its connections.
MAX_SUBSCRIBERS = 10_000
# Events waiting to be classified; past this the broker tells subscribers it lost some.
INBOUND_SIZE = 10_000
# Articles whose last known public visibility is remembered (for "was it public before?").
REMEMBERED_ARTICLES = 100_000
# Scheduled publications loaded at once; more are loaded when these have gone live.
SCHEDULE_PAGE = 100
# The schedule is re-read at least this often, and this long after a failed read.
SCHEDULE_RECHECK_SECONDS = 300.0
SCHEDULE_RETRY_SECONDS = 5.0
# Reads the schedule and the visibility of articles: scheduled ones are visible to editors.
_SYSTEM = Viewer(Role.EDITOR, "vestnik subscriptions")
# Entities subscribers hear about; "content" is a bulk change (seed, import, lost events).
ANNOUNCED = events.CONTENT_ENTITIES | {"content"}
PUBLISHED = "article.published"
_GONE_FROM_PUBLIC = frozenset({"article.unpublished", "article.archived", "article.deleted"})


class SubscriptionEnded(DomainError):
    """The broker ended a subscription; ``code`` says why, the message what to do."""


@dataclass(frozen=True)
class Change:
    """One event as subscribers receive it."""

    event: ContentEvent
    # Anonymous readers may hear of it: the entity is public now, or was before the change.
    public: bool
    # An article became visible to everyone: published now, or its scheduled time came.
    went_live: bool = False


class Inbox:
    """One subscription's bounded queue of changes; iterate it to receive them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: deque[Change] = deque()
        self._ready = asyncio.Event()
        self._ended: SubscriptionEnded | None = None

    def offer(self, change: Change) -> None:
        """Never blocks: a full inbox ends the subscription instead."""
        if self._ended is not None:
            return
        if len(self._items) >= self._size:
            self.end(
                SubscriptionEnded(
                    f"This subscription fell more than {self._size} events behind and was "
                    "ended; subscribe again (and refetch what you show)",
                    code="SUBSCRIBER_TOO_SLOW",
                )
            )
            return
        self._items.append(change)
        self._ready.set()

    def end(self, reason: SubscriptionEnded) -> None:
        self._ended = reason
        self._items.clear()
        self._ready.set()

    def __aiter__(self) -> "Inbox":
        return self

    async def __anext__(self) -> Change:
        while not self._items:
            if self._ended is not None:
                raise self._ended
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


class Broker:
    """Started by the server's lifespan with :meth:`running`; resolvers :meth:`subscribe`."""

    def __init__(
        self,
        sessionmaker: SessionMaker,
        *,
        inbox_size: int = INBOX_SIZE,
        max_subscribers: int = MAX_SUBSCRIBERS,
    ) -> None:
        # The primary: an event can arrive before a replica has the change it announces.
        self._sessionmaker = sessionmaker
        self._inbox_size = inbox_size
        self._max_subscribers = max_subscribers
        self._inboxes: set[Inbox] = set()
        self._inbound: asyncio.Queue[ContentEvent] = asyncio.Queue(INBOUND_SIZE)
        self._public: OrderedDict[int, bool] = OrderedDict()
        self._scheduled: dict[int, datetime] = {}
        self._schedule_complete = True
        self._schedule_changed = asyncio.Event()
        self._version = 0
        self._connected_once = False
        self._running = False

    @property
    def subscribers(self) -> int:
        return len(self._inboxes)

    @contextlib.asynccontextmanager
    async def running(self, engine: AsyncEngine) -> AsyncIterator[None]:
        """Receive ``engine``'s database's events while inside; ends every subscription after."""
        database = events.database_name(engine.url)

        def local(event: ContentEvent) -> None:
            if event.database == database:  # a process may hold engines on other databases
                self.accept(event)

        unsubscribe = events.local_bus.subscribe(local)
        tasks = [
            asyncio.create_task(self._deliver_forever(), name="vestnik-broker-deliver"),
            asyncio.create_task(self._schedule_forever(), name="vestnik-broker-schedule"),
        ]
        self._running = True
        try:
            async with events.listen(engine, self.accept, self._reconnected):
                yield
        finally:
            self._running = False
            unsubscribe()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            ending = SubscriptionEnded(
                "The server is shutting down; subscribe again", code="SERVER_SHUTTING_DOWN"
            )
            for inbox in list(self._inboxes):
                inbox.end(ending)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Inbox]:
        """A new inbox, registered while inside."""
        if not self._running:
            raise SubscriptionEnded(
                "Subscriptions are not available on this server", code="SUBSCRIPTIONS_UNAVAILABLE"
            )
        if len(self._inboxes) >= self._max_subscribers:
            raise SubscriptionEnded(
                "The server has too many subscriptions; try again later",
                code="TOO_MANY_SUBSCRIPTIONS",
            )
        inbox = Inbox(self._inbox_size)
        self._inboxes.add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes.discard(inbox)

    def accept(self, event: ContentEvent) -> None:
        """Take an event from a listener: only schedules work, never blocks."""
        if event.entity not in ANNOUNCED:
            return
        try:
            self._inbound.put_nowait(event)
        except asyncio.QueueFull:
            logger.warning("subscriptions: dropped a content event (%s); too many", event.action)

    async def _reconnected(self) -> None:
        """PostgreSQL notifications were (re)connected: after a gap, assume the worst."""
        if self._connected_once:
            # Whatever happened meanwhile is unknown: refetch, and re-read the schedule.
            self.accept(ContentEvent("content.changed", "content", None, version=self._version))
            self._schedule_complete = False
            self._schedule_changed.set()
        self._connected_once = True

    async def _deliver_forever(self) -> None:
        while True:
            event = await self._inbound.get()
            try:
                change = await self._classify(event)
            except Exception:
                # Fail closed: editors still hear of it; anonymous readers do not.
                logger.warning("subscriptions: could not classify %s", event.action, exc_info=True)
                change = Change(event, public=event.entity != "article")
            self._version = max(self._version, event.version)
            self._track_schedule(event)
            for inbox in list(self._inboxes):
                inbox.offer(change)

    async def _classify(self, event: ContentEvent) -> Change:
        if event.entity != "article" or event.id is None:
            return Change(event, public=True)  # authors, tags, offices: all public
        public_after = event.details.get("is_public")
        if event.action == "article.deleted":
            public_after = False
        elif not isinstance(public_after, bool):  # not said (older event shapes): look
            async with self._sessionmaker() as session:
                [found] = await article_loaders.articles_by_ids(
                    session, viewer=ANONYMOUS, now=utcnow(), ids=[event.id]
                )
            public_after = found is not None
        was_public = event.details.get("was_public")
        if not isinstance(was_public, bool):
            was_public = self._public.get(event.id, False)
        self._remember(event.id, public_after)
        went_live = event.action == PUBLISHED and public_after
        return Change(event, public=public_after or was_public, went_live=went_live)

    def _remember(self, article_id: int, public: bool) -> None:
        self._public[article_id] = public
        self._public.move_to_end(article_id)
        while len(self._public) > REMEMBERED_ARTICLES:
            self._public.popitem(last=False)

    def _track_schedule(self, event: ContentEvent) -> None:
        if event.entity != "article" or event.id is None or event.details.get("scheduled"):
            return
        if event.action == PUBLISHED:
            at = _instant(event.details.get("at"))
            if at is None and event.details.get("truncated"):
                self._schedule_complete = False  # the time was cut from the notification
            elif at is not None and at > utcnow():
                self._scheduled[event.id] = at
            else:
                self._scheduled.pop(event.id, None)
        elif event.action in _GONE_FROM_PUBLIC:
            self._scheduled.pop(event.id, None)
        else:
            return
        self._schedule_changed.set()

    async def _schedule_forever(self) -> None:
        self._schedule_complete = False
        while True:
            self._schedule_changed.clear()
            wait = SCHEDULE_RECHECK_SECONDS
            if not self._schedule_complete:
                try:
                    await self._load_schedule()
                except Exception as error:
                    logger.warning("subscriptions: could not read the schedule: %s", error)
                    wait = SCHEDULE_RETRY_SECONDS
            now = utcnow()
            for article_id, at in sorted(self._scheduled.items(), key=lambda item: item[1]):
                if at > now:
                    wait = min(wait, (at - now).total_seconds())
                    break
                del self._scheduled[article_id]
                self.accept(_went_live(article_id, at, self._version))
            if not self._scheduled and not self._schedule_complete:
                wait = 0  # the loaded page has gone live; read the next one
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._schedule_changed.wait()

    async def _load_schedule(self) -> None:
        """The next scheduled publications, earliest first."""
        now = utcnow()
        async with self._sessionmaker() as session:
            page = await articles.list_articles(
                session,
                viewer=_SYSTEM,
                now=now,
                page=PageArgs(first=SCHEDULE_PAGE),
                filter=articles.ArticleFilter(
                    status=ArticleStatus.PUBLISHED, published_after=now + timedelta(microseconds=1)
                ),
                order=articles.ArticleOrder.PUBLISHED_AT_ASC,
            )
        for article in page.items:
            if article.id is not None and article.published_at is not None:
                self._scheduled[article.id] = article.published_at
        self._schedule_complete = not page.has_next


def _went_live(article_id: int, at: datetime, version: int) -> ContentEvent:
    """A scheduled article's time came: announced like a publication, with no commit."""
    event = ContentEvent(
        PUBLISHED, "article", article_id, {"at": at.isoformat(), "scheduled": True}, at=at
    )
    return replace(event, version=version)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
