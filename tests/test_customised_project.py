"""A team's project, customised the documented way, takes in the next release with no conflict
and passes its own checks.

The team adds what teams add: a router of its own with its test and its docs, a setting, a
table with a migration of its own (`make migration`), a dependency (`uv add`) and a helper in
a template service. The next release changes the template where such edits sit: a new
dependency and a new operation, a new setting in `settings.py` and `.env.example`, a new
Alembic revision on the template's branch, a changed service module. `make update` must take
it in with no conflict and no manual step but `make migrate`, after which the database holds
both branches' revisions and the team's rows, and the project passes its checks.

The default run checks the project with lint, mypy and the part of its suite that the update
concerns (the team's tests, settings, OpenAPI document, migrations, ERD); with
FOUNDRY_FULL_MATRIX=1 it runs `make check` before and after the update.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import TYPE_CHECKING

import pytest

from tests.harness import FULL_MATRIX_ENV, Project, clean_env, run, with_database
from tests.releases import candidate_version, git, tagged_clone
from tests.test_answer_switches import postgres_answers, sql
from tests.test_generated import database
from tests.test_make_update import release_after_the_candidate
from tests.test_update_releases import copy_at, tree

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

ANSWERS = {
    "project_name": "Widget Shop",
    "python_version": "3.12",
    "database": "postgres",
    "auth": "jwt",
    "cache": "none",
}
PACKAGE = "widget_shop"
FULL = os.environ.get(FULL_MATRIX_ENV) == "1"
UPDATE_SUITE = (
    "tests/api/test_widgets.py",
    "tests/api/test_custom_routes.py",
    "tests/api/test_openapi.py",
    "tests/unit/test_settings.py",
    "tests/integration/test_migrations.py",
    "tests/unit/test_erd.py",
    "tests/integration/test_erd.py",
)
"""The part of the project's suite that an update concerns, run in the default mode."""

TEMPLATE_REVISION = "0007"
PARENT_REVISION = {"none": "0006", "oidc": "0003", "jwt": "0004", "api_key": "0005"}
NEW_INDEX = "ix_items_updated_at_id"


# --- The team's changes -----------------------------------------------------------------


WIDGETS_ROUTER = f'''\
"""Widgets: what the shop sells, priced the way customers read prices."""

import humanize
from fastapi import APIRouter
from pydantic import BaseModel

from {PACKAGE}.api.dependencies import ResourcesDep
from {PACKAGE}.services.items import display_name

TAG = {{"name": "widgets", "description": "What the shop sells."}}
router = APIRouter(prefix="/widgets", tags=[TAG["name"]])


class Widget(BaseModel):
    name: str
    price: str
    max_per_order: int


@router.get("", summary="List widgets", description="Every widget on sale, with its price.")
async def list_widgets(resources: ResourcesDep) -> list[Widget]:
    limit = resources.settings.widgets.max_per_order
    return [
        Widget(
            name=display_name("  brass sprocket "),
            price=humanize.intcomma(12500),
            max_per_order=limit,
        )
    ]
'''

WIDGETS_TEST = '''\
"""The shop's widgets."""

import httpx


async def test_widgets_are_listed_with_their_price(client: httpx.AsyncClient) -> None:
    response = await client.get("/widgets")

    assert response.status_code == 200
    assert response.json() == [{"name": "Brass Sprocket", "price": "12,500", "max_per_order": 10}]
'''

WIDGETS_TABLE = f'''\
"""The widgets the shop sells."""

from sqlalchemy import Column, Integer, String, Table

from {PACKAGE}.infrastructure.sql.tables.base import metadata

widgets = Table(
    "widgets",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_cents", Integer(), nullable=False),
)
'''

WIDGETS_DOC = """\
# Widgets

`GET /widgets` lists what the shop sells; each widget has a `name`, a `price` written with
thousands separators, and `max_per_order`, the most one order may hold
(`WIDGETS__MAX_PER_ORDER`).
"""

