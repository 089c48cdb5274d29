"""Building blocks shared by the template's tests: the answer matrix, command runner, timings.

Fixtures live in conftest.py; everything here is plain Python so it can be imported by both
the fixtures and the tests.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest
from copier import run_copy

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache"
TIMINGS_ENV = "FOUNDRY_TIMINGS_FILE"

# The OpenAPI linters, installed from npm once into .cache/ and reused by later runs. The
# generated Makefile's `lint-openapi` pins the same versions (a render test checks that).
OPENAPI_LINTERS = {"@redocly/cli": "2.77.0", "@stoplight/spectral-cli": "6.16.3"}
OPENAPI_LINTERS_DIR = CACHE_DIR / "openapi-linters"
MIN_NODE_VERSION = (20, 19)  # Redocly CLI 2.x refuses older Node.js releases
# Redocly CLI reports usage and checks for updates unless told not to.
QUIET_REDOCLY = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_NOTIFICATIONS": "true",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
}

# Settings of the generated service: never let the developer's shell leak into a run.
_SERVICE_ENV_PREFIXES = (
    "LOG__",
    "TELEMETRY__",
    "SERVER__",
    "DATABASE__",
    "API__",
    "RATE_LIMIT__",
    "AUTH__",
    "OIDC__",
    "CACHE__",
    "REDIS__",
)
_SERVICE_ENV_KEYS = frozenset({"ENVIRONMENT", "DEBUG", "SECRET_KEY"})
# The caller's virtualenv and test servers: a generated project gets its servers explicitly.
_CALLER_ONLY_KEYS = frozenset(
    {"VIRTUAL_ENV", "TEST_DATABASE_URL", "TEST_MONGODB_URL", "PYTHONPATH", "COVERAGE_PROCESS_START"}
)

# Folders that tools create inside a generated project; they are not template output.
TOOL_OUTPUT_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "htmlcov",
    }
)


@dataclass(frozen=True)
class Combination:
    """One point of the generation matrix.

    Each combination also uses a different project name so that name derivation is
    exercised end to end, not just in the unit tests.
    """

    python_version: str
    database: str
    auth: str
    cache: str
    project_name: str

    @property
    def id(self) -> str:
        return f"py{self.python_version}-{self.database}-{self.auth}-{self.cache}"

    @property
    def with_resources(self) -> bool:
        """Whether the project gets the documented resources (`RESOURCE_COMMANDS`) right after
        its copy, so that every check of it covers them."""
        return self.id in RESOURCE_COMBINATIONS

    @property
    def answers(self) -> dict[str, str]:
        return {
            "project_name": self.project_name,
            "python_version": self.python_version,
            "database": self.database,
            "auth": self.auth,
            "cache": self.cache,
        }


CHOICES: dict[str, tuple[str, ...]] = {
    "python_version": ("3.11", "3.12", "3.13"),
    "database": ("postgres", "mongo"),
    "auth": ("none", "api_key", "jwt", "oidc"),
    "cache": ("none", "memory", "redis"),
}
"""Every choice of every question that changes what is generated, in copier.yml's order."""

PROJECT_NAMES = (
    "Example Service",
    "Billing API v2",
    # Near the length limit: ruff must re-wrap lines the template wrote for shorter names.
    "Café Orders Reconciliation Platform v2",
)

RESOURCE_COMBINATIONS = frozenset(
    {
        "py3.13-mongo-none-redis",
        "py3.12-postgres-api_key-redis",
        "py3.12-mongo-jwt-none",
        "py3.11-postgres-oidc-redis",
    }
)
"""Combinations of the default matrix whose projects get two resources, one referring to items
and one to the other: each database and each auth mode is among them."""
RESOURCE_COMMANDS = (
    (
        "widgets",
        "title:str(1..200) unique sort, price:decimal(12,2) >=0, due:date?, "
        "status:enum(open,closed)=open filter, item_id:ref(items)",
    ),
    ("gadgets", "label:str(1..50), widget_id:ref(widgets)?"),
)
"""`make resource NAME=... FIELDS=...` as the generated README documents them, in order."""

FULL_MATRIX_ENV = "FOUNDRY_FULL_MATRIX"
"""Set to 1 to test every combination of answers instead of a set covering every pair."""


