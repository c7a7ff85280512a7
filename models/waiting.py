"""Waiting for an event, at most so long, in a way a cancellation always ends.

``asyncio.wait_for`` on Python 3.11 swallows a cancellation that arrives just after the
awaited thing finished (python/cpython#86296, fixed in 3.12 by rebuilding it on
``asyncio.timeout``): the task goes on as if never cancelled. A background loop waiting so
(the webhook dispatcher's poll, the notification listener's keepalive) then never ends,
and the lifespan that cancelled it waits for it forever: a fresh-clone CI run hung in a
test's teardown that way, with the dispatcher "cancelling" and still polling.
``tests/models/test_waiting.py`` races a cancellation against the event both ways.

Layer: ``models`` (standard library only).
"""

import asyncio


async def wait_at_most(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set (True) or ``seconds`` have passed (False)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
