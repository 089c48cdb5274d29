"""The benchmark's database on the throwaway server, reached with the server's own psql."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from tests.harness import clean_env, tail

if TYPE_CHECKING:
    from tests.postgres_server import ThrowawayPostgres

DATABASE_NAME = "bench"


class DatabaseError(RuntimeError):
    """psql failed; the message has its output."""


class BenchDatabase:
    def __init__(self, server: ThrowawayPostgres, name: str = DATABASE_NAME) -> None:
        self.server = server
        self.name = name

    @property
    def url(self) -> str:
        """The generated service's form (SQLAlchemy with the asyncpg driver)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.server.port}/{self.name}"

    @property
    def asyncpg_dsn(self) -> str:
        """The floor's form: asyncpg reads plain `postgresql://` URLs."""
        return f"postgresql://postgres@127.0.0.1:{self.server.port}/{self.name}"

    def create(self) -> None:
        self._psql(f'CREATE DATABASE "{self.name}"', database="postgres")

    def count_items(self) -> int:
        return int(self._psql("SELECT count(*) FROM items"))

    def server_pid(self) -> int:
        """The postmaster's pid: the root of every backend's process tree."""
        pid_file = Path(self.server.data_dir) / "postmaster.pid"
        return int(pid_file.read_text(encoding="utf-8").split()[0])

    def _psql(self, sql: str, database: str | None = None) -> str:
        command = [
            str(self.server.bin_dir / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--no-align",
            "--tuples-only",
            "--set",
            "ON_ERROR_STOP=1",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.server.port),
            "--username",
            "postgres",
            "--dbname",
            database or self.name,
            "--command",
            sql,
        ]
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env({"PGCONNECT_TIMEOUT": "10"}),
            check=False,
        )
        if result.returncode != 0:
            raise DatabaseError(
                f"psql `{sql}` failed:\n{tail(result.stdout)}\n{tail(result.stderr)}"
            )
        return result.stdout.strip()
