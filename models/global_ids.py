"""Relay global IDs as the API gives them: base64 of ``"Type:pk"``.

Declared here, in the domain, because more than the GraphQL API hands them out: webhook
payloads (``models.services.outbox``) carry the same IDs. ``schema.node`` wraps both
functions for the API (a ``strawberry.ID``; which types a client may name, and its errors).
"""

import base64
import binascii
import re

# Primary keys are 32-bit on PostgreSQL: a larger number never names a row.
MAX_ROW_ID = 2**31 - 1
_PK = re.compile(r"[1-9][0-9]{0,9}")

# The API's type name of each content entity (``ContentEvent.entity``).
TYPE_NAMES = {"article": "Article", "author": "Author", "tag": "Tag", "office": "Office"}


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


def parse_global_id(global_id: str) -> tuple[str, int] | None:
    """The type name and primary key ``global_id`` stands for; None: not a global ID."""
    try:
        decoded = base64.urlsafe_b64decode(global_id.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, _, raw_pk = decoded.partition(":")
    if not _PK.fullmatch(raw_pk) or int(raw_pk) > MAX_ROW_ID:
        return None
    return type_name, int(raw_pk)
