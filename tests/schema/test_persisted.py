"""Persisted documents: automatic persisted queries (Apollo's protocol) and trusted documents.

A hash the server does not know is answered PERSISTED_QUERY_NOT_FOUND, so the client
sends the query along; a query that is not its hash's document is refused; registered
documents live in the database, so every worker process knows them. In trusted-documents
mode anonymous callers run only what an operator registered; token holders run anything.
"""

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import SessionMaker, make_engine
from models.document import PersistedDocument
from models.errors import Required
from models.services import documents
from models.services.tokens import create_token
from models.viewer import Role
from schema.persisted import DocumentStore
from server.app import create_app
from server.settings import Settings
from tests.server.running import REPO, environment, vestnik

pytestmark = pytest.mark.anyio

COUNT = "{ articles(first: 1) { totalCount } }"
COUNT_ANSWER = {"data": {"articles": {"totalCount": 0}}}
TAGS = "query Tags { tags { totalCount } }"
TAGS_ANSWER = {"data": {"tags": {"totalCount": 0}}}
INVALID = "{ articles { nope } }"
MUTATION = 'mutation { deleteTag(id: "VGFnOjE=") { errors { message } } }'

LEAKS = ("Traceback", 'File "', "/work/", ".py", "SELECT", "sqlite3", "asyncpg", "sqlalchemy")

Client = Callable[..., Awaitable[httpx.AsyncClient]]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(hash: str, version: object = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": hash}}


def refused(message: str, code: str) -> dict[str, object]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


NOT_FOUND = refused(
    "Persisted query not found: send it again with the query", "PERSISTED_QUERY_NOT_FOUND"
)
MISMATCH = refused(
    "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
    "PERSISTED_QUERY_HASH_MISMATCH",
)
NOT_TRUSTED = refused(
    "This server runs only registered documents for callers without a token; "
    "this one is not registered",
    "DOCUMENT_NOT_TRUSTED",
)


@pytest.fixture
async def app_client(engine: AsyncEngine) -> AsyncIterator[Client]:
    """Clients for apps (think: worker processes) with the given settings, on one database."""
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> httpx.AsyncClient:
            app = create_app(
                Settings(migrate_on_start=False, seed_on_start=False, **settings), engine=engine
            )
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            return await stack.enter_async_context(client)

        yield make


async def post(
    client: httpx.AsyncClient,
    query: str | None = None,
    extensions: dict[str, object] | None = None,
    token: str | None = None,
) -> httpx.Response:
    body: dict[str, object] = {"extensions": extensions} if extensions else {}
    if query is not None:
        body["query"] = query
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=body, headers=headers)


async def get(
    client: httpx.AsyncClient, query: str | None = None, extensions: dict[str, object] | None = None
) -> httpx.Response:
    params = {"extensions": json.dumps(extensions)} if extensions else {}
    if query is not None:
        params["query"] = query
    # Apollo Client asks for JSON; a browser's */* would get GraphiQL for a GET without query.
    return await client.get("/graphql", params=params, headers={"accept": "application/json"})


def assert_answer(response: httpx.Response, expected: dict[str, object]) -> None:
    assert (response.status_code, response.json()) == (200, expected)
    for fragment in LEAKS:
        assert fragment not in response.text, f"{fragment!r} leaked into {response.text!r}"


async def stored(sessionmaker: SessionMaker, hash: str) -> PersistedDocument | None:
    async with sessionmaker() as session:
        return await documents.find_document(session, hash)


async def editor_token(sessionmaker: SessionMaker) -> str:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name="Desk", role=Role.EDITOR)
    return secret


async def trust(sessionmaker: SessionMaker, body: str) -> None:
    async with sessionmaker() as session:
        await documents.add_trusted(session, body=body)


# -- automatic persisted queries ------------------------------------------------------------


