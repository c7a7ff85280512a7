"""Alembic migrations (env.py + versions/). Run them with ``vestnik migrate``."""
