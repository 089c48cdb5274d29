"""The template's releases, and a git clone of the template in which each one is tagged.

Tests never rely on fetched tags: releases.toml lists every release with its commit, and
`tagged_clone` tags a temporary clone from it, then commits the working tree (uncommitted
changes included) on top as the release candidate.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml
from packaging.version import Version

from tests.harness import REPO_ROOT

if TYPE_CHECKING:
    from pathlib import Path

RELEASES_FILE = REPO_ROOT / "releases.toml"
CANDIDATE = "HEAD"
"""The ref of the release candidate (the working tree) in a tagged clone."""

GIT_IDENTITY = ("-c", "user.name=Foundry Tests", "-c", "user.email=tests@example.com")


@dataclass(frozen=True)
class Release:
    version: str
    commit: str
    date: str

    def choices(self) -> dict[str, frozenset[str] | None]:
        """The questions of this release's copier.yml, each with the answers it offered
        (None for a free-text question)."""
        return dict(_choices_at(self.commit))


@functools.cache
def _choices_at(commit: str) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """Read once per commit: the update tests ask for every combination at collection."""
    config = yaml.safe_load(git(REPO_ROOT, "show", f"{commit}:copier.yml"))
    return tuple(
        (question, frozenset(map(str, spec["choices"].values())) if "choices" in spec else None)
        for question, spec in config.items()
        if not question.startswith("_") and isinstance(spec, dict)
    )


def releases() -> list[Release]:
    """Every release in releases.toml, oldest first."""
    data = tomllib.loads(RELEASES_FILE.read_text(encoding="utf-8"))
    listed = [
        Release(entry["version"], entry["commit"], entry["date"]) for entry in data["release"]
    ]
    return sorted(listed, key=lambda release: Version(release.version))


SUPPORTED_RELEASES = 3
"""Projects of the last this-many releases update to the next one with no manual step."""


def supported_releases() -> list[Release]:
    return releases()[-SUPPORTED_RELEASES:]


def set_identity(repo: Path) -> None:
    """Give a repository the tests make a committer of its own: tools that commit in it (the
    release command, `make update`) find none on a machine without a global git identity."""
    git(repo, "config", "user.name", "Foundry Tests")
    git(repo, "config", "user.email", "tests@example.com")


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *GIT_IDENTITY, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}"
    return result.stdout


def working_tree_files() -> list[str]:
    """Tracked and untracked (not ignored) files of the template's working tree."""
    listed = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return sorted({name for name in listed.split("\0") if name and (REPO_ROOT / name).exists()})


def tagged_clone(destination: Path) -> Path:
    """A clone of the template with every release tagged and the working tree committed on
    top of them as the candidate (HEAD)."""
    if (REPO_ROOT / ".git" / "shallow").exists():
        raise AssertionError(
            "The template's clone is shallow: the update tests need the commits of every "
            "release in releases.toml (git fetch --unshallow)."
        )
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(destination)],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    set_identity(destination)
    for release in releases():
        git(destination, "tag", "--force", release.version, release.commit)
    for name in git(destination, "ls-files", "-z").split("\0"):
        if name:
            (destination / name).unlink(missing_ok=True)
    for name in working_tree_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    git(destination, "add", "--all")
    if git(destination, "status", "--porcelain"):
        git(destination, "commit", "--quiet", "--no-verify", "-m", "Release candidate")
    head = git(destination, "rev-parse", "HEAD").strip()
    if head != releases()[-1].commit:
        git(destination, "tag", candidate_version(destination), head)
    return destination


def candidate_version(clone: Path) -> str:
    """The version the candidate is tagged with in a tagged clone: the next minor release,
    or the latest release itself when the working tree is that release."""
    latest = releases()[-1]
    if git(clone, "rev-parse", "HEAD").strip() == latest.commit:
        return latest.version
    version = Version(latest.version)
    return f"{version.major}.{version.minor + 1}.0"
