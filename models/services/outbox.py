"""The webhook outbox: committed content events become pending webhook deliveries.

:func:`enqueue` runs inside the committing transaction (``events._before_commit`` calls
it), so a delivery exists if and only if its change committed. Sending is
``models.services.webhook_delivery``'s job, in the background; registering receivers is
``models.services.webhooks``'s. This module imports neither them nor ``events``: it is
the end of the chain ``audit`` -> ``events`` -> ``outbox``.
"""

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from models.columns import utcnow
from models.content_event import ContentEvent
from models.global_ids import TYPE_NAMES, to_global_id
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

# Every event a webhook may subscribe to: the content actions recorded by the services.
EVENTS = frozenset(
    {
        *(
            f"article.{verb}"
            for verb in (
                "created",
                "updated",
                "restored",
                "published",
                "unpublished",
                "archived",
                "deleted",
                "corrected",
            )
        ),
        *(
            f"{entity}.{verb}"
            for entity in ("author", "tag", "office")
            for verb in ("created", "updated", "deleted")
        ),
    }
)
# "*" is every event, "article.*" every article event, and so on.
WILDCARDS = frozenset({"*", *(f"{event.split('.')[0]}.*" for event in EVENTS)})


def subscribed(patterns: Iterable[str], event: str) -> bool:
    patterns = set(patterns)
    return bool({"*", event, f"{event.split('.')[0]}.*"} & patterns)


def payload_of(event: ContentEvent) -> dict[str, Any]:
    """What the receiver gets, in the API's own vocabulary (camelCase, global IDs)."""
    type_name = TYPE_NAMES.get(event.entity)
    return {
        "event": event.action,
        "occurredAt": event.at.isoformat(),
        "contentVersion": event.version,
        "entity": {
            "type": event.entity,
            "id": to_global_id(type_name, event.id) if type_name and event.id is not None else None,
            "databaseId": event.id,
        },
        "data": event.details,
    }


def enqueue(session: Session, events: Sequence[ContentEvent]) -> int:
    """Add a pending delivery per (active subscribed webhook, event) to this transaction.

    Called just before commit; returns how many it added.
    """
    wanted = [event for event in events if event.action in EVENTS]
    if not wanted:
        return 0
    hooks = session.execute(
        sa.select(col(Webhook.id), col(Webhook.events)).where(col(Webhook.active))
    ).all()
    now = utcnow()
    rows = [
        {
            "webhook_id": hook_id,
            "event": event.action,
            "payload": payload_of(event),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event in wanted
        for hook_id, patterns in hooks
        if subscribed(patterns or [], event.action)
    ]
    if rows:
        session.execute(sa.insert(WebhookDelivery), rows)
    return len(rows)
