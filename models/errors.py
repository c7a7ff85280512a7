"""Expected failures of the domain, carried up to the API as data.

    DomainError(message, field, code)
    ├── InvalidInput      code INVALID   a value is malformed (bad cursor, page size, ID)
    └── NotFound          code NOT_FOUND the entity does not exist or is not visible

The API layer turns these into GraphQL errors (queries) or ``UserError`` payload
entries (mutations); anything else is unexpected and gets masked.
"""


class DomainError(Exception):
    code = "INVALID"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    code = "INVALID"


class NotFound(DomainError):
    code = "NOT_FOUND"
