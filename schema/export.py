"""The schema as SDL, and the committed copy of it in ``schema/schema.graphql``.

The file lets clients and reviewers read the API without running it, and lets CI diff one
version against the next (``scripts/schema-breaking-changes``); a test keeps it equal to the
code. ``vestnik schema export`` rewrites it.
"""

from pathlib import Path

from schema.root import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"


def schema_sdl() -> str:
    """The schema the code builds, as SDL ending in one newline."""
    return build_schema().as_str().rstrip("\n") + "\n"


def write_schema(path: Path = SCHEMA_FILE) -> None:
    path.write_text(schema_sdl(), encoding="utf-8")
