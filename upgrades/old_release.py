"""Render the release a project is being updated from, as Copier rendered it.

Shared by the migration scripts that need what the project looked like before the update:
Copier renders that into a temporary folder of its own, which it does not hand to them.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from copier import run_copy


def render_old_release(template: str, ref: str, answers_file: Path, into: Path) -> None:
    """Render `ref` of `template` into `into` with the answers recorded in `answers_file`
    (tasks skipped, as Copier does during an update)."""
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    run_copy(
        template,
        into,
        data=data,
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )
