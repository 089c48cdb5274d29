"""The generated project under test: generate it, or take an existing one, and ready it."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from plumbum import local

from bench.api_client import log_in
from bench.processes import ManagedProcess
from tests.harness import (
    REPO_ROOT,
    clean_env,
    copy_template,
    missing_interpreter_reason,
    provide_interpreters,
    tail,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from contextlib import ExitStack

ANSWERS_FILE = ".copier-answers.yml"
REPORTED_PACKAGES = frozenset(
    {
        "fastapi",
        "starlette",
        "pydantic",
        "sqlalchemy",
        "asyncpg",
        "pymongo",
        "uvicorn",
        "uvloop",
        "httptools",
    }
)


class ProjectError(RuntimeError):
    """The project cannot be generated, set up or migrated; the message says why."""


@dataclass
class BenchProject:
    path: Path
    package: str
    answers: dict[str, object]
    copy_seconds: float | None = None
    """Wall time of `copier copy`, when this run generated the project."""
    packages: dict[str, str] = field(default_factory=dict)
    """Versions of the server stack in the project's environment (the floor uses them too)."""


def default_python_version() -> str:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return str(config["python_version"]["default"])


def generate(
    destination: Path, answers: Mapping[str, str], *, commit: str | None = None
) -> BenchProject:
    """Copy the template's working tree with these answers (defaults for the rest), or the
    template at `commit` (a full commit id, see `resolve_commit`).

    Copier runs the copy-time task (lock, sync, OpenAPI export) as for any user; the
    interpreter for the chosen Python is found without downloading, as in the tests.
    """
    version = answers.get("python_version", default_python_version())
    links, missing = provide_interpreters([version])
    if missing:
        raise ProjectError(missing_interpreter_reason(version))
    os.environ["PATH"] = os.pathsep.join([str(links), os.environ.get("PATH", "")])
    started = time.monotonic()
    # Copier runs its tasks with plumbum's copy of the environment, taken at import time.
    with local.env():
        local.env.clear()
        local.env.update(clean_env())
        copy_template(destination, answers, vcs_ref=commit or "HEAD")
    copy_seconds = time.monotonic() - started
    project = open_project(destination)
    project.copy_seconds = copy_seconds
    return project


def generate_variant(destination: Path, project: BenchProject, **changes: str) -> BenchProject:
    """The project generated again with the same answers except `changes`, e.g. the PostgreSQL
    variant of a mongo project (its floor needs the items table that Alembic creates)."""
    answers = {key: str(value) for key, value in project.answers.items()}
    return generate(destination, {**answers, **changes})


def resolve_commit(ref: str) -> str:
    """The full id of the commit that `ref` (a commit, tag, branch, `HEAD~3`, ...) names in the
    template's repository. Copier takes `HEAD` itself as the working tree, uncommitted changes
    included, so a baseline is always rendered from a commit id."""
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise ProjectError(f"--baseline {ref}: no such commit in {REPO_ROOT}.")
    return result.stdout.strip()


def generate_baseline(destination: Path, project: BenchProject, commit: str) -> BenchProject:
    """The project generated again with the same answers from the template at `commit`; Copier
    clones the repository into a temporary folder, so the working tree is left as it is."""
    answers = {key: str(value) for key, value in project.answers.items()}
    return generate(destination, answers, commit=commit)


def open_project(path: Path) -> BenchProject:
    path = path.resolve()
    answers_file = path / ANSWERS_FILE
    if not answers_file.is_file():
        raise ProjectError(f"{path} is not a generated project: it has no {ANSWERS_FILE}.")
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    answers = {key: value for key, value in answers.items() if not key.startswith("_")}
    return BenchProject(path=path, package=_package_name(path, answers), answers=answers)


def _package_name(path: Path, answers: Mapping[str, object]) -> str:
    if isinstance(answers.get("package_name"), str):
        return str(answers["package_name"])
    entry_points = sorted((path / "src").glob("*/__main__.py"))
    if len(entry_points) != 1:
        raise ProjectError(f"Expected one package with a __main__.py under {path / 'src'}.")
    return entry_points[0].parent.name


