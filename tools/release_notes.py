"""Print a release's section of CHANGELOG.md: the notes of its GitHub release.

    python3 -m tools.release_notes 0.6.0

Standard library only, so the release workflow runs it with any Python 3.11+.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"


def changelog_sections(text: str) -> dict[str, str]:
    """Each `## ` heading of the changelog (without the hashes) mapped to its body."""
    parts = re.split(r"(?m)^## (.+)$", text)
    return {
        heading.strip(): body.strip()
        for heading, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def release_section(text: str, version: str) -> str | None:
    """The body of the section headed `<version> (<date>)`, or None."""
    for heading, body in changelog_sections(text).items():
        if heading.split(" ", 1)[0] == version:
            return body
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python3 -m tools.release_notes VERSION", file=sys.stderr)
        return 2
    body = release_section(CHANGELOG.read_text(encoding="utf-8"), args[0])
    if body is None:
        print(f"CHANGELOG.md has no section for {args[0]}", file=sys.stderr)
        return 1
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
