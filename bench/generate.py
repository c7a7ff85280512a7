"""Deterministic benchmark data, loaded into our own schema with PostgreSQL COPY.

Same seed and size, same rows (ids, slugs, text, dates, links), on any machine: every random
choice comes from one seeded ``random.Random`` in a fixed order, and no value depends on the
clock. Dates are anchored to fixed instants: published articles between 2021 and November
2026, scheduled ones (published status, future date) in 2099, drafts undated.

Text is Belarusian- and Russian-looking: a few hundred real function and topic words plus
thousands of words made of Cyrillic syllables, drawn with a Zipf-like law, so full-text search
has frequent, middling and rare words. Bodies (3-6 KB of Markdown) are assembled from a pool
of blocks (paragraphs, headings, lists) rendered to HTML once: Markdown blocks separated by a
blank line render independently, so the joined HTML is exactly ``render_markdown(body)``
(tests/bench checks it), and 1M articles need no million renders.

Secondary indexes of the article tables are dropped during the load and rebuilt from their
own definitions afterwards (faster than maintaining a GIN index row by row); the tsvector
column is the migration's generated column, so PostgreSQL fills it during COPY exactly as it
does for the app's inserts.

    python -m bench.generate --database-url postgresql+asyncpg://... --articles 10000
"""
# ruff: noqa: RUF001  (Belarusian and Russian words: Cyrillic letters look like Latin ones)

import argparse
import asyncio
import bisect
import itertools
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import asyncpg
import orjson
import phonenumbers
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from models.article import Language
from models.db import make_engine
from models.migrate import upgrade
from models.rendering import render_markdown
from models.slugs import slugify

SEED = 20261127
# Bump when the generated rows change: bench/run then generates its cached databases again.
DATA_VERSION = 1
AUTHORS = 200
TAGS = 50
OFFICES = 30
VOCABULARY = 12_000  # made-up words per language, besides the real ones
BLOCKS = 4_000  # Markdown blocks per language in the body pool
PUBLISHED_FROM = datetime(2021, 1, 1, tzinfo=UTC)
PUBLISHED_UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
SCHEDULED_FROM = datetime(2099, 1, 1, tzinfo=UTC)
CATALOG_CREATED = datetime(2020, 6, 1, 9, 0, tzinfo=UTC)
BODY_BYTES = (3_000, 6_000)
# Shares of the articles: the rest is published.
DRAFT_SHARE = 0.06
SCHEDULED_SHARE = 0.02
SYNDICATED_SHARE = 0.25
COPY_CHUNK = 2_000

# The two-word query the benchmark searches for: made-up words of middling frequency
# (rank 600 and 900 of the Belarusian vocabulary), so the hit count grows with the data.
SEARCH_RANKS = (600, 900)

REAL_WORDS = {
    Language.BE: (
        "і у на з да што не як па для гэта пры так таксама ад але ці аб яго іх ужо "
        "раён вобласць горад вёска сельсавет выканкам старшыня савет дэпутат праграма "
        "жыхары дзеці школа бальніца дарога ўраджай збожжа камбайн ферма малако праца "
        "будаўніцтва рамонт дом кватэра сям'я моладзь спорт турнір культура музей свята "
        "памяць ветэраны перамога гісторыя сустрэча нарада пытанне рашэнне план вынікі "
        "эканоміка прадпрыемства завод прадукцыя экспарт інвестыцыі бюджэт падатак "
        "адукацыя ахова здароўя лекар паліклініка вакцынацыя бяспека міліцыя пажар "
        "надвор'е дождж снег мароз сонца вясна лета восень зіма лес рака возера поле"
    ),
    Language.RU: (
        "и в на с по что не как для это при так также от но или о его их уже "
        "район область город деревня сельсовет исполком председатель совет депутат программа "
        "жители дети школа больница дорога урожай зерно комбайн ферма молоко работа "
        "строительство ремонт дом квартира семья молодежь спорт турнир культура музей праздник "
        "память ветераны победа история встреча совещание вопрос решение план итоги "
        "экономика предприятие завод продукция экспорт инвестиции бюджет налог "
        "образование здравоохранение врач поликлиника вакцинация безопасность милиция пожар "
        "погода дождь снег мороз солнце весна лето осень зима лес река озеро поле"
    ),
}
CONSONANTS = {
    Language.BE: "бвгджзклмнпрстфхцчшў",
    Language.RU: "бвгджзклмнпрстфхцчшщ",
}
VOWELS = {Language.BE: "аеёіоуыэюя", Language.RU: "аеёиоуыэюя"}

