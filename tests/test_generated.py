"""Each generated project passes its own toolchain, migrations and a fuzzing run.

These tests are slow (minutes per combination); deselect them with ``-m "not slow"``.
Within one combination the tests build on each other's state (a synced environment, a
migrated database), cached on the Project object, so they also work when run one by one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from tests.harness import (
    Combination,
    Project,
    clean_env,
    dev_tool,
    free_port,
    record_timing,
    run,
    running_identity_provider,
    running_in_ci,
    running_service,
    tail,
    with_database,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

READY_TIMEOUT_SECONDS = 30
FUZZ_SECONDS = 40

# Creates or drops a database with the generated project's own driver, so the harness
# needs no PostgreSQL client of its own (TEST_DATABASE_URL may point anywhere).
_DATABASE_SCRIPT = """
import asyncio, sys
import asyncpg

async def main(url: str, action: str, name: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        if action == "create":
            await connection.execute(f'CREATE DATABASE "{name}"')
        else:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()

asyncio.run(main(*sys.argv[1:]))
"""


def step_name(project: Project, what: str) -> str:
    return f"{what} (py{project.answers['python_version']})"


def ensure_synced(project: Project) -> None:
    """`uv sync --locked` once per project: the lock file from the copy task must hold."""
    if project.state.get("synced"):
        return
    run(
        ["uv", "sync", "--locked", "--python", project.answers["python_version"]],
        cwd=project.path,
        step=step_name(project, "uv sync --locked"),
        timeout=600,
    )
    project.state["synced"] = True


def uv_run(
    project: Project, *args: str, what: str, timeout: float, env=None, check=True, stdin=None
):
    ensure_synced(project)
    return run(
        ["uv", "run", "--locked", *args],
        cwd=project.path,
        step=step_name(project, what),
        timeout=timeout,
        env=env,
        check=check,
        stdin=stdin,
    )


def asyncpg_dsn(url: str) -> str:
    """asyncpg speaks plain ``postgresql://`` URLs; SQLAlchemy's form names the driver."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def database(project: Project, admin_url: str, action: str, name: str) -> None:
    uv_run(
        project,
        "python",
        "-c",
        _DATABASE_SCRIPT,
        asyncpg_dsn(admin_url),
        action,
        name,
        what=f"{action} database",
        timeout=60,
    )


def drop_mongo_database(server_url: str, name: str) -> None:
    """Drop a database with the harness's own PyMongo (a dependency of SecantusDB)."""
    from pymongo import MongoClient  # noqa: PLC0415 - only mongo projects need it

    client: MongoClient[dict[str, Any]] = MongoClient(server_url, serverSelectionTimeoutMS=10_000)
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture
def fresh_database(project: Project, request: pytest.FixtureRequest):
    """Factory for empty databases on the test server of the project's database, dropped
    after the test; it returns the service's `DATABASE__URL` for one."""
    created: list[str] = []
    mongo = project.answers["database"] == "mongo"
    server_url = request.getfixturevalue("mongo_url" if mongo else "pg_admin_url")

    def _create(purpose: str) -> str:
        name = f"foundry_{project.package_name}_{purpose}_{secrets.token_hex(4)}"[:63]
        if not mongo:
            database(project, server_url, "create", name)
        # MongoDB creates a database with its first write: nothing to do before.
        created.append(name)
        return with_database(server_url, name)

    yield _create
    for name in created:
        if mongo:
            drop_mongo_database(server_url, name)
        else:
            database(project, server_url, "drop", name)


def only_for_database(project: Project, database: str, reason: str) -> None:
    """Skip, with the reason in the report, a check that concerns another database answer."""
    if project.answers["database"] != database:
        pytest.skip(f"database={project.answers['database']}: {reason}")


def migrate(project: Project, env: dict[str, str], what: str) -> None:
    """Bring the database at DATABASE__URL to the latest schema, the way the project's README
    says: Alembic for PostgreSQL, the project's own `migrate` command for MongoDB."""
    if project.answers["database"] == "mongo":
        command, label = ("python", "-m", project.package_name, "migrate"), "migrate"
    else:
        command, label = ("alembic", "upgrade", "heads"), "alembic upgrade"
    uv_run(project, *command, what=f"{label} ({what})", timeout=120, env=env)


# --- The toolchain --------------------------------------------------------------------------


def test_uv_sync_locked(project: Project, combination: Combination) -> None:
    ensure_synced(project)
    result = uv_run(
        project,
        "python",
        "-c",
        "import sys; print('%d.%d' % sys.version_info[:2])",
        what="python version",
        timeout=60,
    )
    assert result.stdout.strip() == combination.python_version


def test_ruff_check(project: Project) -> None:
    uv_run(project, "ruff", "check", ".", what="ruff check", timeout=120)


def test_ruff_format(project: Project) -> None:
    uv_run(project, "ruff", "format", "--check", ".", what="ruff format --check", timeout=120)


def test_layering_contracts(project: Project) -> None:
    """import-linter keeps api -> services -> repositories -> infrastructure one-way."""
    result = uv_run(project, "lint-imports", what="lint-imports", timeout=120)
    assert "0 broken" in result.stdout, result.stdout


_READ_ONLY_PROBE = """
from {package}.repositories.protocols import ReadOnlyUnitOfWork, UnitOfWork


def reads(unit: ReadOnlyUnitOfWork) -> None:
    print(unit.items.delete)
    print(unit.idempotency)


def writes(unit: UnitOfWork) -> None:
    print(unit.items.get, unit.items.delete, unit.idempotency)
"""


def test_read_only_units_expose_no_writes(project: Project, tmp_path: Path) -> None:
    """A route on a read-only unit cannot reach a write: mypy rejects it."""
    probe = tmp_path / "probe.py"
    probe.write_text(_READ_ONLY_PROBE.format(package=project.package_name), encoding="utf-8")

    result = uv_run(
        project,
        "mypy",
        "--strict",
        str(probe),
        what="mypy read-only probe",
        timeout=300,
        check=False,
    )

    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["6", "7"], result.stdout
    assert '"ItemReader" has no attribute "delete"' in errors[0]
    assert '"ReadOnlyUnitOfWork" has no attribute "idempotency"' in errors[1]


def test_mypy_strict(project: Project) -> None:
    uv_run(project, "mypy", what="mypy", timeout=600)


def require_redis(project: Project) -> None:
    """A cache=redis suite needs TEST_REDIS_URL or a local redis-server: without either its
    tests that need Redis skip and coverage falls short, so skip it (fail under CI) here."""
    if project.answers["cache"] != "redis":
        return
    if os.environ.get("TEST_REDIS_URL") or shutil.which("redis-server"):
        return
    reason = (
        "redis-server was not found: install it (`apt-get install redis-server`) or point "
        "TEST_REDIS_URL at a server (redis://127.0.0.1:6379/0) to test cache=redis projects"
    )
    if running_in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def test_own_test_suite(project: Project, request: pytest.FixtureRequest) -> None:
    """The project's own suite, against the server its README tells developers to give it."""
    require_redis(project)
    if project.answers["database"] == "mongo":
        server = {"TEST_MONGODB_URL": request.getfixturevalue("mongo_url")}
    else:
        server = {"TEST_DATABASE_URL": request.getfixturevalue("pg_admin_url")}
    result = uv_run(
        project,
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        what="pytest (generated suite)",
        timeout=900,
        env=clean_env(server),
        check=False,
    )
    # Exit code 5 means "no tests collected": a suite that tests nothing is a failure too.
    assert result.returncode == 0, (
        f"generated test suite exited with {result.returncode}\n"
        f"{tail(result.stdout, 120)}\n{tail(result.stderr, 40)}"
    )


# --- Migrations -----------------------------------------------------------------------------


ALEMBIC_IS_POSTGRES_ONLY = "the project has no Alembic (test_mongo_migrations_apply_once)"


def test_alembic_up_down_up_without_drift(project: Project, fresh_database) -> None:
    only_for_database(project, "postgres", ALEMBIC_IS_POSTGRES_ONLY)
    env = clean_env({"DATABASE__URL": fresh_database("alembic"), "ENVIRONMENT": "test"})
    for command in (
        ("upgrade", "heads"),
        ("downgrade", "base"),
        ("upgrade", "heads"),
        ("check",),
    ):
        uv_run(
            project,
            "alembic",
            *command,
            what=f"alembic {' '.join(command)}",
            timeout=120,
            env=env,
        )


def test_migrations_run_on_the_sqlite_development_file(project: Project, tmp_path: Path) -> None:
    """`make migrate` with the generated `.env` migrates a SQLite file: the same up, down, up."""
    only_for_database(project, "postgres", ALEMBIC_IS_POSTGRES_ONLY)
    database = tmp_path / "dev.db"
    env = clean_env({"DATABASE__URL": f"sqlite+aiosqlite:///{database}", "ENVIRONMENT": "test"})
    for command in (("upgrade", "heads"), ("downgrade", "base"), ("upgrade", "heads")):
        uv_run(
            project,
            "alembic",
            *command,
            what=f"alembic {' '.join(command)} (SQLite)",
            timeout=120,
            env=env,
        )
    assert database.stat().st_size > 0


def mongo_schema(database_url: str) -> dict[str, object]:
    """What migrations leave in a MongoDB database: every collection with its options and
    indexes, and how many documents it holds (a migration's bookkeeping record included)."""
    from pymongo import MongoClient  # noqa: PLC0415 - only mongo projects need it

    client: MongoClient[dict[str, Any]] = MongoClient(database_url, serverSelectionTimeoutMS=10_000)
    try:
        database = client.get_default_database()
        return {
            name: {
                "options": database[name].options(),
                "indexes": database[name].index_information(),
                "documents": database[name].count_documents({}),
            }
            for name in sorted(database.list_collection_names())
        }
    finally:
        client.close()


def test_mongo_migrations_apply_once(project: Project, fresh_database) -> None:
    """`python -m <package> migrate` (what `make migrate` runs) on a fresh database creates the
    collections and indexes; run again, it applies nothing and still exits 0."""
    only_for_database(
        project, "mongo", "Alembic migrates it (test_alembic_up_down_up_without_drift)"
    )
    database_url = fresh_database("migrate")
    env = clean_env({"DATABASE__URL": database_url, "ENVIRONMENT": "test"})

    migrate(project, env, "fresh database")
    migrated = mongo_schema(database_url)
    migrate(project, env, "again")

    assert migrated, f"`migrate` left {database_url} empty"
    assert any(set(collection["indexes"]) - {"_id_"} for collection in migrated.values()), (
        f"`migrate` created no index: {migrated}"
    )
    assert mongo_schema(database_url) == migrated, "the second `migrate` changed the database"


# --- Robustness -----------------------------------------------------------------------------


@contextmanager
def fuzz_credential(project: Project, env: dict[str, str]) -> Iterator[Callable[[str], list[str]]]:
    """Schemathesis options that make its requests authenticated, so that it reaches past the
    401s: an admin credential issued the way the project's README tells operators to, as a
    function of the running service's base URL (a `jwt` project logs in over HTTP). For
    `oidc`, the project's local identity provider runs meanwhile, and `env` points at it."""
    auth = project.answers.get("auth", "none")
    if auth == "none":
        yield lambda base_url: []
    elif auth == "api_key":
        issued = uv_run(
            project,
            "python",
            "-m",
            project.package_name,
            "create-api-key",
            "--name",
            "fuzzing",
            "--admin",
            what="create-api-key (fuzz db)",
            timeout=120,
            env=env,
        )
        yield lambda base_url: ["--header", f"Authorization: Bearer {issued.stdout.strip()}"]
    elif auth == "jwt":
        email, password = "fuzzing@example.com", secrets.token_urlsafe(24)
        uv_run(
            project,
            "python",
            "-m",
            project.package_name,
            "create-user",
            "--email",
            email,
            "--admin",
            what="create-user (fuzz db)",
            timeout=120,
            env=env,
            stdin=f"{password}\n",
        )
        yield lambda base_url: [
            "--header",
            f"Authorization: Bearer {_log_in(base_url, email, password)}",
        ]
    elif auth == "oidc":
        with running_identity_provider(project, env) as (settings, token):
            env.update(settings)
            yield lambda base_url: ["--header", f"Authorization: Bearer {token}"]
    else:
        raise AssertionError(f"no fuzzing credential for auth={auth}")


def _log_in(base_url: str, email: str, password: str) -> str:
    """An access token from a jwt project's JSON login."""
    login = urllib.request.Request(  # noqa: S310 (the service under test, over http)
        f"{base_url}/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=30) as response:  # noqa: S310 (local service)
        return json.loads(response.read())["access_token"]


def test_service_survives_schemathesis(
    project: Project, fresh_database, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database_url = fresh_database("fuzz")
    env = clean_env(
        {
            "ENVIRONMENT": "test",
            "DATABASE__URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
            "LOG__LEVEL": "WARNING",
            # Every request counted, none refused: the fuzzer is one client sending thousands.
            "RATE_LIMIT__REQUESTS": "100000",
            "RATE_LIMIT__WINDOW_SECONDS": "60",
        }
    )
    if project.answers["cache"] == "redis":
        env["REDIS__URL"] = request.getfixturevalue("redis_url")
    migrate(project, env, "fuzz db")

    credentials = fuzz_credential(project, env)
    env["SERVER__HOST"] = "127.0.0.1"
    env["SERVER__PORT"] = str(free_port())
    log = tmp_path / "service.log"
    started = time.monotonic()
    with (
        credentials as credential_options,
        running_service(project, env, log, timeout=READY_TIMEOUT_SECONDS) as base,
    ):
        record_timing(step_name(project, "service start until ready"), time.monotonic() - started)
        credential_args = credential_options(base)
        # A project may state in schemathesis.toml which responses its contract allows
        # (e.g. 412 for a stale If-Match); every other check runs, as by default.
        config = project.path / "schemathesis.toml"
        config_args = ["--config-file", str(config)] if config.is_file() else []
        result = run(
            [
                dev_tool("schemathesis"),
                "--no-color",
                *config_args,
                "run",
                f"{base}/openapi.json",
                "--max-time",
                str(FUZZ_SECONDS),
                "--generation-database",
                "none",
                *credential_args,
            ],
            cwd=tmp_path,
            step=step_name(project, "schemathesis"),
            timeout=FUZZ_SECONDS + 240,
            env=clean_env(),
            check=False,
            tail_lines=200,
        )
        assert result.returncode == 0, (
            f"schemathesis found problems (exit {result.returncode}):\n"
            f"{tail(result.stdout, 200)}\n{tail(result.stderr, 40)}\n"
            f"--- service log (tail) ---\n"
            f"{tail(log.read_text(encoding='utf-8', errors='replace'), 40)}"
        )
