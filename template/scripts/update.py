"""Take in a release of the template this project was generated from: `make update`.

    make update                          # the newest release
    make update REF=0.6.0                # a given release (a tag, or any commit)
    make update DATA='cache=redis'       # change answers on the way (space-separated)
    make check-update                    # only say whether a newer release is out

Refuses a working tree with uncommitted changes. Runs `copier update` (a pinned Copier and
copier-template-extensions, through `uv tool run`) for every `.copier-answers*.yml` in the
project, then re-locks and syncs the environment, formats the code, re-exports
docs/openapi.json and writes docs/erd.md again from the table or collection declarations (the
team's own included). It ends with what is left to you: `.env` keys that `.env.example` gained,
and the database step (`make migrate`), which it never runs.

Any failure (a conflict with your changes included) exits non-zero, names what failed and
prints the commands that finish the update by hand. Nothing is committed: review the result
with `git diff` and commit it yourself.
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

COPIER = "copier==9.19.1"
COPIER_EXTENSIONS = "copier-template-extensions==0.3.4"
COPIER_COMMAND = ("uv", "tool", "run", "--from", COPIER, "--with", COPIER_EXTENSIONS, "copier")
MAIN_ANSWERS_FILE = ".copier-answers.yml"
SHARED_ANSWERS = ("project_name", "python_version", "database", "auth", "cache")
"""The project's answers that a resource's answers file records too: a change of one reaches
every resource."""
SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".mypy_cache"})
CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")
ENV_KEY = re.compile(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
AFTER_UPDATE = (
    ("uv", "lock"),
    ("uv", "sync", "--locked"),
    ("make", "fmt"),
    ("make", "openapi"),
    ("make", "erd"),
)


class UpdateError(Exception):
    """Why the update stopped, and the commands that finish it by hand."""

    def __init__(self, reason: str, remaining: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.remaining = tuple(remaining)


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UpdateError(f"`git {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def answers_files(root: Path) -> list[Path]:
    """Every Copier answers file of the project, the main one first."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if name not in SKIPPED_DIRS)
        found += [
            Path(dirpath, name).relative_to(root)
            for name in sorted(filenames)
            if name.startswith(".copier-answers") and name.endswith((".yml", ".yaml"))
        ]
    return sorted(found, key=lambda path: (path.as_posix() != MAIN_ANSWERS_FILE, path.as_posix()))


def conflicts(root: Path) -> list[str]:
    """Unmerged index entries, files holding conflict markers and `*.rej` files."""
    found = sorted(
        {
            f"unmerged in the index: {line.split(chr(9), 1)[1]}"
            for line in git("ls-files", "--unmerged").splitlines()
        }
    )
    changed = git("diff", "--name-only", "HEAD").splitlines()
    changed += git("ls-files", "--others", "--exclude-standard").splitlines()
    for name in sorted(set(changed)):
        path = root / name
        if path.is_file() and any(
            line.startswith(CONFLICT_MARKERS) for line in path.read_bytes().splitlines()
        ):
            found.append(f"conflict markers: {name}")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name not in SKIPPED_DIRS]
        found += [
            f"rejected hunks: {Path(dirpath, name).relative_to(root)}"
            for name in filenames
            if name.endswith(".rej")
        ]
    return found


def env_keys(path: Path) -> set[str]:
    """Setting names in an env file, commented-out examples included."""
    if not path.exists():
        return set()
    return set(ENV_KEY.findall(path.read_text(encoding="utf-8")))


def copier_update(answers_file: Path, ref: str | None, data: Sequence[str]) -> list[str]:
    command = [
        *COPIER_COMMAND,
        "update",
        "--trust",
        "--defaults",
        "--conflict",
        "inline",
        "--answers-file",
        answers_file.as_posix(),
    ]
    if ref:
        command += ["--vcs-ref", ref]
    for item in data:
        command += ["--data", item]
    return command


