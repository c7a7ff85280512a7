"""How failures reach a GraphQL client.

Expected failures (``DomainError``) keep their message and gain
``extensions.code``; everything else is masked to "Internal server error" with a
request id, and logged in full under that id.
"""

import logging
import uuid

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from models.errors import DomainError

logger = logging.getLogger("vestnik.errors")

GRAPHQL_CODES = {"INVALID": "BAD_USER_INPUT", "NOT_FOUND": "NOT_FOUND"}


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    # Parse and validation errors have no original error; they are the client's to see.
    return original is not None and not isinstance(original, (DomainError, GraphQLError))


class ErrorPolicy(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Internal server error")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            original = error.original_error
            if isinstance(original, DomainError):
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
