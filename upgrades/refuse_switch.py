"""Refuse an update that changes an answer no update can change safely.

    refuse_switch.py ANSWERS_FILE QUESTION NEW_ANSWER --why TEXT

Copier runs it in the project before every update (a `_migrations` entry of copier.yml),
with the answer the update was given for QUESTION (`--data QUESTION=...`; empty when none
was). When it differs from the recorded one, the update stops before it touches a file,
and says why and what to do instead.
Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def recorded_answer(answers_file: Path, question: str) -> str | None:
    found = re.search(
        rf"^{re.escape(question)}:\s*(\S.*?)\s*$",
        answers_file.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    return found.group(1).strip("'\"") if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers_file", type=Path)
    parser.add_argument("question")
    parser.add_argument("new_answer")
    parser.add_argument("--why", required=True, help="the reason, and the way to go instead")
    args = parser.parse_args(argv)
    old = recorded_answer(args.answers_file, args.question)
    if not args.new_answer or old is None or old == args.new_answer:
        return 0
    print(
        f"\nThis update would change {args.question} from {old!r} to {args.new_answer!r}, "
        f"which an update cannot do: {args.why}\nNothing was changed.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