def check(root: Path) -> list[str]:
    """Ask Copier whether a newer release of the template is out, for every answers file.

    Returns a sentence per answers file that is behind; raises when Copier cannot tell.
    """
    behind = []
    for answers_file in answers_files(root):
        command = [
            *COPIER_COMMAND,
            "check-update",
            "--answers-file",
            answers_file.as_posix(),
            "--output-format",
            "json",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise UpdateError(
                f"Copier could not check {answers_file} for updates: {result.stderr.strip()}"
            )
        status = json.loads(result.stdout)
        if status["update_available"]:
            behind.append(
                f"{answers_file}: release {status['latest_version']} of the template is out "
                f"(this project is at {status['current_version']}); take it with `make update`."
            )
    return behind


def run(command: Sequence[str]) -> bool:
    print(f"\n$ {' '.join(command)}", flush=True)
    return subprocess.run(list(command), check=False).returncode == 0


def shell_words(command: Sequence[str]) -> str:
    return " ".join(
        word if re.fullmatch(r"[\w@%+=:,./-]+", word) else f"'{word}'" for word in command
    )


def update(root: Path, ref: str | None, data: Sequence[str]) -> list[str]:
    """Run the whole update; returns the lines of the closing report."""
    if git("status", "--porcelain"):
        raise UpdateError(
            "The working tree has uncommitted changes: commit or stash them first "
            "(the update must be the only change, so that you can review and undo it)."
        )
    files = answers_files(root)
    if not files:
        raise UpdateError(f"No {MAIN_ANSWERS_FILE} here: run `make update` in the project root.")
    env_example_before = env_keys(root / ".env.example")
    later_steps = [shell_words(step) for step in AFTER_UPDATE]
    start = git("rev-parse", "HEAD").strip()
    for index, answers_file in enumerate(files):
        item_data = (
            data
            if answers_file.as_posix() == MAIN_ANSWERS_FILE
            else [item for item in data if item.partition("=")[0] in SHARED_ANSWERS]
        )
        command = copier_update(answers_file, ref, item_data)
        succeeded = run(command)
        left = conflicts(root)
        if not succeeded or left:
            if index:
                git("reset", "--soft", start)
            reason = (
                "The update left conflicts with your changes:\n"
                + "\n".join(f"  {line}" for line in left)
                if left
                else f"`copier update` failed for {answers_file} (its error is above)."
            )
            pending = [shell_words(copier_update(f, ref, ())) for f in files[index + 1 :]]
            raise UpdateError(reason, [*pending, *later_steps])
        if index + 1 < len(files):
            # Copier updates only a clean tree: keep this result in a commit that is undone
            # (its changes kept) once every answers file is updated.
            git("add", "--all")
            git("commit", "--quiet", "--no-verify", "-m", f"update {answers_file} (temporary)")
    if len(files) > 1:
        git("reset", "--soft", start)

    for position, step in enumerate(AFTER_UPDATE):
        if not run(step):
            raise UpdateError(
                f"`{shell_words(step)}` failed (its output is above).", later_steps[position:]
            )

    report = ["The project is updated. Review the changes with `git diff`, then commit them."]
    gained = sorted(env_keys(root / ".env.example") - env_keys(root / ".env"))
    new_in_release = sorted(env_keys(root / ".env.example") - env_example_before)
    if gained:
        report.append(
            ".env lacks settings that .env.example documents; copy those you need into .env: "
            + ", ".join(gained)
        )
    if new_in_release:
        report.append("New in .env.example with this update: " + ", ".join(new_in_release))
    report.append(
        "Apply the database migrations when you deploy, and here with: make migrate "
        "(the update never touches a database)."
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ref", help="template version to update to (default: the newest tag)")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change an answer on the way (repeatable)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only tell whether a newer release is out; exit 1 when one is",
    )
    args = parser.parse_args(argv)
    if args.check:
        try:
            behind = check(Path.cwd())
        except UpdateError as error:
            print(error, file=sys.stderr)
            return 1
        for line in behind:
            print(line)
        if not behind:
            print("The project is at the newest release of the template.")
        return 1 if behind else 0
    for item in args.data:
        if "=" not in item:
            parser.error(f"--data takes KEY=VALUE, not {item!r}")
    try:
        report = update(Path.cwd(), args.ref, args.data)
    except UpdateError as error:
        print(f"\nmake update stopped: {error}", file=sys.stderr)
        if error.remaining:
            print("To finish the update by hand, run:", file=sys.stderr)
            for command in error.remaining:
                print(f"  {command}", file=sys.stderr)
        return 1
    print()
    for line in report:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
