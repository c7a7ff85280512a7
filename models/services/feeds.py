"""RSS and Atom feeds into articles, idempotent by the entry's URL.

Each entry becomes an article (a draft, or published with the entry's date) whose
``source_url`` is the entry's link and ``source_name`` the feed's title. An entry whose
link is already some article's source URL is skipped, so importing a feed again adds
only what is new; existing articles are never changed (edit them in the API).

Feeds carry HTML. It is never stored: the body becomes Markdown (paragraphs, headings,
lists, quotes, links, images on http(s) URLs; every other tag dropped, scripts and styles
with their content) with Markdown's special characters escaped, so text such as
``<script>`` stays text; the lead and title become plain text. ``render_markdown``
sanitises the HTML made from the body again.

The whole feed is parsed before anything is written: a file that is not well-formed XML
imports nothing. Entries are then written one transaction each, so one bad entry is
reported (its title and why) and the rest still import.
"""

import re
import time
import xml.sax
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Article, ArticleCreate, ArticleInput, ArticleStatus, Language
from models.columns import utcnow
from models.errors import DomainError
from models.services.article_edits import (
    SLUG_ATTEMPTS,
    free_slug,  # the same slug rule
    insert_article,
)
from models.services.backup import NoProgress, Progress
from models.slugs import slugify
from models.validation import check

MAX_TITLE = 500
MAX_LEAD = 2000


class FeedError(DomainError):
    """The input is not a feed we can read; nothing was imported."""

    code = "INVALID_FEED"


@dataclass(frozen=True)
class FeedEntry:
    """One entry, already turned into article text."""

    title: str
    link: str | None
    lead: str
    body: str
    published_at: datetime | None


@dataclass(frozen=True)
class Feed:
    title: str | None
    entries: list[FeedEntry]


@dataclass
class FeedImport:
    """What an import did, entry by entry."""

    created: list[Article] = field(default_factory=list)
    skipped: list[FeedEntry] = field(default_factory=list)  # source URL already imported
    failed: list[tuple[FeedEntry, str]] = field(default_factory=list)  # and why


def parse_feed(data: bytes) -> Feed:
    """Parse RSS (0.9x, 1.0, 2.0) or Atom; ``FeedError`` when it is not a readable feed."""
    # Always bytes: given a str, feedparser would treat a URL as something to fetch.
    parsed = feedparser.parse(data)
    problem = dict.get(parsed, "bozo_exception")
    if isinstance(problem, xml.sax.SAXParseException):
        # feedparser puts an XML declaration on a line of its own before a document
        # without one: count lines as they are in the file.
        declared = data.removeprefix(b"\xef\xbb\xbf").startswith(b"<?xml")
        line = max(1, (problem.getLineNumber() or 1) - (0 if declared else 1))
        raise FeedError(
            f"Not well-formed XML (line {line}, column "
            f"{problem.getColumnNumber()}: {problem.getMessage()}); nothing was imported"
        )
    if not parsed.version:
        raise FeedError("Not an RSS or Atom feed; nothing was imported")
    title = _plain(_raw(parsed.feed, "title_detail"), single_line=True) or None
    return Feed(title=title, entries=[_entry(entry) for entry in parsed.entries])


async def import_feed(
    session: AsyncSession,
    *,
    feed: Feed,
    language: Language = Language.RU,
    publish: bool = False,
    source_name: str | None = None,
    progress: Progress | None = None,
) -> FeedImport:
    """Store each new entry as an article, one transaction per entry."""
    progress = progress or NoProgress()
    progress.start(len(feed.entries))
    report = FeedImport()
    for entry in feed.entries:
        try:
            article = await _import_entry(
                session, entry, language, publish, source_name or feed.title
            )
        except DomainError as error:
            await session.rollback()
            report.failed.append((entry, error.message))
        else:
            if article is None:
                report.skipped.append(entry)
            else:
                report.created.append(article)
        progress.advance(1)
    return report


