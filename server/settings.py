"""All configuration, read once from ``VESTNIK_*`` environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./vestnik.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VESTNIK_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///... or postgresql+asyncpg://...",
    )
    host: str = Field("127.0.0.1", description="Address `vestnik serve` binds to.")
    port: int = Field(8000, description="Port `vestnik serve` listens on.")
    migrate_on_start: bool = Field(True, description="Apply migrations when the server starts.")
    seed_on_start: bool = Field(
        True, description="Load the seed office and article when the database is empty."
    )
    graphiql: bool = Field(True, description="Serve GraphiQL to browsers at /graphql.")
    log_level: str = Field("info", description="Python logging level.")

    # --- Limits against hostile traffic (see README "Security"); all on by default. ---
    introspection: bool = Field(
        True,
        description="Allow schema introspection; off in production also turns off "
        '"Did you mean" suggestions.',
    )
    max_query_depth: int = Field(12, ge=1, description="Deepest selection nesting allowed.")
    max_aliases: int = Field(30, ge=0, description="Most aliases in one document.")
    max_tokens: int = Field(
        3000, ge=100, description="Most lexical tokens in one document (checked while parsing)."
    )
    max_query_cost: int = Field(
        5000,
        ge=1,
        description="Most cost units per operation: every field costs 1, multiplied by the page "
        "sizes (first/last, default 20) of the lists it is inside; checked before execution.",
    )
    max_batch_size: int = Field(
        0, ge=0, description="Most operations in one batched request; 0 turns batching off."
    )
    max_body_bytes: int = Field(
        100_000, ge=1024, description="Largest request body accepted; larger ones get 413."
    )
    request_timeout_seconds: float = Field(
        10.0, gt=0, description="Deadline for one request; past it the client gets an error."
    )
    statement_timeout_ms: int = Field(
        5000, ge=0, description="PostgreSQL statement_timeout for every query (0: none)."
    )
    max_concurrent_requests: int = Field(
        64,
        ge=1,
        description="GraphQL requests handled at once; more get 503 with Retry-After at once "
        "instead of queueing.",
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (JSON list, e.g. "
        '["https://kopyl.gov.by"]); empty: no cross-origin access.',
    )
    persisted_queries: bool = Field(
        True, description="Automatic persisted queries (sha256 hashes over GET and POST)."
    )
    trusted_documents_only: bool = Field(
        False,
        description="Anonymous callers may run only documents registered with "
        "`vestnik documents add`.",
    )
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Requests per minute per client address (anonymous); 0: no limit."
    )
    editor_rate_limit_per_minute: int = Field(
        1200, ge=0, description="Requests per minute per API token; 0: no limit."
    )
    trust_forwarded_for: bool = Field(
        False,
        description="Take the client address from X-Forwarded-For (only behind a proxy you run).",
    )
    shutdown_grace_seconds: float = Field(
        10.0, gt=0, description="How long a stopping server lets running requests finish."
    )

    # --- Caching (see README "Caching") ---
    compiled_queries: bool = Field(
        True,
        description=(
            "Answer known queries of articles, offices, authors and tags from a plan, "
            "with one SQL statement per root field or child list (articles: PostgreSQL "
            "only), without executing GraphQL field by field (README: Caching)."
        ),
    )
    response_cache: bool = Field(
        True,
        description="Keep encoded responses to anonymous queries in memory until content changes.",
    )
    response_cache_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="Most bytes of responses the cache holds per process."
    )
    cache_max_age_seconds: int = Field(
        10, ge=0, description="Cache-Control max-age on anonymous GET responses (CDNs, browsers)."
    )
    cache_stale_while_revalidate_seconds: int = Field(
        60, ge=0, description="Cache-Control stale-while-revalidate on anonymous GET responses."
    )

    # --- Scale-out (see README "Deployment") ---
    workers: int = Field(1, ge=1, description="Processes `vestnik serve` starts.")
    database_replica_urls: list[str] = Field(
        default_factory=list,
        description="PostgreSQL streaming replicas for anonymous reads (JSON list of URLs); "
        "writes and editors' reads stay on the primary.",
    )

    # --- Operations ---
    log_format: str = Field(
        "json", pattern="^(json|text)$", description="Log lines as JSON objects or plain text."
    )
    metrics: bool = Field(True, description="Serve Prometheus metrics at /metrics.")

    # --- Webhooks (see README "Webhooks") ---
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, description="How long one webhook delivery may take."
    )
    webhook_max_attempts: int = Field(
        6, ge=1, description="Attempts per webhook delivery before it is marked failed."
    )
    webhook_retry_base_seconds: float = Field(
        2.0, gt=0, description="First retry delay; each later retry waits twice as long."
    )
    webhook_allow_private_addresses: bool = Field(
        False,
        description="Allow webhook URLs on loopback and private networks (intranet receivers).",
    )
