"""Small memo tables for per-document work, bounded so clients cannot fill memory.

Keys are built from request values by ``frozen_key``; one with long strings or many parts
is ``UNKEPT``, which ``Bounded`` neither finds nor keeps (its last element is checked).
"""

from typing import Any, Generic, TypeVar

# Keys with longer strings (or more parts) are not kept: a client sending big, ever
# different variables must not fill memory with them.
MAX_KEY_STRING = 256
MAX_KEY_PARTS = 64


class _Unkept:
    """Stands for a key too big to keep; ``Bounded`` neither finds nor keeps it."""


UNKEPT = _Unkept()


def frozen_key(value: Any) -> Any:
    """A small hashable stand-in for arguments or variables; ``UNKEPT`` when too big."""
    parts = [0]

    def freeze(value: Any) -> Any:
        parts[0] += 1
        if parts[0] > MAX_KEY_PARTS or (isinstance(value, str) and len(value) > MAX_KEY_STRING):
            raise OverflowError
        if isinstance(value, dict):
            return tuple(sorted((k, freeze(v)) for k, v in value.items()))
        if isinstance(value, list):
            return ("[list]", *(freeze(v) for v in value))
        return value

    try:
        return freeze(value)
    except (OverflowError, TypeError):  # too big, or keys that do not sort
        return UNKEPT


T = TypeVar("T")


class Bounded(Generic[T]):
    """A dict that forgets its oldest entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[Any, T] = {}

    def get(self, key: tuple[Any, ...]) -> T | None:
        if key[-1] is UNKEPT:
            return None
        try:
            return self.items.get(key)
        except TypeError:  # something unhashable in the key: never kept
            return None

    def put(self, key: tuple[Any, ...], value: T) -> None:
        if key[-1] is UNKEPT:
            return
        try:
            self.items[key] = value
        except TypeError:
            return
        if len(self.items) > self.size:
            del self.items[next(iter(self.items))]
