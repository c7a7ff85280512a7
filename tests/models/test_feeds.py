"""RSS and Atom feeds into articles: drafts or published, idempotent by source URL."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from models.article import Article, ArticleStatus, Language
from models.db import SessionMaker
from models.services import events
from models.services.feeds import (
    FeedError,
    FeedImport,
    html_to_markdown,
    import_feed,
    parse_feed,
)
from models.slugs import slugify
from tests.factories import make_article

pytestmark = pytest.mark.anyio

DATA = Path(__file__).resolve().parents[1] / "data"
RSS = (DATA / "belta.rss.xml").read_bytes()
ATOM = (DATA / "kopyl.atom.xml").read_bytes()

MEETING_BODY = (
    "Совещание прошло в [Минске](https://president.gov.by/).\n\n"
    "- зерновые\n- рапс\n\n"
    "Итоги \\<script\\>подведут\\</script\\> позже: 3\\*4=12.\n\n"
    "схема"
)


async def run_import(sessionmaker: SessionMaker, data: bytes, **options: object) -> FeedImport:
    async with sessionmaker() as session:
        return await import_feed(session, feed=parse_feed(data), **options)  # type: ignore[arg-type]


async def articles(sessionmaker: SessionMaker) -> list[Article]:
    async with sessionmaker() as session:
        return list((await session.exec(select(Article).order_by(col(Article.id)))).all())


async def version(sessionmaker: SessionMaker) -> int:
    async with sessionmaker() as session:
        return await events.current_version(session)


async def test_rss_entries_become_drafts_keeping_their_source(
    sessionmaker: SessionMaker,
) -> None:
    # given
    before = await version(sessionmaker)

    # when
    report = await run_import(sessionmaker, RSS)

    # then
    assert (len(report.created), report.skipped, report.failed) == (2, [], [])
    stored = await articles(sessionmaker)
    assert [
        (a.title, a.slug, a.language, a.status, a.published_at, a.source_name, a.source_url)
        for a in stored
    ] == [
        (
            "Лукашенко провёл совещание по уборочной",
            "lukashenko-provyol-soveshhanie-po-uborochnoj",
            Language.RU,
            ArticleStatus.DRAFT,
            None,
            "БелТА — Новости",
            "https://www.belta.by/president/view/1001.html",
        ),
        (
            "Копыль: открыта новая школа",
            "kopyl-otkryta-novaya-shkola",
            Language.RU,
            ArticleStatus.DRAFT,
            None,
            "БелТА — Новости",
            "https://www.belta.by/regions/view/1002.html",
        ),
    ]
    assert stored[0].slug == slugify(stored[0].title, Language.RU)
    assert (stored[0].lead, stored[0].body) == (
        "Президент обсудил ход уборочной кампании.",
        MEETING_BODY,
    )
    assert (stored[1].lead, stored[1].body) == ("Школа рассчитана на 600 учеников.", "")
    assert await version(sessionmaker) > before  # caches drop what they hold


async def test_script_tags_and_handlers_in_entries_never_reach_the_page(
    sessionmaker: SessionMaker,
) -> None:
    # when
    await run_import(sessionmaker, RSS)

    # then
    html = (await articles(sessionmaker))[0].body_html
    for forbidden in ("<script", "onclick", "javascript:", "<iframe", "steal()", 'alert("x")'):
        assert forbidden not in html
    assert "Итоги &lt;script&gt;подведут&lt;/script&gt; позже: 3*4=12." in html
    assert '<a href="https://president.gov.by/" rel="noopener noreferrer">Минске</a>' in html


def test_html_is_turned_into_markdown_that_keeps_text_as_text() -> None:
    # feedparser already strips scripts; this conversion must not depend on it.
    html = (
        "<h2>Title</h2><p>a <b>b</b><br>c &amp;lt;x&amp;gt;</p><script>alert(1)</script>"
        "<style>p{}</style><blockquote><p>quoted</p></blockquote>"
        "<ol><li>one<ul><li>inner</li></ul></li><li>two</li></ol>"
        "<pre>code  <kept>\n  indented</pre><p>- not a list</p><p># not a heading</p>"
        '<p><a href="javascript:x()">bad</a> <a href="https://x.by/a b(c)">good</a></p>'
        '<p><img src="https://x.by/i.png" alt="[pic]"><img src="data:x" alt="gone"></p>'
    )

    assert html_to_markdown(html) == (
        "## Title\n\n"
        "a b\\\nc \\&lt;x\\&gt;\n\n"
        "> quoted\n\n"
        "1. one\n    - inner\n2. two\n\n"
        "```\ncode  \n  indented\n```\n\n"
        "\\- not a list\n\n"
        "\\# not a heading\n\n"
        "bad [good](https://x.by/a%20b%28c%29)\n\n"
        "![\\[pic\\]](https://x.by/i.png)gone"
    )


async def test_importing_a_feed_again_creates_nothing(sessionmaker: SessionMaker) -> None:
    # given
    await run_import(sessionmaker, RSS)
    before = await articles(sessionmaker)
    version_before = await version(sessionmaker)

    # when
    report = await run_import(sessionmaker, RSS, publish=True)

    # then
    assert (report.created, len(report.skipped), report.failed) == ([], 2, [])
    assert await articles(sessionmaker) == before  # not even published by the second run
    assert await version(sessionmaker) == version_before


async def test_published_entries_keep_their_date_or_get_now(sessionmaker: SessionMaker) -> None:
    # given
    start = datetime.now(UTC).replace(microsecond=0)

    # when
    await run_import(sessionmaker, ATOM, publish=True, language=Language.EN)
    await run_import(sessionmaker, RSS, publish=True, source_name="BelTA")

    # then
    stored = await articles(sessionmaker)
    assert [(a.title, a.status, a.language, a.source_name) for a in stored] == [
        (
            "Roads repaired before winter",
            ArticleStatus.PUBLISHED,
            Language.EN,
            "Kopyl District News",
        ),
        ("Reception hours change", ArticleStatus.PUBLISHED, Language.EN, "Kopyl District News"),
        ("Лукашенко провёл совещание по уборочной", ArticleStatus.PUBLISHED, Language.RU, "BelTA"),
        ("Копыль: открыта новая школа", ArticleStatus.PUBLISHED, Language.RU, "BelTA"),
    ]
    assert [a.published_at for a in stored[:3]] == [
        datetime(2024, 1, 9, 5, 0, tzinfo=UTC),  # <published>, in UTC
        datetime(2024, 1, 8, 6, 0, tzinfo=UTC),  # only <updated>
        datetime(2023, 11, 23, 10, 0, tzinfo=UTC),  # <pubDate> +0300
    ]
    assert stored[3].published_at is not None and stored[3].published_at >= start  # no date
    assert stored[0].body == "## Works\n\nTwelve kilometres.\n\n> Done on time."


async def test_a_taken_slug_gets_the_next_free_one(sessionmaker: SessionMaker) -> None:
    # given
    await make_article(
        sessionmaker, slug="reception-hours-change", language=Language.EN, title="Older"
    )

    # when
    await run_import(sessionmaker, ATOM, language=Language.EN)

    # then
    assert [a.slug for a in await articles(sessionmaker)] == [
        "reception-hours-change",
        "roads-repaired-before-winter",
        "reception-hours-change-2",
    ]


async def test_a_bad_entry_is_reported_and_the_others_are_imported(
    sessionmaker: SessionMaker,
) -> None:
    # given
    feed = b"""<rss version="2.0"><channel><title>Mixed</title>
      <item><title>No link</title><description>x</description></item>
      <item><title>FTP link</title><link>ftp://files.by/1</link></item>
      <item><title>Good</title><link>https://a.by/good</link></item>
      <item><title>Good again</title><link>https://a.by/good</link></item>
      <item><link>https://a.by/untitled</link></item>
    </channel></rss>"""

    # when
    report = await run_import(sessionmaker, feed)

    # then
    assert [a.title for a in report.created] == ["Good"]
    assert [e.title for e in report.skipped] == ["Good again"]
    assert [(e.title or e.link, reason) for e, reason in report.failed] == [
        ("No link", "the entry has no link, so it could not be imported again safely"),
        ("FTP link", "source_url: URL scheme should be 'http' or 'https'"),
        ("https://a.by/untitled", "title: This field is required"),
    ]
    assert [a.title for a in await articles(sessionmaker)] == ["Good"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            (DATA / "broken.rss.xml").read_bytes(),
            "Not well-formed XML (line 4, column 18: mismatched tag); nothing was imported",
        ),
        (
            b"just some text",
            "Not well-formed XML (line 1, column 0: syntax error); nothing was imported",
        ),
        (
            b"<html><body><p>A page</p></body></html>",
            "Not an RSS or Atom feed; nothing was imported",
        ),
    ],
    ids=["malformed", "text", "html"],
)
def test_what_is_not_a_feed_is_refused_before_anything_is_written(
    data: bytes, message: str
) -> None:
    with pytest.raises(FeedError) as refused:
        parse_feed(data)
    assert refused.value.message == message


async def test_an_empty_feed_imports_nothing(sessionmaker: SessionMaker) -> None:
    report = await run_import(
        sessionmaker, b'<rss version="2.0"><channel><title>Empty</title></channel></rss>'
    )
    assert (report.created, report.skipped, report.failed) == ([], [], [])
