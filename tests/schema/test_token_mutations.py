"""Admins manage API tokens over GraphQL as `vestnik token` does on the command line."""

from typing import Any

import httpx
import pytest

from models import Role
from models.db import SessionMaker
from models.services.tokens import create_token

pytestmark = pytest.mark.anyio

CREATE = """
mutation Create($name: String!, $role: TokenRole!) {
  createApiToken(name: $name, role: $role) {
    token { name role revokedAt } secret errors { field message code }
  }
}
"""
REVOKE = """
mutation Revoke($name: String!) {
  revokeApiToken(name: $name) { token { name } errors { field message code } }
}
"""
LIST = "query List { apiTokens { name role revokedAt } }"
AUDIT = "query Audit { auditLog { nodes { actor action details } } }"
WHO_AM_I = "query Drafts { articles { totalCount } }"


async def gql(client: httpx.AsyncClient, secret: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {secret}"},
    )
    return response.json()


async def token(sessionmaker: SessionMaker, name: str, role: Role) -> str:
    async with sessionmaker() as session:
        return (await create_token(session, name=name, role=role))[1]


async def test_admin_issues_lists_and_revokes_a_token(client, sessionmaker):
    # given
    admin = await token(sessionmaker, "Admin", Role.ADMIN)

    # when
    created = (await gql(client, admin, CREATE, name="Kiosk desk", role="EDITOR"))["data"]
    secret = created["createApiToken"]["secret"]

    # then: the secret works once issued, and is never listed
    assert created["createApiToken"]["token"] == {
        "name": "Kiosk desk",
        "role": "editor",
        "revokedAt": None,
    }
    assert created["createApiToken"]["errors"] == []
    assert (await gql(client, secret, WHO_AM_I)) == {"data": {"articles": {"totalCount": 0}}}
    listed = (await gql(client, admin, LIST))["data"]["apiTokens"]
    assert [t["name"] for t in listed] == ["Admin", "Kiosk desk"]
    assert secret not in str(listed)

    # when: revoked
    revoked = await gql(client, admin, REVOKE, name="Kiosk desk")

    # then
    assert revoked == {"data": {"revokeApiToken": {"token": {"name": "Kiosk desk"}, "errors": []}}}
    refused = await client.post(
        "/graphql", json={"query": WHO_AM_I}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert refused.status_code == 401
    actions = [e["action"] for e in (await gql(client, admin, AUDIT))["data"]["auditLog"]["nodes"]]
    assert actions == ["token.revoked", "token.created"]


async def test_duplicate_and_unknown_names_are_user_errors(client, sessionmaker):
    # given
    admin = await token(sessionmaker, "Admin", Role.ADMIN)

    # when
    duplicate = await gql(client, admin, CREATE, name="Admin", role="ADMIN")
    unknown = await gql(client, admin, REVOKE, name="Nobody")
    blank = await gql(client, admin, CREATE, name="  ", role="EDITOR")

    # then
    assert duplicate["data"]["createApiToken"] == {
        "token": None,
        "secret": None,
        "errors": [
            {
                "field": ["name"],
                "message": "A token named 'Admin' already exists",
                "code": "DUPLICATE",
            }
        ],
    }
    assert unknown["data"]["revokeApiToken"]["errors"] == [
        {"field": ["name"], "message": "No token named 'Nobody'", "code": "NOT_FOUND"}
    ]
    assert blank["data"]["createApiToken"]["errors"][0]["code"] == "INVALID"


async def test_editors_cannot_manage_tokens(client, sessionmaker):
    # given
    editor = await token(sessionmaker, "Desk", Role.EDITOR)

    # when
    body = await gql(client, editor, CREATE, name="Sneaky", role="ADMIN")
    listed = await gql(client, editor, LIST)

    # then
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = await token(sessionmaker, "Admin", Role.ADMIN)
    names = [t["name"] for t in (await gql(client, admin, LIST))["data"]["apiTokens"]]
    assert names == ["Admin", "Desk"]
