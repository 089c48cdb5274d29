"""A throwaway MongoDB-wire server (SecantusDB), shared by the test fixtures and the benchmark.

No `mongod` can be installed from the distribution's packages, so the template's own dev
dependencies bring SecantusDB: a server that speaks MongoDB's wire protocol, keeps its data in
memory here and presents itself as a one-node replica set, which is what multi-document
transactions need. Only the template's tests and benchmark use it; generated projects never
depend on it.

Plain Python, no pytest: a missing server program or a server that does not answer raises
MongoUnavailableError, which the callers turn into a skip, a failure or an error message.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from tests.harness import free_port, record_timing, tail

SERVER_PROGRAM = "secantusd-py"
DISTRIBUTION = "secantusdb"
START_TIMEOUT_SECONDS = 30
INSTALL_HINT = (
    f"{SERVER_PROGRAM} (SecantusDB, a MongoDB-wire server in the template's dev dependencies) "
    "was not found. Run the tests with `make test` or `uv run --locked pytest`, so that the dev "
    "dependency group is installed, or point TEST_MONGODB_URL at a MongoDB replica set: "
    "mongodb://127.0.0.1:27017/ (the generated suites create their own databases under it)."
)


class MongoUnavailableError(RuntimeError):
    """The server program is missing or did not answer; the message says which."""


def server_program() -> str | None:
    """The console script installed next to this interpreter (the dev environment), or on PATH."""
    beside = Path(sys.executable).parent / SERVER_PROGRAM
    return str(beside) if beside.exists() else shutil.which(SERVER_PROGRAM)


def server_version() -> str | None:
    """The installed SecantusDB release, for logs and reports."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def _answers_ping(url: str) -> bool:
    """A `ping` over the wire protocol: an open port alone does not mean commands are served."""
    from pymongo import MongoClient  # noqa: PLC0415 - SecantusDB depends on it; imported late
    from pymongo.errors import PyMongoError  # noqa: PLC0415

    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=500, connectTimeoutMS=500
    )
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    else:
        return True
    finally:
        client.close()


class ThrowawayMongo:
    """A private SecantusDB server on 127.0.0.1 whose data lives in memory.

    An empty configuration file is passed on purpose: without `--config` the server reads a
    `secantusd.toml` from the working directory or the home directory, which could change how
    the tests' server behaves.
    """

    def __init__(self) -> None:
        program = server_program()
        if program is None:
            raise MongoUnavailableError(INSTALL_HINT)
        self.program = program
        self.root = Path(tempfile.mkdtemp(prefix="foundry-mongo-"))
        self.config = self.root / "secantusd.toml"
        self.config.write_text("", encoding="utf-8")
        self.log_file = self.root / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server, without a database: callers append the database name they create."""
        return f"mongodb://127.0.0.1:{self.port}/"

    def database_url(self, name: str) -> str:
        return f"{self.url}{name}"

    def start(self) -> None:
        started = time.monotonic()
        command = [self.program, "--config", str(self.config), "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--storage-path", ":memory:"]
        command += ["--log-level", "WARNING"]
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers_ping(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log_text()
                self.stop()
                raise MongoUnavailableError(
                    f"{SERVER_PROGRAM} did not answer on port {self.port}\n--- log ---\n{tail(log)}"
                )
            time.sleep(0.1)
        record_timing("mongo (SecantusDB): start", time.monotonic() - started)

    def log_text(self) -> str:
        if not self.log_file.exists():
            return ""
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
