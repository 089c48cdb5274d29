"""The Markdown that docs/erd.md is written in: wrapped paragraphs, code spans and tables.

Every function returns lines without trailing spaces, so a document built from them is the
same, byte for byte, on every run.
"""

import textwrap
from collections.abc import Iterable, Sequence

WIDTH = 100
"""Paragraphs are wrapped at this many characters (a table row is never wrapped)."""


def paragraphs(text: str, *, width: int = WIDTH) -> list[str]:
    """`text` as paragraphs wrapped at `width`, one blank line between them: a blank line in
    `text` starts a paragraph, any other run of whitespace is one space."""
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        words = " ".join(paragraph.split())
        if not words:
            continue
        if lines:
            lines.append("")
        lines += textwrap.wrap(words, width=width, break_long_words=False, break_on_hyphens=False)
    return lines


def code(text: str) -> str:
    """`text` as a code span, with as many backticks around it as it needs."""
    fence = "`"
    while fence in text:
        fence += "`"
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A table; a cell's pipes are escaped and its line breaks become spaces."""
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(row) for row in rows]
    return lines


def _row(cells: Sequence[str]) -> str:
    text = " | ".join(" ".join(cell.split()).replace("|", "\\|") for cell in cells)
    return f"| {text} |".replace("  |", " |")
