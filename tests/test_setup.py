"""Setting up on a stock machine: the copy-time task and the Makefile's own tool discovery.

A copy-time task that cannot finish must keep the generated project (Copier deletes the
destination when a task fails) and say how to finish by hand. ``make`` must work on a
Debian or Ubuntu whose pip refuses user installs and that has no uv yet.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.harness import CACHE_DIR, COMBINATIONS, REPO_ROOT, clean_env, dev_tool, run

SYSTEM_FOLDERS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
# The machine's network settings pass through to a "stock" environment; the user's tools do not.
NETWORK_SETTINGS = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "GIT_SSL_CAINFO",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
IGNORED_IN_REPO_COPY = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "build", "__pycache__", ".pytest_cache", ".ruff_cache"
)
PYTHON_CHOICES = tuple(
    yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))["python_version"][
        "choices"
    ].values()
)


def system_path_without_uv() -> str:
    """The system's executable folders, leaving out any that holds a uv."""
    folders = [f for f in SYSTEM_FOLDERS if Path(f).is_dir() and not (Path(f) / "uv").exists()]
    return os.pathsep.join(folders)


def uv_executable() -> Path:
    """The uv binary itself (`uv run` names it in UV) rather than a version manager's shim."""
    named = os.environ.get("UV") or shutil.which("uv")
    assert named, "uv is neither named by $UV nor on PATH"
    return Path(named).resolve()


