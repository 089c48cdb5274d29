"""Projects generated at earlier releases update to the release candidate (the working tree).

Each case copies the project at release R from a clone of the template in which releases.toml's
commits are tagged (copy-time task included, as a user's copy ran it), commits it, and takes
the update with the commands docs/updating.md gives. The result must have no conflict, equal a
fresh copy of the candidate (apart from `.env` and the team's changelog, which belong to the
team), keep a current lock file and OpenAPI document, and pass `make lint`. A fresh copy of the
candidate passes every check of the generation matrix, so equality carries those checks over.

By default a fast subset runs: each supported release with its default answers, the newest
release with MongoDB too, and one chain of two updates. FOUNDRY_FULL_MATRIX=1 runs every
supported release with every combination of the matrix that the release offered.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import time
from typing import TYPE_CHECKING

import pytest
import yaml
from copier import run_copy
from plumbum import local

from tests.harness import (
    COMBINATIONS,
    FULL_MATRIX_ENV,
    REPO_ROOT,
    Combination,
    clean_env,
    iter_output_files,
    record_timing,
    require_interpreter,
    run,
)
from tests.releases import (
    Release,
    candidate_version,
    git,
    releases,
    set_identity,
    supported_releases,
    tagged_clone,
)
from upgrades.check_conflicts import report as conflict_report

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

UPDATING_DOC = REPO_ROOT / "docs" / "updating.md"
TEAM_OWNED = frozenset({".env", "docs/CHANGELOG.md"})
"""Files the team owns after the first copy: an update leaves them as they are."""


@functools.cache
def defaults_of_the_candidate() -> dict[str, str]:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {
        question: str(spec["default"])
        for question, spec in config.items()
        if not question.startswith("_") and isinstance(spec, dict) and "choices" in spec
    }


def answers_at(release: Release, combination: Combination) -> dict[str, str] | None:
    """The answers a project of `combination` was given at `release`, or None when the
    release could not generate it (a choice it did not offer yet). A question the release did
    not ask yet is left out when the candidate's default gives the combination's answer."""
    defaults = defaults_of_the_candidate()
    offered = release.choices()
    answers = {}
    for question, answer in combination.answers.items():
        if question not in offered:
            if defaults.get(question) != answer:
                return None
            continue
        if offered[question] is not None and answer not in offered[question]:
            return None
        answers[question] = answer
    return answers


def update_cases() -> list[object]:
    full = os.environ.get(FULL_MATRIX_ENV) == "1"
    cases = []
    for release in supported_releases():
        offered = [c for c in COMBINATIONS if answers_at(release, c) is not None]
        if not full:
            by_database: dict[str, Combination] = {}
            for combination in offered:
                by_database.setdefault(combination.database, combination)
            defaults = defaults_of_the_candidate()
            plain = [
                c for c in offered if c.auth == defaults["auth"] and c.cache == defaults["cache"]
            ]
            offered = list(dict.fromkeys([*plain[:1], *by_database.values()]))[:2]
        cases += [
            pytest.param(
                release,
                combination,
                id=f"from-{release.version}-{combination.id}",
                marks=pytest.mark.xdist_group(combination.id),
            )
            for combination in offered
        ]
    return cases


def documented_update_commands() -> list[str]:
    """The commands docs/updating.md gives for a project made before `make update` existed."""
    text = UPDATING_DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- first-update -->\s*```sh\n(.*?)```", text, re.DOTALL)
    assert found, "docs/updating.md lost its first-update commands"
    return [line.split("  #")[0].strip() for line in found.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def template_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    started = time.monotonic()
    clone = tagged_clone(tmp_path_factory.mktemp("template") / "foundry")
    record_timing("tagged clone of the template", time.monotonic() - started)
    return clone


def copy_at(
    template: Path,
    ref: str,
    answers: dict[str, str],
    destination: Path,
    *,
    skip_tasks: bool = False,
) -> Path:
    """Generate at `ref` (with the copy-time task unless told not to, as a user did) and
    commit the result, in a repository with an identity of its own (`make update` commits)."""
    if not skip_tasks and "python_version" in answers:
        require_interpreter(answers["python_version"])
    started = time.monotonic()
    with local.env():
        local.env.clear()
        local.env.update(clean_env())
        run_copy(
            str(template),
            destination,
            data=answers,
            defaults=True,
            unsafe=True,
            vcs_ref=ref,
            quiet=True,
            skip_tasks=skip_tasks,
        )
    record_timing(f"copy at {ref}", time.monotonic() - started)
    git(destination, "init", "--quiet", "--initial-branch=main")
    set_identity(destination)
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--no-verify", "-m", f"Generated at {ref}")
    return destination


def update_to(project: Path, ref: str | None) -> None:
    """Run docs/updating.md's first-update commands (with `--vcs-ref` for an older target,
    whose Makefile may lack targets that later releases added: those are left out)."""
    for documented in documented_update_commands():
        command = documented
        if ref is not None and " copier update " in f" {documented} ":
            command = f"{documented} --vcs-ref {ref}"
        if ref is not None and documented.startswith("make "):
            makefile = (project / "Makefile").read_text(encoding="utf-8")
            targets = [t for t in documented.split()[1:] if f"\n{t}:" in f"\n{makefile}"]
            command = " ".join(["make", *targets])
        run(["bash", "-c", command], cwd=project, step=f"update: {command[:60]}", timeout=900)


def tree(root: Path) -> dict[str, bytes]:
    """A project's files as git sees them (tracked or not ignored), plus `.env`."""
    listed = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    names = {name for name in listed.split("\0") if name and (root / name).is_file()}
    names |= {".env"} if (root / ".env").exists() else set()
    return {name: (root / name).read_bytes() for name in sorted(names)}


