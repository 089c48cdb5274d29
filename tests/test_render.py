"""Invariants every generated project must satisfy, checked on its files.

These tests never run the generated project's own toolchain (see test_generated.py); they
read what copier wrote, plus two static checkers for the container files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import Environment
from plumbum import local

from extensions.foundry import to_package_name, to_slug
from tests.harness import (
    CHOICES,
    COMBINATIONS,
    REPO_ROOT,
    Combination,
    Project,
    copy_template,
    dev_tool,
    iter_output_files,
    run,
)

# `${{ ... }}` is GitHub Actions syntax and belongs in workflow files.
UNRENDERED_JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")
CONFLICT_MARKER = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)
BLANK_RUN = re.compile(r"\n(?:[ \t]*\n){3,}")
TRAILING_WHITESPACE = re.compile(r"[ \t]+$", re.MULTILINE)
MAY_BE_EMPTY = frozenset({"__init__.py", "py.typed"})
LOCK_FILES = frozenset({"uv.lock"})
WHITESPACE_STRICT_SUFFIXES = frozenset({".py", ".toml", ".yml", ".yaml", ".ini", ".cfg", ".sh"})
WHITESPACE_STRICT_NAMES = frozenset({"Makefile", "Dockerfile", ".env", ".env.example"})


def read_text(path: Path) -> str | None:
    """The file's text, or None for binary files."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def relative(project: Project, path: Path) -> str:
    return path.relative_to(project.path).as_posix()


def text_files(project: Project) -> list[tuple[Path, str]]:
    files = []
    for path in project.files:
        text = read_text(path)
        if text is not None:
            files.append((path, text))
    return files


# --- Rendering --------------------------------------------------------------------------

LONGEST_NAME = "Abcdefghij Abcdefghij Abcdefghij Abcdefg"
"""A project name whose package name has the most characters a name may give (40)."""


@pytest.mark.parametrize("name", ["own", "longest"])
def test_the_raw_render_is_formatted_and_lint_clean(
    generate, combination: Combination, name: str
) -> None:
    """`copier update` renders without the copy-time task, so every file must come out of
    the template as ruff leaves it, for any name: formatting must never be a difference
    between an updated project and a fresh copy."""
    answers = dict(combination.answers)
    if name == "longest":
        answers["project_name"] = LONGEST_NAME
        assert len(to_package_name(LONGEST_NAME)) == 40
    project = generate(answers, skip_tasks=True)
    ruff = dev_tool("ruff")

    check = run(
        [ruff, "check", "--no-cache", "--output-format=concise", "."],
        cwd=project.path,
        step="ruff check (raw render)",
        timeout=120,
        check=False,
    )
    formatted = run(
        [ruff, "format", "--no-cache", "--check", "."],
        cwd=project.path,
        step="ruff format --check (raw render)",
        timeout=120,
        check=False,
    )

    assert check.returncode == 0, check.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_no_jinja_left(project: Project) -> None:
    leftovers = [relative(project, p) for p in project.files if p.suffix == ".jinja"]
    assert not leftovers, f"template files copied verbatim: {leftovers}"
    unrendered = [
        f"{relative(project, path)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path, text in text_files(project)
        if path.name not in LOCK_FILES
        for match in [UNRENDERED_JINJA.search(text)]
        if match
    ]
    assert not unrendered, f"unrendered Jinja in {unrendered}"
    unrendered_paths = [
        relative(project, p) for p in project.files if UNRENDERED_JINJA.search(str(p))
    ]
    assert not unrendered_paths


def test_no_update_leftovers(project: Project) -> None:
    leftovers = [relative(project, p) for p in project.files if p.suffix in {".rej", ".orig"}]
    assert not leftovers
    conflicted = [
        relative(project, path)
        for path, text in text_files(project)
        if CONFLICT_MARKER.search(text)
    ]
    assert not conflicted, f"conflict markers in {conflicted}"


def test_no_empty_files(project: Project) -> None:
    empty = [
        relative(project, path)
        for path in project.files
        if path.stat().st_size == 0 and path.name not in MAY_BE_EMPTY
    ]
    assert not empty, f"empty files: {empty}"


