"""``webhooks`` and ``webhookDeliveries`` (admins only)."""

import strawberry

from models.services import webhooks
from models.services.pagination import PageArgs
from models.webhook import DeliveryStatus, Webhook
from schema.context import Info
from schema.pagination import Connection, total_of
from schema.permissions import IsAdmin
from schema.sources import Root, declare_roots
from schema.webhooks.types import WebhookDeliveryType, WebhookType, pk_of

declare_roots(
    {
        "webhooks": Root("webhooks.list_webhooks", arguments=frozenset({"first", "after"})),
        "webhookDeliveries": Root(
            "webhooks.list_deliveries",
            arguments=frozenset({"webhookId", "status", "first", "after"}),
        ),
    }
)


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Registered webhooks, newest first (admins only).", permission_classes=[IsAdmin]
    )
    async def webhooks(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[WebhookType]:
        async with info.context.session() as session:
            page = await webhooks.list_webhooks(session, page=PageArgs(first=first, after=after))
        return Connection.of(page, WebhookType.from_model, total_of(info.context, Webhook))

    @strawberry.field(
        description="Deliveries, newest first: what was sent, how often, and how it went "
        "(admins only).",
        permission_classes=[IsAdmin],
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID | None = None,
        status: DeliveryStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDeliveryType]:
        pk = pk_of(webhook_id, "Webhook", "webhookId") if webhook_id is not None else None
        async with info.context.session() as session:
            page = await webhooks.list_deliveries(
                session, webhook_id=pk, status=status, page=PageArgs(first=first, after=after)
            )

        async def count() -> int:
            async with info.context.session() as session:
                return await webhooks.count_deliveries(session, webhook_id=pk, status=status)

        return Connection.of(page, WebhookDeliveryType.from_model, count)
