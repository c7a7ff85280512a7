"""Use cases: async functions ``(session, *, ...)`` and DataLoader batch functions.

May import ``models``, sqlmodel and sqlalchemy; never strawberry or starlette.
"""
