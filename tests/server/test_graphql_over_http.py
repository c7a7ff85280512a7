"""GraphQL over HTTP: ``application/graphql-response+json`` for clients that ask for it."""

import pytest

pytestmark = pytest.mark.anyio

SPEC = "application/graphql-response+json"
QUERY = "{ articles { totalCount } }"


async def post(client, query, accept):
    return await client.post("/graphql", json={"query": query}, headers={"accept": accept})


async def test_a_client_asking_for_the_spec_media_type_gets_it(client):
    # when
    response = await post(client, QUERY, f"{SPEC}, application/json;q=0.9")

    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SPEC)
    assert response.json() == {"data": {"articles": {"totalCount": 0}}}


async def test_a_request_error_is_400_without_data(client):
    # when: the document does not validate, so no field runs
    response = await post(client, "{ articles { nope } }", SPEC)

    # then
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(SPEC)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Cannot query field 'nope'")


async def test_a_field_error_stays_200_with_data(client):
    # when: the document is valid; a field refuses its argument
    response = await post(client, "{ articles(first: -1) { totalCount } }", SPEC)

    # then
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["path"] == ["articles"]


async def test_plain_json_clients_keep_status_200(client):
    # when
    response = await post(client, "{ articles { nope } }", "application/json")

    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None
