"""A request's root fields share a few sessions instead of one connection each."""

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.context import MAX_SESSIONS_PER_REQUEST

pytestmark = pytest.mark.anyio

# More root fields than MAX_SESSIONS_PER_REQUEST; totalCount keeps the planner out of it, so
# graphql-core runs every root field's resolver at once.
ROOTS = 12
MANY_ROOTS = (
    "{ " + " ".join(f"a{n}: articles(first: {n + 1}) {{ totalCount }}" for n in range(ROOTS)) + " }"
)


class CheckedOut:
    """The most connections the engine's pool has handed out at the same time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.now = 0
        self.most = 0
        pool = engine.sync_engine.pool
        sa.event.listen(pool, "checkout", self.checkout)
        sa.event.listen(pool, "checkin", self.checkin)

    def checkout(self, *_: object) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def checkin(self, *_: object) -> None:
        self.now -= 1


async def test_a_request_reads_on_at_most_a_few_connections_at_once(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # given
    checked_out = CheckedOut(engine)

    # when
    response = await client.post("/graphql", json={"query": MANY_ROOTS})

    # then
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {f"a{n}": {"totalCount": 0} for n in range(ROOTS)}}
    assert 1 <= checked_out.most <= MAX_SESSIONS_PER_REQUEST