def comparable(files: dict[str, bytes]) -> dict[str, bytes]:
    """Leave out what belongs to the team, and the answers file's record of the template's
    location and version (the fresh copy comes from another folder)."""
    kept = {name: data for name, data in files.items() if name not in TEAM_OWNED}
    answers = kept.get(".copier-answers.yml")
    if answers is not None:
        kept[".copier-answers.yml"] = re.sub(rb"(?m)^_(commit|src_path): .*\n", b"", answers)
    return kept


def assert_equals_a_fresh_copy(updated: Path, fresh: Path) -> None:
    got = comparable(tree(updated))
    visible = tree_names_of(updated, fresh)
    expected = comparable(
        {
            path.relative_to(fresh).as_posix(): path.read_bytes()
            for path in iter_output_files(fresh)
            if path.relative_to(fresh).as_posix() in visible
        }
    )
    assert sorted(got) == sorted(expected), (
        f"files only in the update: {sorted(set(got) - set(expected))}; "
        f"only in a fresh copy: {sorted(set(expected) - set(got))}"
    )
    differing = [name for name in got if got[name] != expected[name]]
    assert not differing, f"the updated project differs from a fresh copy in {differing}"


def tree_names_of(updated: Path, fresh: Path) -> set[str]:
    """The fresh copy's files that git would see in the updated project's repository."""
    names = [path.relative_to(fresh).as_posix() for path in iter_output_files(fresh)]
    checked = run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=updated,
        step="git check-ignore",
        timeout=60,
        check=False,
        stdin="\n".join(names) + "\n",
    )
    ignored = set(checked.stdout.splitlines())
    return {name for name in names if name not in ignored} | {".env"}


def assert_clean_update(project: Path) -> None:
    with local.cwd(project):
        problems = conflict_report(project)
    assert not problems, f"the update left conflicts: {problems}"
    run(["uv", "lock", "--check"], cwd=project, step="uv lock --check", timeout=300)
    run(["make", "lint"], cwd=project, step="make lint (updated project)", timeout=600)


@pytest.mark.parametrize(("release", "case"), update_cases())
def test_a_project_updates_from_a_supported_release(
    release: Release,
    case: Combination,
    template_clone: Path,
    tmp_path: Path,
    generate,
) -> None:
    answers = answers_at(release, case)
    assert answers is not None
    project = copy_at(template_clone, release.version, answers, tmp_path / "project")
    team_files = {name: (project / name).read_bytes() for name in TEAM_OWNED}

    update_to(project, None)

    assert_clean_update(project)
    assert {name: (project / name).read_bytes() for name in TEAM_OWNED} == team_files
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == (
        candidate_version(template_clone)
    )
    assert_equals_a_fresh_copy(project, generate(case.answers).path)


def test_two_updates_in_a_row_equal_one(template_clone: Path, tmp_path: Path) -> None:
    first, second = supported_releases()[:2]
    combination = COMBINATIONS[0]
    answers = answers_at(first, combination)
    assert answers is not None
    stepwise = copy_at(template_clone, first.version, answers, tmp_path / "stepwise")
    direct = tmp_path / "direct"
    shutil.copytree(stepwise, direct, symlinks=True)

    update_to(stepwise, second.version)
    git(stepwise, "add", "--all")
    git(stepwise, "commit", "--quiet", "--no-verify", "-m", f"Update to {second.version}")
    update_to(stepwise, None)
    update_to(direct, None)

    assert tree(stepwise) == tree(direct)


def test_every_release_still_renders(tmp_path: Path, template_clone: Path) -> None:
    """An update re-renders the project's own release: each one must render with the pinned
    Copier and extension (the versions in the template's lock file)."""
    for release in releases():
        destination = tmp_path / release.version
        run_copy(
            str(template_clone),
            destination,
            data={"project_name": "Render Check"},
            defaults=True,
            unsafe=True,
            vcs_ref=release.version,
            quiet=True,
            skip_tasks=True,
        )
        assert (destination / "pyproject.toml").is_file(), release.version
        answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
        assert answers["_commit"] == release.version
