"""Relay global IDs as the API gives them: base64 of ``"Type:pk"``.

Declared here, in the domain, because more than the GraphQL API hands them out: webhook
payloads (``models.services.outbox``) carry the same IDs. ``schema.node`` wraps
:func:`to_global_id` as a ``strawberry.ID`` and owns the decoding of IDs it is given.
"""

import base64

# The API's type name of each content entity (``ContentEvent.entity``).
TYPE_NAMES = {"article": "Article", "author": "Author", "tag": "Tag", "office": "Office"}


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()
