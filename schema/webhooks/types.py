"""``Webhook`` and ``WebhookDelivery``: what admins read; a webhook's secret never."""

from datetime import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from models.errors import InvalidInput
from models.global_ids import parse_global_id, to_global_id
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus", description="Where a delivery is.")


def pk_of(id: str, type_name: str, field: str = "id") -> int:
    """The primary key in a ``Webhook``/``WebhookDelivery`` global ID, or ``InvalidInput``.

    Not ``schema.node.from_global_id``: these are not ``Node``s (``node(id:)`` is public).
    """
    parts = parse_global_id(id)
    if parts is None or parts[0] != type_name:
        raise InvalidInput(f"'{id[:100]}' is not a valid {type_name} ID", field=field)
    return parts[1]


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
