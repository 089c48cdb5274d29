"""Fail an update that left conflicts, and list every one of them.

Copier runs this in the project after every `copier update` (the `_migrations` entry without
a version in copier.yml). Copier itself exits 0 when a 3-way merge left conflict markers,
`*.rej` files or unmerged index entries; this script makes the update exit non-zero instead,
so neither a person nor a CI job can miss them.

Also usable by hand, from the project's root: `python check_conflicts.py` prints what is
left to resolve and exits 1, or exits 0 when nothing is.

Standard library only: it runs with the Python that runs Copier.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MARKERS = (b"<<<<<<< ", b">>>>>>> ")
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})


def _git(*args: str) -> list[str]:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return []
    return [line for line in result.stdout.split("\0") if line]


def unmerged_paths() -> list[str]:
    """Paths with unmerged entries in the index (`git status` shows them as UU, AA...)."""
    paths = set()
    for entry in _git("ls-files", "--unmerged", "-z"):
        paths.add(entry.split("\t", 1)[1])
    return sorted(paths)


def rejected_hunks(root: Path) -> list[str]:
    """Every `*.rej` file under root, outside tool folders (ignored files included)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in SKIPPED_DIRS]
        found.extend(
            Path(dirpath, name).relative_to(root).as_posix()
            for name in filenames
            if name.endswith(".rej")
        )
    return sorted(found)


def files_with_markers(root: Path) -> list[tuple[str, int]]:
    """(path, line number) of the first conflict marker in every changed or new file."""
    changed = set(_git("diff", "--name-only", "-z", "HEAD"))
    changed.update(_git("ls-files", "--others", "--exclude-standard", "-z"))
    found = []
    for name in sorted(changed):
        path = root / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if line.startswith(MARKERS):
                found.append((name, number))
                break
    return found


def report(root: Path) -> list[str]:
    """One line per problem left by the update; empty when there is none."""
    lines = [f"unmerged in the index: {path}" for path in unmerged_paths()]
    lines += [f"conflict markers: {path}:{number}" for path, number in files_with_markers(root)]
    lines += [f"rejected hunks: {path}" for path in rejected_hunks(root)]
    return lines


def main() -> int:
    problems = report(Path.cwd())
    if not problems:
        return 0
    print(
        "\nThe update left conflicts with your changes. Nothing is lost: each file holds both "
        "versions.",
        file=sys.stderr,
    )
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    print(
        "Resolve each one: keep the right lines and delete the <<<<<<< ======= >>>>>>> "
        "markers, apply a .rej file's hunks by hand and delete it; then `git add` the files.\n"
        "Find what is left with `git status` and `git diff --check`.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
