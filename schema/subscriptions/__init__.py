"""GraphQL subscriptions (schema layer): the event broker, the ``Subscription`` root type and
the rules for which operations each transport may carry.

May import ``models``, ``models.services`` and the rest of ``schema``; never ``server``: the
server starts the broker in its lifespan and hands it to WebSocket connections' context.
"""
