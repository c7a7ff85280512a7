"""Relay global object identification: opaque IDs and the ``Node`` interface."""

import strawberry

from models import global_ids
from models.errors import DomainError, InvalidInput
from schema.sources import GlobalId, declare

NODE_TYPES = ("Article", "Author", "Tag", "Office")
# nodes(ids:) takes at most this many.
MAX_NODE_IDS = 100


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
    parts = global_ids.parse_global_id(global_id)
    if parts is None or parts[0] not in NODE_TYPES:
        raise InvalidInput(f"'{global_id[:100]}' is not a valid ID", field=field)
    type_name, pk = parts
    if expected is not None and type_name != expected:
        raise InvalidInput(f"ID is of type {type_name}, expected {expected}", field=field)
    return type_name, pk


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
