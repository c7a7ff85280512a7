"""Relay global object identification: opaque IDs and the ``Node`` interface."""

import base64
import binascii
import re

import strawberry

from models import global_ids
from models.errors import DomainError, InvalidInput
from models.services.pagination import MAX_ROW_ID
from schema.sources import GlobalId, declare

NODE_TYPES = ("Article", "Author", "Tag", "Office")
_PK = re.compile(r"[1-9][0-9]{0,9}")


declare("Node", {"id": GlobalId()})


@strawberry.interface(description="An object with a globally unique ID (Relay).")
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, pk: int | None) -> strawberry.ID:
    """The encoding is the domain's (``models.global_ids``): webhook payloads carry it too."""
    assert pk is not None, "only stored rows have global IDs"
    return strawberry.ID(global_ids.to_global_id(type_name, pk))


def from_global_id(
    global_id: str, expected: str | None = None, field: str = "id"
) -> tuple[str, int]:
    """Split a global ID into its type name and primary key, or raise ``InvalidInput``."""
    error = InvalidInput(f"'{global_id[:100]}' is not a valid ID", field=field)
    try:
        decoded = base64.urlsafe_b64decode(global_id.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise error from None
    type_name, _, raw_pk = decoded.partition(":")
    if type_name not in NODE_TYPES or not _PK.fullmatch(raw_pk) or int(raw_pk) > MAX_ROW_ID:
        raise error
    if expected is not None and type_name != expected:
        raise InvalidInput(f"ID is of type {type_name}, expected {expected}", field=field)
    return type_name, int(raw_pk)


def pks_of(
    ids: list[strawberry.ID], expected: str, field: str, errors: list[DomainError]
) -> list[int]:
    """Primary keys of several global IDs of one type.

    Each malformed one is appended to ``errors`` (and left out), so the caller can report
    it together with every other problem of the input.
    """
    pks: list[int] = []
    for i, global_id in enumerate(ids):
        try:
            pks.append(from_global_id(global_id, expected, field=f"{field}.{i}")[1])
        except DomainError as error:
            errors.append(error)
    return pks