FIRST_NAMES = (
    "Аляксандр Мікалай Сяргей Андрэй Дзмітрый Ігар Уладзімір Віктар Павел Юрый "
    "Наталля Вольга Таццяна Алена Ірына Святлана Марына Людміла Ганна Кацярына"
).split()
SURNAMES = (
    "Ковалёў Новік Шапавал Мельнік Кравец Лук'янчык Жук Бондар Савіцкі Ткачук "
    "Карповіч Гаврыленка Дубовік Левановіч Міхневіч Палякоў Руткоўскі Сідарэнка "
    "Трафімовіч Шыманскі Якубовіч Зайцаў Кулеш Лябёдка Марозаў"
).split()
TAG_NAMES = (
    "Эканоміка", "Адукацыя", "Ахова здароўя", "Сельская гаспадарка", "Культура", "Спорт",
    "Моладзь", "Будаўніцтва", "ЖКГ", "Транспарт", "Бяспека", "Экалогія", "Турызм",
    "Гісторыя", "Ветэраны", "Свята", "Выбары", "Савет дэпутатаў", "Выканкам",
    "Прадпрыемствы", "Інвестыцыі", "Экспарт", "Падаткі", "Сацыяльная абарона", "Пенсіі",
    "Працаўладкаванне", "Дарогі", "Надвор'е", "Пажарная бяспека", "Міліцыя", "Суд",
    "Пракуратура", "Рэлігія", "Мова", "Кнігі", "Музеі", "Тэатр", "Музыка", "Дзеці",
    "Сям'я", "Школа", "Універсітэт", "Навука", "Лічбавізацыя", "Сувязь", "Гандаль",
    "Малы бізнес", "Лес", "Вада", "Энергетыка",
)  # fmt: skip
DISTRICTS = (
    ("Капыльскі", "Капыль", "Мінская вобласць", "1719"),
    ("Слуцкі", "Слуцк", "Мінская вобласць", "1795"),
    ("Нясвіжскі", "Нясвіж", "Мінская вобласць", "1770"),
    ("Клецкі", "Клецк", "Мінская вобласць", "1793"),
    ("Салігорскі", "Салігорск", "Мінская вобласць", "174"),
    ("Стаўбцоўскі", "Стоўбцы", "Мінская вобласць", "1717"),
    ("Уздзенскі", "Узда", "Мінская вобласць", "1718"),
    ("Пухавіцкі", "Марына Горка", "Мінская вобласць", "1713"),
    ("Чэрвеньскі", "Чэрвень", "Мінская вобласць", "1714"),
    ("Барысаўскі", "Барысаў", "Мінская вобласць", "177"),
    ("Маладзечанскі", "Маладзечна", "Мінская вобласць", "176"),
    ("Вілейскі", "Вілейка", "Мінская вобласць", "1771"),
    ("Лагойскі", "Лагойск", "Мінская вобласць", "1774"),
    ("Смалявіцкі", "Смалявічы", "Мінская вобласць", "1776"),
    ("Дзяржынскі", "Дзяржынск", "Мінская вобласць", "1716"),
    ("Бярэзінскі", "Беразіно", "Мінская вобласць", "1715"),
    ("Крупскі", "Крупкі", "Мінская вобласць", "1796"),
    ("Мядзельскі", "Мядзел", "Мінская вобласць", "1797"),
    ("Валожынскі", "Валожын", "Мінская вобласць", "1772"),
    ("Любанскі", "Любань", "Мінская вобласць", "1794"),
    ("Старадарожскі", "Старыя Дарогі", "Мінская вобласць", "1792"),
    ("Мінскі", "Мінск", "Мінская вобласць", "17"),
    ("Брэсцкі", "Брэст", "Брэсцкая вобласць", "162"),
    ("Пінскі", "Пінск", "Брэсцкая вобласць", "165"),
    ("Гродзенскі", "Гродна", "Гродзенская вобласць", "152"),
    ("Лідскі", "Ліда", "Гродзенская вобласць", "154"),
    ("Віцебскі", "Віцебск", "Віцебская вобласць", "212"),
    ("Гомельскі", "Гомель", "Гомельская вобласць", "232"),
    ("Магілёўскі", "Магілёў", "Магілёўская вобласць", "222"),
    ("Бабруйскі", "Бабруйск", "Магілёўская вобласць", "225"),
)
HOLIDAYS = ((1, 1), (1, 7), (3, 8), (5, 1), (5, 9), (7, 3), (11, 7), (12, 25))