async def _import_entry(
    session: AsyncSession,
    entry: FeedEntry,
    language: Language,
    publish: bool,
    source_name: str | None,
) -> Article | None:
    if not entry.link:
        raise DomainError("the entry has no link, so it could not be imported again safely")
    given, errors = check(
        ArticleInput,
        {
            "title": entry.title,
            "lead": entry.lead,
            "body": entry.body,
            "language": language,
            "source_name": source_name,
            "source_url": entry.link,
        },
    )
    if given is None:
        raise DomainError("; ".join(f"{e.field}: {e.message}" for e in errors))
    source_url = str(given.source_url)
    if await _imported(session, {entry.link, source_url}):
        return None
    data: dict[str, Any] = {
        "title": given.title,
        "lead": given.lead,
        "body": given.body,
        "language": language,
        "source_name": given.source_name,
        "source_url": source_url,
        "status": ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
        "published_at": (entry.published_at or utcnow()) if publish else None,
    }
    base = slugify(given.title, language) or "article"
    for _ in range(SLUG_ATTEMPTS):
        slug = await free_slug(session, base, language)
        try:
            article = await insert_article(
                session, data=ArticleCreate.model_validate({**data, "slug": slug})
            )
            # Out of the session: a later entry's rollback must not expire it.
            session.expunge(article)
            return article
        except IntegrityError:  # another writer took the slug meanwhile: pick the next one
            await session.rollback()
    raise DomainError(f"no free slug for '{base}'")


async def _imported(session: AsyncSession, urls: set[str]) -> bool:
    stmt = select(Article.id).where(col(Article.source_url).in_(sorted(urls))).limit(1)
    return (await session.exec(stmt)).first() is not None


# --- entries -------------------------------------------------------------------------------


def _raw(mapping: Any, key: str) -> Any:
    # dict.get, not FeedParserDict.get: the latter maps some missing keys to others with a
    # DeprecationWarning (feedparser issue 310), and we want exactly the key asked for.
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _entry(entry: Any) -> FeedEntry:
    summary = _raw(entry, "summary_detail")
    contents = _raw(entry, "content") or []
    content = next((c for c in contents if _raw(c, "value")), None)
    lead = _shorten(_plain(summary), MAX_LEAD)
    if content is not None:
        body = _markdown(content)
    elif summary is not None and _plain(summary) != lead:
        body = _markdown(summary)  # the summary is all there is, and it did not fit the lead
    else:
        body = ""
    title = _shorten(_plain(_raw(entry, "title_detail"), single_line=True), MAX_TITLE)
    link = _raw(entry, "link")
    return FeedEntry(
        title=title,
        link=link.strip() if isinstance(link, str) and link.strip() else None,
        lead=lead,
        body=body,
        published_at=_when(_raw(entry, "published_parsed") or _raw(entry, "updated_parsed")),
    )


def _when(parsed: time.struct_time | None) -> datetime | None:
    # feedparser gives every date as a struct_time in UTC.
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


def _is_html(detail: Any) -> bool:
    return _raw(detail, "type") in ("text/html", "application/xhtml+xml")


def _plain(detail: Any, *, single_line: bool = False) -> str:
    value = _raw(detail, "value") or ""
    text = _HtmlToMarkdown.convert(value, markdown=False) if _is_html(detail) else value.strip()
    return " ".join(text.split()) if single_line else text


def _markdown(detail: Any) -> str:
    value = _raw(detail, "value") or ""
    if _is_html(detail):
        return _HtmlToMarkdown.convert(value, markdown=True)
    paragraphs = re.split(r"\n\s*\n", value.strip())
    return "\n\n".join(
        _escape_line_start(_escape(" ".join(p.split()))) for p in paragraphs if p.strip()
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(None, 1)[0] if " " in cut else cut).rstrip() + "…"


# --- HTML to Markdown ------------------------------------------------------------------------

