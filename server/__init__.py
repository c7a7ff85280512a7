"""Process and HTTP layer: settings, the Starlette app, the CLI.

May import ``schema``, ``models`` and ``models.db``; the only layer that reads the
environment.
"""
