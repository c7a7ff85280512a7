"""The context of a WebSocket connection, and which operations each transport carries.

One context lives as long as its connection, unlike an HTTP request's, so it is renewed
for every event a subscription answers (:meth:`SubscriptionContext.renew`).

Over the WebSocket only subscriptions run: queries and mutations go over HTTP, where the
rate, concurrency and deadline limits and the response cache apply. Over HTTP no
subscription runs: there is no event stream there.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from models.columns import utcnow
from schema.context import Context
from schema.limits import refusal
from schema.subscriptions.broker import Broker

WEBSOCKET_REQUIRED = "WEBSOCKET_REQUIRED"
SUBSCRIPTIONS_ONLY = "SUBSCRIPTIONS_ONLY"
TRANSPORT_REFUSALS = frozenset({WEBSOCKET_REQUIRED, SUBSCRIPTIONS_ONLY})


@dataclass
class SubscriptionContext(Context):
    broker: Broker | None = None
    # The graphql-transport-ws connection_init payload (Strawberry fills it in).
    connection_params: dict[str, object] | None = None

    def renew(self) -> None:
        """A new instant and empty DataLoaders, for the next event.

        Loaders cache what they read, and "published by now" depends on the instant: an
        event must be answered with what is true when it arrives. Subscriptions of one
        connection share this context; renewing it under another one's resolvers is
        harmless, since both old and new loaders answer for the same viewer.
        """
        self.now = utcnow()
        self.__dict__.pop("loaders", None)  # a cached_property: built again on next use


class TransportRules(SchemaExtension):
    """Subscriptions only over the WebSocket, and only there; refused before validation."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.pre_execution_errors is None and execution.graphql_document is not None:
            over_websocket = isinstance(execution.context, SubscriptionContext)
            try:
                subscription = execution.operation_type == OperationType.SUBSCRIPTION
            except RuntimeError:  # no such operation: validation reports it
                subscription = None
            if subscription is False and over_websocket:
                execution.pre_execution_errors = [
                    refusal(
                        "Only subscriptions run over the WebSocket; send queries and "
                        "mutations as HTTP requests to /graphql",
                        SUBSCRIPTIONS_ONLY,
                    )
                ]
            elif subscription and not over_websocket:
                execution.pre_execution_errors = [
                    refusal(
                        "Subscriptions run over a WebSocket to /graphql "
                        "(the graphql-transport-ws protocol), not over HTTP",
                        WEBSOCKET_REQUIRED,
                    )
                ]
        yield
