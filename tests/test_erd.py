"""docs/erd.md is generated, not rendered: a table a team adds the documented way (a module
imported by `tables/custom.py`) is described after `make erd`, with the notes its definition
carries, and the project's drift test holds the file to it.

The project is a copy of a generated one (its `.venv` left behind, so uv builds one for the
copy from the shared cache); the generated project itself stays as the other tests see it.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from tests.harness import COMBINATIONS, TOOL_OUTPUT_DIRS, run

if TYPE_CHECKING:
    from pathlib import Path

POSTGRES = next(c for c in COMBINATIONS if c.database == "postgres")

WIDGETS_TABLE = '''\
"""The widgets the shop sells."""

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Uuid

from {package}.infrastructure.sql.tables.base import metadata

widgets = Table(
    "widgets",
    metadata,
    Column("sku", String(32), primary_key=True, doc="Stock-keeping unit."),
    Column("item_id", Uuid(), ForeignKey("items.id"), nullable=True, doc="The item it ships as."),
    Column("price_cents", Integer(), nullable=False),
    Index(None, "price_cents", info={{"doc": "Listing widgets by price."}}),
    info={{"doc": "One row per widget on sale."}},
)
'''


DRIFT_TEST = (
    *("uv", "run", "--locked", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov"),
    "tests/unit/test_erd.py",
)
"""The project's own test that docs/erd.md is what `make erd` writes."""


def drift_test(project: Path, *, check: bool) -> str:
    result = run(
        DRIFT_TEST,
        cwd=project,
        step="the project's docs/erd.md drift test",
        timeout=600,
        check=check,
    )
    return result.stdout + result.stderr


@pytest.mark.xdist_group(POSTGRES.id)
def test_a_team_table_is_described_after_make_erd(generate, tmp_path: Path) -> None:
    generated = generate(POSTGRES.answers)
    project = tmp_path / "project"
    shutil.copytree(
        generated.path, project, symlinks=True, ignore=shutil.ignore_patterns(*TOOL_OUTPUT_DIRS)
    )
    tables = project / "src" / generated.package_name / "infrastructure" / "sql" / "tables"
    (tables / "widgets.py").write_text(
        WIDGETS_TABLE.format(package=generated.package_name), encoding="utf-8"
    )
    custom = tables / "custom.py"
    custom.write_text(
        custom.read_text(encoding="utf-8")
        + f"\nfrom {generated.package_name}.infrastructure.sql.tables import widgets\n\n"
        '__all__ = ["widgets"]\n',
        encoding="utf-8",
    )

    assert "docs/erd.md is stale: run `make erd`" in drift_test(project, check=False)
    run(["make", "erd"], cwd=project, step="make erd", timeout=300)
    document = (project / "docs" / "erd.md").read_text(encoding="utf-8")

    assert "\n## widgets\n\nOne row per widget on sale.\n" in document
    assert "| `sku` | `varchar(32)` | no | Stock-keeping unit. |" in document
    assert "| `price_cents` | `integer` | no | |" in document
    assert "| `ix_widgets_price_cents` | index | `(price_cents)` | Listing widgets by price. |" in (
        document
    )
    assert "| `fk_widgets_item_id_items` | foreign key | `(item_id)` references `items (id)` |" in (
        document
    )
    assert '    items |o--o{ widgets : "item_id"\n' in document
    assert " passed" in drift_test(project, check=True)
