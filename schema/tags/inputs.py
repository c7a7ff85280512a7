"""Tag mutation inputs. Every field is optional here: the domain decides what is
required, so a missing name comes back as a ``UserError`` next to the field."""

from typing import Any

import strawberry

from schema.inputs import provided


@strawberry.input
class CreateTagInput:
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="Generated from the name when omitted."
    )

    def to_data(self) -> dict[str, Any]:
        data = provided(name=self.name, slug=self.slug)
        return {name: value for name, value in data.items() if value is not None}


@strawberry.input(description="Only the fields given change.")
class UpdateTagInput:
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET

    def to_data(self) -> dict[str, Any]:
        return provided(name=self.name, slug=self.slug)