CUSTOM_SETTINGS = (
    'class CustomSettings(BaseModel):\n    """Settings this service adds to the template\'s."""'
)
SERVICE_HELPER = '''

def display_name(name: str) -> str:
    """How a name is shown to customers: trimmed, each word capitalised."""
    return name.strip().title()
'''


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def customise(project: Path, env: dict[str, str]) -> None:
    """What a team does to its project, the way the project's docs say to do it."""
    package = project / "src" / PACKAGE
    (package / "api" / "routes" / "widgets.py").write_text(WIDGETS_ROUTER, encoding="utf-8")
    replace_once(
        package / "api" / "routes" / "custom.py",
        "from fastapi import APIRouter\n",
        f"from fastapi import APIRouter\n\nfrom {PACKAGE}.api.routes import widgets\n",
    )
    replace_once(
        package / "api" / "routes" / "custom.py",
        "ROUTERS: tuple[APIRouter, ...] = ()",
        "ROUTERS: tuple[APIRouter, ...] = (widgets.router,)",
    )
    replace_once(
        package / "api" / "routes" / "custom.py",
        "OPENAPI_TAGS: list[dict[str, str]] = []",
        "OPENAPI_TAGS: list[dict[str, str]] = [widgets.TAG]",
    )
    (project / "tests" / "api" / "test_widgets.py").write_text(WIDGETS_TEST, encoding="utf-8")
    (project / "docs" / "widgets.md").write_text(WIDGETS_DOC, encoding="utf-8")

    replace_once(
        package / "custom_settings.py",
        CUSTOM_SETTINGS,
        "class WidgetSettings(BaseModel):\n    max_per_order: int = 10\n\n\n"
        f"{CUSTOM_SETTINGS}\n\n    widgets: WidgetSettings = WidgetSettings()",
    )
    env_example = project / ".env.example"
    env_example.write_text(
        env_example.read_text(encoding="utf-8")
        + "\n# Widgets one order may hold at most.\nWIDGETS__MAX_PER_ORDER=10\n",
        encoding="utf-8",
    )

    services = package / "services" / "items.py"
    services.write_text(services.read_text(encoding="utf-8") + SERVICE_HELPER, encoding="utf-8")

    step(project, "uv", "add", "--quiet", "humanize>=4.9")

    tables = package / "infrastructure" / "sql" / "tables"
    (tables / "widgets.py").write_text(WIDGETS_TABLE, encoding="utf-8")
    (tables / "custom.py").write_text(
        (tables / "custom.py").read_text(encoding="utf-8")
        + f'\nfrom {PACKAGE}.infrastructure.sql.tables import widgets\n\n__all__ = ["widgets"]\n',
        encoding="utf-8",
    )
    step(project, "make", "migrate", env=env)
    step(project, "make", "migration", "m=create widgets", env=env)
    step(project, "make", "migrate", env=env)

    step(project, "make", "fmt")
    step(project, "make", "openapi")
    step(project, "make", "erd")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", "Sell widgets")


# --- The next release -------------------------------------------------------------------


NEW_SETTING_DOC = (
    "\n# Header a caller may send to correlate its requests with this service's logs.\n"
    "API__REQUEST_ID_HEADER=X-Request-ID\n"
)
NEW_REVISION = '''\
"""Index items by their last change.

Revision ID: 0007
Revises: {{ parent }}
Create Date: 2026-12-20 00:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "{{ parent }}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_items_updated_at_id", "items", ["updated_at", "id"], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_items_updated_at_id", table_name="items")
'''


def next_release(clone: Path) -> str:
    """A release that changes the template where a team's edits sit, tagged in the clone."""
    template = clone / "template"
    package = template / "src" / "{{ package_name }}"
    text = (template / ".env.example.jinja").read_text(encoding="utf-8")
    anchor = next(line for line in text.splitlines() if line.startswith("API__SERVER_URL="))
    replace_once(template / ".env.example.jinja", anchor + "\n", anchor + "\n" + NEW_SETTING_DOC)
    replace_once(
        package / "settings.py.jinja",
        '    server_url: Annotated[str, Field(pattern=r"^(/|https?://)")] = "/"\n',
        '    server_url: Annotated[str, Field(pattern=r"^(/|https?://)")] = "/"\n'
        '    request_id_header: str = "X-Request-ID"\n',
    )
    replace_once(
        package / "services" / "items.py.jinja",
        'writes use optimistic concurrency."""',
        'writes use optimistic concurrency, checked by version."""',
    )

    tables = package / "infrastructure" / "{% if database == 'postgres' %}sql{% endif %}"
    replace_once(
        tables / "tables" / "items.py.jinja",
        "\n    info={\n",
        '\n    Index(None, "updated_at", "id"),\n    info={\n',
    )
    migrations = template / "{% if database == 'postgres' %}migrations{% endif %}"
    parent = (
        "{% if auth == 'jwt' %}0004{% elif auth == 'api_key' %}0005"
        "{% elif auth == 'oidc' %}0003{% else %}0006{% endif %}"
    )
    revision = migrations / "versions" / "20261220_0007_index_items_by_update_time.py.jinja"
    revision.write_text(NEW_REVISION.replace("{{ parent }}", parent), encoding="utf-8")
    replace_once(
        migrations / "env.py.jinja",
        '    "0006": "0002",\n',
        f'    "0006": "0002",\n    "{TEMPLATE_REVISION}": "{parent}",\n',
    )
    git(clone, "add", "--all")
    return release_after_the_candidate(clone)


