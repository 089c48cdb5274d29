"""A throwaway PostgreSQL server, shared by the test fixtures and the benchmark harness.

Plain Python, no pytest: failures raise PostgresUnavailableError, which the pytest fixture
turns into an early exit of the test run and the benchmark into an error message.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness import free_port, record_timing, tail


class PostgresUnavailableError(RuntimeError):
    """The server binaries are missing, or initdb/pg_ctl failed; the message says which."""


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server binaries: /usr/lib/postgresql/<version>/bin, then PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise PostgresUnavailableError(
        "PostgreSQL server binaries were not found (looked in /usr/lib/postgresql/*/bin and "
        "PATH). Install them with `apt-get install -y postgresql`, or point "
        "TEST_DATABASE_URL at a server: "
        "postgresql+asyncpg://USER:PASSWORD@127.0.0.1:5432/postgres (a role that may create "
        "databases)."
    )


class ThrowawayPostgres:
    """A private PostgreSQL cluster on 127.0.0.1, tuned for speed rather than durability.

    initdb refuses to run as root, so as root the cluster is owned by the ``postgres``
    system user and every command runs through ``runuser``, from a folder that user owns.
    """

    def __init__(self) -> None:
        self.bin_dir = postgres_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="foundry-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "server.log"
        self.port = free_port()
        self.prefix: list[str] = []
        self.root.chmod(0o700)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str, timeout: float = 60) -> None:
        command = [*self.prefix, str(self.bin_dir / args[0]), *args[1:]]
        result = subprocess.run(
            command,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise PostgresUnavailableError(
                f"`{' '.join(command)}` failed with exit code {result.returncode}\n"
                f"{tail(result.stdout)}\n{tail(result.stderr)}\n--- server log ---\n{tail(log)}"
            )

    def start(self) -> None:
        started = time.monotonic()
        self._pg(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.socket_dir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
            ]
        )
        self._pg(
            "pg_ctl",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--options",
            options,
            "--wait",
            "--timeout",
            "60",
            "start",
        )
        record_timing("postgres: initdb + start", time.monotonic() - started)

    def stop(self) -> None:
        started = time.monotonic()
        subprocess.run(
            [
                *self.prefix,
                str(self.bin_dir / "pg_ctl"),
                "--pgdata",
                str(self.data_dir),
                "--mode",
                "fast",
                "--wait",
                "stop",
            ],
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)
        record_timing("postgres: stop", time.monotonic() - started)
