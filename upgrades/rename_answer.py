"""Rename a recorded answer, for a release that renames a question.

    rename_answer.py ANSWERS_FILE OLD NEW [--value FROM=TO ...]

Copier runs it in the project, in the "before" stage of an update that crosses the release
(a `_migrations` entry with that version), after it has rendered the project's old release
with the old name and before it renders the new release, which reads the answers file again.
`--value` also renames a choice (`--value api_key=api_keys`).

Idempotent: a file that already has NEW and not OLD is left as it is. Edits the one line, so
the rest of the file keeps its layout. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def rename(text: str, old: str, new: str, values: dict[str, str]) -> str:
    """The answers file's text with the top-level key `old` renamed to `new`."""
    line = re.compile(rf"^{re.escape(old)}:(?P<rest>[^\n]*)$", re.MULTILINE)
    found = line.search(text)
    if found is None:
        return text
    if re.search(rf"^{re.escape(new)}:", text, re.MULTILINE):
        # Both present (a rename already done, then the old key written again): NEW wins.
        return line.sub("", text, count=1).replace("\n\n", "\n", 1)
    rest = found.group("rest")
    value = rest.strip().strip("'\"")
    if value in values:
        rest = f" {values[value]}"
    return line.sub(lambda _: f"{new}:{rest}", text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers_file", type=Path)
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--value", action="append", default=[], metavar="FROM=TO")
    args = parser.parse_args(argv)
    values = dict(item.split("=", 1) for item in args.value)
    if not args.answers_file.exists():
        print(f"rename_answer: {args.answers_file} does not exist", file=sys.stderr)
        return 1
    text = args.answers_file.read_text(encoding="utf-8")
    renamed = rename(text, args.old, args.new, values)
    if renamed != text:
        args.answers_file.write_text(renamed, encoding="utf-8")
        print(f"Renamed the answer {args.old!r} to {args.new!r} in {args.answers_file}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
