"""The template's releases: the list of tagged commits, the changelog, `make release`, and the
workflows that test and publish them."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import tomllib
from typing import TYPE_CHECKING

import pytest
import yaml
from packaging.version import Version

from tests.harness import REPO_ROOT, clean_env, dev_tool, matrix, run
from tests.releases import git, releases, tagged_clone
from tools.release import ReleaseError, check_unreleased
from tools.release import release as make_release
from tools.release_notes import changelog_sections, release_section

if TYPE_CHECKING:
    from pathlib import Path

CHANGELOG = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def test_releases_are_listed_oldest_first_with_increasing_versions() -> None:
    versions = [Version(release.version) for release in releases()]
    listed = tomllib.loads((REPO_ROOT / "releases.toml").read_text(encoding="utf-8"))["release"]

    assert [str(v) for v in versions] == [entry["version"] for entry in listed]
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)


def test_every_release_is_a_commit_of_main_with_a_changelog_section() -> None:
    sections = changelog_sections(CHANGELOG)
    for release in releases():
        git(REPO_ROOT, "merge-base", "--is-ancestor", release.commit, "HEAD")
        heading = f"{release.version} ({release.date})"
        assert heading in sections, f"CHANGELOG.md has no section '## {heading}'"
        assert re.search(r"(?m)^### Upgrading\n\n- ", sections[heading]), heading


def test_local_tags_name_the_listed_commits() -> None:
    """Where this clone has the release tags, they agree with releases.toml."""
    for release in releases():
        tagged = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/tags/{release.version}^{{commit}}"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        assert tagged in {"", release.commit}, release.version


def test_the_changelog_starts_with_what_is_not_released_yet() -> None:
    first = next(iter(changelog_sections(CHANGELOG)))
    assert first == "Unreleased" or first.startswith(f"{releases()[-1].version} ")
    if first == "Unreleased":
        check_unreleased(CHANGELOG)


def test_release_notes_are_the_versions_changelog_section() -> None:
    latest = releases()[-1].version
    notes = subprocess.run(
        [dev_tool("python"), "-m", "tools.release_notes", latest],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    missing = subprocess.run(
        [dev_tool("python"), "-m", "tools.release_notes", "99.0.0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert notes.strip() == release_section(CHANGELOG, latest)
    assert "### Upgrading" in notes
    assert missing.returncode == 1
    assert "no section for 99.0.0" in missing.stderr


# --- make release ------------------------------------------------------------------------


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of the template whose candidate commit has an Unreleased changelog section."""
    repo = tagged_clone(tmp_path / "foundry")
    listed = {release.version for release in releases()}
    for tag in git(repo, "tag", "--list").split():
        if tag not in listed:
            git(repo, "tag", "--delete", tag)
    changelog = repo / "CHANGELOG.md"
    if "## Unreleased" not in changelog.read_text(encoding="utf-8"):
        changelog.write_text(
            changelog.read_text(encoding="utf-8").replace(
                "\n## ",
                "\n## Unreleased\n\n### Changed\n\n- A change.\n\n### Upgrading\n\n"
                "- Nothing to do.\n\n## ",
                1,
            ),
            encoding="utf-8",
        )
        git(repo, "commit", "--quiet", "--all", "-m", "Changelog entry")
    return repo


def release_in(repo: Path, version: str, test_command: str = "true") -> str:
    return make_release(repo, version, test_command, dt.date(2026, 12, 24))


