"""README's configuration table is the one generated from Settings."""

from pathlib import Path

from server.settings_doc import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_setting_as_generated():
    assert markdown_table() in README.read_text(encoding="utf-8"), (
        "README.md's configuration table is out of date: "
        "replace it with the output of `python -m server.settings_doc`"
    )


def test_every_setting_is_described():
    for row in markdown_table().splitlines()[2:]:
        assert not row.endswith("|  |"), row
