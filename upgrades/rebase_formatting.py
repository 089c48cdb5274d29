"""Take the copy-time formatting out of what an update reads as the team's changes.

Releases before 0.6.0 rendered files that ruff then reformatted during the first copy; an
update renders without that step, so Copier saw every reformatted line as an edit of the
team's, and wherever the template changed nearby it wrote a conflict. From 0.6.0 on the
template renders formatted files, so this is needed once: Copier runs it in the "before"
stage of an update that crosses 0.6.0 (`_migrations` in copier.yml).

For each file the old release generated, it compares the project's file with that release's
render, raw and formatted as the copy-time task formatted it (`ruff check --fix-only`, then
`ruff format`, with the ruff version in the project's uv.lock):

- the project's file equals the formatted render: it is replaced by the raw render, so the
  update sees no change of the team's there and takes the new release's file as it is;
- the team changed it: the formatting is reverted around the team's changes with a 3-way
  merge (base: formatted render; ours: the team's file; theirs: the raw render), so only the
  team's own changes are merged into the new release. If that merge does not apply cleanly
  the file is left as it is.

Files are staged (Copier reads the project's changes from git's index). A project whose
uv.lock is missing (its copy-time task never ran) was never formatted: nothing to do. The
update's own formatting step (`make update`, or `make fmt` after a first update by hand)
formats the result. Idempotent: a second run finds nothing left to revert.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from old_release import render_old_release

RUFF_LOCK_ENTRY = re.compile(r'\[\[package\]\]\nname = "ruff"\nversion = "([^"]+)"')


def locked_ruff(project: Path) -> str | None:
    lock = project / "uv.lock"
    if not lock.is_file():
        return None
    found = RUFF_LOCK_ENTRY.search(lock.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def format_like_the_copy_task(folder: Path, ruff_version: str) -> bool:
    ruff = ["uv", "tool", "run", "--quiet", "--from", f"ruff=={ruff_version}", "ruff"]
    for arguments in (
        ["check", "--fix-only", "--quiet", "--no-cache", "."],
        ["format", "--quiet", "--no-cache", "."],
    ):
        result = subprocess.run(
            [*ruff, *arguments], cwd=folder, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            print(
                f"rebase_formatting: ruff could not run ({result.stderr.strip()}); skipped.",
                file=sys.stderr,
            )
            return False
    return True


def tracked_files(project: Path) -> set[str]:
    result = subprocess.run(
        ["git", "ls-files", "-z"], cwd=project, capture_output=True, text=True, check=True
    )
    return {name for name in result.stdout.split("\0") if name}


def unformat(project: Path, raw: Path, formatted: Path) -> list[str]:
    """Revert the copy-time formatting in the project's files; returns the files changed."""
    changed = []
    tracked = tracked_files(project)
    for path in sorted(raw.rglob("*.py")):
        name = path.relative_to(raw).as_posix()
        ours = project / name
        if name not in tracked or not ours.is_file():
            continue
        raw_text, formatted_text = path.read_bytes(), (formatted / name).read_bytes()
        current = ours.read_bytes()
        if raw_text in (current, formatted_text):
            continue
        if current == formatted_text:
            ours.write_bytes(raw_text)
        else:
            merged = subprocess.run(
                ["git", "merge-file", "-p", str(ours), str(formatted / name), str(path)],
                capture_output=True,
                check=False,
            )
            if merged.returncode != 0:
                continue
            ours.write_bytes(merged.stdout)
        changed.append(name)
    if changed:
        subprocess.run(["git", "add", "--", *changed], cwd=project, check=True)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", required=True, help="the template's local clone")
    args = parser.parse_args(argv)
    project = Path.cwd()
    ruff_version = locked_ruff(project)
    if ruff_version is None:
        return 0
    answers = Path(os.environ.get("ANSWERS_FILE", ".copier-answers.yml"))
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw"
        render_old_release(args.template, os.environ["VERSION_FROM"], project / answers, raw)
        formatted = Path(scratch) / "formatted"
        shutil.copytree(raw, formatted)
        if not format_like_the_copy_task(formatted, ruff_version):
            return 0
        changed = unformat(project, raw, formatted)
    if changed:
        print(
            f"Set aside the copy-time formatting of {len(changed)} files, so that the update "
            "merges only your own changes; the update's formatting step formats them again."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
