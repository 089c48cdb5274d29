"""`copier update` from an older tagged version of the template to the working tree.

The older version is simulated: the working tree is copied into a temporary git
repository and tagged 0.1.0, then changed and tagged 0.2.0. Projects are generated without
the copy-time tasks (updates never run them) to keep this fast.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
from copier import run_copy, run_update

from tests.harness import REPO_ROOT, iter_output_files

if TYPE_CHECKING:
    from pathlib import Path

IGNORED_IN_TEMPLATE_COPY = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "build", "__pycache__", ".pytest_cache", ".ruff_cache"
)
README_ADDITION = "\nThis paragraph arrived with template version 0.2.0.\n"
NEW_FILE = "docs/added-in-0.2.0.md"
USER_TITLE = "# Our billing service (edited by its owners)\n"


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Foundry Tests", "-c", "user.email=tests@example.com", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def commit_all(cwd: Path, message: str) -> None:
    git(cwd, "add", "--all")
    git(cwd, "commit", "--quiet", "--no-verify", "-m", message)


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """A git copy of the working tree with tag 0.1.0; `release_next` makes 0.2.0."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "template-repo"
    shutil.copytree(REPO_ROOT, repo, ignore=IGNORED_IN_TEMPLATE_COPY)
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit_all(repo, "Template 0.1.0")
    git(repo, "tag", "0.1.0")
    return repo


def release_next(repo: Path) -> None:
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + README_ADDITION, encoding="utf-8")
    env = repo / "template" / ".env.jinja"
    env.write_text(env.read_text(encoding="utf-8") + "NEW_SETTING=1\n", encoding="utf-8")
    (repo / "template" / NEW_FILE).write_text("# Added in 0.2.0\n", encoding="utf-8")
    commit_all(repo, "Template 0.2.0")
    git(repo, "tag", "0.2.0")


def generate_at(repo: Path, destination: Path, ref: str) -> Path:
    run_copy(
        str(repo),
        destination,
        data={"project_name": "Billing Service"},
        defaults=True,
        unsafe=True,
        vcs_ref=ref,
        quiet=True,
        skip_tasks=True,
    )
    git(destination, "init", "--quiet", "--initial-branch=main")
    commit_all(destination, "Generate")
    return destination


def update(project: Path) -> None:
    run_update(
        str(project),
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )


def project_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in iter_output_files(root)
    }


def assert_no_conflicts(root: Path) -> None:
    files = project_files(root)
    assert not [name for name in files if name.endswith((".rej", ".orig"))]
    marked = [
        name
        for name, data in files.items()
        if b"\n<<<<<<< " in b"\n" + data or b"\n>>>>>>> " in b"\n" + data
    ]
    assert not marked, f"conflict markers left in {marked}"


def test_untouched_project_equals_a_fresh_copy(template_repo: Path, tmp_path: Path) -> None:
    project = generate_at(template_repo, tmp_path / "project", "0.1.0")
    env_before = (project / ".env").read_bytes()
    release_next(template_repo)

    update(project)
    fresh = generate_at(template_repo, tmp_path / "fresh", "0.2.0")

    assert_no_conflicts(project)
    updated, expected = project_files(project), project_files(fresh)
    # .env is the developer's from the first copy on: same secret, no new keys.
    assert updated.pop(".env") == env_before
    assert b"NEW_SETTING" not in env_before
    assert b"NEW_SETTING=1" in expected.pop(".env")
    assert updated.keys() == expected.keys()
    differing = [name for name in updated if updated[name] != expected[name]]
    assert not differing, f"an update differs from a fresh copy in {differing}"


def test_user_edits_survive_an_update(template_repo: Path, tmp_path: Path) -> None:
    project = generate_at(template_repo, tmp_path / "project", "0.1.0")
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    readme.write_text(USER_TITLE + "".join(lines[1:]), encoding="utf-8")
    changelog = project / "docs" / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## 1.4.0\n\n- Our own history.\n", encoding="utf-8")
    env = project / ".env"
    env.write_text(env.read_text(encoding="utf-8") + "LOG__LEVEL=DEBUG\n", encoding="utf-8")
    commit_all(project, "Our edits")
    changelog_before, env_before = changelog.read_bytes(), env.read_bytes()
    release_next(template_repo)

    update(project)

    assert_no_conflicts(project)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(USER_TITLE), "the user's README title was lost"
    assert text.endswith(README_ADDITION), "the template's README change was not applied"
    assert (project / NEW_FILE).is_file()
    assert changelog.read_bytes() == changelog_before
    assert env.read_bytes() == env_before
