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
