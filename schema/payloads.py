"""Running a mutation's use case and turning expected failures into ``UserError``s."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import DomainError
from schema.context import Info
from schema.errors import UserError, user_errors

T = TypeVar("T")


async def perform(
    info: Info, use_case: Callable[[AsyncSession], Awaitable[T]], root: str | None = "input"
) -> tuple[T | None, list[UserError]]:
    """Run ``use_case`` in a session of its own: its result, or the errors it raised.

    ``root`` is the argument that holds the input fields (``None``: they are arguments).
    """
    async with info.context.primary_session() as session:
        try:
            return await use_case(session), []
        except DomainError as error:
            return None, user_errors(error, root)


@strawberry.type(description="The result of a delete.")
class DeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserError]