def _all_pairs(choices: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """A small set of answer combinations in which every pair of choices of two different
    questions occurs at least once (greedy: each new combination covers the most pairs still
    missing, ties broken by the order of the choices, so the set is stable)."""
    questions = list(choices)
    missing = {
        ((first, a), (second, b))
        for i, first in enumerate(questions)
        for second in questions[i + 1 :]
        for a in choices[first]
        for b in choices[second]
    }
    chosen: list[dict[str, str]] = []
    while missing:
        best: dict[str, str] | None = None
        best_covered = -1
        for candidate in itertools.product(*(choices[question] for question in questions)):
            answers = dict(zip(questions, candidate, strict=True))
            covered = sum(
                1
                for i, first in enumerate(questions)
                for second in questions[i + 1 :]
                if ((first, answers[first]), (second, answers[second])) in missing
            )
            if covered > best_covered:
                best, best_covered = answers, covered
        assert best is not None
        chosen.append(best)
        missing -= {
            ((first, best[first]), (second, best[second]))
            for i, first in enumerate(questions)
            for second in questions[i + 1 :]
        }
    return chosen


def matrix(full: bool = False) -> tuple[Combination, ...]:
    """The combinations the tests generate: all pairs by default, every one when `full`."""
    if full:
        points = [
            dict(zip(CHOICES, values, strict=True))
            for values in itertools.product(*CHOICES.values())
        ]
    else:
        points = _all_pairs(CHOICES)
    return tuple(
        Combination(
            python_version=point["python_version"],
            database=point["database"],
            auth=point["auth"],
            cache=point["cache"],
            project_name=PROJECT_NAMES[index % len(PROJECT_NAMES)],
        )
        for index, point in enumerate(points)
    )


COMBINATIONS = matrix(full=os.environ.get(FULL_MATRIX_ENV) == "1")


@dataclass
class Project:
    """A generated project and what the tests learned about it so far."""

    path: Path
    answers: Mapping[str, str]
    files: tuple[Path, ...] = ()
    state: dict[str, object] = field(default_factory=dict)

    @property
    def package_name(self) -> str:
        return str(self.state["package_name"])

    @property
    def project_slug(self) -> str:
        return str(self.state["project_slug"])


def _interpreter_candidates(version: str) -> Iterator[Path]:
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    yield from sorted((pyenv_root / "versions").glob(f"{version}.*/bin/python{version}"))
    for folder in ("/usr/local/bin", "/usr/bin"):
        yield Path(folder) / f"python{version}"


def _runs(interpreter: Path) -> bool:
    try:
        result = subprocess.run(
            [str(interpreter), "-c", "import sys; print(sys.prefix)"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return result.returncode == 0


def _found_by_uv(version: str) -> Path | None:
    """An interpreter uv finds by itself (its own installs, PATH), never a virtualenv's."""
    try:
        result = subprocess.run(
            ["uv", "python", "find", "--system", version],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
    except OSError:
        return None
    path = Path(result.stdout.strip())
    return path if result.returncode == 0 and path.is_absolute() and _runs(path) else None


def provide_interpreters(versions: Sequence[str]) -> tuple[Path, list[str]]:
    """Make ``python3.X`` for every version resolvable by uv, without downloading anything.

    Version managers' shims (pyenv's ``python3.12`` exists on PATH but fails unless that
    version is activated) stop uv's search, so real interpreters found in the usual places
    are linked into a folder that goes first on PATH. Returns that folder and the versions
    for which no interpreter exists.
    """
    links = CACHE_DIR / "pythons"
    links.mkdir(parents=True, exist_ok=True)
    missing = []
    for version in versions:
        found = next((c for c in _interpreter_candidates(version) if c.exists() and _runs(c)), None)
        if found is None:
            on_path = shutil.which(f"python{version}")
            if on_path is not None and _runs(Path(on_path)):
                continue
            found = _found_by_uv(version)
        if found is None:
            missing.append(version)
            (links / f"python{version}").unlink(missing_ok=True)
            continue
        link = links / f"python{version}"
        temporary = links / f".python{version}.{os.getpid()}"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(found)
        temporary.replace(link)
    return links, missing


def running_in_ci() -> bool:
    """True when the CI variable is set to anything but an empty, false or zero value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


MISSING_INTERPRETERS: list[str] = []
"""The matrix's Python versions that no interpreter here provides (set once per run)."""


def require_interpreter(version: str) -> None:
    """Skip (fail under CI) what needs a Python version that is not installed here."""
    if version in MISSING_INTERPRETERS:
        reason = missing_interpreter_reason(version)
        if running_in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def missing_interpreter_reason(version: str) -> str:
    """Why combinations on this Python version cannot run here, and how to install it."""
    return (
        f"Python {version} is not installed, so the combinations that generate for it cannot "
        f"run. Install it with `uv python install {version}`, `pyenv install {version}` or the "
        f"system's python{version} package (on CI, where CI=true, they fail instead of being "
        "skipped)."
    )


# Programs the tests run, and how to get each one.
REQUIRED_TOOLS = {
    "uv": (
        "`make test` installs uv privately when it is missing and puts it on PATH; otherwise "
        "install uv (https://docs.astral.sh/uv/getting-started/installation/) and put it on PATH"
    ),
    "git": "install it with `apt-get install git` (Copier reads the template's versions from git)",
}


def missing_tool_message() -> str | None:
    """A sentence naming the first required program that does not run, and how to get it."""
    for name, advice in REQUIRED_TOOLS.items():
        try:
            works = (
                subprocess.run(
                    [name, "--version"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=60,
                    check=False,
                ).returncode
                == 0
            )
        except OSError:
            works = False
        if not works:
            return (
                f"The template's tests need `{name}`, which is not installed or does not run "
                f"from PATH; {advice}."
            )
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database(server_url: str, name: str) -> str:
    """The server's URL naming another database (its options, such as `?replicaSet=`, kept)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def iter_output_files(root: Path) -> Iterator[Path]:
    """Every file under root except those inside tool-created folders, sorted."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in TOOL_OUTPUT_DIRS)
        for name in sorted(filenames):
            yield Path(dirpath) / name


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for commands run inside a generated project.

    Drops the caller's virtualenv, pytest and service settings, keeps the shared uv cache.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _SERVICE_ENV_KEYS
        and not key.startswith(_SERVICE_ENV_PREFIXES)
        and not key.startswith("PYTEST_")
        and key not in _CALLER_ONLY_KEYS
    }
    env.setdefault("UV_CACHE_DIR", str(CACHE_DIR / "uv"))
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    if extra:
        env.update(extra)
    return env


def record_timing(step: str, seconds: float) -> None:
    """Print a step's duration and append it to the run's timings file, if there is one."""
    print(f"[timing] {step}: {seconds:.1f}s")
    path = os.environ.get(TIMINGS_ENV)
    if path:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"step": step, "seconds": round(seconds, 2)}) + "\n")


def tail(text: str, lines: int = 60) -> str:
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join(kept) if kept else "(empty)"


def kill_group(process: subprocess.Popen[str], grace: float = 10.0) -> None:
    """Stop a process started with start_new_session=True, and everything it spawned."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    step: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    tail_lines: int = 60,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command with `stdin` as its input (none when None), time it, and fail the test
    with its output on error.

    The command runs in its own process group so that a timeout also stops grandchildren
    (``uv run`` starts the real program as a child).
    """
    started = time.monotonic()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process, grace=5)
        stdout, stderr = process.communicate()
        record_timing(f"{step} (timed out)", time.monotonic() - started)
        pytest.fail(
            f"{step}: `{' '.join(command)}` did not finish within {timeout:.0f}s\n"
            f"--- stdout (tail) ---\n{tail(stdout, tail_lines)}\n"
            f"--- stderr (tail) ---\n{tail(stderr, tail_lines)}",
            pytrace=False,
        )
    record_timing(step, time.monotonic() - started)
    result = subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        pytest.fail(
            f"{step}: `{' '.join(command)}` exited with {result.returncode} in {cwd}\n"
            f"--- stdout (tail) ---\n{tail(stdout, tail_lines)}\n"
            f"--- stderr (tail) ---\n{tail(stderr, tail_lines)}",
            pytrace=False,
        )
    return result