def test_layout_of_text(project: Project) -> None:
    """No runs of blank lines, no trailing blanks in code and config, a final newline."""
    problems = []
    for path, text in text_files(project):
        name = relative(project, path)
        if path.name in LOCK_FILES or path.suffix == ".json" or not text:
            continue
        if BLANK_RUN.search(text):
            problems.append(f"{name}: three or more consecutive blank lines")
        if not text.endswith("\n"):
            problems.append(f"{name}: no newline at the end of the file")
        strict = path.suffix in WHITESPACE_STRICT_SUFFIXES or path.name in WHITESPACE_STRICT_NAMES
        if strict and TRAILING_WHITESPACE.search(text):
            problems.append(f"{name}: trailing whitespace")
    assert not problems, "\n".join(problems)


# --- Structured files parse ---------------------------------------------------------------


def test_yaml_files_parse(project: Project) -> None:
    yaml_files = [p for p in project.files if p.suffix in {".yml", ".yaml"}]
    assert yaml_files
    for path in yaml_files:
        list(yaml.safe_load_all(path.read_text(encoding="utf-8")))


def test_toml_files_parse(project: Project) -> None:
    toml_files = [p for p in project.files if p.suffix == ".toml" or p.name in LOCK_FILES]
    assert project.path / "pyproject.toml" in toml_files
    for path in toml_files:
        tomllib.loads(path.read_text(encoding="utf-8"))


def test_json_files_parse(project: Project) -> None:
    for path in project.files:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


# --- Answers and names --------------------------------------------------------------------


def test_answers_file(project: Project, combination: Combination) -> None:
    answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text(encoding="utf-8"))
    for key, value in combination.answers.items():
        assert answers[key] == value
    assert {"_src_path", "_commit"} <= answers.keys()
    # Computed answers are derived again on every copy/update, never recorded.
    assert "project_slug" not in answers
    assert "package_name" not in answers


def test_names_derived_from_project_name(project: Project, combination: Combination) -> None:
    slug = to_slug(combination.project_name)
    package = to_package_name(combination.project_name)
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == slug
    assert pyproject["project"]["requires-python"] == f">={combination.python_version}"
    assert (project.path / "src" / package / "__init__.py").is_file()
    assert (project.path / "src" / package / "__main__.py").is_file()
    assert [p.name for p in (project.path / "src").iterdir()] == [package]