async def test_apq_over_post_registers_then_runs_by_hash(client, sessionmaker):
    # when: the client tries the hash, is told to send the query, then uses the hash again
    unknown = await post(client, extensions=persisted(sha256(COUNT)))
    registered = await post(client, COUNT, persisted(sha256(COUNT)))
    by_hash = await post(client, extensions=persisted(sha256(COUNT)))

    # then
    assert_answer(unknown, NOT_FOUND)
    assert_answer(registered, COUNT_ANSWER)
    assert_answer(by_hash, COUNT_ANSWER)
    document = await stored(sessionmaker, sha256(COUNT))
    assert document is not None
    assert (document.body, document.trusted) == (COUNT, False)


async def test_apq_over_get_registers_then_runs_by_hash(client):
    # when
    unknown = await get(client, extensions=persisted(sha256(COUNT)))
    registered = await get(client, COUNT, persisted(sha256(COUNT)))
    by_hash = await get(client, extensions=persisted(sha256(COUNT)))

    # then
    assert_answer(unknown, NOT_FOUND)
    assert_answer(registered, COUNT_ANSWER)
    assert_answer(by_hash, COUNT_ANSWER)


async def test_a_mutation_registered_over_post_cannot_run_by_hash_over_get(client, sessionmaker):
    # given
    token = await editor_token(sessionmaker)
    await post(client, MUTATION, persisted(sha256(MUTATION)), token=token)

    # when
    response = await get(client, extensions=persisted(sha256(MUTATION)))

    # then
    assert await stored(sessionmaker, sha256(MUTATION)) is not None
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        "mutations are not allowed when using GET"
    ]


async def test_every_worker_knows_a_hash_registered_by_one(app_client):
    # given: two workers on one database
    first, second = await app_client(), await app_client()
    await post(first, COUNT, persisted(sha256(COUNT)))

    # when
    response = await post(second, extensions=persisted(sha256(COUNT)))

    # then
    assert_answer(response, COUNT_ANSWER)


async def test_a_query_that_is_not_its_hash_is_refused_and_not_stored(client, sessionmaker):
    # given: the hash of one document, sent with another
    claimed = sha256(TAGS)

    # when
    response = await post(client, COUNT, persisted(claimed))

    # then
    assert_answer(response, MISMATCH)
    assert await stored(sessionmaker, claimed) is None
    assert await stored(sessionmaker, sha256(COUNT)) is None
    assert_answer(await post(client, COUNT), COUNT_ANSWER)


async def test_an_invalid_document_is_not_stored(client, sessionmaker):
    # when
    response = await post(client, INVALID, persisted(sha256(INVALID)))

    # then
    assert [e["message"] for e in response.json()["errors"]] == [
        "Cannot query field 'nope' on type 'ArticleConnection'. Did you mean 'nodes'?"
    ]
    assert await stored(sessionmaker, sha256(INVALID)) is None
    assert_answer(await post(client, extensions=persisted(sha256(INVALID))), NOT_FOUND)


@pytest.mark.parametrize(
    "extensions",
    [
        persisted(sha256(COUNT), version=2),
        persisted("not-a-hash"),
        persisted("g" * 64),
        {"persistedQuery": "yes"},
    ],
    ids=["version 2", "short hash", "not hex", "not an object"],
)
async def test_a_malformed_persisted_query_is_refused(client, extensions):
    # when
    response = await post(client, extensions=extensions)

    # then
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "PERSISTED_QUERY_INVALID"}
    assert "persistedQuery" in error["message"]
    assert_answer(await post(client, COUNT), COUNT_ANSWER)


async def test_persisted_queries_can_be_turned_off(app_client):
    # given
    client = await app_client(persisted_queries=False)

    # when
    by_hash = await post(client, extensions=persisted(sha256(COUNT)))
    with_query = await post(client, COUNT, persisted(sha256(COUNT)))

    # then
    expected = refused(
        "Persisted queries are not supported here: send the query",
        "PERSISTED_QUERY_NOT_SUPPORTED",
    )
    assert_answer(by_hash, expected)
    assert_answer(with_query, expected)
    assert_answer(await post(client, COUNT), COUNT_ANSWER)


