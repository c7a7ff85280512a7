"""schema.org JSON-LD for articles and offices: a page's ``<script type="application/ld+json">``.

Pure functions over the tables, so the API and the tests share one answer and no database is
needed to check it. The vocabulary and the property choices follow Google's structured-data
guidance for ``NewsArticle`` and ``LocalBusiness`` (``GovernmentOffice`` is a LocalBusiness).

Only public data goes in: this markup is published on pages, so author e-mails never appear,
and the caller decides which articles may be seen (the API only hands visible ones here).
There is no setting for the site's own URL, so ``url``, ``@id`` and ``mainEntityOfPage`` are
left out rather than guessed; articles have no image yet, so ``image`` (recommended by Google)
is missing too.
"""

from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from models.article import Article, Language
from models.author import AuthorRead
from models.office import OfficeRead, PhoneKind, StoredException, StoredHours, StoredPhone
from models.opening_hours import DayHours
from models.services.offices import exception_hours, weekly_hours

JsonLd = dict[str, Any]

CONTEXT = "https://schema.org"

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""schema.org ``DayOfWeek`` members, indexed by ISO weekday - 1."""

CLOSED_ALL_DAY = ("00:00", "00:00")
"""How schema.org (and Google) mark a day closed: opens and closes both at midnight."""


def news_article(article: Article, authors: Sequence[AuthorRead]) -> JsonLd:
    """A ``NewsArticle``: headline, dates, language, byline, publisher and the syndication source.

    ``author`` lists the byline as people (name and avatar only). A syndicated story with no
    byline is credited to its source organisation, which did write it; a story with neither is
    left without ``author`` rather than crediting someone who did not write it.

    ``publisher`` is the source organisation for syndicated content (it published the story we
    republish, which ``isBasedOn`` links to). For the site's own articles it is left out: the
    software does not know whose site it is, and naming "Vestnik" would be wrong. ``articleBody``
    is left out: the page already shows the text, and it would repeat the largest field.
    """
    data: JsonLd = {"@context": CONTEXT, "@type": "NewsArticle", "headline": article.title}
    if article.lead:
        data["description"] = article.lead
    data["inLanguage"] = Language(article.language).value
    if article.published_at is not None:
        data["datePublished"] = _instant(article.published_at)
    data["dateModified"] = _instant(article.updated_at)
    if authors:
        data["author"] = [_person(author) for author in authors]
    elif article.source_name:
        data["author"] = [_organization(article.source_name)]
    if article.source_name:
        data["publisher"] = _organization(article.source_name)
    if article.source_url:
        data["isBasedOn"] = article.source_url
    return data


def government_office(
    office: OfficeRead,
    phones: Sequence[StoredPhone],
    hours: Sequence[StoredHours],
    exceptions: Sequence[StoredException],
) -> JsonLd:
    """A ``GovernmentOffice``: address, phones, e-mail, website, location and opening hours.

    ``telephone`` is the first reception phone (else the first phone that is not a fax); the
    other phones become ``contactPoint`` entries, faxes ``faxNumber``. Hours are one
    ``OpeningHoursSpecification`` per continuous open interval per weekday, so a lunch break
    splits a day in two; dated exceptions become ``specialOpeningHoursSpecification``.
    """
    data: JsonLd = {"@context": CONTEXT, "@type": "GovernmentOffice", "name": office.name}
    if office.description:
        data["description"] = office.description
    data["address"] = _postal_address(office)
    data.update(_phones(phones))
    if office.email:
        data["email"] = office.email
    if office.website:
        data["url"] = office.website
    if office.latitude is not None and office.longitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": office.latitude,
            "longitude": office.longitude,
        }
    data["openingHoursSpecification"] = [
        _hours_spec(span, dayOfWeek=DAY_NAMES[row.weekday - 1])
        for row in hours
        for span in _clock_spans(weekly_hours(row))
    ]
    special = [spec for row in exceptions for spec in _special_specs(row)]
    if special:
        data["specialOpeningHoursSpecification"] = special
    return data


def open_intervals(day: DayHours) -> list[tuple[time, time]]:
    """The day's continuous open spans: ``[opens, closes)`` cut by the breaks, in order."""
    spans: list[tuple[time, time]] = []
    start = day.opens
    for pause in sorted(day.breaks, key=lambda b: b.start):
        if pause.start > start:
            spans.append((start, pause.start))
        start = max(start, pause.end)
    if day.closes > start:
        spans.append((start, day.closes))
    return spans


def _instant(at: datetime) -> str:
    # ISO 8601 with its UTC offset; stored instants are always aware.
    return at.isoformat()


def _person(author: AuthorRead) -> JsonLd:
    # Name (and the public avatar) only: ``Author.email`` is private.
    person: JsonLd = {"@type": "Person", "name": author.name}
    if author.avatar_url:
        person["image"] = author.avatar_url
    return person


def _organization(name: str) -> JsonLd:
    return {"@type": "Organization", "name": name}


def _postal_address(office: OfficeRead) -> JsonLd:
    fields = {
        "streetAddress": office.street,
        "addressLocality": office.locality,
        "addressRegion": office.region,
        "postalCode": office.postal_code,
        "addressCountry": office.country,
    }
    return {"@type": "PostalAddress", **{key: value for key, value in fields.items() if value}}


def _phones(phones: Sequence[StoredPhone]) -> JsonLd:
    voice = [p for p in phones if p.kind != PhoneKind.FAX]
    faxes = [p for p in phones if p.kind == PhoneKind.FAX]
    main = next((p for p in voice if p.kind == PhoneKind.RECEPTION), voice[0] if voice else None)
    data: JsonLd = {}
    if main is not None:
        data["telephone"] = main.number
    if faxes:
        data["faxNumber"] = faxes[0].number
    contacts = [_contact_point(p) for p in voice if p is not main]
    if contacts:
        data["contactPoint"] = contacts
    return data


def _contact_point(phone: StoredPhone) -> JsonLd:
    point: JsonLd = {"@type": "ContactPoint", "telephone": phone.number}
    # contactType names the line's purpose; "other" says nothing, so it is left out. (Rows
    # read back hold the kind as a plain string: compare and convert, never ``is``.)
    if phone.kind != PhoneKind.OTHER:
        point["contactType"] = PhoneKind(phone.kind).value
    if phone.label:
        point["name"] = phone.label
    return point


def _special_specs(row: StoredException) -> list[JsonLd]:
    day = exception_hours(row)
    spans = [CLOSED_ALL_DAY] if day is None else _clock_spans(day)
    on = row.day.isoformat()
    return [_hours_spec(span, validFrom=on, validThrough=on) for span in spans]


def _clock_spans(day: DayHours) -> list[tuple[str, str]]:
    return [(f"{start:%H:%M}", f"{end:%H:%M}") for start, end in open_intervals(day)]


def _hours_spec(span: tuple[str, str], **extra: str) -> JsonLd:
    opens, closes = span
    return {"@type": "OpeningHoursSpecification", **extra, "opens": opens, "closes": closes}
