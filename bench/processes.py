"""Servers as process groups, and what their process trees cost, read from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
LAUNCHERS = frozenset({"uv"})
"""Programs that only start and wait for the server (`uv run`); not counted as the server."""


@dataclass(frozen=True)
class _Stat:
    pid: int
    parent: int
    name: str
    cpu_ticks: int


def _read_stat(pid: int) -> _Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended while we looked
        return None
    # The name is in parentheses and may contain spaces or parentheses itself.
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # After the name come state (field 3 of proc_pid_stat(5)), ppid (4), ...: utime (14) and
    # stime (15) are the process's own CPU time, cutime (16) and cstime (17) that of children
    # it has waited for, such as PostgreSQL backends of connections closed meanwhile.
    return _Stat(pid, int(fields[1]), name, sum(int(value) for value in fields[11:15]))


def process_tree(root: int) -> list[_Stat]:
    """The root process and all its descendants that are alive, launchers left out."""
    stats = [
        stat
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (stat := _read_stat(int(entry.name)))
    ]
    children: dict[int, list[_Stat]] = {}
    for stat in stats:
        children.setdefault(stat.parent, []).append(stat)
    tree, pending = [], [stat for stat in stats if stat.pid == root]
    while pending:
        stat = pending.pop()
        tree.append(stat)
        pending.extend(children.get(stat.pid, ()))
    return [stat for stat in tree if stat.name not in LAUNCHERS]


def cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) of the processes under root, and of children they reaped."""
    return sum(stat.cpu_ticks for stat in process_tree(root)) / CLOCK_TICKS


def rss_megabytes(root: int) -> float:
    """Resident memory of the server processes under root, in MB (10**6 bytes)."""
    total = 0
    for stat in process_tree(root):
        try:
            resident_pages = int(Path(f"/proc/{stat.pid}/statm").read_text().split()[1])
        except OSError:
            continue
        total += resident_pages * PAGE_SIZE
    return total / 1e6


class ServerDiedError(RuntimeError):
    """A server stopped during the run; the message ends with the tail of its log."""


class ManagedProcess:
    """A program in its own process group, pinned to CPUs, output to a log file.

    `stop()` ends the whole group: TERM, then KILL after a grace period.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: Path,
        cpus: str,
    ) -> None:
        self.name = name
        self.log = log
        with log.open("w", encoding="utf-8") as stream:
            self.process = subprocess.Popen(
                ["taskset", "--cpu-list", cpus, *command],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").rstrip()
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def check_alive(self, grace: float = 0.0) -> None:
        """Raise ServerDiedError if the program ended, waiting up to `grace` seconds for it."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        if self.process.poll() is not None:
            raise ServerDiedError(
                f"{self.name} exited with status {self.process.returncode}; "
                f"the end of its log ({self.log}):\n{self.log_tail()}"
            )

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass
