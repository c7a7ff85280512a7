"""Markdown to safe HTML.

markdown-it-py renders CommonMark (plus tables and strikethrough); raw HTML in
the source is allowed through to the renderer but then everything goes through
nh3 (Ammonia), which keeps a fixed allow-list of tags and attributes and drops
scripts, event handlers and ``javascript:`` URLs.
"""

import math

import nh3
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    # markdown-it writes column alignment as style="text-align:..."; only that survives.
    "td": {"style"},
    "th": {"style"},
    "ol": {"start"},
    "abbr": {"title"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}

WORDS_PER_MINUTE = 200


def render_markdown(source: str) -> str:
    """Render Markdown ``source`` to sanitised HTML."""
    return nh3.clean(
        _markdown.render(source),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def reading_time_minutes(*texts: str) -> int:
    """Whole minutes to read ``texts`` at an ordinary adult pace; at least one."""
    words = sum(len(text.split()) for text in texts)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
