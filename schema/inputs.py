"""What every mutation input shares: telling fields a client sent from fields it left out."""

from typing import Any

import strawberry


def provided(**fields: Any) -> dict[str, Any]:
    """The fields the client actually sent (``null`` included, omitted ones left out)."""
    return {name: value for name, value in fields.items() if value is not strawberry.UNSET}
