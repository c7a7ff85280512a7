"""The README's configuration table, generated from ``Settings`` so the two cannot drift.

``python -m server.settings_doc`` prints it; a test checks README.md contains it verbatim.
"""

import json
from typing import Any

from pydantic_core import PydanticUndefined

from server.settings import Settings

HEADER = "| variable | default | meaning |\n|---|---|---|"


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def markdown_table() -> str:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = [HEADER]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
