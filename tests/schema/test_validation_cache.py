"""A valid document is validated once; refusals and invalid documents are unaffected."""

import pytest

from schema.context import Context
from schema.limits import QueryLimits
from schema.root import build_schema
from schema.validation_cache import ValidDocuments

pytestmark = pytest.mark.anyio


async def test_a_repeated_valid_document_is_validated_once(sessionmaker) -> None:
    schema = build_schema()
    cache = ValidDocuments().cached_validate_document
    document = "query CacheProbe { articles(first: 3) { nodes { title } } }"
    await schema.execute(document, context_value=Context(sessionmaker=sessionmaker))
    hits = cache.cache_info().hits

    again = await schema.execute(document, context_value=Context(sessionmaker=sessionmaker))

    assert again.errors is None
    assert cache.cache_info().hits == hits + 1


async def test_invalid_and_refused_documents_are_still_told_so_every_time(sessionmaker) -> None:
    schema = build_schema(QueryLimits(max_query_depth=3))
    invalid = "{ articles { nodes { headline } } }"
    too_deep = "{ articles { nodes { authors { articles { nodes { title } } } } } }"

    results = [
        await schema.execute(document, context_value=Context(sessionmaker=sessionmaker))
        for document in (invalid, invalid, too_deep, too_deep)
    ]

    messages = [[error.message for error in result.errors or []] for result in results]
    assert messages[0] == messages[1] and "headline" in messages[0][0]
    assert messages[2] == messages[3] and "deep" in messages[2][0].lower()
