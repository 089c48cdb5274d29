"""`copier update` between two versions made from the working tree, and the scripts that
copier.yml's `_migrations` run during an update.

The versions are simulated: the working tree is copied into a temporary git repository and
tagged 0.1.0, then changed and tagged 0.2.0. Projects are generated without the copy-time
tasks (updates never run them) to keep this fast. Updates across the template's real
releases are in test_update_releases.py.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
import yaml
from copier import run_copy, run_update

from tests.harness import REPO_ROOT, clean_env, dev_tool, iter_output_files
from tests.releases import git

if TYPE_CHECKING:
    from pathlib import Path

IGNORED_IN_TEMPLATE_COPY = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "build", "__pycache__", ".pytest_cache", ".ruff_cache"
)
README_ADDITION = "\nThis paragraph arrived with template version 0.2.0.\n"
NEW_FILE = "docs/added-in-0.2.0.md"
USER_TITLE = "# Our billing service (edited by its owners)\n"


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


# --- Copier migrations ------------------------------------------------------------------

RUNBOOK = "docs/runbook.md"
MOVED_RUNBOOK = "docs/operations/runbook.md"
RUNBOOK_LINES = [f"Step {number}: do the thing.\n" for number in range(1, 9)]


def add_migrations(repo: Path, *entries: dict[str, object]) -> None:
    """Put `entries` ahead of copier.yml's own migrations (the conflict check stays last)."""
    path = repo / "copier.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["_migrations"] = [*entries, *config["_migrations"]]
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def script(name: str) -> str:
    return f"{{{{ _copier_conf.src_path }}}}/upgrades/{name}"


def copier_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`copier update` as a user runs it, with its exit status and output."""
    return subprocess.run(
        [dev_tool("copier"), "update", "--trust", "--defaults", "--skip-tasks", *args],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )


def test_migrations_end_with_the_conflict_check() -> None:
    """Versioned migrations must run before the check, so it sees what they merged."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    last = config["_migrations"][-1]
    assert "version" not in last
    assert last["command"][-1].endswith("/upgrades/check_conflicts.py")
    for entry in config["_migrations"]:
        command = entry["command"] if isinstance(entry, dict) else entry
        for part in command[1:2]:
            assert (REPO_ROOT / part.split("}}/", 1)[1]).is_file(), part


@pytest.mark.parametrize("mode", ["inline", "rej"])
def test_an_update_that_conflicts_fails_and_lists_every_conflict(
    template_repo: Path, tmp_path: Path, mode: str
) -> None:
    project = generate_at(template_repo, tmp_path / "project", "0.1.0")
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    readme.write_text(USER_TITLE + "".join(lines[1:]), encoding="utf-8")
    commit_all(project, "Our title")
    template_readme = template_repo / "template" / "README.md.jinja"
    template_lines = template_readme.read_text(encoding="utf-8").splitlines(keepends=True)
    template_readme.write_text("# {{ project_name }}, the service\n" + "".join(template_lines[1:]))
    commit_all(template_repo, "Template 0.2.0")
    git(template_repo, "tag", "0.2.0")

    result = copier_cli(project, "--conflict", mode)

    assert result.returncode != 0, "Copier exited 0 although the update conflicts"
    if mode == "inline":
        assert "conflict markers: README.md:1" in result.stderr
        assert "unmerged in the index: README.md" in result.stderr
    else:
        assert "rejected hunks: README.md.rej" in result.stderr
    assert "Resolve each one" in result.stderr


def test_an_update_without_conflicts_exits_zero(template_repo: Path, tmp_path: Path) -> None:
    project = generate_at(template_repo, tmp_path / "project", "0.1.0")
    release_next(template_repo)

    result = copier_cli(project)

    assert result.returncode == 0, result.stderr
    assert (project / NEW_FILE).is_file()