def copy_with_copier_cli(
    destination: Path, python_version: str, env: dict[str, str], step: str
) -> subprocess.CompletedProcess[str]:
    """Generate as a user would, with the copy-time task; the copy itself must succeed."""
    return run(
        [
            dev_tool("copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data",
            f"python_version={python_version}",
            str(REPO_ROOT),
            str(destination),
        ],
        cwd=destination.parent,
        step=step,
        timeout=300,
        env=env,
    )


def assert_project_kept(destination: Path) -> None:
    assert (destination / "pyproject.toml").is_file()
    assert (destination / ".env").is_file()
    assert (destination / "src" / "example_service" / "main.py").is_file()
    assert (destination / "Makefile").is_file()


def assert_finish_by_hand(output: str, destination: Path, *commands: str) -> None:
    assert "To finish setting it up, run:\n" in output
    assert f"  cd {destination}\n" in output
    for command in commands:
        assert f"  {command}\n" in output


def test_copy_without_uv_keeps_the_project_and_says_how_to_finish(tmp_path: Path) -> None:
    destination = tmp_path / "service"
    env = clean_env({"PATH": system_path_without_uv()})

    result = copy_with_copier_cli(destination, "3.11", env, "copy without uv")

    output = result.stdout + result.stderr
    assert_project_kept(destination)
    assert not (destination / "uv.lock").exists()
    assert "\nuv is not installed, so" in output
    assert_finish_by_hand(
        output,
        destination,
        "uv lock --python 3.11",
        "uv sync --locked --python 3.11",
        "make openapi",
        "make erd",
    )


def test_copy_without_network_keeps_the_project_and_says_how_to_finish(tmp_path: Path) -> None:
    """An empty uv cache and offline mode: `uv lock` cannot reach the package index."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version not in PYTHON_CHOICES:
        pytest.skip(f"the tests run on Python {version}, which is not a python_version choice")
    destination = tmp_path / "service"
    empty_cache = tmp_path / "uv-cache"
    env = clean_env({"UV_OFFLINE": "1", "UV_CACHE_DIR": str(empty_cache)})

    result = copy_with_copier_cli(destination, version, env, "copy offline")

    assert_kept_without_a_lock(result, destination, version)


def test_copy_for_a_python_uv_cannot_find_keeps_the_project(tmp_path: Path) -> None:
    env = restricted_env(tmp_path)
    absent = python_choices_absent(env, tmp_path)
    if not absent:
        pytest.skip("every python_version choice is installed in the system folders")
    version = absent[-1]
    destination = tmp_path / "service"

    result = copy_with_copier_cli(destination, version, env, f"copy for missing Python {version}")

    assert_kept_without_a_lock(result, destination, version)


def assert_kept_without_a_lock(
    result: subprocess.CompletedProcess[str], destination: Path, version: str
) -> None:
    """`uv lock` failed: the files stay and the output says how to finish by hand."""
    output = result.stdout + result.stderr
    assert_project_kept(destination)
    assert not (destination / "uv.lock").exists()
    assert f"Could not run `uv lock --python {version}`" in output
    assert_finish_by_hand(
        output,
        destination,
        f"uv lock --python {version}",
        f"uv sync --locked --python {version}",
        "make openapi",
        "make erd",
    )


def restricted_env(tmp_path: Path) -> dict[str, str]:
    """Only uv and the system folders on PATH, no uv-managed Pythons, no downloads."""
    uv_folder = tmp_path / "uv-only"
    uv_folder.mkdir(exist_ok=True)
    if not (uv_folder / "uv").exists():
        (uv_folder / "uv").symlink_to(uv_executable())
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(
        {
            "HOME": str(home),
            "PATH": os.pathsep.join([str(uv_folder), system_path_without_uv()]),
            "UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-managed-pythons"),
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    env.pop("PYENV_ROOT", None)
    env.pop("CI", None)
    return env


def python_choices_absent(env: dict[str, str], cwd: Path) -> list[str]:
    """The python_version choices that uv cannot find with this environment."""
    return [
        version
        for version in PYTHON_CHOICES
        if subprocess.run(
            ["uv", "python", "find", "--system", version],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        ).returncode
        != 0
    ]


def test_harness_stops_at_once_without_uv(tmp_path: Path) -> None:
    env = clean_env({"PATH": system_path_without_uv(), "HOME": str(tmp_path)})
    env.pop("UV", None)

    result = run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_extensions.py"],
        cwd=REPO_ROOT,
        env=env,
        step="pytest without uv",
        timeout=120,
        check=False,
    )

    assert result.returncode == 3
    assert "The template's tests need `uv`" in result.stderr
    assert "make test` installs uv privately" in result.stderr
    assert " passed" not in result.stdout


def test_combinations_of_a_missing_python_skip_locally_and_fail_in_ci(tmp_path: Path) -> None:
    """Runs in a copy of the repository: the harness relinks interpreters under its .cache."""
    env = restricted_env(tmp_path)
    absent = python_choices_absent(env, tmp_path)
    if not absent:
        pytest.skip("every python_version choice is installed in the system folders")
    version = absent[-1]
    repo = tmp_path / "foundry"
    shutil.copytree(REPO_ROOT, repo, ignore=IGNORED_IN_REPO_COPY)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-ra",
        "tests/test_render.py::test_answers_file",
        "-k",
        f"py{version}",
    ]
    reason = f"Python {version} is not installed"

    local = run(command, cwd=repo, env=env, step="pytest, Python missing", timeout=120, check=False)
    ci = run(
        command,
        cwd=repo,
        env={**env, "CI": "true"},
        step="pytest, Python missing, CI",
        timeout=120,
        check=False,
    )

    runs = sum(1 for combination in COMBINATIONS if combination.python_version == version)
    assert local.returncode == 0, local.stdout
    assert f"{runs} skipped" in local.stdout
    assert reason in local.stdout
    assert f"`uv python install {version}`" in local.stdout
    assert ci.returncode == 1, ci.stdout
    assert re.search(rf"\b{runs} errors?\b", ci.stdout), ci.stdout
    assert reason in ci.stdout


@pytest.mark.slow
def test_make_installs_uv_privately_for_the_demo_and_the_tests(tmp_path: Path) -> None:
    """`make demo`'s generation and `make test` on a machine without uv and an empty HOME.

    uv comes from the package index through pip in a private virtual environment; the
    shared uv cache only saves downloads, it does not provide uv.
    """
    if (
        shutil.which("make") is None
        or shutil.which("python3", path=system_path_without_uv()) is None
    ):
        pytest.skip("needs make and a system python3")
    repo = tmp_path / "foundry"
    shutil.copytree(REPO_ROOT, repo, ignore=IGNORED_IN_REPO_COPY)
    git = ["git", "-c", "user.name=Foundry Tests", "-c", "user.email=tests@example.com"]
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "Copy"]):
        run([*git, *args], cwd=repo, step=f"git {args[0]}", timeout=60)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **{name: os.environ[name] for name in NETWORK_SETTINGS if name in os.environ},
        "HOME": str(home),
        "PATH": system_path_without_uv(),
        "LANG": "C.UTF-8",
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(CACHE_DIR / "uv")),
        "PIP_CACHE_DIR": str(CACHE_DIR / "pip"),
        "UV_PYTHON_DOWNLOADS": "never",
    }

    demo = run(
        ["make", "demo-project"], cwd=repo, env=env, step="make demo-project (no uv)", timeout=600
    )

    assert "uv was not found: installing it with pip" in demo.stdout
    assert (repo / ".cache" / "bin" / "uv").is_file()
    project = repo / "build" / "demo"
    assert (project / "uv.lock").is_file()
    assert (project / "docs" / "openapi.json").is_file()
    assert (project / "docs" / "erd.md").is_file()
    assert (project / ".venv").is_dir()
    assert "\n  make openapi\n" not in demo.stdout + demo.stderr
    assert "\n  make erd\n" not in demo.stdout + demo.stderr

    tests = run(
        [
            "make",
            "test",
            "PYTEST_WORKERS=0",
            "PYTEST_ARGS=-q -p no:cacheprovider tests/test_extensions.py",
        ],
        cwd=repo,
        env=env,
        step="make test (private uv)",
        timeout=600,
    )

    assert "uv was not found" not in tests.stdout
    assert " passed" in tests.stdout
