"""Registering, changing and removing webhooks, and sending a delivery again (admins only)."""

import strawberry

from models.services import webhooks
from models.webhook import Webhook
from schema.context import Info
from schema.errors import UserError
from schema.payloads import DeletePayload, perform
from schema.permissions import IsAdmin
from schema.webhooks.inputs import CreateWebhookInput, UpdateWebhookInput
from schema.webhooks.types import WebhookDeliveryType, WebhookType, pk_of


@strawberry.type
class CreateWebhookPayload:
    webhook: WebhookType | None
    secret: str | None = strawberry.field(
        description="The signing secret. Shown only in this response; keep it with the receiver."
    )
    errors: list[UserError]


@strawberry.type
class WebhookPayload:
    webhook: WebhookType | None
    errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDeliveryType | None
    errors: list[UserError]


def _allow_private(info: Info) -> bool:
    """The server's ``webhook_allow_private_addresses``; the sender checks again in any case."""
    return info.context.webhook_allow_private_addresses


def _payload(result: Webhook | None, errors: list[UserError]) -> WebhookPayload:
    return WebhookPayload(webhook=WebhookType.from_model(result) if result else None, errors=errors)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Register a webhook. The secret is in this response only.",
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        viewer = info.context.viewer
        allow_private = _allow_private(info)
        result, errors = await perform(
            info,
            lambda s: webhooks.create_webhook(
                s, viewer=viewer, data=input.to_data(), allow_private=allow_private
            ),
        )
        if result is None:
            return CreateWebhookPayload(webhook=None, secret=None, errors=errors)
        webhook, secret = result
        return CreateWebhookPayload(
            webhook=WebhookType.from_model(webhook), secret=secret, errors=[]
        )

    @strawberry.mutation(permission_classes=[IsAdmin], description="Change a webhook.")
    async def update_webhook(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookInput
    ) -> WebhookPayload:
        viewer = info.context.viewer
        allow_private = _allow_private(info)
        result, errors = await perform(
            info,
            lambda s: webhooks.update_webhook(
                s,
                viewer=viewer,
                id=pk_of(id, "Webhook"),
                data=input.to_data(),
                allow_private=allow_private,
            ),
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Remove a webhook and its deliveries; pending ones are never sent.",
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: webhooks.delete_webhook(s, viewer=viewer, id=pk_of(id, "Webhook"))
        )
        return DeletePayload(deleted_id=id if result is not None else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Send a delivery's payload again, as a new delivery.",
    )
    async def redeliver_webhook_delivery(
        self, info: Info, id: strawberry.ID
    ) -> WebhookDeliveryPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info,
            lambda s: webhooks.redeliver(s, viewer=viewer, id=pk_of(id, "WebhookDelivery")),
        )
        delivery = WebhookDeliveryType.from_model(result) if result else None
        return WebhookDeliveryPayload(delivery=delivery, errors=errors)
