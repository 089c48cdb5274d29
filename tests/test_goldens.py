"""Each generated project's `docs/openapi.json` and `docs/erd.md` equal, byte for byte, the
goldens kept in `tests/golden/`.

The project's own drift tests compare these documents with what its code exports now, so a
template change that alters the API or the database's description passes there. Here it fails,
with the start of the diff. After a change that is meant to alter them, refresh the goldens
and review the diff before committing it:

    FOUNDRY_UPDATE_GOLDENS=1 make test PYTEST_ARGS='-k golden'

The documents are those the copy-time task wrote (`python -m <package> openapi` and `erd`),
so no project is generated for these tests alone: they use the other tests' projects. The
goldens are named by combination id and project name (`tests/golden/openapi/<id>--<name>.json`,
`tests/golden/erd/<id>--<name>.md`): the full matrix gives some ids other project names, and a
project's title is in both documents.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest

from tests.harness import REPO_ROOT, Combination, Project, matrix, running_in_ci

GOLDEN_DIR = REPO_ROOT / "tests" / "golden"
UPDATE_ENV = "FOUNDRY_UPDATE_GOLDENS"
REFRESH = f"{UPDATE_ENV}=1 make test PYTEST_ARGS='-k golden'"
DOCUMENTS = {"openapi": "docs/openapi.json", "erd": "docs/erd.md"}
"""Each golden kind and the generated document it holds."""
DEFAULT_MATRIX = matrix()
"""The combinations whose goldens are kept (under CI, one without its golden fails)."""
LOCKED_FILE = GOLDEN_DIR / "locked.json"
"""For each golden, the versions of SHAPING_PACKAGES its project had locked when it was written."""
DIFF_LINES = 60
SHAPING_PACKAGES = ("fastapi", "starlette", "pydantic", "pydantic-core", "sqlalchemy", "pymongo")
"""Locked packages whose releases can change the documents without any template change."""


def golden_path(kind: str, combination: Combination) -> Path:
    """tests/golden/<kind>/<combination id>--<project name as ASCII words>.<suffix>."""
    ascii_name = unicodedata.normalize("NFKD", combination.project_name).encode("ascii", "ignore")
    name = re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-")
    suffix = Path(DOCUMENTS[kind]).suffix
    return GOLDEN_DIR / kind / f"{combination.id}--{name}{suffix}"


def locked_versions(project: Project) -> str:
    """The versions of SHAPING_PACKAGES in the project's uv.lock, e.g. `fastapi 0.116.1`."""
    lock = project.path / "uv.lock"
    if not lock.is_file():
        return "no uv.lock"
    packages = tomllib.loads(lock.read_text(encoding="utf-8")).get("package", [])
    versions = {package["name"]: package.get("version", "?") for package in packages}
    return ", ".join(f"{name} {versions[name]}" for name in SHAPING_PACKAGES if name in versions)


def first_diff_lines(expected: bytes, actual: bytes, golden: Path, document: str) -> str:
    diff = list(
        difflib.unified_diff(
            expected.decode("utf-8", errors="replace").splitlines(),
            actual.decode("utf-8", errors="replace").splitlines(),
            fromfile=golden.relative_to(REPO_ROOT).as_posix(),
            tofile=f"generated {document}",
            lineterm="",
        )
    )
    if not diff:
        return "(the lines are equal: the bytes differ in line endings or the final newline)"
    shown = diff[:DIFF_LINES]
    if len(diff) > DIFF_LINES:
        shown.append(f"... {len(diff) - DIFF_LINES} more diff lines")
    return "\n".join(shown)


def golden_key(golden: Path) -> str:
    return golden.relative_to(GOLDEN_DIR).as_posix()


def recorded_versions() -> dict[str, str]:
    if not LOCKED_FILE.is_file():
        return {}
    recorded: dict[str, str] = json.loads(LOCKED_FILE.read_text(encoding="utf-8"))
    return recorded


def refresh(golden: Path, actual: bytes, versions: str) -> None:
    """Write the golden (refused under CI), then skip: a refresh run never passes. Only the
    default matrix's goldens, and those that exist, are written: a full-matrix run writes no
    new ones."""
    if running_in_ci():
        pytest.fail(
            f"{UPDATE_ENV} is set under CI: goldens are refreshed on a developer's machine and "
            "committed, never written by CI.",
            pytrace=False,
        )
    before = golden.read_bytes() if golden.is_file() else None
    golden.parent.mkdir(parents=True, exist_ok=True)
    golden.write_bytes(actual)
    recorded = recorded_versions()
    recorded[golden_key(golden)] = versions
    LOCKED_FILE.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    what = "created" if before is None else "unchanged" if before == actual else "CHANGED"
    pytest.skip(
        f"{UPDATE_ENV}=1: {what} {golden.relative_to(REPO_ROOT)}, nothing compared; review "
        "`git diff tests/golden` and run again without the variable"
    )


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_document_equals_its_golden(project: Project, combination: Combination, kind: str) -> None:
    document = DOCUMENTS[kind]
    generated = project.path / document
    golden = golden_path(kind, combination)
    assert generated.is_file(), (
        f"the copy-time task wrote no {document} (its output says why when the project is "
        "generated with `copier copy`)"
    )
    actual = generated.read_bytes()

    if os.environ.get(UPDATE_ENV) and (combination in DEFAULT_MATRIX or golden.is_file()):
        refresh(golden, actual, locked_versions(project))
    if not golden.is_file():
        missing = f"no golden {golden.relative_to(REPO_ROOT)}"
        if combination not in DEFAULT_MATRIX:
            pytest.skip(f"{missing}: goldens are kept for the default matrix's combinations")
        reason = f"{missing} for {combination.id}: write it with `{REFRESH}` and commit it"
        if running_in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)

    expected = golden.read_bytes()
    versions = locked_versions(project)
    recorded = recorded_versions().get(golden_key(golden))
    if actual != expected and recorded is not None and recorded != versions:
        pytest.skip(
            f"{document} differs from {golden.relative_to(REPO_ROOT)}, but the project locked "
            f"{versions} where the golden's had {recorded}: a release of these packages, not "
            f"the template, may be the cause. Refresh with `{REFRESH}` and review the diff."
        )
    if actual != expected:
        pytest.fail(
            f"{document} differs from {golden.relative_to(REPO_ROOT)}:\n"
            f"{first_diff_lines(expected, actual, golden, document)}\n\n"
            f"The project locked {versions}: a new release of one of these can "
            "change the document too. If the change is intended, refresh the goldens with "
            f"`{REFRESH}` and review `git diff tests/golden`.",
            pytrace=False,
        )
