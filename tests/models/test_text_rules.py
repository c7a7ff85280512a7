"""Pure text rules: slugs, telephone numbers, Markdown rendering, pagination cursors."""

# ruff: noqa: RUF001  (Belarusian Cyrillic letters look like Latin ones; that is the point)

import base64
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import orjson
import pytest

from models.article import Language
from models.errors import InvalidInput
from models.phones import international_format, national_format, normalize_phone, tel_uri
from models.rendering import reading_time_minutes, render_markdown
from models.services.pagination import Ordering, OrderKey, decode_cursor, encode_cursor
from models.services.seed import ARTICLE_SLUG, ARTICLE_TITLE
from models.slugs import MAX_SLUG_LENGTH, slugify

# -- slugs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "slug"),
    [
        pytest.param("Лукашэнка: АДКБ", Language.BE, "lukashenka-adkb", id="be"),
        pytest.param("Шчучын і Жодзіна", Language.BE, "shchuchyn-i-zhodzina", id="be-digraphs"),
        pytest.param("Ўзвышша ў Заслаўі", Language.BE, "uzvyshsha-u-zaslaui", id="be-short-u"),
        pytest.param("Лукашенко: ОДКБ", Language.RU, "lukashenko-odkb", id="ru"),
        pytest.param("Щучин и Жодино", Language.RU, "shhuchin-i-zhodino", id="ru-shch"),
        pytest.param(ARTICLE_TITLE, Language.EN, ARTICLE_SLUG, id="en-seed-title"),
        pytest.param("Café déjà vu", Language.EN, "cafe-deja-vu", id="en-accents"),
        pytest.param("  COVID-19 -- 2024!  ", Language.EN, "covid-19-2024", id="en-punctuation"),
    ],
)
def test_slugify(text, language, slug):
    assert slugify(text, language) == slug


@pytest.mark.parametrize("text", ["", "   ", "!!! — ???", "«»", "🙂"])
def test_slugify_leaves_nothing_of_punctuation(text):
    assert slugify(text) == ""


def test_slugify_cuts_long_titles_without_a_trailing_hyphen():
    # given: the cut falls right after a word boundary
    text = "a" * (MAX_SLUG_LENGTH - 1) + " b"

    # when / then
    assert slugify(text) == "a" * (MAX_SLUG_LENGTH - 1)


@pytest.mark.parametrize(
    ("text", "language", "slug"),
    [
        # cyrtranslit writes soft and hard signs (and ru ы, э) with apostrophes; they belong
        # inside the word, so they must not split it in two.
        pytest.param("Капыльскі райвыканкам", Language.BE, "kapylski-rajvykankam", id="be-soft"),
        pytest.param("Гомельская вобласць", Language.BE, "homelskaja-voblasc", id="be-soft-2"),
        pytest.param(
            "Капыльский райисполком", Language.RU, "kapylskij-rajispolkom", id="ru-y-soft"
        ),
        pytest.param(
            "ОДКБ остается неотъемлемой частью",
            Language.RU,
            "odkb-ostaetsya-neotemlemoj-chastyu",
            id="ru-hard-soft",
        ),
        # The docstring's own example, with the default language
        pytest.param("Лукашэнка: АДКБ", Language.EN, "lukashenka-adkb", id="default-language"),
    ],
)
def test_slugify_keeps_words_whole(text, language, slug):
    assert slugify(text, language) == slug


# -- telephone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+375 (1719) 28-2-60", "+375171928260"),  # as the Kopyl page writes them
        ("+375 (1719) 55-2-41", "+375171955241"),
        ("8 01719 28260", "+375171928260"),  # dialled inside Belarus
        ("+375171928260", "+375171928260"),  # already E.164
        ("+375 29 123-45-67", "+375291234567"),  # mobile
    ],
)
def test_normalize_phone_to_e164(raw, e164):
    assert normalize_phone(raw) == e164


