"""The benchmark harness runs end to end on a generated project (`python -m bench --quick`),
a postgres one and a mongo one.

Only the harness's own promises are checked: every workload measured on both targets, no
error answers, every acknowledged create stored. Throughput is never asserted; it depends on
the machine (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from bench.run import COMPARED_WORKLOADS
from tests.harness import REPO_ROOT, clean_env, missing_tool, run, tail
from tests.postgres_server import PostgresUnavailableError, postgres_bin_dir

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bench")]

WORKLOADS = ("get_one", "list_50", "create", "health", "limited")
TARGETS = ("floor", "service")


def default_answers() -> dict[str, str]:
    """The answers `copier copy --defaults` gives; python_version lets the harness skip it."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    return {"python_version": str(config["python_version"]["default"])}


def require_bench_tools() -> None:
    if shutil.which("wrk") is None:
        missing_tool("wrk is not installed, so the benchmark cannot run (apt-get install wrk)")
    try:
        postgres_bin_dir()
    except PostgresUnavailableError as error:
        missing_tool(str(error))


def quick_run(
    project_path: Path, tmp_path: Path, workloads: tuple[str, ...] = WORKLOADS
) -> dict[str, Any]:
    """`python -m bench --quick --project PATH`: its results document, once it exited 0."""
    output = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench", "--quick", "--project", str(project_path)]
    if workloads != WORKLOADS:
        command += [argument for workload in workloads for argument in ("--workload", workload)]

    result = run(
        [*command, "--output", str(output)],
        cwd=REPO_ROOT,
        step="python -m bench --quick",
        timeout=900,
        env=clean_env(),
        check=False,
    )

    assert result.returncode == 0, f"{tail(result.stdout, 80)}\n{tail(result.stderr, 40)}"
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["passed"], document["failures"]
    return document


def assert_every_answer_counted(
    document: dict[str, Any], workloads: tuple[str, ...] = WORKLOADS
) -> None:
    """No error answers, no lost creates, the 429s only where the tiny limit applies."""
    for row in document["measurements"]:
        where = f"round {row['round']}, {row['workload']} on the {row['target']}"
        assert row["requests"] > 0, where
        assert row["non_2xx"] == 0, where
        assert row["socket_errors"] == 0, where
        if row["workload"] == "create":
            assert row["creates"]["stored"] >= row["creates"]["acknowledged"] > 0, where
        throttled = row["workload"] == "limited" and row["target"] == "service"
        assert (row["answers_429"] >= row["requests"] - 1) if throttled else not row["answers_429"]
    assert set(document["summary"]) == set(workloads)


def test_quick_run_measures_every_workload_on_both_targets(
    generate: Generate, tmp_path: Path
) -> None:
    require_bench_tools()
    project = generate(default_answers())

    document = quick_run(project.path, tmp_path)

    measured = {(row["workload"], row["target"]) for row in document["measurements"]}
    assert measured == {(workload, target) for workload in WORKLOADS for target in TARGETS}
    assert_every_answer_counted(document)
    assert document["software"]["mongo_server"] is None


def test_quick_mongo_run_compares_reads_and_creates_with_the_postgres_variant(
    generate: Generate, tmp_path: Path
) -> None:
    """A mongo project runs on a throwaway SecantusDB, against the PostgreSQL floor, and its
    PostgreSQL variant's single-item reads and creates are measured in the same rounds.

    Only the compared workloads (and the health probe) run: SecantusDB sorts every document a
    listing matches before it applies the limit, even when an index gives the order (50 items
    of 200 documents take 6 ms, of 10,000 documents 235 ms), so once the create workload has
    grown the collection, `list_50` would measure the stand-in server and run into the
    service's time limit, not the service."""
    require_bench_tools()
    project = generate({**default_answers(), "database": "mongo"})
    workloads = (*COMPARED_WORKLOADS, "health")

    document = quick_run(project.path, tmp_path, workloads)

    measured = {(row["workload"], row["target"]) for row in document["measurements"]}
    assert measured == {(workload, target) for workload in workloads for target in TARGETS} | {
        (workload, "postgres") for workload in COMPARED_WORKLOADS
    }
    assert_every_answer_counted(document, workloads)
    for workload in COMPARED_WORKLOADS:
        entry = document["summary"][workload]
        assert entry["versus_postgres"] > 0, workload
        assert len(entry["versus_postgres_ratios"]) == document["settings"]["rounds"]
        assert entry["postgres"]["requests_per_second"] > 0
    assert "postgres" not in document["summary"]["health"]
    assert document["software"]["mongo_server"].startswith("SecantusDB ")
    assert "pymongo" in document["software"]["project_environment"]
    assert "asyncpg" in document["software"]["postgres_variant_environment"]
