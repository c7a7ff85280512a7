"""GraphiQL works with no internet: the page and every file it loads come from this server."""

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models.services.seed import OFFICE
from server.app import create_app
from server.graphiql import EXAMPLE_QUERY
from server.settings import Settings

pytestmark = pytest.mark.anyio

BROWSER = {"accept": "text/html"}
ASSET = "/graphiql-assets/react@18.2.0/umd/react.production.min.js"
CDNS = ("unpkg", "jsdelivr", "cdnjs", "googleapis")
CONTENT_TYPES = {".js": "javascript", ".css": "text/css"}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class Resources(HTMLParser):
    """Every <script src> and <link href> of a page, with its integrity attribute."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.urls: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        url = attributes.get("src") if tag == "script" else attributes.get("href")
        if tag in ("script", "link") and url is not None:
            self.urls.append((url, attributes.get("integrity")))


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


async def get_page(client: httpx.AsyncClient, path: str = "/graphql") -> httpx.Response:
    response = await client.get(path, headers=BROWSER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response


async def test_browsers_get_graphiql_with_the_example_query(client):
    # when
    page = (await get_page(client)).text

    # then
    assert "<title>Vestnik GraphiQL</title>" in page
    assert f"const EXAMPLE_QUERY = {json.dumps(EXAMPLE_QUERY)};" in page
    assert "articles(first: 5)" in EXAMPLE_QUERY
    assert f'office(slug: "{OFFICE.slug}")' in EXAMPLE_QUERY
    assert "explorerPlugin()" in page


async def test_every_script_and_stylesheet_is_served_here_as_pinned(client):
    # given
    page = (await get_page(client)).text
    resources = Resources(page).urls
    assets = [(url, integrity) for url, integrity in resources if not url.startswith("data:")]

    # then: React, ReactDOM, GraphiQL's script and styles, the explorer's script and styles
    assert len(assets) == 6, resources
    for url, integrity in assets:
        assert url.startswith("/graphiql-assets/"), url
        response = await client.get(url)
        assert response.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert CONTENT_TYPES[suffix] in response.headers["content-type"], url
        assert sri(response.content) == integrity, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_the_page_names_no_other_host(client):
    # when
    response = await get_page(client)

    # then
    page = response.text.lower()
    for cdn in CDNS:
        assert cdn not in page, cdn
    assert "http://" not in page
    assert "https://" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']//""", page)


async def test_the_browser_may_load_nothing_from_elsewhere(client):
    # when
    response = await get_page(client)

    # then: only this server, and the page's own inline script by its hash
    policy = response.headers["content-security-policy"]
    inline = INLINE_SCRIPT.search(response.text)
    assert inline is not None
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(inline[1].encode()).digest()).decode()
    assert f"script-src 'self' '{script_hash}';" in policy
    assert "default-src 'none';" in policy
    assert "connect-src 'self';" in policy
    assert "http" not in policy
    assert "*" not in policy


async def test_behind_a_proxy_prefix_the_assets_keep_it(engine: AsyncEngine):
    # given: the server mounted at /api by a proxy (uvicorn --root-path /api)
    app = create_app(Settings(migrate_on_start=False, seed_on_start=False), engine=engine)
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # when
        page = (await get_page(client, "/api/graphql")).text

        # then
        urls = [url for url, _ in Resources(page).urls if not url.startswith("data:")]
        assert urls
        for url in urls:
            assert url.startswith("/api/graphiql-assets/"), url
            assert (await client.get(url)).status_code == 200, url


@pytest.fixture
async def no_graphiql_client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(graphiql=False, migrate_on_start=False, seed_on_start=False)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_disabled_graphiql_serves_neither_page_nor_assets(no_graphiql_client):
    # when
    page = await no_graphiql_client.get("/graphql", headers=BROWSER)
    asset = await no_graphiql_client.get(ASSET)

    # then
    assert page.status_code == 404
    assert "GraphiQL" not in page.text
    assert asset.status_code == 404