def test_a_renamed_question_keeps_its_answer(template_repo: Path, tmp_path: Path) -> None:
    config_path = template_repo / "copier.yml"
    config_path.write_text(
        config_path.read_text(encoding="utf-8")
        + "\nteam_name:\n  type: str\n  help: Owning team\n  default: Core\n",
        encoding="utf-8",
    )
    (template_repo / "template" / "TEAM.md.jinja").write_text("Owned by {{ team_name }}.\n")
    commit_all(template_repo, "Template 0.1.0 with a team question")
    git(template_repo, "tag", "--force", "0.1.0")
    project = tmp_path / "project"
    run_copy(
        str(template_repo),
        project,
        data={"project_name": "Billing Service", "team_name": "Payments"},
        defaults=True,
        unsafe=True,
        vcs_ref="0.1.0",
        quiet=True,
        skip_tasks=True,
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Generate")
    text = config_path.read_text(encoding="utf-8").replace("\nteam_name:", "\nowning_team:")
    config_path.write_text(text, encoding="utf-8")
    add_migrations(
        template_repo,
        {
            "version": "0.2.0",
            "when": "{{ _stage == 'before' }}",
            "command": [
                "{{ _copier_python }}",
                script("rename_answer.py"),
                "{{ _copier_conf.answers_file }}",
                "team_name",
                "owning_team",
            ],
        },
    )
    (template_repo / "template" / "TEAM.md.jinja").write_text("Owned by {{ owning_team }}.\n")
    commit_all(template_repo, "Template 0.2.0: team_name becomes owning_team")
    git(template_repo, "tag", "0.2.0")

    update(project)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["owning_team"] == "Payments"
    assert "team_name" not in answers
    assert (project / "TEAM.md").read_text(encoding="utf-8") == "Owned by Payments.\n"


@pytest.mark.parametrize("edited", [True, False], ids=["edited", "untouched"])
def test_a_moved_file_keeps_the_teams_edits(
    template_repo: Path, tmp_path: Path, edited: bool
) -> None:
    runbook = template_repo / "template" / RUNBOOK
    runbook.write_text("".join(RUNBOOK_LINES), encoding="utf-8")
    commit_all(template_repo, "Template 0.1.0 with a runbook")
    git(template_repo, "tag", "--force", "0.1.0")
    project = generate_at(template_repo, tmp_path / "project", "0.1.0")
    expected = list(RUNBOOK_LINES)
    if edited:
        expected[1] = "Step 2: do the thing, then tell the on-call channel.\n"
        (project / RUNBOOK).write_text("".join(expected), encoding="utf-8")
        commit_all(project, "Our runbook")
    moved = template_repo / "template" / MOVED_RUNBOOK
    moved.parent.mkdir(parents=True)
    git(template_repo, "mv", f"template/{RUNBOOK}", f"template/{MOVED_RUNBOOK}")
    template_lines = list(RUNBOOK_LINES)
    template_lines[6] = "Step 7: check the dashboard first.\n"
    moved.write_text("".join(template_lines), encoding="utf-8")
    expected[6] = template_lines[6]
    add_migrations(
        template_repo,
        {
            "version": "0.2.0",
            "when": "{{ true }}",
            "command": [
                "{{ _copier_python }}",
                script("move_file.py"),
                RUNBOOK,
                MOVED_RUNBOOK,
                "--template",
                "{{ _copier_conf.src_path }}",
            ],
        },
    )
    commit_all(template_repo, "Template 0.2.0: the runbook moves")
    git(template_repo, "tag", "0.2.0")

    update(project)

    assert not (project / RUNBOOK).exists()
    assert (project / MOVED_RUNBOOK).read_text(encoding="utf-8") == "".join(expected)
    assert_no_conflicts(project)
    assert not list((project / ".git").glob("foundry-moves/**/team"))


def test_switching_the_database_is_refused_and_changes_nothing(
    template_repo: Path, tmp_path: Path
) -> None:
    project = generate_at(template_repo, tmp_path / "project", "0.1.0")
    release_next(template_repo)

    result = copier_cli(project, "--data", "database=mongo")

    assert result.returncode != 0
    assert "would change database from 'postgres' to 'mongo'" in result.stderr
    assert "Generate a new project with the other database" in result.stderr
    assert git(project, "status", "--porcelain") == ""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["database"] == "postgres"
