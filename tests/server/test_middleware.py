"""Request ids: the shape of a new one."""

import uuid

from server.middleware import accepted_request_id, new_request_id


def test_a_new_request_id_is_a_random_uuid_in_hex() -> None:
    ids = {new_request_id() for _ in range(1000)}

    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(hex=value)
        assert (parsed.hex, parsed.version, parsed.variant) == (value, 4, uuid.RFC_4122)


def test_only_a_sane_incoming_id_is_kept() -> None:
    assert accepted_request_id("edge-42") == "edge-42"
    assert accepted_request_id("x" * 64) == "x" * 64
    for insane in (None, "", "x" * 65, "a b", "id\r\nX-Injected: 1", "ид"):
        assert uuid.UUID(hex=accepted_request_id(insane)).version == 4