def test_normalize_phone_reads_national_numbers_of_the_given_region():
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"


@pytest.mark.parametrize(
    ("e164", "national", "international", "uri"),
    [
        ("+375171928260", "8 01719 28-260", "+375 1719 28-260", "tel:+375-1719-28-260"),
        ("+375171955241", "8 01719 55-241", "+375 1719 55-241", "tel:+375-1719-55-241"),
        ("+375291234567", "8 029 123-45-67", "+375 29 123-45-67", "tel:+375-29-123-45-67"),
    ],
)
def test_phone_formats(e164, national, international, uri):
    assert (national_format(e164), international_format(e164), tel_uri(e164)) == (
        national,
        international,
        uri,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "'' is not a telephone number"),
        ("call us", "'call us' is not a telephone number"),
        ("+999 123", "'+999 123' is not a telephone number"),
        ("12", "'12' is not a valid telephone number"),
        ("+375 (1719) 28-2-6", "'+375 (1719) 28-2-6' is not a valid telephone number"),
    ],
)
def test_invalid_phone_numbers_are_invalid_input(raw, message):
    # when
    with pytest.raises(InvalidInput) as raised:
        normalize_phone(raw)

    # then
    error = raised.value
    assert (error.message, error.field, error.code) == (message, "number", "INVALID")


def test_invalid_phone_number_names_the_field_it_came_from():
    with pytest.raises(InvalidInput) as raised:
        normalize_phone("12", field="phones.2.number")
    assert raised.value.field == "phones.2.number"


# -- Markdown -------------------------------------------------------------------------------------

HOSTILE_MARKDOWN = """\
Hello <script>alert("x")</script> world

<img src="/photo.jpg" alt="Kopyl" onerror="alert(1)">

[markdown link](javascript:alert(1)) and <a href="JaVaScRiPt:alert(2)">raw link</a>

<iframe src="https://example.com/"></iframe><div onclick="alert(3)" style="color:red">div</div>
"""


def test_render_markdown_strips_scripts_handlers_and_javascript_urls():
    # when
    html = render_markdown(HOSTILE_MARKDOWN)

    # then
    lowered = html.lower()
    for fragment in ("<script", 'alert("x")', "onerror", "onclick", "<iframe", "style="):
        assert fragment not in lowered, html
    assert 'href="javascript' not in lowered
    assert '<img src="/photo.jpg" alt="Kopyl">' in html
    assert "<a>raw link</a>" in html or '<a rel="noopener noreferrer">raw link</a>' in html


def test_render_markdown_keeps_links_and_formatting():
    # when
    html = render_markdown('**Kopyl** news: [BelTA](https://www.belta.by/ "BelTA") ~~old~~')

    # then
    assert html == (
        "<p><strong>Kopyl</strong> news: "
        '<a href="https://www.belta.by/" title="BelTA" rel="noopener noreferrer">BelTA</a> '
        "<s>old</s></p>\n"
    )


def test_render_markdown_keeps_tables():
    # when
    html = render_markdown("| Day | Hours |\n|---|---|\n| Mon | 08:30-17:30 |\n")

    # then
    assert html == (
        "<table>\n<thead>\n<tr>\n<th>Day</th>\n<th>Hours</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>Mon</td>\n<td>08:30-17:30</td>\n</tr>\n</tbody>\n</table>\n"
    )


def test_render_markdown_keeps_table_column_alignment():
    # given: the allow-list keeps `align` on th/td for exactly this
    source = "| Day | Hours |\n|---|:-:|\n| Mon | 08:30-17:30 |\n"

    # when
    html = render_markdown(source)

    # then
    centred = html.split("<td>Mon</td>")[1]
    assert 'align="center"' in centred or "text-align:center" in centred, html


def test_render_markdown_keeps_tel_and_mailto_links():
    html = render_markdown("[call](tel:+375171928260) [write](mailto:info@kopyl.gov.by)")
    assert 'href="tel:+375171928260"' in html
    assert 'href="mailto:info@kopyl.gov.by"' in html


