"""The seed content: the contact block and the news article of a real district page.

Source: the Kopyl District Executive Committee's website (``shared/seeds``). The
article is syndicated from BelTA; the page cut its "Written by" byline off, so the
seed gives it no author rather than invent one. The page shows no date either:
the article reports the CSTO Collective Security Council session in Minsk that
closed Belarus's 2023 chairmanship, held on 23 November 2023.
"""

from datetime import UTC, datetime, time
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Article, ArticleCreate, ArticleStatus, Language
from models.office import Office, OfficeCreate, PhoneKind
from models.opening_hours import DayHours, Interval
from models.services.article_edits import insert_article
from models.services.offices import PhoneSpec, create_office
from models.services.tags import create_tag
from models.tag import TagCreate

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"

OFFICE = OfficeCreate(
    slug="kopyl-district-executive-committee",
    name="Kopyl District Executive Committee",
    postal_code="223927",
    country="BY",
    region="Minsk region",
    locality="Kopyl",
    street="Lenin square, 6",
    timezone="Europe/Minsk",
)
PHONES = (
    PhoneSpec("+375 (1719) 28-2-60", PhoneKind.RECEPTION, "Reception"),
    PhoneSpec("+375 (1719) 55-2-41", PhoneKind.OTHER, None),
    PhoneSpec("+375 (1719) 28-2-60", PhoneKind.HOTLINE, "Hot line"),
)
WORKDAY = DayHours(time(8, 30), time(17, 30), (Interval(time(13), time(14), "lunch"),))
ARTICLE_TITLE = "Lukashenko: CSTO remains integral part of security architecture in Eurasia"
ARTICLE_SLUG = "lukashenko-csto-remains-integral-part-of-security-architecture-in-eurasia"
ARTICLE_PUBLISHED_AT = datetime(2023, 11, 23, 10, 0, tzinfo=UTC)


def article_create() -> ArticleCreate:
    lead, body = (SEED_DIR / "csto-eurasia.md").read_text(encoding="utf-8").split("\n\n", 1)
    return ArticleCreate(
        slug=ARTICLE_SLUG,
        title=ARTICLE_TITLE,
        lead=lead,
        body=body,
        status=ArticleStatus.PUBLISHED,
        language=Language.EN,
        published_at=ARTICLE_PUBLISHED_AT,
        source_name="BelTA",
        source_url="https://www.belta.by/",
    )


async def is_empty(session: AsyncSession) -> bool:
    offices = (await session.exec(select(col(Office.id)).limit(1))).first()
    articles = (await session.exec(select(col(Article.id)).limit(1))).first()
    return offices is None and articles is None


async def load_seed(session: AsyncSession) -> bool:
    """Load the seed office and article into an empty database; False if it was not empty."""
    if not await is_empty(session):
        return False
    await create_office(
        session, data=OFFICE, phones=PHONES, weekly={day: WORKDAY for day in range(1, 6)}
    )
    tag = await create_tag(session, data=TagCreate(slug="csto", name="CSTO"))
    assert tag.id is not None
    await insert_article(session, data=article_create(), tag_ids=[tag.id])
    return True