async def test_a_document_found_by_hash_still_meets_the_limits(app_client, sessionmaker):
    # given: a document registered under generous limits
    generous, strict = await app_client(max_query_depth=20), await app_client(max_query_depth=2)
    deep = "{ articles(first: 1) { nodes { tags { name } } } }"
    await post(generous, deep, persisted(sha256(deep)))

    # when
    response = await post(strict, extensions=persisted(sha256(deep)))

    # then
    expected = refused("The query is nested 4 levels deep; at most 2 are allowed", "QUERY_TOO_DEEP")
    assert_answer(response, expected)


async def test_a_database_failure_during_a_lookup_is_masked(tmp_path):
    # given: a worker whose database cannot be opened
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'vestnik.db'}")
    app = create_app(Settings(migrate_on_start=False, seed_on_start=False), engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            # when
            response = await post(client, extensions=persisted(sha256(COUNT)))
    finally:
        await engine.dispose()

    # then
    [error] = response.json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        "The database is unavailable; try again shortly",
        "DATABASE_UNAVAILABLE",
    )
    assert not any(fragment in response.text for fragment in LEAKS)


# -- trusted documents ----------------------------------------------------------------------


async def test_anonymous_callers_run_only_trusted_documents(app_client, sessionmaker):
    # given
    client = await app_client(trusted_documents_only=True)
    await trust(sessionmaker, COUNT)

    # when
    untrusted = await post(client, TAGS)
    untrusted_apq = await post(client, TAGS, persisted(sha256(TAGS)))
    by_hash = await post(client, extensions=persisted(sha256(COUNT)))
    by_text = await post(client, COUNT)

    # then
    assert_answer(untrusted, NOT_TRUSTED)
    assert_answer(untrusted_apq, NOT_TRUSTED)
    assert await stored(sessionmaker, sha256(TAGS)) is None
    assert_answer(by_hash, COUNT_ANSWER)
    assert_answer(by_text, COUNT_ANSWER)


async def test_an_unknown_hash_is_not_found_in_trusted_mode_too(app_client):
    # given
    client = await app_client(trusted_documents_only=True)

    # when
    response = await post(client, extensions=persisted(sha256(TAGS)))

    # then
    assert_answer(response, NOT_FOUND)


async def test_editors_run_any_document_in_trusted_mode(app_client, sessionmaker):
    # given
    client = await app_client(trusted_documents_only=True)
    token = await editor_token(sessionmaker)

    # when
    plain = await post(client, TAGS, token=token)
    registered = await post(client, TAGS, persisted(sha256(TAGS)), token=token)
    anonymous_by_hash = await post(client, extensions=persisted(sha256(TAGS)))

    # then: what an editor registers automatically is not trusted for anonymous callers
    assert_answer(plain, TAGS_ANSWER)
    assert_answer(registered, TAGS_ANSWER)
    assert_answer(anonymous_by_hash, NOT_TRUSTED)


async def test_trusting_a_cached_document_takes_effect_at_once(app_client, sessionmaker):
    # given: a worker has cached TAGS as untrusted
    client = await app_client(trusted_documents_only=True)
    token = await editor_token(sessionmaker)
    await post(client, TAGS, persisted(sha256(TAGS)), token=token)
    assert_answer(await post(client, extensions=persisted(sha256(TAGS))), NOT_TRUSTED)

    # when
    await trust(sessionmaker, TAGS)

    # then
    assert_answer(await post(client, extensions=persisted(sha256(TAGS))), TAGS_ANSWER)


