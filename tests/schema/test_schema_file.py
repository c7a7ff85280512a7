"""``schema/schema.graphql``: equal to the code's schema, written by ``vestnik schema export``,
and diffed against its previous version by ``scripts/schema-breaking-changes``."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from schema.export import SCHEMA_FILE, schema_sdl
from tests.server.running import REPO, environment, vestnik

SCRIPT = REPO / "scripts" / "schema-breaking-changes"

OLD_SDL = """\
enum Language { BE RU }
type Article { title: String! lead: String! }
type Query { article(slug: String!): Article }
"""

# lead removed and title made nullable (breaking); a value added to an enum and an optional
# argument added (dangerous: old clients may not expect them); a new field (neither).
NEW_SDL = """\
enum Language { BE RU EN }
type Article { title: String body: String! }
type Query { article(slug: String!, language: Language): Article }
"""


def test_committed_schema_matches_the_code():
    # when
    committed = SCHEMA_FILE.read_text(encoding="utf-8")

    # then
    assert committed == schema_sdl(), (
        "schema/schema.graphql differs from the code's schema: "
        "run `vestnik schema export` and commit the file"
    )


def test_export_writes_the_file_given(tmp_path):
    # when
    result = vestnik("schema", "export", "--output", "api.graphql", cwd=tmp_path, env=environment())

    # then
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "api.graphql").read_text(encoding="utf-8") == schema_sdl()
    assert result.stdout == ""


def test_export_to_stdout(tmp_path):
    # when
    result = vestnik("schema", "export", "--output", "-", cwd=tmp_path, env=environment())

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == schema_sdl()
    assert list(tmp_path.iterdir()) == []


# --- scripts/schema-breaking-changes, in a repository of its own ------------------------------


class Repo:
    """A throwaway git repository holding the script and a schema file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.by",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.by",
        }
        (root / "scripts").mkdir()
        (root / "schema").mkdir()
        shutil.copy(SCRIPT, root / "scripts" / SCRIPT.name)
        self.git("init", "-q")
        self.commit("scripts", "the script")

    def git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.root, env=self.env, check=True, timeout=30)

    def write(self, sdl: str) -> None:
        (self.root / "schema" / "schema.graphql").write_text(sdl, encoding="utf-8")

    def commit(self, path: str, message: str) -> None:
        self.git("add", path)
        self.git("commit", "-q", "-m", message)

    def report(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "scripts/schema-breaking-changes"],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return Repo(tmp_path)


# Each line's start and a name it mentions (graphql-core words the rest, differently by version).
EXPECTED_CHANGES = [
    ("  BREAKING FIELD_REMOVED: ", "Article.lead"),
    ("  BREAKING FIELD_CHANGED_KIND: ", "Article.title"),
    ("  DANGEROUS VALUE_ADDED_TO_ENUM: ", "EN"),
    ("  DANGEROUS OPTIONAL_ARG_ADDED: ", "language"),
]


def assert_expected_changes(lines: list[str]) -> None:
    assert len(lines) == len(EXPECTED_CHANGES), lines
    for line, (start, name) in zip(lines, EXPECTED_CHANGES, strict=True):
        assert line.startswith(start) and name in line, lines


def test_first_version_has_nothing_to_compare(repo):
    # given
    repo.write(OLD_SDL)
    repo.commit("schema", "first schema")

    # when
    result = repo.report()

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "schema/schema.graphql: no earlier version in the history, nothing to compare\n"
    )


def test_committed_change_is_reported_against_the_previous_version(repo):
    # given
    repo.write(OLD_SDL)
    repo.commit("schema", "first schema")
    repo.write(NEW_SDL)
    repo.commit("schema", "second schema")
    (repo.root / "unrelated.txt").write_text("later commit\n")
    repo.commit("unrelated.txt", "unrelated")

    # when
    result = repo.report()

    # then
    assert result.returncode == 0, result.stderr
    [heading, *changes] = result.stdout.splitlines()
    assert heading.startswith("schema/schema.graphql compared with ")
    assert heading.endswith(" first schema:")
    assert_expected_changes(changes)


def test_uncommitted_change_is_reported_against_the_last_commit(repo):
    # given
    repo.write(OLD_SDL)
    repo.commit("schema", "first schema")
    repo.write(NEW_SDL)

    # when
    result = repo.report()

    # then
    assert result.returncode == 0, result.stderr
    assert_expected_changes(result.stdout.splitlines()[1:])


def test_no_changes(repo):
    # given
    repo.write(OLD_SDL)
    repo.commit("schema", "first schema")
    repo.write(OLD_SDL + "\n")
    repo.commit("schema", "only whitespace")

    # when
    result = repo.report()

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["  no breaking or dangerous changes"]


def test_failure_is_reported_and_exits_zero(repo):
    # given: the new version does not parse
    repo.write(OLD_SDL)
    repo.commit("schema", "first schema")
    repo.write("type Query {")

    # when
    result = repo.report()

    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("schema/schema.graphql: comparison skipped: GraphQLSyntaxError")
