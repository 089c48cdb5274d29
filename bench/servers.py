"""The two targets: the generated service, started as its users start it, and the floor app."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench import FLOOR_DSN_VARIABLE
from bench.api_client import wait_until_ready
from bench.processes import ManagedProcess
from tests.harness import REPO_ROOT, clean_env, free_port

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from bench.project import BenchProject

SERVER_CPUS = "0"
"""Both servers run on CPU 0; wrk runs on CPU 1."""

SIGNING_KEY = secrets.token_urlsafe(48)
"""One access-token signing key for the whole run (projects without `auth=jwt` ignore it)."""
JWT_LIFETIME_MINUTES = "60"
"""Longer than a benchmark run, so the access token issued before the load never expires."""
COUNTING_RATE_LIMIT = {"RATE_LIMIT__REQUESTS": "100000", "RATE_LIMIT__WINDOW_SECONDS": "1"}
"""Every request is counted, as in production, but none is refused: the load comes from one
client, far below 100,000 requests a second. A one-second window keeps the window short (the
moving window holds one entry per request in it)."""
TINY_RATE_LIMIT = {"RATE_LIMIT__REQUESTS": "1", "RATE_LIMIT__WINDOW_SECONDS": "3600"}
"""For the `limited` workload: after the first request, every answer is the 429."""


@dataclass
class Target:
    name: str
    port: int
    process: ManagedProcess
    ready_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def service_env(database_url: str, port: int | None = None) -> dict[str, str]:
    """Production settings, JSON access log on (INFO), one worker, a fresh secret, a rate limit
    that counts without refusing.

    Set explicitly, because the project's `.env` (local development) would otherwise choose
    readable log lines."""
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "DATABASE__URL": database_url,
        "LOG__LEVEL": "INFO",
        "LOG__JSON": "true",
        "AUTH__SIGNING_KEY": SIGNING_KEY,
        "AUTH__ACCESS_TOKEN_MINUTES": JWT_LIFETIME_MINUTES,
        **COUNTING_RATE_LIMIT,
    }
    if port is not None:
        env |= {"SERVER__HOST": "127.0.0.1", "SERVER__PORT": str(port), "SERVER__WORKERS": "1"}
    return clean_env(env)


def start_service(
    project: BenchProject,
    database_url: str,
    log: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Target:
    """The service with production settings, plus `extra_env` (what its credential needs)."""
    port = free_port()
    process = ManagedProcess(
        "the service",
        ["uv", "run", "--no-sync", "python", "-m", project.package],
        cwd=project.path,
        env={**service_env(database_url, port), **(extra_env or {})},
        log=log,
        cpus=SERVER_CPUS,
    )
    return _when_ready(Target("service", port, process), "/health/ready")


def start_floor(project: BenchProject, asyncpg_dsn: str, log: Path) -> Target:
    """The floor app in the project's own environment (its uvicorn and asyncpg) plus orjson."""
    port = free_port()
    command = [
        "uv",
        "run",
        "--no-sync",
        "--with",
        "orjson",
        "python",
        "-m",
        "uvicorn",
        "--app-dir",
        str(REPO_ROOT),
        "bench.floor:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]
    process = ManagedProcess(
        "the floor app",
        command,
        cwd=project.path,
        env=clean_env({FLOOR_DSN_VARIABLE: asyncpg_dsn}),
        log=log,
        cpus=SERVER_CPUS,
    )
    return _when_ready(Target("floor", port, process), "/health/live")


def _when_ready(target: Target, path: str) -> Target:
    """Wait until `path` answers 200; a server that never gets there is stopped, not left."""
    try:
        target.ready_seconds = wait_until_ready(target.process, target.port, path)
    except BaseException:
        target.process.stop()
        raise
    return target
