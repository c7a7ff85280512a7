"""What must never reach a client, whatever it sent: shared by the hostile-input tests.

The SQL keywords are matched in capitals, as SQLAlchemy writes them; the tests' own
injection strings are written in lower case, so an answer that quotes a client's value
back is not taken for a leak.
"""

import httpx

LEAKS = (
    # tracebacks and paths on the server
    "Traceback",
    'File "',
    "/work/",
    "site-packages",
    ".py",
    # SQL and the database drivers
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    " WHERE ",
    "sqlite3",
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "psycopg",
    "byte sequence",
    # exception class names
    "<class '",
    "IntegrityError",
    "OperationalError",
    "ProgrammingError",
    "DataError",
    "InterfaceError",
    "ValueError",
    "KeyError",
    "TypeError",
    "IndexError",
    "AttributeError",
    "AssertionError",
    "RecursionError",
    "UnicodeEncodeError",
    "UnicodeDecodeError",
    "errors.pydantic.dev",
)

# Codes that mean the server, not the client, is at fault.
SERVER_FAULTS = frozenset(
    {"INTERNAL_SERVER_ERROR", "DATABASE_UNAVAILABLE", "TIMEOUT", "OVERLOADED"}
)


def leaked(text: str) -> list[str]:
    """The fragments of ``LEAKS`` found in ``text``."""
    return [fragment for fragment in LEAKS if fragment in text]


def assert_nothing_leaks(response: httpx.Response) -> None:
    found = leaked(response.text)
    assert not found, f"{found} leaked into {response.text!r}"


def error_codes(body: object) -> list[object]:
    """``extensions.code`` of every error in a GraphQL answer (or a batch of them)."""
    results = body if isinstance(body, list) else [body]
    codes = []
    for result in results:
        errors = result.get("errors") if isinstance(result, dict) else None
        for error in errors or []:
            extensions = error.get("extensions") if isinstance(error, dict) else None
            codes.append(extensions.get("code") if isinstance(extensions, dict) else None)
    return codes
