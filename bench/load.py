"""Load generation with wrk: one thread, pinned to its own CPU, a Lua script per workload."""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

SCRIPTS_DIR = Path(__file__).resolve().parent
WORKLOADS = ("get_one", "list_50", "create", "health", "limited")
"""Workload names; each has a Lua script of the same name in this folder."""

RESULT_PREFIX = "bench-result "
REQUEST_TIMEOUT = "2s"
"""wrk's own default, stated: an answer slower than this counts as a timeout error."""


class LoadError(RuntimeError):
    """wrk is missing, failed, or printed no result line."""


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run saw, from the result line that common.lua prints."""

    requests: int
    duration_us: int
    answers_2xx: int
    non_2xx: int
    answers_429: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    timeouts: int
    p50_us: int
    p99_us: int
    mean_us: float
    max_us: int
    client_cpu_seconds: float = 0.0
    """CPU time wrk itself used: near the duration means the client, not the server, was full."""

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def requests_per_second(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "socket_errors": self.socket_errors,
            "requests_per_second": round(self.requests_per_second, 1),
        }


def ensure_wrk() -> str:
    """The path of wrk, installed with apt-get first when it is missing and we may do so."""
    found = shutil.which("wrk")
    if found:
        return found
    advice = "wrk is not installed; install it with `sudo apt-get install wrk` and run again."
    if shutil.which("apt-get") is None:
        raise LoadError(advice.replace("`sudo apt-get install wrk`", "your package manager"))
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") and _succeeds(["sudo", "--non-interactive", "true"]):
        prefix = ["sudo", "--non-interactive"]
    else:
        raise LoadError(advice)
    print("wrk is not installed: installing it with apt-get.", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
    if not _succeeds(install, env):
        # A fresh machine may have no package lists yet.
        _succeeds([*prefix, "apt-get", "update", "-qq"], env)
        _succeeds(install, env)
    found = shutil.which("wrk")
    if found is None:
        raise LoadError(f"Installing wrk with apt-get failed. {advice}")
    return found


def _succeeds(command: Sequence[str], env: dict[str, str] | None = None) -> bool:
    try:
        return (
            subprocess.run(
                list(command),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=env,
                timeout=600,
                check=False,
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_wrk(
    wrk: str,
    workload: str,
    base_url: str,
    *,
    connections: int,
    seconds: float,
    script_args: Sequence[str] = (),
    cpus: str = "1",
    authorization: str | None = None,
) -> LoadResult:
    """Run one workload against base_url for `seconds` and return wrk's numbers.

    wrk takes whole seconds only; for a fractional duration it gets the next whole number
    and is interrupted (SIGINT, after which it reports normally) when the time is up. The
    rates use the duration wrk measured itself either way. `authorization`, when given, is
    sent as the `Authorization` header of every request.
    """
    command = [
        "taskset",
        "--cpu-list",
        cpus,
        wrk,
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{math.ceil(seconds)}s",
        "--timeout",
        REQUEST_TIMEOUT,
        "--script",
        str(SCRIPTS_DIR / f"{workload}.lua"),
        base_url,
    ]
    if script_args:
        command += ["--", *script_args]
    env = {**os.environ, "BENCH_AUTHORIZATION": authorization or ""}
    process = subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    # wrk is this process's only child that ends meanwhile, so the children's CPU time grows by
    # exactly wrk's.
    client_cpu_before = _children_cpu_seconds()
    timer = None
    if seconds != math.ceil(seconds):
        timer = threading.Timer(seconds, _interrupt, (process,))
        timer.start()
    try:
        stdout, stderr = process.communicate(timeout=math.ceil(seconds) + 60)
    except BaseException:
        _kill(process)
        raise
    finally:
        if timer is not None:
            timer.cancel()
    client_cpu = round(_children_cpu_seconds() - client_cpu_before, 3)
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            numbers = json.loads(line.removeprefix(RESULT_PREFIX))
            return LoadResult(**numbers, client_cpu_seconds=client_cpu)
    raise LoadError(
        f"wrk ({workload}) exited with {process.returncode} without a result line:\n"
        f"{stdout.strip()}\n{stderr.strip()}"
    )


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _interrupt(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
