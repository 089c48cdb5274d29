"""The benchmark's database on a throwaway server: PostgreSQL, reached with the server's own
psql, or (for a mongo project) the MongoDB-wire server, reached with PyMongo."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from tests.harness import clean_env, tail

if TYPE_CHECKING:
    from tests.mongo_server import ThrowawayMongo
    from tests.postgres_server import ThrowawayPostgres

DATABASE_NAME = "bench"
BASELINE_DATABASE_NAME = "bench_baseline"
"""The database of the project generated from the template at --baseline REF, on the same
server."""
ITEMS_COLLECTION = "items"
"""Where a mongo project keeps its items: the collection named as PostgreSQL's table is."""


class DatabaseError(RuntimeError):
    """psql or PyMongo failed; the message has its output."""


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


class BenchMongoDatabase:
    """The benchmark's database on the throwaway MongoDB-wire server, for a mongo project.

    It answers what the run asks of any store: where the service finds it, how many items it
    holds (acknowledged creates must all be there) and which process serves it (its CPU time
    is the database's cost per request). Read with the harness's own PyMongo.
    """

    def __init__(self, server: ThrowawayMongo, name: str = DATABASE_NAME) -> None:
        self.server = server
        self.name = name

    @property
    def url(self) -> str:
        """The generated service's form: the server's URL naming the database."""
        return self.server.database_url(self.name)

    def count_items(self) -> int:
        from pymongo import MongoClient  # noqa: PLC0415 - needed by mongo runs only
        from pymongo.errors import PyMongoError  # noqa: PLC0415

        client: MongoClient[dict[str, object]] = MongoClient(
            self.url, serverSelectionTimeoutMS=10_000
        )
        try:
            return client[self.name][ITEMS_COLLECTION].count_documents({})
        except PyMongoError as error:
            raise DatabaseError(
                f"counting {ITEMS_COLLECTION} in {self.url} failed: {error}"
            ) from error
        finally:
            client.close()

    def server_pid(self) -> int:
        if self.server.pid is None:
            raise DatabaseError("the MongoDB-wire server is not running")
        return self.server.pid
