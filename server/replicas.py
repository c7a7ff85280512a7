"""Streaming replicas for anonymous reads: taken in turn, and one that fails sits out.

A replica that cannot be reached must not turn anonymous reads into errors while the
primary is fine: the request is run again on the primary, and that replica is skipped
for ``RETRY_SECONDS`` before it is tried again.
"""

import logging
import time
from collections.abc import Sequence

from models.db import SessionMaker

logger = logging.getLogger("vestnik.replicas")

RETRY_SECONDS = 5.0


class Replicas:
    def __init__(self, readers: Sequence[SessionMaker]) -> None:
        self._readers = list(readers)
        self._next = 0
        self._down_until: dict[int, float] = {}

    def __bool__(self) -> bool:
        return bool(self._readers)

    def pick(self) -> SessionMaker | None:
        """The next replica that is not sitting out; None: read the primary."""
        now = time.monotonic()
        for _ in range(len(self._readers)):
            index = self._next % len(self._readers)
            self._next += 1
            if self._down_until.get(index, 0.0) <= now:
                return self._readers[index]
        return None

    def failed(self, reader: SessionMaker, reason: object) -> None:
        index = self._readers.index(reader)
        if self._down_until.get(index, 0.0) <= time.monotonic():
            logger.warning("replica %d unavailable (%s); reading the primary", index, reason)
        self._down_until[index] = time.monotonic() + RETRY_SECONDS
