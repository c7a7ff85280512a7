"""A cancellation always ends a wait (python/cpython#86296: 3.11's wait_for may swallow it)."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from models.waiting import wait_at_most

pytestmark = pytest.mark.anyio

Wait = Callable[[asyncio.Event, float], Awaitable[object]]


async def cancelled_just_after_the_event(wait: Wait, steps: int) -> bool:
    """A loop waiting for an event: set it, let ``steps`` loop turns pass, cancel the loop.
    Did the cancellation end it?"""
    event = asyncio.Event()

    async def loop() -> None:
        while True:
            await wait(event, 60)
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # waiting now
    event.set()
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=1)
    if not done:
        task.cancel()  # swallowed: cancel it again, now that it waits
        await asyncio.wait([task], timeout=1)
        return False
    return task.cancelled()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("steps", range(4))
async def test_a_cancellation_always_ends_the_wait(steps: int) -> None:
    assert await cancelled_just_after_the_event(wait_at_most, steps)


async def test_the_time_limit_and_the_event() -> None:
    event = asyncio.Event()
    assert not await wait_at_most(event, 0.001)
    event.set()
    assert await wait_at_most(event, 60)