# --- The test ---------------------------------------------------------------------------


def step(project: Path, *command: str, env: dict[str, str] | None = None) -> str:
    """Run a command in the project as a developer would; fail with its output if it fails."""
    result = run(
        list(command),
        cwd=project,
        step=" ".join(command)[:60],
        timeout=1200,
        env=clean_env(env),
        tail_lines=80,
    )
    return result.stdout


def checks(project: Path, env: dict[str, str]) -> None:
    """`make check`, or in the default run its lint, mypy and the update's part of the suite."""
    if FULL:
        step(project, "make", "check", env=env)
        return
    step(project, "make", "lint")
    step(project, "make", "typecheck")
    step(
        project,
        "uv",
        "run",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-cov",
        *UPDATE_SUITE,
        env=env,
    )


@pytest.fixture
def team_database(generate_helper: Project, pg_admin_url: str) -> Iterator[str]:
    name = f"foundry_team_{secrets.token_hex(4)}"
    database(generate_helper, pg_admin_url, "create", name)
    yield with_database(pg_admin_url, name)
    database(generate_helper, pg_admin_url, "drop", name)


@pytest.fixture
def generate_helper(generate) -> Project:
    """The project through which the answer-switch tests reach PostgreSQL (the same answers,
    so a worker that ran them has it already)."""
    return generate(postgres_answers("none"))


def test_a_customised_project_takes_in_the_next_release_without_conflicts(
    tmp_path: Path, pg_admin_url: str, team_database: str, generate_helper: Project
) -> None:
    clone = tagged_clone(tmp_path / "foundry")
    project = copy_at(clone, candidate_version(clone), ANSWERS, tmp_path / "widget-shop")
    env = {"DATABASE__URL": team_database}
    # A team's shell exports the service's settings; the project's tests must ignore them.
    suite_env = {**env, "TEST_DATABASE_URL": pg_admin_url}
    customise(project, env)
    checks(project, suite_env)
    sql(
        generate_helper,
        team_database,
        "INSERT INTO widgets (sku, name, price_cents) VALUES ('SP-1', 'sprocket', 12500) "
        "RETURNING sku",
    )
    team_files = {
        name: data
        for name, data in tree(project).items()
        if name.startswith(("migrations/team/", "docs/widgets.md", "tests/api/test_widgets"))
        or name.endswith(("/custom.py", "custom_settings.py", "routes/widgets.py"))
    }

    version = next_release(clone)
    output = step(project, "make", "update")

    assert f"_commit: {version}" in (project / ".copier-answers.yml").read_text(encoding="utf-8")
    status = git(project, "status", "--porcelain")
    assert not [line for line in status.splitlines() if line[:2] in {"UU", "AA", "DU", "UD"}]
    after = tree(project)
    assert not [name for name in after if name.endswith(".rej")]
    assert not [name for name, data in after.items() if b"\n<<<<<<< " in b"\n" + data]
    assert {name: after.get(name) for name in team_files} == team_files
    env_example = after[".env.example"].decode()
    assert "API__REQUEST_ID_HEADER=X-Request-ID" in env_example
    assert env_example.endswith("WIDGETS__MAX_PER_ORDER=10\n")
    services = after[f"src/{PACKAGE}/services/items.py"].decode()
    assert "checked by version" in services
    assert "def display_name(name: str) -> str:" in services
    pyproject = after["pyproject.toml"].decode()
    assert '"humanize>=4.9"' in pyproject
    assert '"tenacity>=9.0"' in pyproject
    document = json.loads(after["docs/openapi.json"])
    assert {"/widgets", "/health/version"} <= set(document["paths"])
    assert "make migrate" in output
    erd = after["docs/erd.md"].decode()
    assert "## widgets" in erd
    assert NEW_INDEX in erd

    step(project, "make", "migrate", env=env)
    heads = step(project, "uv", "run", "alembic", "heads", env=env)
    assert TEMPLATE_REVISION in heads
    assert "(team)" in heads
    stamped = sql(generate_helper, team_database, "SELECT version_num FROM alembic_version")[0]
    assert len(stamped) == 2
    assert {str(row["version_num"]) for row in stamped} >= {TEMPLATE_REVISION}
    rows = sql(
        generate_helper,
        team_database,
        "SELECT sku FROM widgets",
        "SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY indexname",
    )
    assert rows[0] == [{"sku": "SP-1"}]
    assert {"indexname": NEW_INDEX} in rows[1]
    checks(project, suite_env)
    run(["uv", "lock", "--check"], cwd=project, step="uv lock --check", timeout=300)