def test_openapi_document_written_at_copy_time(project: Project) -> None:
    document = json.loads((project.path / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert {"/health/live", "/health/ready", "/items", "/items/{item_id}"} <= document[
        "paths"
    ].keys()


def test_erd_written_at_copy_time(project: Project) -> None:
    """docs/erd.md is no template file: the copy-time task writes it from the declarations."""
    document = (project.path / "docs" / "erd.md").read_text(encoding="utf-8")
    heading = "collections" if project.answers["database"] == "mongo" else "database tables"
    assert document.startswith(f"# {project.answers['project_name']} {heading}\n")
    assert "\n## items\n" in document
    assert "\n## idempotency_keys\n" in document


def test_openapi_document_does_not_depend_on_the_python_version(generate) -> None:
    """A team on several Python versions must not see the committed contract flip-flop: with
    the other answers equal, every Python version exports the same document."""
    matrix = [
        {**combination.answers, "project_name": "Contract Check"} for combination in COMBINATIONS
    ]
    # The matrix may pair no two Python versions with equal other answers: add the first
    # combination under every version.
    matrix += [{**matrix[0], "python_version": version} for version in CHOICES["python_version"]]
    groups: dict[tuple[str, ...], dict[str, dict[str, str]]] = {}
    for answers in matrix:
        others = tuple(value for key, value in sorted(answers.items()) if key != "python_version")
        groups.setdefault(others, {})[answers["python_version"]] = answers
    # Only answers exported under two versions or more are compared (and generated).
    documents = [
        [
            (generate(answers).path / "docs" / "openapi.json").read_text(encoding="utf-8")
            for answers in versions.values()
        ]
        for versions in groups.values()
        if len(versions) >= 2
    ]

    assert documents, "nothing was compared"
    assert all(len(set(texts)) == 1 for texts in documents)


def test_lock_file_written_at_copy_time(project: Project) -> None:
    lock = tomllib.loads((project.path / "uv.lock").read_text(encoding="utf-8"))
    assert any(package["name"] == project.project_slug for package in lock["package"])


# --- Secrets ------------------------------------------------------------------------------


def env_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_env_file_matches_example(project: Project) -> None:
    env = env_values(project.path / ".env")
    example = env_values(project.path / ".env.example")
    assert env.keys() == example.keys()
    assert len(env["SECRET_KEY"]) >= 32
    assert env["SECRET_KEY"] != example["SECRET_KEY"]
    assert env["ENVIRONMENT"] == "development"


def test_env_file_is_git_ignored(project: Project, tmp_path: Path) -> None:
    """Only .env is ignored: every other generated file belongs in the first commit."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for path in project.files:
        if path.name == ".gitignore":
            target = tmp_path / relative(project, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    names = "\n".join(relative(project, path) for path in project.files) + "\n"
    result = subprocess.run(
        ["git", "-C", str(tmp_path), "check-ignore", "--no-index", "--stdin"],
        input=names,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in {0, 1}, result.stderr
    assert result.stdout.split() == [".env"]


def test_secret_key_differs_between_generations(project: Project, generate) -> None:
    again = generate(dict(project.answers), skip_tasks=True, fresh=True)
    first = env_values(project.path / ".env")["SECRET_KEY"]
    second = env_values(again.path / ".env")["SECRET_KEY"]
    assert first != second


# --- Container files ----------------------------------------------------------------------


def test_compose_file_is_valid(project: Project) -> None:
    run(
        [
            dev_tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            "docker-compose.yml",
        ],
        cwd=project.path,
        step=f"check-jsonschema compose ({project.answers['python_version']})",
        timeout=120,
    )


def test_ci_workflow_is_valid(project: Project) -> None:
    run(
        [
            dev_tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            ".github/workflows/ci.yml",
        ],
        cwd=project.path,
        step=f"check-jsonschema workflow ({project.answers['python_version']})",
        timeout=120,
    )


def test_workflows_pass_actionlint(project: Project) -> None:
    workflows = sorted(str(path) for path in (project.path / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2
    run(
        [dev_tool("actionlint"), *workflows],
        cwd=project.path,
        step=f"actionlint ({project.answers['python_version']})",
        timeout=120,
    )


def locked_version(package: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    return next(entry["version"] for entry in lock["package"] if entry["name"] == package)


def test_the_update_command_pins_the_copier_the_template_is_tested_with(
    project: Project,
) -> None:
    script = (project.path / "scripts" / "update.py").read_text(encoding="utf-8")
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    updating = (REPO_ROOT / "docs" / "updating.md").read_text(encoding="utf-8")
    copier = f"copier=={locked_version('copier')}"
    extensions = f"copier-template-extensions=={locked_version('copier-template-extensions')}"

    assert f'COPIER = "{copier}"' in script
    assert f'COPIER_EXTENSIONS = "{extensions}"' in script
    for document in (readme, updating):
        assert f"--from '{copier}' --with '{extensions}'" in document


def migrate_command(project: Project) -> list[str]:
    """How the project's README says to migrate: Alembic, or the project's own command."""
    if project.answers["database"] == "mongo":
        return ["python", "-m", project.package_name, "migrate"]
    return ["alembic", "upgrade", "heads"]


DATABASE_HEALTH_CHECK = {"postgres": "pg_isready", "mongo": "isWritablePrimary"}


def test_compose_starts_the_app_only_after_a_healthy_database_and_migrations(
    project: Project,
) -> None:
    compose = yaml.safe_load((project.path / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    database = project.answers["database"]

    with_redis = project.answers["cache"] == "redis"

    assert set(services) == {"app", "migrate", "db"} | ({"redis"} if with_redis else set())
    assert services["app"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        **({"redis": {"condition": "service_healthy"}} if with_redis else {}),
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["command"] == migrate_command(project)
    assert "/health/live" in str(services["app"]["healthcheck"]["test"])
    assert DATABASE_HEALTH_CHECK[database] in str(services["db"]["healthcheck"]["test"])
    assert list(compose["volumes"]) == [f"{database}-data"]
    assert services["db"]["volumes"][0].startswith(f"{database}-data:")
    assert services["app"]["ports"][0].startswith("${APP_BIND_ADDRESS:-127.0.0.1}:")
    assert services["app"]["environment"]["ENVIRONMENT"] == "production"
    assert ":?" in services["app"]["environment"]["SECRET_KEY"], "SECRET_KEY must be required"


def compose_and_workflow(project: Project) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's parsed docker-compose.yml and CI workflow."""
    compose = yaml.safe_load((project.path / "docker-compose.yml").read_text(encoding="utf-8"))
    workflow_file = project.path / ".github" / "workflows" / "ci.yml"
    return compose, yaml.safe_load(workflow_file.read_text(encoding="utf-8"))


def test_compose_and_ci_give_a_redis_project_a_healthy_redis(project: Project) -> None:
    if project.answers["cache"] != "redis":
        pytest.skip("only cache=redis uses Redis")
    compose, workflow = compose_and_workflow(project)
    redis = compose["services"]["redis"]
    job = workflow["jobs"]["test"]

    assert redis["image"].startswith("redis:")
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert compose["services"]["app"]["environment"]["REDIS__URL"] == "redis://redis:6379/0"
    assert job["services"]["redis"]["image"].startswith("redis:")
    assert "redis-cli ping" in job["services"]["redis"]["options"]
    assert job["env"]["TEST_REDIS_URL"].startswith("redis://")


def test_compose_and_ci_give_a_mongo_project_a_replica_set(project: Project) -> None:
    """Transactions need a replica set: compose runs and initiates one, CI starts one."""
    if project.answers["database"] != "mongo":
        pytest.skip("only database=mongo uses MongoDB")
    compose, workflow = compose_and_workflow(project)
    db = compose["services"]["db"]
    health_check = " ".join(db["healthcheck"]["test"])
    job = workflow["jobs"]["test"]
    start_step = next(step for step in job["steps"] if "--replSet rs0" in step.get("run", ""))
    migrate_step = next(step for step in job["steps"] if "migrate" in step.get("run", ""))

    assert db["image"].startswith("mongo:")
    assert db["command"][:2] == ["--replSet", "rs0"]
    assert "ports" not in db, "the database is for the compose network only"
    assert 'rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "db:27017" }] })' in health_check
    assert "quit(1)" in health_check
    url = compose["services"]["app"]["environment"]["DATABASE__URL"]
    assert url.startswith("mongodb://db:27017/")
    assert url.endswith("?replicaSet=rs0")
    assert "postgres" not in job.get("services", {})
    assert job["env"]["TEST_MONGODB_URL"] == "mongodb://localhost:27017/"
    assert "TEST_DATABASE_URL" not in job["env"]
    assert 'host: "localhost:27017"' in start_step["run"]
    assert start_step["run"].index("docker run") < start_step["run"].index("rs.initiate")
    assert job["steps"].index(start_step) < job["steps"].index(migrate_step)
    command = f"uv run python -m {project.package_name} migrate"
    assert migrate_step["run"].split("\n").count(command) == 2, "migrate runs twice"
    assert migrate_step["env"]["DATABASE__URL"].startswith("mongodb://localhost:27017/")


SQL_STACK = re.compile(r"alembic|sqlalchemy|asyncpg|aiosqlite", re.IGNORECASE)


def test_a_mongo_project_holds_nothing_of_the_sql_stack(project: Project) -> None:
    """Every file, the lock file included, and every path: no Alembic, SQLAlchemy or drivers."""
    if project.answers["database"] != "mongo":
        pytest.skip("database=postgres uses the SQL stack")
    found = [
        relative(project, path)
        for path in project.files
        if SQL_STACK.search(relative(project, path))
    ]
    found += [
        f"{relative(project, path)}:{number}: {line.strip()}"
        for path, text in text_files(project)
        for number, line in enumerate(text.splitlines(), start=1)
        if SQL_STACK.search(line)
    ]
    assert not found, "the SQL stack in a mongo project:\n" + "\n".join(found)


def test_secantusdb_stays_out_of_generated_projects(project: Project) -> None:
    """SecantusDB serves the template's own tests only: no project names or depends on it."""
    found = [
        relative(project, path)
        for path in project.files
        if "secantus" in relative(project, path).lower()
        or "secantus" in path.read_bytes().decode("utf-8", errors="replace").lower()
    ]
    assert not found, f"SecantusDB named in {found}"


SHARED_HTTP_TREES = ("tests/api", "src/{package}/api", "src/{package}/services")
SHARED_HTTP_TREES += ("src/{package}/domain", "src/{package}/schemas")
"""What must not depend on the database answer: the HTTP layer and its tests, the business rules
and the contract's models. Only repositories, infrastructure and the wiring swap."""


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in iter_output_files(root)
        if path.is_file()
    }


@pytest.mark.parametrize("cache", CHOICES["cache"])
@pytest.mark.parametrize("auth", CHOICES["auth"])
def test_the_database_answer_changes_nothing_above_the_repositories(
    generate, auth: str, cache: str
) -> None:
    """For each auth and cache, postgres and mongo render the same HTTP layer, services,
    domain, schemas and API tests, byte for byte (rendered without the copy-time tasks)."""
    answers = {"project_name": "Twin Check", "auth": auth, "cache": cache}
    rendered = {
        database: generate({**answers, "database": database}, skip_tasks=True)
        for database in CHOICES["database"]
    }
    package = rendered["postgres"].package_name
    for tree in SHARED_HTTP_TREES:
        trees = {
            database: tree_bytes(project.path / tree.format(package=package))
            for database, project in rendered.items()
        }
        assert trees["postgres"], f"{tree} is empty"
        postgres = trees.pop("postgres")
        for database, files in trees.items():
            assert sorted(postgres.keys() - files.keys()) == [], f"{tree}: only for postgres"
            assert sorted(files.keys() - postgres.keys()) == [], f"{tree}: only for {database}"
            differing = [name for name in postgres if files[name] != postgres[name]]
            assert not differing, f"{tree}: {database} renders these differently: {differing}"


def test_openapi_document_does_not_depend_on_the_database(
    project: Project, combination: Combination, generate
) -> None:
    """Clients see one contract whatever stores the items: a mongo project's exported
    docs/openapi.json equals that of the postgres project generated with its other answers (and
    the same resources added)."""
    if combination.database == "postgres":
        pytest.skip("compared from each mongo combination's side, with its postgres twin")
    twin = generate(
        {**combination.answers, "database": "postgres"}, resources=combination.with_resources
    )
    document = (project.path / "docs" / "openapi.json").read_text(encoding="utf-8")
    twin_document = (twin.path / "docs" / "openapi.json").read_text(encoding="utf-8")

    assert json.loads(document) == json.loads(twin_document)
    assert document == twin_document


REDIS_USE = re.compile(r"REDIS__|TEST_REDIS_URL|\bredis[.:-]|import redis|\"redis\b|\bredis\.py")
"""What a project that uses Redis has: its settings, imports, URLs, dependency, compose and CI
services, tools and adapter. Prose may still name Redis (as where a shared store would go)."""


def test_a_project_without_redis_holds_none_of_its_code_or_settings(project: Project) -> None:
    if project.answers["cache"] == "redis":
        pytest.skip("cache=redis uses Redis")
    found = [
        f"{relative(project, path)}:{number}: {line.strip()}"
        for path, text in text_files(project)
        if path.name not in LOCK_FILES
        for number, line in enumerate(text.splitlines(), start=1)
        if REDIS_USE.search(line)
    ]
    assert not found, "Redis in a project without it:\n" + "\n".join(found)


def test_dockerfile_builds_in_stages_and_runs_unprivileged(project: Project) -> None:
    lines = [
        line.strip()
        for line in (project.path / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [line for line in lines if line.startswith("FROM ")]
    python = project.answers["python_version"]

    assert stages == [
        f"FROM python:{python}-slim AS builder",
        f"FROM python:{python}-slim AS runtime",
    ]
    assert any(line.startswith("USER 10001") for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/health/live" in " ".join(lines)
    assert lines[-1] == f'CMD ["python", "-m", "{project.package_name}"]'
    assert "--reload" not in " ".join(lines)
    assert "uv sync --locked --no-dev --no-editable" in " ".join(lines)


def test_dockerfile_passes_hadolint(project: Project) -> None:
    result = run(
        [dev_tool("hadolint"), "--no-color", "Dockerfile"],
        cwd=project.path,
        step=f"hadolint ({project.answers['python_version']})",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


# --- Invalid answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "question", "message"),
    [
        ({"project_name": ""}, "project_name", "must not be empty"),
        ({"project_name": "9 Lives"}, "project_name", "must start with a letter"),
        ({"project_name": "test"}, "project_name", "standard library"),
        ({"project_name": "Typing"}, "project_name", "standard library"),
        ({"project_name": "class"}, "project_name", "Python keyword"),
        ({"project_name": "FastAPI"}, "project_name", "depends on"),
        ({"project_name": "!!!"}, "project_name", "is not allowed"),
        ({"project_name": "----"}, "project_name", "at least one ASCII letter"),
        ({"project_name": "x" * 41}, "project_name", "at most 40 characters"),
        ({"project_description": 'Say "hi"'}, "project_description", "double quotes"),
        ({"author_name": ""}, "author_name", "must not be empty"),
        ({"author_email": "not-an-address"}, "author_email", "does not look like an e-mail"),
        ({"author_email": "team@localhost"}, "author_email", "does not look like an e-mail"),
    ],
)
def test_invalid_answers_are_rejected(
    answers: dict[str, str], question: str, message: str, tmp_path: Path
) -> None:
    destination = tmp_path / "never-created"
    with pytest.raises(ValueError, match=f"Validation error for question '{question}'") as error:
        copy_template(destination, answers)
    assert message in str(error.value)
    assert not destination.exists()


@pytest.mark.parametrize(
    ("answers", "question"),
    [({"python_version": "3.10"}, "python_version"), ({"database": "mysql"}, "database")],
)
def test_answers_outside_the_choices_are_rejected(
    answers: dict[str, str], question: str, tmp_path: Path
) -> None:
    destination = tmp_path / "never-created"
    with pytest.raises(ValueError, match=f"Invalid choice for '{question}'"):
        copy_template(destination, answers)
    assert not destination.exists()


# --- copier.yml settings ------------------------------------------------------------------


def test_copier_settings_that_updates_rely_on() -> None:
    settings = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    # The project's answers file renders the project; a resource's renders the resource.
    subdirectory = Environment(autoescape=False).from_string(settings["_subdirectory"])  # noqa: S701
    for answers_file, expected in (
        (".copier-answers.yml", "template"),
        (".copier-answers.resource-widgets.yml", "resource"),
    ):
        assert subdirectory.render(_copier_conf={"answers_file": answers_file}) == expected
    loader, *extensions = settings["_jinja_extensions"]
    assert loader == "copier_template_extensions.TemplateExtensionLoader"
    for extension in extensions:
        path, _, _ = extension.partition(":")
        assert (REPO_ROOT / path).is_file(), extension
    # Rendered without answers during updates, so they must be fixed globs.
    assert not [p for p in settings["_skip_if_exists"] if "{" in p]
    assert {".env", "docs/CHANGELOG.md"} <= set(settings["_skip_if_exists"])
    for task in settings["_tasks"]:
        assert task["when"] == "{{ _copier_operation == 'copy' and foundry_part == 'project' }}"
    template_files = {
        p.relative_to(REPO_ROOT / "template").as_posix()
        for p in (REPO_ROOT / "template").rglob("*")
    }
    assert "{{ _copier_conf.answers_file }}.jinja" in template_files


@pytest.mark.slow
def test_the_template_renders_with_its_minimum_copier(tmp_path: Path) -> None:
    """`_min_copier_version` is what the template needs: that Copier renders it."""
    settings = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    minimum = settings["_min_copier_version"]
    extensions = f"copier-template-extensions=={locked_version('copier-template-extensions')}"
    destination = tmp_path / "oldest-copier"
    run(
        [
            "uv",
            "tool",
            "run",
            "--from",
            f"copier=={minimum}",
            "--with",
            extensions,
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--skip-tasks",
            "--vcs-ref",
            "HEAD",
            str(REPO_ROOT),
            str(destination),
        ],
        cwd=tmp_path,
        step=f"copier {minimum} copy",
        timeout=600,
    )
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["database"] == "postgres"
    assert (destination / "scripts" / "update.py").is_file()


def test_tasks_explain_instead_of_failing_without_uv(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = os.pathsep.join(
        folder
        for folder in os.environ["PATH"].split(os.pathsep)
        if folder and not (Path(folder) / "uv").exists()
    )
    destination = tmp_path / "no-uv"
    with local.env(PATH=path):
        copy_template(destination, {})
    output = capfd.readouterr().out
    assert (
        "uv is not installed, so uv.lock, .venv, docs/openapi.json and docs/erd.md were not "
        "created" in output
    )
    assert "\n  make openapi\n  make erd\n" in output
    assert (destination / "pyproject.toml").is_file()
    assert not (destination / "uv.lock").exists()