async def test_documents_add_then_anonymous_callers_run_it(tmp_path):
    # given
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = environment(database_url=database)
    good = tmp_path / "count.graphql"
    good.write_text(COUNT + "\n", encoding="utf-8")
    bad = tmp_path / "bad.graphql"
    bad.write_text(INVALID, encoding="utf-8")

    # when
    added = vestnik("documents", "add", str(good), cwd=REPO, env=env)
    refused_file = vestnik("documents", "add", str(bad), cwd=REPO, env=env)
    listed = vestnik("documents", "list", cwd=REPO, env=env)

    # then
    hash = sha256(COUNT + "\n")
    assert (added.returncode, added.stdout) == (0, hash + "\n")
    assert refused_file.returncode == 1
    assert "Cannot query field 'nope' on type 'ArticleConnection'" in refused_file.stderr
    assert listed.returncode == 0
    assert listed.stdout.startswith(hash + "\t")
    assert listed.stdout.rstrip().endswith("{ articles(first: 1) { totalCount } }")

    engine = make_engine(database)
    try:
        app = create_app(
            Settings(migrate_on_start=False, seed_on_start=False, trusted_documents_only=True),
            engine=engine,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert_answer(await post(client, extensions=persisted(hash)), COUNT_ANSWER)
            assert_answer(await post(client, COUNT + "\n"), COUNT_ANSWER)
            assert_answer(await post(client, TAGS), NOT_TRUSTED)
    finally:
        await engine.dispose()


# -- the store and the table ----------------------------------------------------------------


async def test_the_store_caches_found_documents_least_recently_used_first(
    sessionmaker, count_queries
):
    # given
    store = DocumentStore(cache_size=2)
    for body in (COUNT, TAGS, INVALID):
        await trust(sessionmaker, body)

    # when / then: a found document is served from memory
    await store.find(sessionmaker, sha256(COUNT))
    count_queries.reset()
    await store.find(sessionmaker, sha256(COUNT))
    assert count_queries.count == 0

    # when / then: two more push it out
    await store.find(sessionmaker, sha256(TAGS))
    await store.find(sessionmaker, sha256(INVALID))
    count_queries.reset()
    await store.find(sessionmaker, sha256(COUNT))
    assert count_queries.count == 1


async def test_an_unknown_hash_is_asked_of_the_database_every_time(sessionmaker, count_queries):
    # given
    store = DocumentStore()

    # when
    first = await store.find(sessionmaker, sha256(COUNT))
    await trust(sessionmaker, COUNT)
    count_queries.reset()
    second = await store.find(sessionmaker, sha256(COUNT))

    # then: registered meanwhile (say, by another worker), so found at once
    assert first is None
    assert second is not None
    assert count_queries.count == 1


async def test_pruning_keeps_the_newest_automatic_documents_and_every_trusted_one(sessionmaker):
    # given
    async with sessionmaker() as session:
        for body in ("{ a }", "{ b }", "{ c }"):
            await documents.register_automatic(session, body=body)
        await documents.add_trusted(session, body="{ trusted }")
        for age, body in enumerate(("{ c }", "{ b }", "{ a }"), start=1):
            row = await documents.find_document(session, sha256(body))
            assert row is not None
            row.created_at = row.created_at.replace(year=row.created_at.year - age)
        await session.commit()

    # when
    async with sessionmaker() as session:
        deleted = await documents.prune_automatic(session, keep=1)

    # then
    assert deleted == 2
    async with sessionmaker() as session:
        left = {
            body
            for body in ("{ a }", "{ b }", "{ c }", "{ trusted }")
            if await documents.find_document(session, sha256(body))
        }
    assert left == {"{ c }", "{ trusted }"}


async def test_an_empty_document_cannot_be_trusted(sessionmaker):
    async with sessionmaker() as session:
        with pytest.raises(Required):
            await documents.add_trusted(session, body="  \n")


async def test_adding_an_automatic_document_again_makes_it_trusted(sessionmaker):
    # given
    async with sessionmaker() as session:
        await documents.register_automatic(session, body=COUNT)
        await documents.register_automatic(session, body=COUNT)  # a second worker: no error

    # when
    await trust(sessionmaker, COUNT)

    # then
    document = await stored(sessionmaker, sha256(COUNT))
    assert document is not None
    assert document.trusted
