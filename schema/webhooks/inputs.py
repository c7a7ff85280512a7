"""Webhook mutation inputs; the domain checks every field and reports each problem."""

from typing import Any

import strawberry

from schema.inputs import provided


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(description="An http or https URL on a public address.")
    events: list[str] = strawberry.field(
        description='Events to receive: "article.published", "article.*", "*", ...'
    )
    secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Signs every delivery (16 to 200 characters); generated when omitted. "
        "Returned only by createWebhook.",
    )
    description: str | None = strawberry.UNSET
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Default true.")

    def to_data(self) -> dict[str, Any]:
        data = provided(
            url=self.url,
            events=self.events,
            secret=self.secret,
            description=self.description,
            active=self.active,
        )
        return {name: value for name, value in data.items() if value is not None}


@strawberry.input(description="Only the fields given change; a new secret replaces the old one.")
class UpdateWebhookInput:
    url: str | None = strawberry.UNSET
    events: list[str] | None = strawberry.UNSET
    secret: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET

    def to_data(self) -> dict[str, Any]:
        return provided(
            url=self.url,
            events=self.events,
            secret=self.secret,
            description=self.description,
            active=self.active,
        )
