"""Bearer tokens: who a request speaks for, refusals that never fall back to anonymous,
and the ``vestnik token`` commands end to end."""

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa

from models import ArticleStatus, Role
from models.db import SessionMaker, make_engine
from models.services.tokens import create_token, revoke_token
from server.app import create_app
from server.settings import Settings
from tests.factories import make_article, make_author
from tests.server.http_errors import http_error

pytestmark = pytest.mark.anyio

NO_STARTUP = Settings(migrate_on_start=False, seed_on_start=False)
CHALLENGE = 'Bearer error="invalid_token"'
SECRET_SHAPE = re.compile(r"vst_[A-Za-z0-9_-]{43}")
COMMAND_TIMEOUT_SECONDS = 60

_SCRIPT = Path(sys.executable).parent / "vestnik"
# The console script when installed next to this interpreter, else the same CLI via -m.
VESTNIK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server"]

ARTICLES = """
query Articles {
  articles(orderBy: TITLE_ASC) { nodes { slug status authors { email } } totalCount }
}
"""

PUBLIC_COUNT = "query PublicCount { articles { totalCount } }"

CREATE_ARTICLE = """
mutation CreateArticle($title: String!) {
  createArticle(input: {title: $title}) { article { slug } errors { field message code } }
}
"""


async def post(
    client: httpx.AsyncClient, query: str, authorization: str | None = None, **variables: Any
) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def invalid_token(response: httpx.Response) -> dict[str, object]:
    return http_error(response, "invalid token", "UNAUTHENTICATED")


async def issue(sessionmaker: SessionMaker, name: str = "Desk", role: Role = Role.EDITOR) -> str:
    async with sessionmaker() as session:
        _, secret = await create_token(session, name=name, role=role)
    return secret


async def given_a_draft_and_a_published_article(sessionmaker: SessionMaker) -> None:
    author = await make_author(sessionmaker, email="hanna@example.by")
    await make_article(sessionmaker, "Out now", slug="out-now", authors=[author])
    await make_article(sessionmaker, "In progress", slug="in-progress", status=ArticleStatus.DRAFT)


# --- requests --------------------------------------------------------------------------------


async def test_no_header_is_anonymous(client, sessionmaker):
    # given
    await given_a_draft_and_a_published_article(sessionmaker)

    # when
    response = await post(client, ARTICLES)
    mutation = await post(client, CREATE_ARTICLE, title="Sneaky")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "articles": {
                "nodes": [{"slug": "out-now", "status": "PUBLISHED", "authors": [{"email": None}]}],
                "totalCount": 1,
            }
        }
    }
    assert mutation.status_code == 200
    assert mutation.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_a_valid_editor_token_sees_drafts_and_emails(client, sessionmaker, scheme):
    # given
    await given_a_draft_and_a_published_article(sessionmaker)
    secret = await issue(sessionmaker)

    # when
    response = await post(client, ARTICLES, f"{scheme} {secret}")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "articles": {
                "nodes": [
                    {"slug": "in-progress", "status": "DRAFT", "authors": []},
                    {
                        "slug": "out-now",
                        "status": "PUBLISHED",
                        "authors": [{"email": "hanna@example.by"}],
                    },
                ],
                "totalCount": 2,
            }
        }
    }


Header = Callable[[str], str]

REFUSED_HEADERS: dict[str, Header] = {
    "wrong token": lambda secret: "Bearer vst_" + "A" * 43,
    "not a token": lambda secret: "Bearer not-a-token",
    "scheme only": lambda secret: "Bearer",
    "scheme and blank": lambda secret: "Bearer   ",
    "other scheme": lambda secret: "Basic x",
    "right secret, other scheme": lambda secret: f"Token {secret}",
    "two words": lambda secret: "Bearer a b",
    "secret and more": lambda secret: f"Bearer {secret} extra",
    "empty": lambda secret: "",
}


@pytest.mark.parametrize("header", REFUSED_HEADERS)
async def test_a_bad_token_is_refused_never_treated_as_anonymous(client, sessionmaker, header):
    # given: a query the public could run without any header
    secret = await issue(sessionmaker)
    await make_article(sessionmaker)

    # when
    response = await post(client, PUBLIC_COUNT, REFUSED_HEADERS[header](secret))
    by_get = await client.get(
        "/graphql",
        params={"query": PUBLIC_COUNT},
        headers={"Authorization": REFUSED_HEADERS[header](secret)},
    )

    # then
    for answer in (response, by_get):
        assert answer.status_code == 401
        assert answer.json() == invalid_token(answer)
        assert answer.headers["www-authenticate"] == CHALLENGE
        assert answer.headers["content-type"] == "application/json"


async def test_a_revoked_token_is_refused(client, sessionmaker):
    # given
    secret = await issue(sessionmaker, "Press office")
    before = await post(client, PUBLIC_COUNT, f"Bearer {secret}")

    # when
    async with sessionmaker() as session:
        await revoke_token(session, name="Press office")
    after = await post(client, PUBLIC_COUNT, f"Bearer {secret}")

    # then
    assert before.status_code == 200
    assert (after.status_code, after.json()) == (401, invalid_token(after))
    assert after.headers["www-authenticate"] == CHALLENGE