@pytest.mark.parametrize(
    ("texts", "minutes"),
    [
        ((), 1),
        (("",), 1),
        (("word " * 200,), 1),
        (("word " * 201,), 2),
        (("word " * 100, "word " * 101), 2),  # title, lead and body count together
        (("word " * 1000,), 5),
    ],
)
def test_reading_time_minutes(texts, minutes):
    assert reading_time_minutes(*texts) == minutes


# -- cursors --------------------------------------------------------------------------------------

# Cursors never touch the columns, so none are needed here.
BY_PUBLISHED = Ordering(
    "test",
    (
        OrderKey("published_at", None, descending=True, kind="datetime", nullable=True),
        OrderKey("title", None, kind="str"),
        OrderKey("id", None),
    ),
)


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


@pytest.mark.parametrize(
    "row",
    [
        SimpleNamespace(published_at=datetime(2023, 11, 23, 10, tzinfo=UTC), title="A", id=1),
        SimpleNamespace(
            published_at=datetime(2024, 1, 10, 10, tzinfo=timezone(timedelta(hours=3))),
            title="Лукашэнка: АДКБ",
            id=2_000_000_000,
        ),
        SimpleNamespace(published_at=None, title="", id=7),
    ],
)
def test_cursor_round_trip(row):
    # when
    cursor = encode_cursor(BY_PUBLISHED, row)

    # then: opaque, URL-safe and unpadded, and decodes to the sort key
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor, BY_PUBLISHED, "after") == (row.published_at, row.title, row.id)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage!", id="not-base64"),
        pytest.param("Лукашэнка", id="not-ascii"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe").decode(), id="not-utf8"),
        pytest.param(base64.urlsafe_b64encode(b"{nope").decode(), id="not-json"),
        pytest.param(b64([1, 2, 3]), id="list"),
        pytest.param(b64({"v": [None, "a", 1]}), id="no-ordering"),
        pytest.param(b64({"o": "other", "v": [None, "a", 1]}), id="other-ordering"),
        pytest.param(b64({"o": "test", "v": "a"}), id="values-not-a-list"),
        pytest.param(b64({"o": "test", "v": ["a", 1]}), id="too-few-values"),
        pytest.param(b64({"o": "test", "v": [None, "a", 1, 2]}), id="too-many-values"),
        pytest.param(b64({"o": "test", "v": [None, "a", "1"]}), id="id-as-string"),
        pytest.param(b64({"o": "test", "v": [None, "a", True]}), id="id-as-bool"),
        pytest.param(b64({"o": "test", "v": [None, "a", 1.5]}), id="id-as-float"),
        pytest.param(b64({"o": "test", "v": [None, None, 1]}), id="null-in-not-nullable"),
        pytest.param(b64({"o": "test", "v": [None, 5, 1]}), id="title-as-number"),
        pytest.param(b64({"o": "test", "v": ["yesterday", "a", 1]}), id="not-a-datetime"),
        pytest.param(b64({"o": "test", "v": ["2024-01-10T10:00:00", "a", 1]}), id="naive"),
        pytest.param(b64({"o": "test", "v": [12, "a", 1]}), id="datetime-as-number"),
        pytest.param(
            b64({"o": "test", "v": ["0001-01-01T00:00:00+01:00", "a", 1]}), id="before-year-1-utc"
        ),
        pytest.param(
            b64({"o": "test", "v": ["9999-12-31T23:59:59-01:00", "a", 1]}), id="after-9999-utc"
        ),
    ],
)
def test_garbage_cursors_are_invalid_input(cursor):
    # when
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(cursor, BY_PUBLISHED, "before")

    # then
    error = raised.value
    assert (error.message, error.field, error.code) == (
        "Invalid cursor for 'before'",
        "before",
        "INVALID",
    )