def run_in(
    project: BenchProject,
    command: Sequence[str],
    env: Mapping[str, str],
    what: str,
    stdin: str | None = None,
) -> str:
    """Run a command inside the project, with `stdin` as its input (none when None); its
    output, or ProjectError with the output's end."""
    result = subprocess.run(
        list(command),
        cwd=project.path,
        env=dict(env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise ProjectError(
            f"{what} failed: `{' '.join(command)}` exited with {result.returncode} in "
            f"{project.path}\n{tail(result.stdout, 30)}\n{tail(result.stderr, 30)}"
        )
    return result.stdout


def ensure_environment(project: BenchProject) -> None:
    """`uv sync` when the project has no .venv yet; then read the server stack's versions."""
    if not (project.path / ".venv").is_dir():
        print(f"{project.path} has no .venv: running uv sync.", flush=True)
        python = str(project.answers.get("python_version", default_python_version()))
        links, _ = provide_interpreters([python])
        env = clean_env({"PATH": os.pathsep.join([str(links), os.environ.get("PATH", "")])})
        locked = ["--locked"] if (project.path / "uv.lock").is_file() else []
        run_in(project, ["uv", "sync", *locked, "--python", python], env, "uv sync")
    project.packages = _installed_versions(project.path / ".venv")


def _installed_versions(venv: Path) -> dict[str, str]:
    versions = {}
    for line in (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in {"version", "version_info"}:
            versions["python"] = value.strip()
    for metadata in venv.glob("lib/python*/site-packages/*.dist-info"):
        name, _, version = metadata.name.removesuffix(".dist-info").rpartition("-")
        if name.lower() in REPORTED_PACKAGES:
            versions[name.lower()] = version
    return dict(sorted(versions.items()))


def migrate(project: BenchProject, env: Mapping[str, str]) -> None:
    """The migrations its README names: Alembic's, or a mongo project's `migrate` command."""
    if project.answers.get("database") == "mongo":
        command = ["uv", "run", "--no-sync", "python", "-m", project.package, "migrate"]
    else:
        command = ["uv", "run", "--no-sync", "alembic", "upgrade", "heads"]
    run_in(project, command, env, "Migrating")


@dataclass(frozen=True)
class Authentication:
    """What the project's authentication needs before the service starts: settings for the
    service and its migrations, and a token when the caller's credential comes from outside."""

    service_env: dict[str, str] = field(default_factory=dict)
    token: str | None = None


def prepare_authentication(
    project: BenchProject, stack: ExitStack, run_dir: Path
) -> Authentication:
    """For `oidc`, the project's local identity provider, serving https for the rest of the run;
    nothing for the other answers."""
    if project.answers.get("auth", "none") != "oidc":
        return Authentication()
    return _identity_provider_credential(project, stack, run_dir / "identity-provider.log")


def issue_credential(
    project: BenchProject, env: Mapping[str, str], authentication: Authentication, port: int
) -> str | None:
    """The `Authorization` header value for the load, issued the way the project's README tells
    operators to: a caller that reads and writes its own items. None without authentication.
    `port` is the running service's, for modes that log in over HTTP (`jwt`)."""
    auth = project.answers.get("auth", "none")
    if auth == "none":
        return None
    command = ["uv", "run", "--no-sync", "python", "-m", project.package]
    if auth == "api_key":
        key = run_in(
            project, [*command, "create-api-key", "--name", "benchmark"], env, "Issuing an API key"
        )
        return f"Bearer {key.strip()}"
    if auth == "jwt":
        email, password = "benchmark@example.com", secrets.token_urlsafe(24)
        create = [*command, "create-user", "--email", email]
        run_in(project, create, env, "Creating a user", stdin=f"{password}\n")
        return f"Bearer {log_in(port, email, password)}"
    if auth == "oidc" and authentication.token is not None:
        return f"Bearer {authentication.token}"
    raise ProjectError(f"The benchmark cannot authenticate with auth={auth} yet.")


def _identity_provider_credential(
    project: BenchProject, stack: ExitStack, log: Path
) -> Authentication:
    """A read-write token from `python -m tests.identity_provider --tls`, and the settings (an
    https issuer, its certificate in SSL_CERT_FILE) that production accepts."""
    command = ["uv", "run", "--no-sync", "python", "-m", "tests.identity_provider"]
    options = ["--port", "0", "--tls", "--token-lifetime", "86400"]
    provider = ManagedProcess(
        "the identity provider",
        [*command, *options],
        cwd=project.path,
        env=clean_env(),
        log=log,
        cpus="1",
    )
    stack.callback(provider.stop)
    deadline = time.monotonic() + 60
    while True:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        exports = dict(
            line.removeprefix("export ").partition("=")[::2]
            for line in lines
            if line.startswith("export ")
        )
        if "ACCESS_TOKEN" in exports:
            break
        provider.check_alive()
        if time.monotonic() > deadline:
            raise ProjectError(f"The identity provider did not start:\n{provider.log_tail()}")
        time.sleep(0.1)
    token = exports.pop("USER_TOKEN")
    exports.pop("ACCESS_TOKEN")
    return Authentication(exports, token)
