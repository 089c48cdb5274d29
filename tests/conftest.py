"""Fixtures for the template's tests: a PostgreSQL server and generated projects.

Generated projects are cached per answer set for the whole test run (and, under
pytest-xdist with ``--dist loadgroup``, every test of one combination runs on the same
worker), because a generation runs the copy-time tasks: ``uv lock``, ``uv sync`` and the
OpenAPI export.
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from plumbum import local

from tests.harness import (
    CACHE_DIR,
    COMBINATIONS,
    MISSING_INTERPRETERS,
    RESOURCE_COMMANDS,
    TIMINGS_ENV,
    Combination,
    OpenApiLinters,
    Project,
    clean_env,
    copy_template,
    install_openapi_linters,
    iter_output_files,
    missing_tool_message,
    provide_interpreters,
    record_timing,
    require_interpreter,
    run,
    running_in_ci,
)
from tests.mongo_server import MongoUnavailableError, ThrowawayMongo
from tests.postgres_server import PostgresUnavailableError, ThrowawayPostgres
from tests.redis_server import RedisUnavailableError, ThrowawayRedis

if TYPE_CHECKING:
    from collections.abc import Iterator

Generate = Callable[..., Project]


# --- Test-run set-up ------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Prepare the environment every generation and every command inherits.

    One uv cache for all projects, no Python downloads, no inherited virtualenv, and the
    matrix's interpreters reachable by name on PATH. Stops the run at once, with what to
    install, when a program every generation needs is missing.
    """
    problem = missing_tool_message()
    if problem is not None:
        pytest.exit(problem, returncode=3)
    os.environ.setdefault("UV_CACHE_DIR", str(CACHE_DIR / "uv"))
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
    os.environ.pop("VIRTUAL_ENV", None)
    Path(os.environ["UV_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
    links, missing = provide_interpreters(sorted({c.python_version for c in COMBINATIONS}))
    os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])
    MISSING_INTERPRETERS[:] = missing

    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        os.environ[TIMINGS_ENV] = worker_input[TIMINGS_ENV]
        return
    timings = CACHE_DIR / f"timings-{os.getpid()}.jsonl"
    timings.write_text("", encoding="utf-8")
    os.environ[TIMINGS_ENV] = str(timings)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the timings file when the run ends before the summary (e.g. interrupted)."""
    path = os.environ.get(TIMINGS_ENV)
    if path and not hasattr(config, "workerinput"):
        Path(path).unlink(missing_ok=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """Hand the controller's timings file to each pytest-xdist worker."""
    node.workerinput[TIMINGS_ENV] = os.environ[TIMINGS_ENV]  # type: ignore[attr-defined]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "combination" in metafunc.fixturenames:
        metafunc.parametrize("combination", COMBINATIONS, ids=[c.id for c in COMBINATIONS])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep all tests of one combination on one xdist worker, so it is generated once.

    Runs first: pytest-xdist reads the markers in its own hook to build the groups.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "combination" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(callspec.params["combination"].id))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Every test of a combination whose Python is missing stops here, for one reason."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "combination" in callspec.params:
        require_interpreter(callspec.params["combination"].python_version)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workerinput"):
        return
    path = os.environ.get(TIMINGS_ENV)
    if not path or not Path(path).exists():
        return
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    Path(path).unlink()
    if not rows:
        return
    terminalreporter.section("step durations")
    width = max(len(row["step"]) for row in rows)
    for row in rows:
        terminalreporter.write_line(f"{row['step']:<{width}}  {row['seconds']:7.1f}s")


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a role that may create databases, in the generated project's format.

    ``postgresql+asyncpg://user[:password]@host:port/maintenance_db``: TEST_DATABASE_URL
    when set, otherwise a throwaway server started from the local PostgreSQL binaries.
    """
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    try:
        server = ThrowawayPostgres()
        server.start()
    except PostgresUnavailableError as error:
        pytest.exit(str(error), returncode=3)
    try:
        yield server.admin_url
    finally:
        server.stop()


# --- Redis ------------------------------------------------------------------------------

NO_REDIS_URL = "redis://127.0.0.1:1/0"
"""A port where no Redis listens: a cache=redis service then runs with its cache degraded."""


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Where a running cache=redis service keeps its cache: TEST_REDIS_URL when set, else a
    throwaway redis-server, else (without the binary) NO_REDIS_URL, never the developer's own
    Redis on the default port that the project's `.env` names."""
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    try:
        server = ThrowawayRedis()
        server.start()
    except RedisUnavailableError:
        yield NO_REDIS_URL
        return
    try:
        yield server.url
    finally:
        server.stop()