async def test_refusing_one_token_leaves_the_others_working(client, sessionmaker):
    # given
    kept = await issue(sessionmaker, "Desk")
    await issue(sessionmaker, "Press office")
    async with sessionmaker() as session:
        await revoke_token(session, name="Press office")

    # when
    response = await post(client, CREATE_ARTICLE, f"Bearer {kept}", title="Still here")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": {"createArticle": {"article": {"slug": "still-here"}, "errors": []}}
    }


# --- the token commands ----------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    """A database URL of a file the commands and the test share."""
    return f"sqlite+aiosqlite:///{tmp_path / 'vestnik.db'}"


async def vestnik(cwd: Path, url: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the real command, configured only by the environment."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("VESTNIK_")}
    env["VESTNIK_DATABASE_URL"] = url
    with anyio.fail_after(COMMAND_TIMEOUT_SECONDS):
        return await anyio.run_process([*VESTNIK, *args], cwd=cwd, env=env, check=False)


def lines(output: bytes) -> list[str]:
    return output.decode().splitlines()


@asynccontextmanager
async def app_on(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the same database the commands wrote."""
    engine = make_engine(url)
    app = create_app(NO_STARTUP, engine=engine)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await engine.dispose()


async def stored_tokens(url: str) -> list[dict[str, Any]]:
    """Every column of every stored token."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            query = sa.text("SELECT * FROM api_token ORDER BY id")
            return [dict(row._mapping) for row in (await connection.execute(query)).all()]
    finally:
        await engine.dispose()


async def test_token_create_prints_the_secret_once_and_stores_only_its_hash(tmp_path, cli_db):
    # when
    created = await vestnik(
        tmp_path, cli_db, "token", "create", "--name", "Press office", "--role", "editor"
    )

    # then: stdout is the secret and nothing else
    assert created.returncode == 0, created.stderr.decode()
    assert len(lines(created.stdout)) == 1
    secret = lines(created.stdout)[0]
    assert SECRET_SHAPE.fullmatch(secret), secret
    assert "Press office" in created.stderr.decode()
    assert secret not in created.stderr.decode()

    # and only its SHA-256 is kept, anywhere in the database files
    rows = await stored_tokens(cli_db)
    assert rows == [
        {
            "id": 1,
            "name": "Press office",
            "role": "editor",
            "secret_hash": hashlib.sha256(secret.encode()).hexdigest(),
            "created_at": rows[0]["created_at"],
            "revoked_at": None,
        }
    ]
    for path in tmp_path.glob("vestnik.db*"):
        assert secret.encode() not in path.read_bytes(), path.name

    # and the secret works as an editor's token
    async with app_on(cli_db) as client:
        response = await post(client, CREATE_ARTICLE, f"Bearer {secret}", title="Hello")
    assert response.json() == {
        "data": {"createArticle": {"article": {"slug": "hello"}, "errors": []}}
    }

    # and the list shows it, active
    listed = await vestnik(tmp_path, cli_db, "token", "list")
    assert listed.returncode == 0, listed.stderr.decode()
    assert len(lines(listed.stdout)) == 1
    assert re.fullmatch(
        r"Press office\teditor\tcreated \d{4}-\d\d-\d\d \d\d:\d\d\tactive", lines(listed.stdout)[0]
    )
    assert secret not in listed.stdout.decode()


async def test_token_create_refuses_a_name_in_use(tmp_path, cli_db):
    # given
    first = await vestnik(tmp_path, cli_db, "token", "create", "--name", "Press office")
    assert first.returncode == 0, first.stderr.decode()

    # when
    second = await vestnik(
        tmp_path, cli_db, "token", "create", "--name", "Press office", "--role", "admin"
    )

    # then
    assert second.returncode == 1
    assert second.stdout == b""
    assert lines(second.stderr) == ["error: A token named 'Press office' already exists"]
    assert [(row["name"], row["role"]) for row in await stored_tokens(cli_db)] == [
        ("Press office", "editor")
    ]


async def test_token_revoke_refuses_later_requests(tmp_path, cli_db):
    # given
    created = await vestnik(tmp_path, cli_db, "token", "create", "--name", "Press office")
    assert created.returncode == 0, created.stderr.decode()
    secret = lines(created.stdout)[0]
    async with app_on(cli_db) as client:
        before = await post(client, PUBLIC_COUNT, f"Bearer {secret}")

    # when
    revoked = await vestnik(tmp_path, cli_db, "token", "revoke", "Press office")

    # then
    assert revoked.returncode == 0, revoked.stderr.decode()
    assert lines(revoked.stdout) == ["token 'Press office' revoked"]
    assert before.status_code == 200
    async with app_on(cli_db) as client:
        after = await post(client, PUBLIC_COUNT, f"Bearer {secret}")
    assert (after.status_code, after.json()) == (401, invalid_token(after))
    assert after.headers["www-authenticate"] == CHALLENGE
    listed = await vestnik(tmp_path, cli_db, "token", "list")
    assert re.fullmatch(
        r"Press office\teditor\tcreated [\d: -]{16}\trevoked \d{4}-\d\d-\d\d \d\d:\d\d",
        lines(listed.stdout)[0],
    )


async def test_token_revoke_of_an_unknown_name_fails(tmp_path, cli_db):
    # when
    revoked = await vestnik(tmp_path, cli_db, "token", "revoke", "Nobody")

    # then
    assert revoked.returncode == 1
    assert revoked.stdout == b""
    assert lines(revoked.stderr) == ["error: No token named 'Nobody'"]
