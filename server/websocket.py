"""GraphQL subscriptions over WebSocket (graphql-transport-ws) at ``/graphql``.

The HTTP view's subclass, so a connection is authenticated and given its context the
same way; what differs is what a long-lived socket needs:

- Only browsers on the same origin, or on one of ``cors_allow_origins``, may open one
  (a page elsewhere could otherwise act with the visitor's cookies: CSWSH); clients that
  send no ``Origin`` are not browsers and may.
- A token goes in the ``Authorization`` header, or, since browsers cannot set headers on
  a WebSocket, in the ``connection_init`` payload: ``{"Authorization": "Bearer vst_..."}``.
  A wrong token refuses the handshake (403) or the connection (close code 4403).
- At most :data:`MAX_CONNECTIONS` sockets per process, :data:`MAX_SUBSCRIPTIONS_PER_CONNECTION`
  operations per socket; ``connection_init`` must come within
  :data:`CONNECTION_INIT_SECONDS`.
- Only subscriptions run over the socket (``schema.subscriptions.context``): queries and
  mutations stay on HTTP, under its rate, concurrency and deadline limits.
"""

import logging
from dataclasses import fields
from datetime import timedelta
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from models.errors import AccessDenied
from models.services.tokens import viewer_for_secret
from models.viewer import Viewer
from schema.context import Context
from schema.subscriptions.broker import Broker
from schema.subscriptions.context import SubscriptionContext
from server.auth import authenticate
from server.graphql import GraphQLView
from server.settings import Settings

logger = logging.getLogger("vestnik.websocket")

MAX_CONNECTIONS = 1000
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
CONNECTION_INIT_SECONDS = 10
# Close codes (RFC 6455); closing before accepting makes the server answer the handshake 403.
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class SubscriptionView(GraphQLView):
    def __init__(
        self, schema: Any, *, broker: Broker, sessionmaker: Any, settings: Settings
    ) -> None:
        super().__init__(
            schema,
            sessionmaker=sessionmaker,
            settings=settings,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            allowed_origins=settings.cors_allow_origins,
        )
        self.broker = broker
        self.connections = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        websocket = WebSocket(scope, receive, send)
        if self.connections >= MAX_CONNECTIONS:
            logger.warning("refused a WebSocket: %d connections already open", self.connections)
            await websocket.close(TRY_AGAIN_LATER)
            return
        try:
            # Here, before the handshake is accepted, so a wrong token is a plain 403.
            await authenticate(websocket, self.sessionmaker)
        except AccessDenied:
            await websocket.close(POLICY_VIOLATION)
            return
        self.connections += 1
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.connections -= 1

    async def get_context(self, request: Any, response: Any) -> Context:
        context = await super().get_context(request, response)
        values = {
            field.name: getattr(context, field.name) for field in fields(context) if field.init
        }
        # Subscriptions read the primary: an event may arrive before a replica has its change.
        values["reader"] = None
        return SubscriptionContext(**values, broker=self.broker)

    def decode_json(self, data: str | bytes) -> object:
        """A message: a JSON object, or the socket is closed with 4400 (Strawberry's rule for
        what does not parse; not the HTTP view's 400, which has no meaning here)."""
        value = orjson.loads(data)
        if not isinstance(value, dict):
            raise orjson.JSONDecodeError("a message must be a JSON object", "", 0)
        return value

    def encode_json(self, data: object) -> str:  # type: ignore[override]  # text, not bytes:
        # browsers' graphql-ws clients parse text frames only; the HTTP view returns bytes.
        return orjson.dumps(data).decode()

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A token in the ``connection_init`` payload, for clients that cannot set headers."""
        params = context.connection_params if isinstance(context, SubscriptionContext) else None
        header = _authorization(params or {})
        if header is None:
            return None
        try:
            viewer = await _viewer_for_header(header, self)
        except AccessDenied as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        context.viewer = viewer
        if isinstance(context, SubscriptionContext):
            context.renew()  # its loaders were made for the previous viewer
        return None


def _authorization(params: dict[str, object]) -> str | None:
    for key, value in params.items():
        if key.lower() == "authorization":
            return value if isinstance(value, str) else ""
    return None


async def _viewer_for_header(header: str, view: GraphQLView) -> Viewer:
    # The same rules as server.auth.authenticate, for a header that came in a message.
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AccessDenied("invalid token", "UNAUTHENTICATED")
    async with view.sessionmaker() as session:
        return await viewer_for_secret(session, secret.strip())
