"""Expected failures of the domain, carried up to the API as data.

    DomainError(message, field, code)
    ├── InvalidInput      INVALID    a value is malformed (bad cursor, page size, URL, phone)
    ├── Required          REQUIRED   a needed value is missing
    ├── TooLong           TOO_LONG   a text is over its limit
    ├── Duplicate         DUPLICATE  a unique value (slug, name) is taken
    ├── NotFound          NOT_FOUND  the entity does not exist or is not visible
    ├── Conflict          CONFLICT   an update carried a stale expectedVersion
    └── ValidationFailed  INVALID    several of the above at once (``errors``)

    AccessDenied (not a DomainError): no valid token or not the needed role.

The API layer turns DomainErrors into GraphQL errors (queries) or ``UserError``
payload entries (mutations); anything else is unexpected and gets masked.
``field`` is a dotted path in the domain's names, e.g. ``phones.0.number``.
"""

from collections.abc import Sequence


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


class Required(DomainError):
    code = "REQUIRED"


class TooLong(DomainError):
    code = "TOO_LONG"


class Duplicate(DomainError):
    code = "DUPLICATE"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"

    def __init__(self, message: str, current_version: int, field: str = "expectedVersion") -> None:
        super().__init__(message, field=field)
        self.current_version = current_version


class ValidationFailed(DomainError):
    """Every problem of one input, so a form can show each next to its field."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


class AccessDenied(Exception):
    """The caller may not do this: ``code`` is UNAUTHENTICATED or FORBIDDEN."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
