"""GraphiQL from vendored files, so the IDE works on an intranet with no internet.

Strawberry's own page loads React, GraphiQL and the explorer plugin from a public CDN.
``static/graphiql/page.html`` is a copy of it that loads the same files, byte for byte
(the integrity hashes are Strawberry's), from ``static/graphiql/assets``;
``scripts/vendor-graphiql`` refreshes them from the npm registry.
"""

import base64
import functools
import hashlib
import json
import os
import re
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from models.services.seed import OFFICE

STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_DIR = STATIC_DIR / "assets"
ASSETS_PATH = "/graphiql-assets"

EXAMPLE_QUERY = f"""\
# The latest articles and the seed office.
# Run: Ctrl-Enter, or the ▶ button.
{{
  articles(first: 5) {{
    nodes {{ title publishedAt sourceName }}
  }}
  office(slug: "{OFFICE.slug}") {{
    name
    hoursText
    isOpen
  }}
}}
"""

# The one inline <script>, allowed by its hash; every other source is this server.
_PLACEHOLDER = re.compile(r"\{\{\w+\}\}")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_POLICY = (
    "default-src 'none'; script-src 'self' '{script_hash}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def graphiql_response(root_path: str) -> Response:
    """The page for a GraphQL endpoint served under ``root_path`` ("" unless behind a proxy)."""
    html, policy = _page(root_path + ASSETS_PATH)
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


@functools.cache
def _page(assets_url: str) -> tuple[str, str]:
    """The HTML and its Content-Security-Policy, which forbids any other host."""
    # json.dumps makes a JavaScript string; escaping "<" keeps "</script>" out of it.
    example = json.dumps(EXAMPLE_QUERY).replace("<", "\\u003c")
    template = (STATIC_DIR / "page.html").read_text(encoding="utf-8")
    html = template.replace("{{assets}}", assets_url).replace("{{example_query}}", example)
    inline = _INLINE_SCRIPT.search(html)
    if inline is None or _PLACEHOLDER.search(html):
        raise RuntimeError("static/graphiql/page.html lost its inline script or a placeholder")
    digest = hashlib.sha256(inline.group(1).encode()).digest()
    script_hash = "sha256-" + base64.b64encode(digest).decode()
    return html, _POLICY.format(script_hash=script_hash)


class VersionedStaticFiles(StaticFiles):
    """Files under ``name@version/`` directories: a URL never changes content, cache it forever."""

    def __init__(self) -> None:
        super().__init__(directory=ASSETS_DIR)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