def test_release_tags_the_commit_and_records_it(clone: Path) -> None:
    latest = Version(releases()[-1].version)
    next_version = f"{latest.major}.{latest.minor + 1}.0"

    publish = release_in(clone, next_version)

    tagged = git(clone, "rev-parse", f"refs/tags/{next_version}^{{commit}}").strip()
    listed = tomllib.loads((clone / "releases.toml").read_text(encoding="utf-8"))["release"][-1]
    changelog = (clone / "CHANGELOG.md").read_text(encoding="utf-8")
    assert listed == {"version": next_version, "commit": tagged, "date": "2026-12-24"}
    assert git(clone, "rev-parse", "HEAD~1").strip() == tagged
    assert f"## {next_version} (2026-12-24)" in changelog
    assert "## Unreleased" not in changelog
    assert git(clone, "show", f"{tagged}:CHANGELOG.md") == changelog
    message = git(clone, "tag", "--list", "--format=%(contents)", next_version)
    assert "### Upgrading" in message
    assert publish == f"git push origin HEAD {next_version}"
    assert not git(clone, "status", "--porcelain")


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("six", "is not a PEP 440 version"),
        ("0.1.0", "is not newer than the latest release"),
        ("v99.0", "normal form"),
    ],
)
def test_release_refuses_a_wrong_version(clone: Path, version: str, reason: str) -> None:
    tags = git(clone, "tag", "--list")
    with pytest.raises(ReleaseError, match=reason):
        release_in(clone, version)
    assert git(clone, "tag", "--list") == tags


def test_release_refuses_a_dirty_tree_and_failing_tests(clone: Path) -> None:
    (clone / "scratch.txt").write_text("work in progress\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match="uncommitted changes"):
        release_in(clone, "99.0.0")
    (clone / "scratch.txt").unlink()

    with pytest.raises(ReleaseError, match="The tests failed"):
        release_in(clone, "99.0.0", test_command="false")

    assert "99.0.0" not in git(clone, "tag", "--list")
    assert "## Unreleased" in (clone / "CHANGELOG.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("section", "reason"),
    [
        ("## 0.0.1 (2026-01-01)\n\n- Old.\n", "has no '## Unreleased' section"),
        ("## Unreleased\n\n### Upgrading\n\n- Nothing to do.\n", "lists no change"),
        ("## Unreleased\n\n### Changed\n\n- A change.\n", "needs an '### Upgrading' part"),
        ("## Unreleased\n\n- A change.\n\n### Upgrading\n\n", "needs an '### Upgrading' part"),
    ],
)
def test_release_needs_a_changelog_entry_that_says_how_to_upgrade(
    section: str, reason: str
) -> None:
    with pytest.raises(ReleaseError, match=re.escape(reason)):
        check_unreleased(f"# Changelog\n\n{section}")


# --- Workflows of the template repository -------------------------------------------------


def test_ci_runs_one_job_per_combination_of_the_pairwise_matrix() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text(encoding="utf-8"))
    listed = workflow["jobs"]["combination"]["strategy"]["matrix"]["combination"]

    assert listed == [combination.id for combination in matrix()]


def test_ci_runs_the_readmes_test_command() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    workflow = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")

    assert "make test" in readme
    assert workflow.count("run: make test") == 3
    assert "FOUNDRY_FULL_MATRIX" in workflow


def test_workflows_pass_actionlint() -> None:
    workflows = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert workflows
    run([dev_tool("actionlint"), *workflows], cwd=REPO_ROOT, step="actionlint", timeout=120)


# --- The README's copy command -------------------------------------------------------------


def readme_copy_command() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Generating your own service\n\n```sh\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md lost its copy command"
    return shlex.split(block.group(1).replace("\\\n", " "))


@pytest.mark.slow
def test_the_readmes_copy_command_records_a_release(tmp_path: Path) -> None:
    """Copied as the README says, a project records the newest release as `_commit`, so a
    later `make update` moves it from release to release."""
    clone = tagged_clone(tmp_path / "foundry")
    newest = git(clone, "describe", "--tags", "--abbrev=0", "HEAD").strip()
    command = [
        str(clone) if word == "<path-or-url-of-this-repository>" else word
        for word in readme_copy_command()
    ]
    assert command[-1] == "my-service"

    run(
        [*command, "--defaults"],
        cwd=tmp_path,
        step="README copy command",
        timeout=900,
        env=clean_env(),
    )

    answers = yaml.safe_load((tmp_path / "my-service" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == newest
    assert answers["_src_path"] == str(clone)