def dev_tool(name: str) -> str:
    """Path of a console script installed in the template's own dev environment."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    pytest.fail(
        f"{name} is not installed next to {sys.executable}; run the tests with "
        "`uv run --locked pytest` (or `make test`) so the dev dependency group is present.",
        pytrace=False,
    )


def copy_template(
    destination: Path,
    answers: Mapping[str, str],
    *,
    skip_tasks: bool = False,
    vcs_ref: str = "HEAD",
) -> None:
    """Generate non-interactively from the working tree, uncommitted changes included; or,
    given another `vcs_ref` (a commit id: Copier takes `HEAD` as the working tree), from the
    template at that commit, which Copier clones into a temporary folder."""
    run_copy(
        str(REPO_ROOT),
        destination,
        data=dict(answers),
        defaults=True,
        unsafe=True,
        vcs_ref=vcs_ref,
        quiet=True,
        skip_tasks=skip_tasks,
    )


def missing_tool(message: str) -> NoReturn:
    """Skip a test whose tool is not installed here; under CI=true that is a failure."""
    if running_in_ci():
        pytest.fail(f"{message} (CI=true: .ci/run should have installed it)", pytrace=False)
    pytest.skip(message)


def _node_version() -> tuple[int, ...] | None:
    node = shutil.which("node")
    if node is None:
        return None
    result = subprocess.run(
        [node, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    found = re.fullmatch(r"v(\d+)\.(\d+)\.\d+", result.stdout.strip())
    return (int(found[1]), int(found[2])) if found else None


@dataclass(frozen=True)
class OpenApiLinters:
    redocly: Path
    spectral: Path


def install_openapi_linters() -> OpenApiLinters:
    """Redocly CLI and Spectral, installed with npm into .cache/ unless already there.

    A file lock keeps parallel pytest workers from installing at the same time.
    """
    needed = f"Node.js {'.'.join(map(str, MIN_NODE_VERSION))}+ with npm"
    version = _node_version()
    if shutil.which("npm") is None or version is None:
        missing_tool(f"{needed} is not installed, so the OpenAPI documents are not linted")
    if version < MIN_NODE_VERSION:
        missing_tool(f"Node.js {'.'.join(map(str, version))} is too old: the linters need {needed}")
    OPENAPI_LINTERS_DIR.mkdir(parents=True, exist_ok=True)
    bin_dir = OPENAPI_LINTERS_DIR / "node_modules" / ".bin"
    linters = OpenApiLinters(redocly=bin_dir / "redocly", spectral=bin_dir / "spectral")
    manifest = json.dumps({"private": True, "dependencies": OPENAPI_LINTERS}, indent=2) + "\n"
    with (OPENAPI_LINTERS_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = OPENAPI_LINTERS_DIR / "installed.json"
        installed = stamp.exists() and stamp.read_text(encoding="utf-8") == manifest
        if installed and linters.redocly.exists() and linters.spectral.exists():
            return linters
        (OPENAPI_LINTERS_DIR / "package.json").write_text(manifest, encoding="utf-8")
        run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=OPENAPI_LINTERS_DIR,
            step="npm install (OpenAPI linters)",
            timeout=600,
            env=clean_env({"npm_config_update_notifier": "false"}),
        )
        stamp.write_text(manifest, encoding="utf-8")
    return linters


def wait_until_ready(
    url: str, server: subprocess.Popen[str], log: Path, timeout: float = 30
) -> None:
    """Poll `url` until it answers 200; fail with the service log if it exits or times out."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"the service exited with {server.returncode} before it was ready\n"
                f"{tail(log.read_text(encoding='utf-8', errors='replace'))}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}"
        except OSError as error:
            last_error = str(error)
        time.sleep(0.25)
    pytest.fail(
        f"{url} did not answer 200 within {timeout:.0f}s (last: {last_error})\n"
        f"{tail(log.read_text(encoding='utf-8', errors='replace'))}",
        pytrace=False,
    )


