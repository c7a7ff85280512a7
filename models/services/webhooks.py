"""Webhooks: admins register receivers, and read what was (or is to be) sent to them.

Committed content events become pending deliveries in ``models.services.outbox`` (the
transactional outbox); sending is ``models.services.webhook_delivery``'s job, in the
background.

Receivers must be public addresses unless the server allows private ones
(``webhook_allow_private_addresses``): checked here at registration (the host's DNS
answers included) and again before every send, against the address actually connected to.
"""

import asyncio
import ipaddress
import secrets
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.columns import is_storable, utcnow
from models.errors import DomainError, InvalidInput, NotFound, Required, TooLong
from models.services import audit
from models.services.outbox import EVENTS, WILDCARDS
from models.services.pagination import (
    Ordering,
    OrderKey,
    Page,
    PageArgs,
    check_page_args,
    make_page,
    paginate,
)
from models.validation import raise_all
from models.viewer import Viewer
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

ENTITY = "webhook"
MAX_EVENTS = 50
MAX_URL_LENGTH = 2000
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 500
SECRET_PREFIX = "whsec_"
DNS_TIMEOUT_SECONDS = 3.0

NEWEST_FIRST = Ordering("webhooks", (OrderKey("id", col(Webhook.id), descending=True),))
DELIVERIES_NEWEST_FIRST = Ordering(
    "webhook_deliveries", (OrderKey("id", col(WebhookDelivery.id), descending=True),)
)


# --- where a webhook may point -------------------------------------------------------------


def refused_address(address: str) -> bool:
    """Loopback, private, link-local, reserved...: anything not on the public internet."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not ip.is_global or ip.is_multicast


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` stands for (an IP literal stands for itself)."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(DNS_TIMEOUT_SECONDS):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url(url: str, *, allow_private: bool, field: str = "url") -> str:
    """The URL, trimmed, if a webhook may point there; otherwise ``InvalidInput``."""
    url = url.strip()
    if not url:
        raise Required("A webhook needs a URL", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise TooLong(f"A URL may have at most {MAX_URL_LENGTH} characters", field=field)
    if not is_storable(url) or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidInput("The URL contains characters that are not allowed", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("This is not a valid URL", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("Use an http or https URL, e.g. https://example.org/hook", field=field)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "Put no credentials in the URL: the receiver verifies the signature", field=field
        )
    if allow_private:
        return url
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidInput(_PRIVATE, field=field)
    try:
        addresses = await resolve(host, port)
    except (OSError, TimeoutError, UnicodeError):
        # Not resolvable now (perhaps not yet): accepted; each send checks again.
        return url
    if any(refused_address(address) for address in addresses):
        raise InvalidInput(_PRIVATE, field=field)
    return url


_PRIVATE = "The URL points to a loopback or private address; webhooks go to public ones"


def check_events(raw: Sequence[str], field: str = "events") -> tuple[list[str], list[DomainError]]:
    errors: list[DomainError] = []
    if not raw:
        errors.append(Required("Subscribe to at least one event, e.g. article.published", field))
    if len(raw) > MAX_EVENTS:
        errors.append(TooLong(f"At most {MAX_EVENTS} events", field=field))
    for i, event in enumerate(raw[:MAX_EVENTS]):
        if event not in EVENTS and event not in WILDCARDS:
            shown = event[:60] if is_storable(event) else "?"
            errors.append(InvalidInput(f"Unknown event '{shown}'", field=f"{field}.{i}"))
    return list(dict.fromkeys(raw)), errors


def check_text(value: str, field: str, *, minimum: int, maximum: int) -> list[DomainError]:
    if not is_storable(value):
        return [InvalidInput("This text contains characters that cannot be stored", field=field)]
    if len(value) > maximum:
        return [TooLong(f"At most {maximum} characters", field=field)]
    if len(value) < minimum:
        return [InvalidInput(f"At least {minimum} characters", field=field)]
    return []


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- admins' use cases ---------------------------------------------------------------------


async def _checked(
    data: dict[str, Any], *, allow_private: bool, creating: bool
) -> tuple[dict[str, Any], list[DomainError]]:
    """The valid values of ``data`` (fields given only), and every problem found."""
    values: dict[str, Any] = {}
    errors: list[DomainError] = []
    if "url" in data or creating:
        try:
            values["url"] = await check_url(data.get("url") or "", allow_private=allow_private)
        except DomainError as error:
            errors.append(error)
    if "events" in data or creating:
        values["events"], problems = check_events(data.get("events") or [])
        errors += problems
    if data.get("secret") is not None:
        errors += check_text(
            data["secret"], "secret", minimum=MIN_SECRET_LENGTH, maximum=MAX_SECRET_LENGTH
        )
        values["secret"] = data["secret"]
    if data.get("description") is not None:
        values["description"] = data["description"].strip()
        errors += check_text(
            values["description"], "description", minimum=0, maximum=MAX_DESCRIPTION_LENGTH
        )
    if data.get("active") is not None:
        values["active"] = bool(data["active"])
    for name in ("url", "events", "active"):
        if name in data and data[name] is None:
            errors.append(Required("This field cannot be null", field=name))
    return values, errors


async def create_webhook(
    session: AsyncSession, *, viewer: Viewer, data: dict[str, Any], allow_private: bool
) -> tuple[Webhook, str]:
    """Register a receiver; the secret (given or generated) is returned this once."""
    values, errors = await _checked(data, allow_private=allow_private, creating=True)
    raise_all(errors)
    secret = values.pop("secret", None) or new_secret()
    webhook = Webhook(secret=secret, **values)
    session.add(webhook)
    await session.flush()
    audit.record(session, viewer, "webhook.created", ENTITY, webhook.id, events=webhook.events)
    await session.commit()
    return webhook, secret


async def update_webhook(
    session: AsyncSession, *, viewer: Viewer, id: int, data: dict[str, Any], allow_private: bool
) -> Webhook:
    """Change the given fields (a new ``secret`` replaces the old one)."""
    values, errors = await _checked(data, allow_private=allow_private, creating=False)
    webhook = await session.get(Webhook, id)
    if webhook is None:
        errors.insert(0, NotFound("No webhook with this ID", field="id"))
    raise_all(errors)
    assert webhook is not None
    changed = sorted(name for name, value in values.items() if getattr(webhook, name) != value)
    if not changed:
        return webhook
    for name in changed:
        setattr(webhook, name, values[name])
    webhook.updated_at = utcnow()
    audit.record(session, viewer, "webhook.updated", ENTITY, id, fields=changed)
    await session.commit()
    return webhook


async def delete_webhook(session: AsyncSession, *, viewer: Viewer, id: int) -> int:
    """Remove the webhook and every delivery of it (pending ones are never sent)."""
    webhook = await session.get(Webhook, id)
    if webhook is None:
        raise NotFound("No webhook with this ID", field="id")
    # The foreign key cascades too; deleting explicitly does not depend on it.
    await session.exec(sa.delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == id))
    await session.delete(webhook)
    audit.record(session, viewer, "webhook.deleted", ENTITY, id)
    await session.commit()
    return id


async def redeliver(session: AsyncSession, *, viewer: Viewer, id: int) -> WebhookDelivery:
    """Send a delivery's payload again, as a new delivery (the old one stays as it was)."""
    old = await session.get(WebhookDelivery, id)
    if old is None:
        raise NotFound("No webhook delivery with this ID", field="id")
    delivery = WebhookDelivery(webhook_id=old.webhook_id, event=old.event, payload=old.payload)
    session.add(delivery)
    await session.flush()
    audit.record(session, viewer, "webhook.redelivered", ENTITY, old.webhook_id, delivery=old.id)
    await session.commit()
    return delivery


