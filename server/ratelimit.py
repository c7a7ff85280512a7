"""Requests per minute, per client address and per API token.

In-process token buckets: each worker process keeps its own, so with N workers a client
gets up to N times the budget (run one worker per host, or put the limit in the proxy).

Three budgets, so one kind of traffic cannot starve another:

* anonymous requests: per client address (``rate_limit_per_minute``);
* requests with a token already seen to be valid: per token
  (``editor_rate_limit_per_minute``);
* requests with a token not (yet) seen to be valid: per client address, again
  ``rate_limit_per_minute``, kept apart from the anonymous one. Guessing tokens is thus
  rate-limited like anything else, without a database lookup, and a busy anonymous
  address does not lock an editor behind the same NAT out of their first request.
"""

import functools
import hashlib
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.requests import HTTPConnection

Clock = Callable[[], float]

# Enough for every client of a busy site; the least recently seen are forgotten first.
MAX_KEYS = 50_000


class TokenBuckets:
    """One bucket per key: ``per_minute`` requests a minute, bursts of up to that many."""

    def __init__(
        self, per_minute: int, *, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one request of ``key``'s budget: 0 if allowed, else seconds to wait.

        A refused request spends nothing, so asking again at once gets the same answer.
        """
        if self.capacity == 0:
            return 0.0  # 0 per minute: no limit
        now = self.clock()
        tokens, updated = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)  # most recently seen last
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class RateLimits:
    def __init__(
        self,
        per_minute: int,
        editor_per_minute: int,
        *,
        trust_forwarded_for: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        self.trust_forwarded_for = trust_forwarded_for
        self.anonymous = TokenBuckets(per_minute, clock=clock)
        self.unverified = TokenBuckets(per_minute, clock=clock)
        self.editors = TokenBuckets(editor_per_minute, clock=clock)
        self._verified: OrderedDict[str, None] = OrderedDict()

    @property
    def limits_anonymous(self) -> bool:
        """Anonymous requests have a budget (``rate_limit_per_minute`` is not 0)."""
        return self.anonymous.capacity > 0

    def check(self, connection: HTTPConnection) -> float:
        """Charge this request to its budget: 0 if allowed, else seconds until it would be."""
        token = token_key(connection)
        if token is None:
            return self.check_anonymous(connection)
        if token in self._verified:
            return self.editors.take(token)
        return self.unverified.take(self.client(connection))

    def check_anonymous(self, connection: HTTPConnection) -> float:
        """``check`` for a request known to carry no ``Authorization`` header."""
        return self.anonymous.take(self.client(connection))

    def verified(self, connection: HTTPConnection) -> None:
        """The request's token authenticated: from now on it has its own budget."""
        if (token := token_key(connection)) is not None:
            self._verified[token] = None
            self._verified.move_to_end(token)
            if len(self._verified) > MAX_KEYS:
                self._verified.popitem(last=False)

    def refused(self, connection: HTTPConnection) -> None:
        """The request's token was refused (e.g. revoked): back to the per-address budget."""
        if (token := token_key(connection)) is not None:
            self._verified.pop(token, None)

    def client(self, connection: HTTPConnection) -> str:
        return client_address(connection, trust_forwarded_for=self.trust_forwarded_for)


def token_key(connection: HTTPConnection) -> str | None:
    """A digest of the presented bearer secret (never the secret itself), or None."""
    header = connection.headers.get("authorization")
    if header is None:
        return None
    # As authenticate() reads it, so "bearer X" and "Bearer  X" are one token, one budget.
    scheme, _, secret = header.strip().partition(" ")
    presented = f"{scheme.lower()} {secret.strip()}"
    return hashlib.sha256(presented.encode("utf-8", "surrogateescape")).hexdigest()


def client_address(connection: HTTPConnection, *, trust_forwarded_for: bool) -> str:
    """Who to charge: the peer, or the address our proxy appended to X-Forwarded-For.

    Only the last X-Forwarded-For entry is trusted: the client can write the ones before it.
    An IPv6 client is charged per /64, the block one subscriber usually gets.
    """
    host = connection.client.host if connection.client else ""
    if trust_forwarded_for:
        forwarded = ",".join(connection.headers.getlist("x-forwarded-for"))
        host = forwarded.rsplit(",", 1)[-1].strip() or host
    return _budget_key(host)


@functools.lru_cache(maxsize=4096)  # parsing an address costs more than the rest of a check
def _budget_key(host: str) -> str:
    """The key an address is charged under: itself, its IPv4 form, or its IPv6 /64."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
