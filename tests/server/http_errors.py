"""The JSON errors the HTTP layer answers with, for tests that assert whole payloads."""

import httpx


def http_error(response: httpx.Response, message: str, code: str) -> dict[str, object]:
    """The body a refusal must have: its message, its code and this response's request id."""
    extensions = {"code": code, "requestId": response.headers["x-request-id"]}
    return {"errors": [{"message": message, "extensions": extensions}]}