async def list_webhooks(session: AsyncSession, *, page: PageArgs) -> Page[Webhook]:
    window = check_page_args(page, NEWEST_FIRST)
    rows = (await session.exec(paginate(select(Webhook), NEWEST_FIRST, window))).all()
    return make_page(rows, NEWEST_FIRST, window)


def _deliveries(webhook_id: int | None, status: DeliveryStatus | None) -> Any:
    conditions = []
    if webhook_id is not None:
        conditions.append(col(WebhookDelivery.webhook_id) == webhook_id)
    if status is not None:
        conditions.append(col(WebhookDelivery.status) == status.value)
    return sa.and_(sa.true(), *conditions)


async def list_deliveries(
    session: AsyncSession,
    *,
    webhook_id: int | None = None,
    status: DeliveryStatus | None = None,
    page: PageArgs,
) -> Page[WebhookDelivery]:
    """Newest first, optionally of one webhook and in one status."""
    window = check_page_args(page, DELIVERIES_NEWEST_FIRST)
    stmt = select(WebhookDelivery).where(_deliveries(webhook_id, status))
    rows = (await session.exec(paginate(stmt, DELIVERIES_NEWEST_FIRST, window))).all()
    return make_page(rows, DELIVERIES_NEWEST_FIRST, window)


async def count_deliveries(
    session: AsyncSession, *, webhook_id: int | None = None, status: DeliveryStatus | None = None
) -> int:
    stmt = select(sa.func.count()).select_from(WebhookDelivery)
    return (await session.exec(stmt.where(_deliveries(webhook_id, status)))).one()
