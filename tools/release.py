"""Make a release of the template: check the changelog and the tests, then tag.

    make release VERSION=0.6.0

Steps, each one stopping the release when it fails (nothing is tagged then):

1. The version is PEP 440 and newer than every release in releases.toml; the working tree is
   clean.
2. CHANGELOG.md has an "Unreleased" section with at least one entry and an "Upgrading" part
   that says what an existing project has to do.
3. The test command passes (`make test` unless told otherwise).
4. The "Unreleased" heading becomes "<version> (<date>)", committed as "Release <version>".
5. An annotated tag <version> on that commit, with the changelog section as its message.
6. The tag's commit is appended to releases.toml and committed.

It pushes nothing: the last line printed is the command that publishes the release.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from tools.release_notes import changelog_sections

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = "CHANGELOG.md"
RELEASES = "releases.toml"
UNRELEASED = "## Unreleased"


class ReleaseError(Exception):
    """A reason not to release, worded for the person running the command."""


@dataclass(frozen=True)
class Release:
    version: Version
    commit: str
    date: str


def read_releases(root: Path) -> list[Release]:
    """The releases listed in releases.toml, oldest first."""
    data = tomllib.loads((root / RELEASES).read_text(encoding="utf-8"))
    return [
        Release(Version(entry["version"]), entry["commit"], entry["date"])
        for entry in data.get("release", [])
    ]


def check_unreleased(text: str) -> str:
    """The body of the Unreleased section; raises unless it is ready to be released."""
    body = changelog_sections(text).get("Unreleased")
    if body is None:
        raise ReleaseError(
            f"{CHANGELOG} has no '{UNRELEASED}' section: write what the release changes there."
        )
    if not re.search(r"(?m)^- \S", body.split("### Upgrading")[0]):
        raise ReleaseError(
            f"The '{UNRELEASED}' section of {CHANGELOG} lists no change: add one entry per change."
        )
    upgrading = re.search(r"(?ms)^### Upgrading\s*$(.*?)(?=^### |\Z)", body)
    if upgrading is None or not re.search(r"(?m)^- \S", upgrading.group(1)):
        raise ReleaseError(
            f"The '{UNRELEASED}' section of {CHANGELOG} needs an '### Upgrading' part with at "
            "least one entry: what an existing project must do (or 'Nothing to do.')."
        )
    return body


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"`git {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout.strip()


def parse_version(text: str, releases: list[Release]) -> Version:
    try:
        version = Version(text)
    except InvalidVersion:
        raise ReleaseError(f"{text!r} is not a PEP 440 version (e.g. 0.6.0 or 1.0.0rc1).") from None
    if str(version) != text:
        raise ReleaseError(f"Write the version in its normal form: {version} rather than {text}.")
    if releases and version <= releases[-1].version:
        raise ReleaseError(
            f"{version} is not newer than the latest release, {releases[-1].version}."
        )
    return version


def release(root: Path, version_text: str, test_command: str, today: dt.date) -> str:
    """Release the repository at `root`; returns the command that publishes the release."""
    releases = read_releases(root)
    version = parse_version(version_text, releases)
    if git(root, "status", "--porcelain"):
        raise ReleaseError("The working tree has uncommitted changes: commit or stash them first.")
    if git(root, "tag", "--list", str(version)):
        raise ReleaseError(f"A tag named {version} exists already.")
    changelog_path = root / CHANGELOG
    changelog = changelog_path.read_text(encoding="utf-8")
    body = check_unreleased(changelog)

    print(f"Running the tests: {test_command}", flush=True)
    if subprocess.run(shlex.split(test_command), cwd=root, check=False).returncode != 0:
        raise ReleaseError(f"The tests failed (`{test_command}`): nothing was tagged.")

    heading = f"## {version} ({today.isoformat()})"
    changelog_path.write_text(
        changelog.replace(UNRELEASED + "\n", heading + "\n", 1), encoding="utf-8"
    )
    git(root, "add", CHANGELOG)
    git(root, "commit", "--quiet", "-m", f"Release {version}")
    commit = git(root, "rev-parse", "HEAD")
    git(
        root,
        "tag",
        "--annotate",
        "--cleanup=verbatim",
        str(version),
        "-m",
        f"{version}\n\n{body}\n",
    )

    with (root / RELEASES).open("a", encoding="utf-8") as stream:
        stream.write(
            f'\n[[release]]\nversion = "{version}"\ncommit = "{commit}"\n'
            f'date = "{today.isoformat()}"\n'
        )
    git(root, "add", RELEASES)
    git(root, "commit", "--quiet", "-m", f"Record release {version} in {RELEASES}")
    return f"git push origin HEAD {version}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the new version, PEP 440 (e.g. 0.6.0)")
    parser.add_argument(
        "--test-command", default="make test", help="what must pass first (default: make test)"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        publish = release(
            args.root, args.version, args.test_command, dt.datetime.now(dt.UTC).date()
        )
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    print(f"Tagged {args.version}. Publish it with:\n  {publish}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
