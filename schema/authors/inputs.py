"""Author mutation inputs. Every field is optional here: the domain decides what is
required, so a missing name comes back as a ``UserError`` next to the field."""

from typing import Any

import strawberry

from schema.inputs import provided


@strawberry.input
class CreateAuthorInput:
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="Generated from the name when omitted."
    )
    bio: str | None = strawberry.field(
        default=strawberry.UNSET, description="Markdown or plain text."
    )
    avatar_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="An http or https URL."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Private: only editors and admins see it."
    )

    def to_data(self) -> dict[str, Any]:
        data = provided(
            name=self.name,
            slug=self.slug,
            bio=self.bio,
            avatar_url=self.avatar_url,
            email=self.email,
        )
        return {name: value for name, value in data.items() if value is not None}


@strawberry.input(description="Only the fields given change; null clears avatarUrl/email.")
class UpdateAuthorInput:
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET

    def to_data(self) -> dict[str, Any]:
        return provided(
            name=self.name,
            slug=self.slug,
            bio=self.bio,
            avatar_url=self.avatar_url,
            email=self.email,
        )
