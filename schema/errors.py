"""How failures reach a GraphQL client.

Expected failures (``DomainError``) keep their message and gain
``extensions.code``; everything else is masked to "Internal server error" with the
request's id, and logged in full under that id. A database that is down or too slow
is not a bug: its errors say so (``DATABASE_UNAVAILABLE``, ``TIMEOUT``).
"""

import logging
import re
import uuid
from enum import Enum

import strawberry
from graphql import GraphQLError

from models.db import DatabaseFailure, database_failure
from models.errors import AccessDenied, DomainError, ValidationFailed
from schema.strawberry_internals import MaskedErrors

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


# What graphql-core's did_you_mean appends to a message: " Did you mean 'a' or 'b'?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class ErrorPolicy(MaskedErrors):
    def __init__(self, *, hide_suggestions: bool = False) -> None:
        """``hide_suggestions``: with introspection off, names the caller did not write
        must not leak through "Did you mean ...?" (Strawberry 0.341 does not pass
        graphql-core's own ``hide_suggestions`` on, so they are cut here)."""
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal server error")
        self.hide_suggestions = hide_suggestions

    def after_masking(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        for error in errors:
            if self.hide_suggestions:
                error.message = _SUGGESTION.sub("", error.message)
            original = error.original_error
            if isinstance(original, AccessDenied):
                error.extensions = {**(error.extensions or {}), "code": original.code}
            elif isinstance(original, DomainError):
                extensions = dict(error.extensions or {})
                extensions["code"] = GRAPHQL_CODES.get(original.code, original.code)
                if original.field is not None:
                    extensions["field"] = original.field
                error.extensions = extensions
        return errors

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        # The HTTP layer's id (X-Request-ID), so the client, the header and the log agree.
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None) or uuid.uuid4().hex
        masked = super().anonymise_error(error)
        failure = database_failure(error.original_error)
        if failure is not None:
            # The database's fault, not a bug: one log line, and a message the client can act on.
            logger.warning(
                "request %s at %s: database %s: %s",
                request_id,
                error.path,
                failure.value,
                str(error.original_error),  # not the exception: a kept record keeps it alive
            )
            message, code = DATABASE_ERRORS[failure]
            masked.message = message
            masked.extensions = {"code": code, "requestId": request_id}
            return masked
        logger.error(
            "unexpected error %s at %s",
            request_id,
            error.path,
            exc_info=error.original_error,
        )
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


DATABASE_ERRORS = {
    DatabaseFailure.UNAVAILABLE: (
        "The database is unavailable; try again shortly",
        "DATABASE_UNAVAILABLE",
    ),
    DatabaseFailure.TIMEOUT: ("The database took too long to answer", "TIMEOUT"),
}
