"""A throwaway redis-server, shared by the test fixtures and the benchmark harness.

Plain Python, no pytest: a missing binary or a server that does not start raises
RedisUnavailableError, which the callers turn into a skip, a failure or an error message.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.harness import free_port, record_timing, tail

START_TIMEOUT_SECONDS = 10
INSTALL_HINT = (
    "redis-server was not found on PATH. Install it with `apt-get install -y redis-server`, or "
    "point TEST_REDIS_URL at a server: redis://127.0.0.1:6379/0."
)


class RedisUnavailableError(RuntimeError):
    """redis-server is missing or did not answer; the message says which."""


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class ThrowawayRedis:
    """A private redis-server on 127.0.0.1 that writes nothing to disk."""

    def __init__(self) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RedisUnavailableError(INSTALL_HINT)
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="foundry-redis-"))
        self.log_file = self.root / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        started = time.monotonic()
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--dir", str(self.root), "--logfile", str(self.log_file)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = self.log_file.read_text() if self.log_file.exists() else ""
                raise RedisUnavailableError(
                    f"redis-server did not answer on port {self.port}\n--- log ---\n{tail(log)}"
                )
            time.sleep(0.02)
        record_timing("redis: start", time.monotonic() - started)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
