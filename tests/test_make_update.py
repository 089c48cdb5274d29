"""`make update` and `make check-update` in a generated project, against a release that comes
after the working tree.

A tagged clone of the template holds every release and the working tree as the candidate;
a test adds one more release on top, made the way releases change the template (a new
dependency, a new operation, a table's note), and updates a project of the candidate to it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.harness import run
from tests.releases import candidate_version, git, tagged_clone
from tests.test_update_releases import assert_equals_a_fresh_copy, copy_at, tree

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

ANSWERS = {"project_name": "Ledger Service", "python_version": "3.12"}
NEW_DEPENDENCY = '    "tenacity>=9.0",\n'
NEW_OPERATION = """

@router.get(
    "/version",
    summary="The running version",
    description="Answers 200 with the version of the code this process runs.",
)
async def running_version() -> dict[str, str]:
    return {"version": "next"}
"""
ITEMS_NOTE = 'keyset pagination has a total order."'
NEW_ITEMS_NOTE = 'keyset pagination has a total order, as the next release says."'


def next_version(clone: Path) -> str:
    major, minor, _ = candidate_version(clone).split(".")
    return f"{major}.{int(minor) + 1}.0"


def release_after_the_candidate(clone: Path) -> str:
    """A release that adds a dependency and an operation and rewords the note of the items
    table (PostgreSQL), tagged in the clone."""
    pyproject = clone / "template" / "pyproject.toml.jinja"
    text = pyproject.read_text(encoding="utf-8")
    text = text.replace('    "uvicorn[standard]', NEW_DEPENDENCY + '    "uvicorn[standard]', 1)
    pyproject.write_text(text, encoding="utf-8")
    health = (
        clone / "template" / "src" / "{{ package_name }}" / "api" / "routes" / "health.py.jinja"
    )
    health.write_text(health.read_text(encoding="utf-8") + NEW_OPERATION, encoding="utf-8")
    items = next((clone / "template" / "src").glob("*/infrastructure/*sql*/tables/items.py.jinja"))
    text = items.read_text(encoding="utf-8")
    assert text.count(ITEMS_NOTE) == 1, "the items table lost its note"
    items.write_text(text.replace(ITEMS_NOTE, NEW_ITEMS_NOTE), encoding="utf-8")
    version = next_version(clone)
    git(clone, "commit", "--quiet", "--all", "-m", f"Release {version}")
    git(clone, "tag", version)
    return version


def copy(clone: Path, ref: str, destination: Path, *, skip_tasks: bool = False) -> Path:
    return copy_at(clone, ref, ANSWERS, destination, skip_tasks=skip_tasks)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    return tagged_clone(tmp_path / "foundry")


def test_a_release_with_a_dependency_and_an_operation_needs_no_manual_step(
    clone: Path, tmp_path: Path
) -> None:
    project = copy(clone, candidate_version(clone), tmp_path / "project")
    version = release_after_the_candidate(clone)

    result = run(["make", "update"], cwd=project, step="make update", timeout=900)

    assert "make update stopped" not in result.stderr
    assert "make migrate" in result.stdout
    assert "tenacity" in (project / "uv.lock").read_text(encoding="utf-8")
    assert '"/health/version"' in (project / "docs" / "openapi.json").read_text(encoding="utf-8")
    erd = (project / "docs" / "erd.md").read_text(encoding="utf-8")
    assert "total order, as the next release says." in " ".join(erd.split())
    run(["uv", "lock", "--check"], cwd=project, step="uv lock --check", timeout=300)
    fresh = copy(clone, version, tmp_path / "fresh")
    assert_equals_a_fresh_copy(project, fresh)


def test_check_update_fails_while_a_newer_release_is_out(clone: Path, tmp_path: Path) -> None:
    project = copy(clone, candidate_version(clone), tmp_path / "project", skip_tasks=True)

    current = run(["make", "check-update"], cwd=project, step="check-update", timeout=300)
    version = release_after_the_candidate(clone)
    behind = run(
        ["make", "check-update"], cwd=project, step="check-update", timeout=300, check=False
    )

    assert "newest release" in current.stdout
    assert behind.returncode != 0
    assert f"release {version} of the template is out" in behind.stdout


def test_update_refuses_a_dirty_tree(clone: Path, tmp_path: Path) -> None:
    project = copy(clone, candidate_version(clone), tmp_path / "project", skip_tasks=True)
    (project / "notes.txt").write_text("work in progress\n", encoding="utf-8")

    result = run(["make", "update"], cwd=project, step="make update", timeout=300, check=False)

    assert result.returncode != 0
    assert "uncommitted changes" in result.stderr
    assert git(project, "status", "--porcelain") == "?? notes.txt\n"


def test_a_conflicting_update_stops_and_says_how_to_finish(clone: Path, tmp_path: Path) -> None:
    project = copy(clone, candidate_version(clone), tmp_path / "project", skip_tasks=True)
    readme = project / "README.md"
    readme.write_text(
        "# Ledger (ours)\n" + readme.read_text(encoding="utf-8").split("\n", 1)[1],
        encoding="utf-8",
    )
    git(project, "commit", "--quiet", "--all", "-m", "Our title")
    template_readme = clone / "template" / "README.md.jinja"
    rest = template_readme.read_text(encoding="utf-8").split("\n", 1)[1]
    template_readme.write_text("# {{ project_name }} (renamed)\n" + rest, encoding="utf-8")
    git(clone, "commit", "--quiet", "--all", "-m", "A new title")
    git(clone, "tag", next_version(clone))

    result = run(["make", "update"], cwd=project, step="make update", timeout=600, check=False)

    assert result.returncode != 0
    assert "conflict markers: README.md" in result.stderr
    assert "To finish the update by hand, run:" in result.stderr
    assert re.search(r"(?m)^  uv lock$", result.stderr)
    assert re.search(r"(?m)^  make openapi$", result.stderr)
    assert re.search(r"(?m)^  make erd$", result.stderr)
    assert tree(project)["README.md"].startswith(b"<<<<<<< ")
