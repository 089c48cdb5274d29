"""The interactive docs of a running generated service render in a real browser.

Headless Chromium opens /docs and /redoc of a service started with `python -m <package>`. It
resolves no host name but 127.0.0.1, so a page that needed anything from elsewhere would not
render. The pages need no database tables: the service runs on an empty SQLite file, or (with
MongoDB) on a database name that nothing has created yet.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import urllib.request
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.harness import (
    Project,
    clean_env,
    free_port,
    missing_tool,
    run,
    running_service,
    with_database,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",
)
CSP_VIOLATION = re.compile(r"violates the following Content Security Policy directive: \"([a-z-]+)")
OPBLOCK = re.compile(r'class="opblock opblock-([a-z]+)[ "]')


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing_tool("Chromium is not installed (Debian: apt-get install chromium)")
    return found


@pytest.fixture
def service(project: Project, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if project.answers["database"] == "mongo":
        database_url = with_database(
            request.getfixturevalue("mongo_url"), f"docs_{secrets.token_hex(4)}"
        )
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'docs.db'}"
    env = clean_env(
        {
            "ENVIRONMENT": "test",
            "DATABASE__URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(36),
            "LOG__LEVEL": "WARNING",
            "SERVER__HOST": "127.0.0.1",
            "SERVER__PORT": str(free_port()),
        }
    )
    with running_service(project, env, tmp_path / "service.log", ready_path="/health/live") as url:
        yield url


def openapi_document(base_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:  # noqa: S310
        return json.load(response)


def render(url: str, tmp_path: Path, step: str) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and the CSP directives it broke."""
    result = run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chrome'}", "--dump-dom", url],
        cwd=tmp_path,
        step=step,
        timeout=120,
    )
    return result.stdout, CSP_VIOLATION.findall(result.stderr)


def test_swagger_ui_lists_every_operation(service: str, tmp_path: Path) -> None:
    document = openapi_document(service)
    operations = [
        (method, path, operation["operationId"])
        for path, path_item in document["paths"].items()
        for method, operation in path_item.items()
    ]

    dom, violations = render(f"{service}/docs", tmp_path, "chromium /docs")

    assert Counter(OPBLOCK.findall(dom)) == Counter(method for method, _, _ in operations)
    for _, path, operation_id in operations:
        assert f'data-path="{path}"' in dom
        assert f">{operation_id}<" in dom
    assert violations == []


def test_redoc_shows_every_operation(service: str, tmp_path: Path) -> None:
    document = openapi_document(service)
    summaries = [
        operation["summary"]
        for path_item in document["paths"].values()
        for operation in path_item.values()
    ]

    dom, violations = render(f"{service}/redoc", tmp_path, "chromium /redoc")

    assert document["info"]["title"] in dom
    assert [summary for summary in summaries if summary not in dom] == []
    # ReDoc links its own logo from its makers' site; the policy blocks that image on purpose.
    assert set(violations) <= {"img-src"}
