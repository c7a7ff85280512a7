"""Office mutations: each returns ``{ office, errors }``; admins only."""

import strawberry

from models.office import Office
from models.services import offices
from schema.context import Info
from schema.errors import UserError
from schema.node import from_global_id
from schema.offices.inputs import CreateOfficeInput, UpdateOfficeInput
from schema.offices.types import OfficeType
from schema.payloads import DeletePayload, perform
from schema.permissions import IsAdmin


@strawberry.type
class OfficePayload:
    office: OfficeType | None
    errors: list[UserError]


def _pk(id: strawberry.ID) -> int:
    return from_global_id(id, "Office")[1]


def _payload(result: Office | None, errors: list[UserError]) -> OfficePayload:
    return OfficePayload(office=OfficeType.from_model(result) if result else None, errors=errors)


@strawberry.type
class OfficeMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Add an office with its phones, weekly hours and dated exceptions.",
    )
    async def create_office(self, info: Info, input: CreateOfficeInput) -> OfficePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: offices.add_office(s, viewer=viewer, data=input.to_data())
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Change an office; fields not given stay, a list given replaces the list.",
    )
    async def update_office(
        self, info: Info, id: strawberry.ID, input: UpdateOfficeInput
    ) -> OfficePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info,
            lambda s: offices.update_office(s, viewer=viewer, id=_pk(id), data=input.to_data()),
        )
        return _payload(result, errors)

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Remove an office with its phones, hours and exceptions.",
    )
    async def delete_office(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: offices.delete_office(s, viewer=viewer, id=_pk(id))
        )
        return DeletePayload(deleted_id=id if result is not None else None, errors=errors)