@contextmanager
def running_identity_provider(
    project: Project, env: Mapping[str, str], *, timeout: float = 60
) -> Iterator[tuple[dict[str, str], str]]:
    """Serve the generated project's local OpenID provider (`python -m tests.identity_provider`)
    on a free port; yields the settings that point the service at it and an admin token."""
    provider = subprocess.Popen(
        ["uv", "run", "--locked", "python", "-m", "tests.identity_provider", "--port", "0"],
        cwd=project.path,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        settings: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        assert provider.stdout is not None
        while "ACCESS_TOKEN" not in settings:
            line = provider.stdout.readline()
            if not line or time.monotonic() > deadline:
                pytest.fail(f"the identity provider did not start (exit {provider.poll()})")
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                settings[name] = value
        token = settings.pop("ACCESS_TOKEN")
        settings.pop("USER_TOKEN", None)
        yield settings, token
    finally:
        kill_group(provider)


@contextmanager
def running_service(
    project: Project,
    env: Mapping[str, str],
    log: Path,
    *,
    ready_path: str = "/health/ready",
    timeout: float = 30,
) -> Iterator[str]:
    """Serve the generated project with `python -m <package>` on SERVER__PORT; yields its URL."""
    base = f"http://127.0.0.1:{env['SERVER__PORT']}"
    with log.open("w", encoding="utf-8") as log_stream:
        server = subprocess.Popen(
            ["uv", "run", "--locked", "python", "-m", project.package_name],
            cwd=project.path,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_stream,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        wait_until_ready(base + ready_path, server, log, timeout)
        yield base
        assert server.poll() is None, "the service died during the test"
    finally:
        kill_group(server)
