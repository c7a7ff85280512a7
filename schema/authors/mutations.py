"""Author mutations: each returns ``{ author, errors }``; editors only."""

import strawberry

from models.author import Author
from models.services import authors
from schema.authors.inputs import CreateAuthorInput, UpdateAuthorInput
from schema.authors.types import AuthorType
from schema.context import Info
from schema.errors import UserError
from schema.node import from_global_id
from schema.payloads import DeletePayload, perform
from schema.permissions import IsEditor


@strawberry.type
class AuthorPayload:
    author: AuthorType | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> int:
    return from_global_id(id, "Author")[1]


def _payload(result: Author | None, errors: list[UserError]) -> AuthorPayload:
    return AuthorPayload(author=AuthorType.from_model(result) if result else None, errors=errors)


@strawberry.type
class AuthorMutation:
    @strawberry.mutation(
        permission_classes=[IsEditor], description="Add an author; the slug follows the name."
    )
    async def create_author(self, info: Info, input: CreateAuthorInput) -> AuthorPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: authors.add_author(s, viewer=viewer, data=input.to_data())
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsEditor], description="Change an author; the slug stays unless given."
    )
    async def update_author(
        self, info: Info, id: strawberry.ID, input: UpdateAuthorInput
    ) -> AuthorPayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info,
            lambda s: authors.update_author(s, viewer=viewer, id=_pk(id), data=input.to_data()),
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsEditor],
        description="Remove an author from the catalogue and from every byline; the articles stay.",
    )
    async def delete_author(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: authors.delete_author(s, viewer=viewer, id=_pk(id))
        )
        return DeletePayload(deleted_id=id if result is not None else None, errors=errors)
