"""``Webhook`` and ``WebhookDelivery``: what admins read; a webhook's secret never."""

import base64
import binascii
import re
from datetime import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from models.errors import InvalidInput
from models.global_ids import to_global_id
from models.services.pagination import MAX_ROW_ID
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus", description="Where a delivery is.")

_PK = re.compile(r"[1-9][0-9]{0,9}")


def pk_of(id: str, type_name: str, field: str = "id") -> int:
    """The primary key in a ``Webhook``/``WebhookDelivery`` global ID, or ``InvalidInput``.

    Not ``schema.node.from_global_id``: these are not ``Node``s (``node(id:)`` is public).
    """
    error = InvalidInput(f"'{id[:100]}' is not a valid {type_name} ID", field=field)
    try:
        decoded = base64.urlsafe_b64decode(id.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise error from None
    name, _, raw_pk = decoded.partition(":")
    if name != type_name or not _PK.fullmatch(raw_pk) or int(raw_pk) > MAX_ROW_ID:
        raise error
    return int(raw_pk)


@strawberry.type(name="Webhook", description="A receiver of content events (admins only).")
class WebhookType:
    id: strawberry.ID
    url: str
    events: list[str] = strawberry.field(
        description='Subscribed events, e.g. "article.published", "office.*" or "*".'
    )
    description: str
    active: bool = strawberry.field(description="Inactive webhooks are sent nothing.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, webhook: Webhook) -> Self:
        assert webhook.id is not None
        return cls(
            id=strawberry.ID(to_global_id("Webhook", webhook.id)),
            url=webhook.url,
            events=list(webhook.events),
            description=webhook.description,
            active=webhook.active,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
        )


@strawberry.type(name="WebhookDelivery", description="One event sent (or to send) to a webhook.")
class WebhookDeliveryType:
    id: strawberry.ID = strawberry.field(
        description="Global ID; the receiver sees the database ID as X-Vestnik-Delivery."
    )
    database_id: int
    webhook_id: strawberry.ID
    event: str
    payload: JSON = strawberry.field(description="The JSON body sent (without the signature).")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When a pending delivery is tried next."
    )
    last_error: str | None = strawberry.field(
        description='Why the last attempt failed, e.g. "HTTP 500" or "timed out after 5 s".'
    )
    response_status: int | None = strawberry.field(
        description="The HTTP status of the last answer."
    )
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_model(cls, delivery: WebhookDelivery) -> Self:
        assert delivery.id is not None
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", delivery.id)),
            database_id=delivery.id,
            webhook_id=strawberry.ID(to_global_id("Webhook", delivery.webhook_id)),
            event=delivery.event,
            payload=JSON(delivery.payload),
            status=DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            last_error=delivery.last_error,
            response_status=delivery.response_status,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )
