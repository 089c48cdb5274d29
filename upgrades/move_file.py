"""Carry a team's edits of a file over to the place a release moved it to.

    move_file.py OLD NEW          (STAGE, VERSION_FROM and the template path come from Copier)

Without help, Copier handles a moved file well only when the team never edited it: it
renders the new file and deletes the old one, edits and all. Copier runs this script in the
project on an update that crosses the release that moved the file (a `_migrations` entry
with that version, listed for both stages):

- before the update, when OLD exists and differs from what the project's old release
  rendered there, it keeps both versions under `.git/` (never in the work tree);
- after the update, it applies the team's edits (old render -> team's file) to the new file
  with a 3-way merge. Overlapping edits leave conflict markers, which the conflict check
  that runs after every update reports.

Idempotent: without a kept pair it does nothing, and it removes the pair once applied.
The answers file is `.copier-answers.yml` unless ANSWERS_FILE names another.
Runs with the Python that runs Copier (it uses Copier's API to render the old release).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from old_release import render_old_release


def keep_dir(project: Path, new: str) -> Path:
    git_dir = subprocess.run(
        ["git", "rev-parse", "--absolute-git-dir"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(git_dir) / "foundry-moves" / new


def before(project: Path, old: str, new: str, *, template: str, ref: str) -> None:
    """Keep the team's OLD and the old release's OLD when they differ."""
    answers = Path(os.environ.get("ANSWERS_FILE", ".copier-answers.yml"))
    team_file = project / old
    if not team_file.is_file():
        return
    with tempfile.TemporaryDirectory() as scratch:
        rendered = Path(scratch) / "old"
        render_old_release(template, ref, project / answers, rendered)
        base = rendered / old
        if base.is_file() and base.read_bytes() == team_file.read_bytes():
            return
        kept = keep_dir(project, new)
        kept.mkdir(parents=True, exist_ok=True)
        if base.is_file():
            shutil.copyfile(base, kept / "base")
        else:
            (kept / "base").write_bytes(b"")
        shutil.copyfile(team_file, kept / "team")
    print(f"Keeping your edits of {old} to apply them to {new} after the update.")


def after(project: Path, old: str, new: str) -> None:
    """Apply the kept edits to NEW and delete OLD."""
    kept = keep_dir(project, new)
    if not (kept / "team").is_file():
        return
    target = project / new
    if target.is_file():
        subprocess.run(
            [
                "git",
                "merge-file",
                "-L",
                "after updating",
                "-L",
                "before updating",
                "-L",
                "your edits",
                str(target),
                str(kept / "base"),
                str(kept / "team"),
            ],
            check=False,
        )
        print(f"Applied your edits of {old} to {new}.")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept / "team", target)
        print(f"Moved your {old} to {new}.")
    (project / old).unlink(missing_ok=True)
    shutil.rmtree(kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the file's path before the release, in the project")
    parser.add_argument("new", help="its path from the release on")
    parser.add_argument("--template", required=True, help="the template's local clone")
    args = parser.parse_args(argv)
    project = Path.cwd()
    stage = os.environ.get("STAGE", "")
    if stage == "before":
        before(project, args.old, args.new, template=args.template, ref=os.environ["VERSION_FROM"])
    elif stage == "after":
        after(project, args.old, args.new)
    else:
        print("move_file: run by Copier, which sets STAGE to before or after", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
