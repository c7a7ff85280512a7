"""Relay global IDs: encoded and read in one place (models/global_ids.py)."""

import base64

import pytest

from models.global_ids import MAX_ROW_ID, parse_global_id, to_global_id


def raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize("pk", [1, 42, MAX_ROW_ID])
def test_an_id_reads_back_as_its_type_and_key(pk: int) -> None:
    assert parse_global_id(to_global_id("Article", pk)) == ("Article", pk)


@pytest.mark.parametrize(
    "global_id",
    [
        "not base64!",
        "w6k=",  # bytes that are not UTF-8
        raw("Article"),
        raw("Article:"),
        raw("Article:0"),
        raw("Article:007"),
        raw("Article:-1"),
        raw(f"Article:{MAX_ROW_ID + 1}"),
        raw("Article:12345678901"),
        "é",
    ],
)
def test_anything_else_is_not_a_global_id(global_id: str) -> None:
    assert parse_global_id(global_id) is None
