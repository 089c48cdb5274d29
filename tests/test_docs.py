"""The template's own documentation, and the documentation it generates, hold together."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.harness import REPO_ROOT, Project

# [text](target) where target is a relative path, optionally with an #anchor.
LINK = re.compile(r"\[[^\]]*\]\((?!https?://|mailto:|#)([^)\s]+)\)")


def broken_links(markdown: Path, root: Path) -> list[str]:
    broken = []
    for target in LINK.findall(markdown.read_text(encoding="utf-8")):
        path = (markdown.parent / target.split("#", 1)[0]).resolve()
        inside = root.resolve() in (path, *path.parents)
        if not (inside and path.exists()):
            broken.append(target)
    return broken


TEMPLATE_DOCS = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")])


@pytest.mark.parametrize("markdown", TEMPLATE_DOCS, ids=lambda path: path.name)
def test_template_docs_links_resolve(markdown: Path) -> None:
    assert broken_links(markdown, REPO_ROOT) == []


def test_every_question_is_documented() -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    asked = [
        name
        for name, spec in config.items()
        if not name.startswith("_") and spec.get("when") is not False
    ]
    questions_doc = (REPO_ROOT / "docs" / "questions.md").read_text(encoding="utf-8")

    assert [name for name in asked if f"`{name}`" not in questions_doc] == []


def test_generated_docs_links_resolve(project: Project) -> None:
    markdown_files = [path for path in project.files if path.suffix == ".md"]

    assert markdown_files
    broken = {
        path.relative_to(project.path).as_posix(): links
        for path in markdown_files
        if (links := broken_links(path, project.path))
    }
    assert broken == {}
