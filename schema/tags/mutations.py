"""Tag mutations: each returns ``{ tag, errors }``; editors only."""

import strawberry

from models.services import tags
from models.tag import Tag
from schema.context import Info
from schema.errors import UserError
from schema.node import from_global_id
from schema.payloads import DeletePayload, perform
from schema.permissions import IsEditor
from schema.tags.inputs import CreateTagInput, UpdateTagInput
from schema.tags.types import TagType


@strawberry.type
class TagPayload:
    tag: TagType | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> int:
    return from_global_id(id, "Tag")[1]


def _payload(result: Tag | None, errors: list[UserError]) -> TagPayload:
    return TagPayload(tag=TagType.from_model(result) if result else None, errors=errors)


@strawberry.type
class TagMutation:
    @strawberry.mutation(
        permission_classes=[IsEditor], description="Add a tag; the slug follows the name."
    )
    async def create_tag(self, info: Info, input: CreateTagInput) -> TagPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: tags.add_tag(s, viewer=viewer, data=input.to_data())
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsEditor], description="Rename a tag; the slug stays unless given."
    )
    async def update_tag(self, info: Info, id: strawberry.ID, input: UpdateTagInput) -> TagPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: tags.update_tag(s, viewer=viewer, id=_pk(id), data=input.to_data())
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsEditor],
        description="Remove a tag and take it off every article; the articles stay.",
    )
    async def delete_tag(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: tags.delete_tag(s, viewer=viewer, id=_pk(id))
        )
        return DeletePayload(deleted_id=id if result is not None else None, errors=errors)