_ESCAPED = re.compile(r"([\\`*_\[\]<>~])")
_BLOCK_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])", re.MULTILINE)
_ENTITY = re.compile(r"&(?=#?\w+;)")
_BREAK = "\ue000"  # a private-use character standing for <br> until lines are laid out
_DROPPED = {"script", "style", "noscript", "template", "iframe", "object", "svg", "head"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)


def html_to_markdown(html: str) -> str:
    """Markdown for an HTML fragment; its text stays text (see the module docstring)."""
    return _HtmlToMarkdown.convert(html, markdown=True)


def _escape(text: str) -> str:
    """Text that Markdown shows as itself: no emphasis, links, raw HTML or entities."""
    return _ENTITY.sub(r"\\&", _ESCAPED.sub(r"\\\1", text))


def _escape_line_start(line: str) -> str:
    """No heading, list or setext underline made by what a line happens to begin with."""
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line)


def _destination(url: str) -> str:
    return url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")


class _HtmlToMarkdown(HTMLParser):
    """Blocks, lists, quotes, links and images of an HTML fragment, as Markdown or text."""

    def __init__(self, *, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.blocks: list[tuple[str, bool]] = []  # (text, part of a list)
        self.line: list[str] = []
        self.dropped = 0
        self.lists: list[list[Any]] = []  # [tag, next number]
        self.quotes = 0
        self.pre = 0
        self.heading = 0
        self.links: list[tuple[int, str | None]] = []

    @classmethod
    def convert(cls, html: str, *, markdown: bool) -> str:
        parser = cls(markdown=markdown)
        parser.feed(html)
        parser.close()
        parser._flush()
        out = ""
        for index, (text, listed) in enumerate(parser.blocks):
            if index:
                out += "\n" if listed and parser.blocks[index - 1][1] else "\n\n"
            out += text
        return out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropped += 1
            return
        if self.dropped:
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in ("ul", "ol"):
            self.lists.append([tag, 1])
        elif tag == "blockquote":
            self.quotes += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = int(tag[1])
        elif tag == "br":
            self.line.append(_BREAK)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((len(self.line), href if _URL.match(href) else None))
        elif tag == "img":
            src, alt = dict(attrs).get("src") or "", dict(attrs).get("alt") or ""
            if self.markdown and src.lower().startswith(("http://", "https://")):
                self.line.append(f"![{_escape(alt)}]({_destination(src)})")
            elif alt:
                self.line.append(_escape(alt) if self.markdown else alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
            return
        if self.dropped:
            return
        if tag == "a" and self.links:
            start, href = self.links.pop()
            text = "".join(self.line[start:]).strip()
            if self.markdown and href and text:
                self.line[start:] = [f"[{text}]({_destination(href)})"]
        elif tag in _BLOCKS:
            self._flush()
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            elif tag == "blockquote":
                self.quotes = max(0, self.quotes - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.heading = 0

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre:
            self.line.append(data)
        else:
            self.line.append(_escape(data) if self.markdown else data)

    def _flush(self) -> None:
        raw, self.line, self.links = "".join(self.line), [], []
        if self.pre and self.markdown:
            text = raw.strip("\n")
            fence = "````" if "```" in text else "```"
            if text.strip():
                self.blocks.append((f"{fence}\n{text}\n{fence}", False))
            return
        lines = [" ".join(part.split()) for part in raw.split(_BREAK)]
        if self.markdown:
            lines = [_escape_line_start(line) for line in lines]
        text = ("\\\n" if self.markdown else "\n").join(line for line in lines if line)
        if not text:
            return
        listed = False
        if self.markdown and self.heading:
            text = "#" * self.heading + " " + text
        if self.lists:
            kind = self.lists[-1]
            marker = f"{kind[1]}." if kind[0] == "ol" else "-"
            kind[1] += 1
            # Four spaces per level nest under both "- " and "1. " items (CommonMark).
            text = "    " * (len(self.lists) - 1) + marker + " " + text
            listed = True
        if self.markdown and self.quotes:
            text = "\n".join("> " * self.quotes + line for line in text.split("\n"))
        self.blocks.append((text, listed))