@dataclass(frozen=True)
class Block:
    markdown: str
    html: str


class LanguageText:
    """One language's vocabulary and body blocks, drawn from the shared seeded generator."""

    def __init__(self, rng: random.Random, language: Language) -> None:
        self.language = language
        real = REAL_WORDS[language].split()
        made = _made_up_words(rng, language, VOCABULARY, exclude=set(real))
        self.words: list[str] = [*real, *made]
        # Zipf-like (s = 1) weights; real words come first, so they are the frequent ones.
        self.cumulative = list(
            itertools.accumulate(1 / (rank + 1) for rank in range(len(self.words)))
        )
        self.blocks: list[Block] = []
        self.paragraphs: list[int] = []
        self.headings: list[int] = []
        self.lists: list[int] = []
        for _ in range(BLOCKS):
            roll = rng.random()
            if roll < 0.1:
                text = "## " + self.sentence(rng, 3, 7).rstrip(".")
                self.headings.append(len(self.blocks))
            elif roll < 0.18:
                items = (self.sentence(rng, 4, 10) for _ in range(rng.randint(3, 5)))
                text = "\n".join(f"- {item}" for item in items)
                self.lists.append(len(self.blocks))
            else:
                text = " ".join(self.sentence(rng, 6, 18) for _ in range(rng.randint(3, 6)))
                if rng.random() < 0.3:
                    word = self.word(rng)
                    text = text.replace(f" {word} ", f" **{word}** ", 1)
                self.paragraphs.append(len(self.blocks))
            self.blocks.append(Block(text, render_markdown(text)))
        self._slugs: dict[str, str] = {}

    def word(self, rng: random.Random) -> str:
        x = rng.random() * self.cumulative[-1]
        return self.words[bisect.bisect(self.cumulative, x)]

    def sentence(self, rng: random.Random, low: int, high: int) -> str:
        words = [self.word(rng) for _ in range(rng.randint(low, high))]
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def title(self, rng: random.Random) -> list[str]:
        # Titles skip the most frequent words (the real function words) for distinct slugs.
        count = rng.randint(5, 10)
        return [self.words[rng.randrange(40, len(self.words) // 4)] for _ in range(count)]

    def slug_word(self, word: str) -> str:
        if (slug := self._slugs.get(word)) is None:
            slug = self._slugs[word] = slugify(word, self.language)
        return slug

    def body(self, rng: random.Random) -> tuple[str, str]:
        """Markdown of 3-6 KB and its HTML; no two lists touch (they would merge)."""
        target = rng.randint(BODY_BYTES[0], BODY_BYTES[1] - 1_000)
        chosen = [self.paragraphs[rng.randrange(len(self.paragraphs))]]
        size = len(self.blocks[chosen[0]].markdown.encode())
        while size < target:
            roll = rng.random()
            if roll < 0.12 and chosen[-1] not in self.headings:
                pool = self.headings
            elif roll < 0.2 and chosen[-1] in self.paragraphs:
                pool = self.lists
            else:
                pool = self.paragraphs
            index = pool[rng.randrange(len(pool))]
            chosen.append(index)
            size += len(self.blocks[index].markdown.encode()) + 2
        if chosen[-1] not in self.paragraphs:
            chosen.append(self.paragraphs[rng.randrange(len(self.paragraphs))])
        blocks = [self.blocks[i] for i in chosen]
        return "\n\n".join(b.markdown for b in blocks), "".join(b.html for b in blocks)


def _made_up_words(
    rng: random.Random, language: Language, count: int, exclude: set[str]
) -> list[str]:
    consonants, vowels = CONSONANTS[language], VOWELS[language]
    seen = set(exclude)
    words: list[str] = []
    while len(words) < count:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        if rng.random() < 0.4:
            word += rng.choice(consonants)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def search_words(seed: int = SEED) -> str:
    """The benchmark's two-word search, taken from the same vocabulary the bodies use."""
    rng = random.Random(seed)
    text = LanguageText(rng, Language.BE)
    offset = len(REAL_WORDS[Language.BE].split())
    return " ".join(text.words[offset + rank] for rank in SEARCH_RANKS)


# --- rows ------------------------------------------------------------------------------------


@dataclass
class Dataset:
    """Everything but the articles, which are streamed (1M of them do not fit in a list)."""

    authors: list[tuple[Any, ...]]
    tags: list[tuple[Any, ...]]
    offices: list[tuple[Any, ...]]
    phones: list[tuple[Any, ...]]
    hours: list[tuple[Any, ...]]
    exceptions: list[tuple[Any, ...]]


AUTHOR_COLUMNS = ("id", "slug", "name", "bio", "avatar_url", "email", "created_at", "updated_at")
TAG_COLUMNS = ("id", "slug", "name")
ARTICLE_COLUMNS = (
    "id", "slug", "title", "lead", "body", "status", "language", "published_at", "source_name",
    "source_url", "translation_group", "body_html", "version", "created_at", "updated_at",
)  # fmt: skip
OFFICE_COLUMNS = (
    "id", "slug", "name", "description", "postal_code", "country", "region", "locality",
    "street", "email", "website", "timezone", "latitude", "longitude", "created_at", "updated_at",
)  # fmt: skip
PHONE_COLUMNS = ("id", "office_id", "position", "kind", "label", "number")
HOURS_COLUMNS = ("id", "office_id", "weekday", "opens", "closes", "breaks")
EXCEPTION_COLUMNS = ("id", "office_id", "day", "closed", "opens", "closes", "breaks", "note")


class Generator:
    def __init__(self, articles: int, seed: int = SEED) -> None:
        self.count = articles
        self.rng = random.Random(seed)
        self.texts = {lang: LanguageText(self.rng, lang) for lang in (Language.BE, Language.RU)}

    def catalog(self) -> Dataset:
        rng, be = self.rng, self.texts[Language.BE]
        authors = []
        names = [f"{first} {last}" for last in SURNAMES for first in FIRST_NAMES]
        rng.shuffle(names)
        for id, name in enumerate(names[:AUTHORS], start=1):
            slug = f"{slugify(name, Language.BE)}-{id}"
            bio = " ".join(be.sentence(rng, 6, 14) for _ in range(rng.randint(2, 5)))
            avatar = f"https://media.example.by/authors/{slug}.jpg" if rng.random() < 0.7 else None
            authors.append(
                (id, slug, name, bio, avatar, f"{slug}@example.by", *_twice(CATALOG_CREATED))
            )
        tags = [(id, slugify(name, Language.BE), name) for id, name in enumerate(TAG_NAMES, 1)]
        offices: list[tuple[Any, ...]] = []
        phones: list[tuple[Any, ...]] = []
        hours: list[tuple[Any, ...]] = []
        exceptions: list[tuple[Any, ...]] = []
        for id, (adjective, locality, region, code) in enumerate(DISTRICTS, start=1):
            name = f"{adjective} раённы выканаўчы камітэт"
            slug = slugify(name, Language.BE)
            description = " ".join(be.sentence(rng, 6, 12) for _ in range(2))
            street_name = rng.choice(("Леніна", "Савецкая", "Кірава", "Першамайская"))
            street = f"вул. {street_name}, {rng.randint(1, 40)}"
            offices.append(
                (
                    id, slug, name, description, f"2{rng.randint(10000, 47999)}", "BY", region,
                    locality, street, f"info@{slug[:20]}.gov.by", f"https://{slug[:20]}.gov.by",
                    "Europe/Minsk", round(rng.uniform(51.5, 55.8), 5),
                    round(rng.uniform(23.5, 31.0), 5), *_twice(CATALOG_CREATED),
                )
            )  # fmt: skip
            kinds: list[tuple[str, str | None]] = [
                ("reception", "Прыёмная"),
                ("hotline", "Гарачая лінія"),
                ("fax", "Факс"),
            ]
            kinds += [("other", None)] * rng.randint(0, 2)
            for position, (kind, label) in enumerate(kinds):
                phones.append((len(phones) + 1, id, position, kind, label, _phone(rng, code)))
            for weekday, day in _week(rng).items():
                opens, closes, breaks = day
                hours.append(
                    (len(hours) + 1, id, weekday, opens, closes, orjson.dumps(breaks).decode())
                )
            for year in (2026, 2027):
                for month, dom in HOLIDAYS:
                    exceptions.append(
                        (len(exceptions) + 1, id, date(year, month, dom), True, None, None, "[]",
                         "Дзяржаўнае свята")
                    )  # fmt: skip
        return Dataset(authors, tags, offices, phones, hours, exceptions)

    def articles(self) -> Iterator[tuple[tuple[Any, ...], list[int], list[int]]]:
        """(article row, author ids in byline order, tag ids), oldest first."""
        rng, count = self.rng, self.count
        span = (PUBLISHED_UNTIL - PUBLISHED_FROM).total_seconds()
        be, ru = self.texts[Language.BE], self.texts[Language.RU]
        for id in range(1, count + 1):
            text = be if rng.random() < 0.65 else ru
            words = text.title(rng)
            title = words[0].capitalize() + " " + " ".join(words[1:])
            slug = "-".join(text.slug_word(w) for w in words[:6]) + f"-{id}"
            lead = text.sentence(rng, 12, 30) + " " + text.sentence(rng, 8, 20)
            body, html = text.body(rng)
            moment = PUBLISHED_FROM + timedelta(
                seconds=int(span * (id - 1) / count + rng.uniform(0, span / count))
            )
            roll = rng.random()
            if roll < DRAFT_SHARE:
                status, published = "draft", None
            elif roll < DRAFT_SHARE + SCHEDULED_SHARE:
                status = "published"
                published = SCHEDULED_FROM + timedelta(minutes=rng.randrange(0, 525_600))
            else:
                status, published = "published", moment
            created = moment - timedelta(minutes=rng.randint(5, 600))
            edited = rng.random() < 0.2
            updated = published or created
            if edited:
                updated += timedelta(hours=rng.randint(1, 48))
            source = (
                ("БелТА", f"https://www.belta.by/news/{id}/")
                if rng.random() < SYNDICATED_SHARE
                else (None, None)
            )
            row = (
                id, slug, title, lead, body, status, text.language.value, published, *source,
                None, html, 2 if edited else 1, created, updated,
            )  # fmt: skip
            bylines = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
            author_ids = rng.sample(range(1, AUTHORS + 1), bylines)
            tag_ids = rng.sample(range(1, TAGS + 1), rng.randint(1, 4))
            yield row, author_ids, tag_ids


def _twice(moment: datetime) -> tuple[datetime, datetime]:
    return moment, moment


def _phone(rng: random.Random, code: str) -> str:
    """A valid Belarusian landline in the district's area code, E.164."""
    while True:
        digits = "".join(str(rng.randrange(10)) for _ in range(9 - len(code)))
        number = phonenumbers.parse(f"+375{code}{digits}")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _week(rng: random.Random) -> dict[int, tuple[clock, clock, list[dict[str, str]]]]:
    lunch = {"start": "13:00", "end": "14:00", "label": "lunch"}
    pattern = rng.randrange(4)
    if pattern == 0:
        return {day: (clock(8, 30), clock(17, 30), [lunch]) for day in range(1, 6)}
    if pattern == 1:
        return {day: (clock(9), clock(18), [lunch]) for day in range(1, 6)}
    if pattern == 2:
        noon = {"start": "12:00", "end": "13:00", "label": "lunch"}
        week = {day: (clock(8), clock(17), [noon]) for day in range(1, 6)}
        return week | {6: (clock(9), clock(13), [])}
    week = {day: (clock(8, 30), clock(17, 30), [lunch]) for day in range(1, 5)}
    return week | {5: (clock(8, 30), clock(16, 15), [lunch])}


# --- loading ---------------------------------------------------------------------------------

ARTICLE_TABLES = ("article", "article_author", "article_tag")
SERIAL_TABLES = (
    "author",
    "tag",
    "article",
    "office",
    "office_phone",
    "office_hours",
    "office_exception",
)


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def load(
    url: str, articles: int, *, seed: int = SEED, quiet: bool = False, streams: int = 2
) -> float:
    """Migrate and fill an empty database; returns the seconds the load took.

    Articles go through ``streams`` COPY connections at once (PostgreSQL's tsvector and TOAST
    work is the bottleneck, one core per stream), each in its own transaction, so the load is
    not atomic: a failed load leaves a partial database to drop (``bench/run`` does).
    """
    began = time.perf_counter()
    await migrate(url)
    dsn = asyncpg_dsn(url)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SET statement_timeout = 0")
        await connection.execute("SET maintenance_work_mem = '512MB'")
        if await connection.fetchval("SELECT count(*) FROM article") > 0:
            raise SystemExit("the database already has articles; generate into an empty one")
        generator = Generator(articles, seed)
        data = generator.catalog()
        indexes = await _drop_secondary_indexes(connection)
        for table, rows, columns in (
            ("author", data.authors, AUTHOR_COLUMNS),
            ("tag", data.tags, TAG_COLUMNS),
            ("office", data.offices, OFFICE_COLUMNS),
            ("office_phone", data.phones, PHONE_COLUMNS),
            ("office_hours", data.hours, HOURS_COLUMNS),
            ("office_exception", data.exceptions, EXCEPTION_COLUMNS),
        ):
            await connection.copy_records_to_table(table, records=rows, columns=columns)
        await _copy_articles(dsn, connection, generator, quiet, streams)
        for definition in _progress_steps(indexes, "rebuilding indexes", quiet):
            await connection.execute(definition)
        for table in SERIAL_TABLES:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - began


async def _drop_secondary_indexes(connection: asyncpg.Connection) -> list[str]:
    """Drop the article tables' indexes that back no constraint; return their definitions."""
    rows = await connection.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        list(ARTICLE_TABLES),
    )
    for row in rows:
        await connection.execute(f'DROP INDEX "{row["name"]}"')
    return [row["definition"] for row in rows]


async def _copy_articles(
    dsn: str, connection: asyncpg.Connection, generator: Generator, quiet: bool, streams: int
) -> None:
    """Generate articles here while ``streams`` connections COPY chunks of them."""
    bylines: list[tuple[int, int, int]] = []
    tags: list[tuple[int, int]] = []
    queues: list[asyncio.Queue[list[tuple[Any, ...]] | None]] = [
        asyncio.Queue(maxsize=2) for _ in range(streams)
    ]

    async def stream(queue: asyncio.Queue[list[tuple[Any, ...]] | None]) -> None:
        async def records() -> AsyncIterator[tuple[Any, ...]]:
            while (chunk := await queue.get()) is not None:
                for row in chunk:
                    yield row

        copier = await asyncpg.connect(dsn)
        try:
            await copier.copy_records_to_table(
                "article", records=records(), columns=ARTICLE_COLUMNS
            )
        finally:
            await copier.close()

    copies = [asyncio.create_task(stream(queue)) for queue in queues]
    with _progress(quiet) as progress:
        task = progress.add_task("articles", total=generator.count) if progress else None
        chunk: list[tuple[Any, ...]] = []
        turn = 0
        for row, author_ids, tag_ids in generator.articles():
            id = row[0]
            bylines.extend((id, author, position) for position, author in enumerate(author_ids))
            tags.extend((id, tag) for tag in tag_ids)
            chunk.append(row)
            if len(chunk) == COPY_CHUNK or id == generator.count:
                await queues[turn % streams].put(chunk)
                turn, chunk = turn + 1, []
                if progress is not None:
                    progress.update(task, completed=id)
                for copy in copies:  # a failed COPY stops the load at once
                    if copy.done() and (error := copy.exception()) is not None:
                        raise error
        for queue in queues:
            await queue.put(None)
        await asyncio.gather(*copies)
    await connection.copy_records_to_table(
        "article_author", records=bylines, columns=("article_id", "author_id", "position")
    )
    await connection.copy_records_to_table(
        "article_tag", records=tags, columns=("article_id", "tag_id")
    )


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


def _progress(quiet: bool) -> Any:
    if quiet:
        return _NoProgress()
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip


def _progress_steps(items: Sequence[str], label: str, quiet: bool) -> Iterator[str]:
    if quiet:
        yield from items
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    ) as progress:
        task = progress.add_task(label, total=len(items))
        for item in items:
            yield item
            progress.advance(task)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql+asyncpg://... (empty)")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    seconds = asyncio.run(load(args.database_url, args.articles, seed=args.seed, quiet=args.quiet))
    print(f"loaded {args.articles} articles in {seconds:.1f} s")


if __name__ == "__main__":
    main()
