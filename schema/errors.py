"""How failures reach a GraphQL client.

Expected failures (``DomainError``) keep their message and gain
``extensions.code``; everything else is masked to "Internal server error" with a
request id, and logged in full under that id.
"""

import logging
import uuid
from enum import Enum

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from models.errors import AccessDenied, DomainError, ValidationFailed

logger = logging.getLogger("vestnik.errors")

GRAPHQL_CODES = {"INVALID": "BAD_USER_INPUT", "NOT_FOUND": "NOT_FOUND"}


@strawberry.enum(description="Why a mutation's input was refused.")
class UserErrorCode(Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    DUPLICATE = "DUPLICATE"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"


@strawberry.type(description="A problem with one field of a mutation's input.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field, e.g. ["input", "title"]; null: the whole input.'
    )
    message: str
    code: UserErrorCode


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def user_errors(error: DomainError, root: str | None = "input") -> list[UserError]:
    """One ``UserError`` per problem, with paths in the API's (camelCase) names."""
    problems = error.errors if isinstance(error, ValidationFailed) else [error]
    result = []
    for problem in problems:
        path = None
        if problem.field is not None:
            path = [camel(part) for part in problem.field.split(".")]
            top = path[0]
            if root is not None and top not in _ARGUMENTS:
                path.insert(0, root)
        result.append(
            UserError(field=path, message=problem.message, code=UserErrorCode(problem.code))
        )
    return result


# Mutation arguments that stand beside ``input``; errors on them are not under ``input``.
_ARGUMENTS = frozenset({"id", "expectedVersion", "at", "articleId", "note", "revision"})


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    # Parse and validation errors have no original error; they are the client's to see.
    expected = (DomainError, GraphQLError, AccessDenied)
    return original is not None and not isinstance(original, expected)


class ErrorPolicy(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal server error")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            original = error.original_error
            if isinstance(original, AccessDenied):
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif isinstance(original, DomainError):
                extensions = dict(error.extensions or {})
                extensions["code"] = GRAPHQL_CODES.get(original.code, original.code)
                if original.field is not None:
                    extensions["field"] = original.field
                error.extensions = extensions
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = uuid.uuid4().hex
        logger.error(
            "unexpected error %s at %s",
            request_id,
            error.path,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked
