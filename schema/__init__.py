"""GraphQL layer: Strawberry types, inputs and thin resolvers.

May import ``models`` and ``models.services``; never ``server``. Resolvers turn
arguments into one service call and wrap the result with ``Type.from_model``.
"""
