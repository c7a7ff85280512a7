import pytest

from tests.factories import make_article

pytestmark = pytest.mark.anyio


async def test_articles_list_over_http(client, sessionmaker):
    article = await make_article(sessionmaker, "Hello")
    response = await client.post(
        "/graphql", json={"query": "{ articles { nodes { title } totalCount } }"}
    )
    assert response.json() == {
        "data": {"articles": {"nodes": [{"title": "Hello"}], "totalCount": 1}}
    }
    assert article.id == 1