# --- MongoDB ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """A MongoDB server for database=mongo projects, without a database name: each test
    creates its own databases under it (``mongodb://127.0.0.1:N/``).

    TEST_MONGODB_URL when set, otherwise a throwaway SecantusDB server from the template's dev
    dependencies, started on first use, so that a run without mongo combinations starts none.
    Without either, the tests that need it are skipped, or fail under CI=true.
    """
    external = os.environ.get("TEST_MONGODB_URL")
    if external:
        yield external
        return
    try:
        server = ThrowawayMongo()
        server.start()
    except MongoUnavailableError as error:
        if running_in_ci():
            pytest.fail(f"{error}\n(CI=true: `uv sync` should have installed it)", pytrace=False)
        pytest.skip(str(error))
    try:
        yield server.url
    finally:
        server.stop()


# --- Generated projects ---------------------------------------------------------------


@pytest.fixture(scope="session")
def generate(tmp_path_factory: pytest.TempPathFactory) -> Generate:
    """``generate(answers, *, skip_tasks=False, fresh=False) -> Project``.

    Renders the working tree of this repository (``vcs_ref="HEAD"`` includes uncommitted
    changes) with copier's Python API. Results are cached per answers unless ``fresh``.
    A generation with tasks for a Python version that is not installed is skipped, or
    fails when running in CI.
    """
    cache: dict[tuple[object, ...], Project] = {}

    def _generate(
        answers: dict[str, str],
        *,
        skip_tasks: bool = False,
        fresh: bool = False,
        resources: bool = False,
    ) -> Project:
        key = (tuple(sorted(answers.items())), skip_tasks, resources)
        if not fresh and key in cache:
            return cache[key]
        if not skip_tasks and "python_version" in answers:
            require_interpreter(answers["python_version"])
        destination = tmp_path_factory.mktemp("project") / "generated"
        started = time.monotonic()
        # Copier runs tasks with plumbum's copy of the environment, taken when plumbum was
        # imported; hand it the prepared one explicitly.
        with local.env():
            local.env.clear()
            local.env.update(clean_env())
            copy_template(destination, answers, skip_tasks=skip_tasks)
        if resources:
            add_resources(destination)
        label = ", ".join(f"{k}={v}" for k, v in sorted(answers.items()))
        record_timing(
            f"generate ({label}{', no tasks' if skip_tasks else ''})",
            time.monotonic() - started,
        )
        project = Project(
            path=destination,
            answers=answers,
            files=tuple(iter_output_files(destination)),
        )
        pyproject = destination / "pyproject.toml"
        if pyproject.exists():
            project.state["project_slug"] = tomllib.loads(pyproject.read_text())["project"]["name"]
        packages = [path.name for path in (destination / "src").glob("*") if path.is_dir()]
        if len(packages) == 1:
            project.state["package_name"] = packages[0]
        if not fresh:
            cache[key] = project
        return project

    return _generate


@pytest.fixture
def project(generate: Generate, combination: Combination) -> Project:
    """The project generated (with copy-time tasks) for this test's combination."""
    return generate(combination.answers, resources=combination.with_resources)


def add_resources(destination: Path) -> None:
    """Run the README's `make resource` commands in a generated project."""
    started = time.monotonic()
    for name, fields in RESOURCE_COMMANDS:
        run(
            ["make", "resource", f"NAME={name}", f"FIELDS={fields}"],
            cwd=destination,
            env=clean_env(),
            step=f"make resource NAME={name}",
            timeout=600,
        )
    record_timing("make resource (two resources)", time.monotonic() - started)


# --- Node.js tools ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def openapi_linters() -> OpenApiLinters:
    """Redocly CLI and Spectral (skips without Node.js, or fails under CI=true)."""
    return install_openapi_linters()
