"""Errors a client caused are answered, not logged as server failures."""

import logging

import pytest

from schema.context import Context
from schema.root import build_schema

pytestmark = pytest.mark.anyio

CLIENT_MISTAKES = {
    "unknown field": "{ articles { nodes { headline } } }",
    "syntax error": "{ articles { nodes { title }",
    "bad variable": "query ($n: Int!) { articles(first: $n) { nodes { title } } }",
}


@pytest.mark.parametrize("document", CLIENT_MISTAKES.values(), ids=CLIENT_MISTAKES.keys())
async def test_a_clients_bad_document_logs_no_error(
    document: str, sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    result = await build_schema().execute(
        document, variable_values={"n": "many"}, context_value=Context(sessionmaker=sessionmaker)
    )

    assert result.errors
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
