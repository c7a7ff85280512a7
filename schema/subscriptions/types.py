"""The ``Subscription`` root: ``articlePublished`` and ``contentChanged``.

What a subscriber receives goes through the same visibility rules as a query: an
article comes from the subscriber's own DataLoader (its viewer, at the event's instant),
and a change to an article anonymous readers could not see, before or after it, is told
only to editors.
"""

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated, Self

import strawberry

from models.content_event import ContentEvent
from models.global_ids import TYPE_NAMES
from schema.articles.types import ArticleType
from schema.context import Info
from schema.node import to_global_id
from schema.subscriptions.broker import Broker, SubscriptionEnded
from schema.subscriptions.context import SubscriptionContext


@strawberry.enum(description="The kind of object a content change is about.")
class ContentEntity(Enum):
    ARTICLE = "article"
    AUTHOR = "author"
    TAG = "tag"
    OFFICE = "office"
    CONTENT = strawberry.enum_value(
        "content", description="Bulk changes (seed, import) and lost notifications: refetch."
    )


@strawberry.type(description="A committed change to content, told to subscribers.")
class ContentChange:
    action: str = strawberry.field(
        description="What happened, as entity.verb: article.created, article.updated, "
        "article.published (also when a scheduled article's time comes), "
        "article.unpublished, article.archived, article.deleted, article.corrected, "
        "article.restored, author.*, tag.*, office.* (created, updated, deleted); "
        "content.changed: something changed in bulk, refetch what you show."
    )
    entity: ContentEntity
    id: strawberry.ID | None = strawberry.field(
        description="Global ID of the object (after *.deleted it no longer resolves); "
        "null for content.changed."
    )
    content_version: int = strawberry.field(
        description="The site's content version after the change; it only grows."
    )
    at: datetime = strawberry.field(description="When the change was made (UTC).")

    @classmethod
    def from_event(cls, event: ContentEvent) -> Self:
        type_name = TYPE_NAMES.get(event.entity)
        return cls(
            action=event.action,
            entity=ContentEntity(event.entity),
            id=to_global_id(type_name, event.id) if type_name and event.id else None,
            content_version=event.version,
            at=event.at,
        )


def _connection(info: Info) -> tuple[SubscriptionContext, Broker]:
    context = info.context
    if not isinstance(context, SubscriptionContext) or context.broker is None:
        raise SubscriptionEnded(
            "Subscriptions run over a WebSocket to /graphql (graphql-transport-ws)",
            code="SUBSCRIPTIONS_UNAVAILABLE",
        )
    return context, context.broker


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each article as it goes public: published now, or when its scheduled "
        "publishedAt comes. Editors see the same moments as everyone else."
    )
    async def article_published(self, info: Info) -> AsyncGenerator[ArticleType, None]:
        context, broker = _connection(info)
        async with broker.subscribe() as inbox:
            async for change in inbox:
                if not change.went_live or change.event.id is None:
                    continue
                context.renew()
                article = await context.loaders.article.load(change.event.id)
                if article is not None:  # it may have changed again since
                    yield ArticleType.from_model(article)

    @strawberry.subscription(
        description="Every committed change to articles, authors, tags and offices, for "
        "invalidating caches. Anonymous subscribers hear only of articles they can see "
        "(now, or before the change); editors hear of every change, drafts included."
    )
    async def content_changed(
        self,
        info: Info,
        entities: Annotated[
            list[ContentEntity] | None,
            strawberry.argument(
                description="Only these kinds (CONTENT changes always come); null: all."
            ),
        ] = None,
    ) -> AsyncGenerator[ContentChange, None]:
        context, broker = _connection(info)
        wanted = None if entities is None else {entity.value for entity in entities}
        async with broker.subscribe() as inbox:
            async for change in inbox:
                event = change.event
                if wanted is not None and event.entity not in wanted | {"content"}:
                    continue
                if change.public or context.viewer.sees_unpublished:
                    yield ContentChange.from_event(event)
