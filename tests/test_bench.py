"""The benchmark harness runs end to end on a generated project (`python -m bench --quick`),
a postgres one and a mongo one, and once against a baseline generated from the template at
HEAD; the pairing of the service with the baseline is checked on made-up measurements.

Only the harness's own promises are checked: every workload measured on every target, no
error answers, every acknowledged create stored. Throughput is never asserted; it depends on
the machine (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from bench.project import BenchProject, ProjectError, resolve_commit
from bench.report import format_table, results_document, summarize
from bench.run import BASELINE, COMPARED_WORKLOADS, Outcome, Settings, _problems, target_order
from tests.harness import REPO_ROOT, clean_env, missing_tool, run, tail
from tests.postgres_server import PostgresUnavailableError, postgres_bin_dir

if TYPE_CHECKING:
    from tests.conftest import Generate

pytestmark = pytest.mark.xdist_group("bench")

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
    project_path: Path,
    tmp_path: Path,
    workloads: tuple[str, ...] = WORKLOADS,
    options: tuple[str, ...] = (),
) -> dict[str, Any]:
    """`python -m bench --quick --project PATH [options]`: its results document, once it
    exited 0."""
    output = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench", "--quick", "--project", str(project_path), *options]
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
        throttled = row["workload"] == "limited" and row["target"] in ("service", BASELINE)
        assert (row["answers_429"] >= row["requests"] - 1) if throttled else not row["answers_429"]
    assert set(document["summary"]) == set(workloads)


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_quick_run_with_a_baseline_measures_it_in_the_same_rounds(
    generate: Generate, tmp_path: Path
) -> None:
    """`--baseline HEAD` generates the project again from the last commit and measures it on
    every workload; `limited` too, so the baseline's own rate-limited process is covered."""
    require_bench_tools()
    project = generate(default_answers())
    workloads = ("get_one", "limited")

    document = quick_run(project.path, tmp_path, workloads, ("--baseline", "HEAD"))

    measured = {(row["workload"], row["target"]) for row in document["measurements"]}
    targets = (*TARGETS, BASELINE)
    assert measured == {(workload, target) for workload in workloads for target in targets}
    assert_every_answer_counted(document, workloads)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert document["baseline"]["commit"] == document["settings"]["baseline"]["commit"] == head
    assert Path(document["baseline"]["project"]).name == "baseline"
    for workload in workloads:
        entry = document["summary"][workload]
        assert entry["versus_baseline"] > 0, workload
        assert len(entry["versus_baseline_ratios"]) == document["settings"]["rounds"]


# --- The pairing with a baseline, on made-up measurements ----------------------------------


def measurement(workload: str, target: str, round_number: int, rate: float, cpu: float):
    return {
        "round": round_number,
        "workload": workload,
        "target": target,
        "requests": int(rate),
        "requests_per_second": rate,
        "p50_ms": 5.0,
        "p99_ms": 9.0,
        "non_2xx": 0,
        "answers_429": 0,
        "socket_errors": 0,
        "cpu_us_per_request": cpu,
        "database_cpu_us_per_request": 100.0,
        "rss_mb": 80.0,
        "client_cpu_share": 0.5,
    }


BASELINE_RUN = [
    # Round 2 is 20% faster for every target: the paired ratio does not move with it.
    measurement("get_one", "floor", 1, 1000, 150),
    measurement("get_one", "service", 1, 500, 400),
    measurement("get_one", "baseline", 1, 520, 380),
    measurement("get_one", "baseline", 2, 624, 380),
    measurement("get_one", "service", 2, 600, 400),
    measurement("get_one", "floor", 2, 1200, 150),
]


def test_the_service_is_paired_with_the_baseline_round_by_round() -> None:
    entry = summarize(BASELINE_RUN, ("get_one",))["get_one"]

    assert entry["ratio"] == 0.5
    assert entry["baseline_ratio"] == 0.52
    assert entry["versus_baseline_ratios"] == [0.9615, 0.9615]
    assert entry["versus_baseline"] == 0.9615
    assert entry["baseline"]["requests_per_second"] == 572.0
    assert entry["cpu_versus_baseline"] == round(400 / 380, 4)


def test_the_report_shows_the_baseline_beside_the_floor() -> None:
    summary = summarize(BASELINE_RUN, ("get_one",))

    table = format_table(summary, "the template at HEAD (0123456789ab)")

    assert "The service against the baseline, the template at HEAD (0123456789ab)," in table
    row = next(line for line in table.splitlines() if line.startswith("  get_one"))
    assert row.split()[:6] == ["get_one", "0.500", "0.520", "0.962", "0.962", "0.962"]
    assert row.endswith("400 / 380 (1.053)")


def one_round_settings(tmp_path: Path, **baseline: str) -> Settings:
    """Settings of a tiny run for the report functions (nothing is run with them)."""
    return Settings(
        answers={},
        project=tmp_path,
        items=1,
        connections=1,
        warmup=0,
        duration=1,
        rounds=2,
        workloads=("get_one",),
        run_dir=tmp_path,
        wrk="true",
        **baseline,
    )


def test_without_a_baseline_the_report_is_as_before(tmp_path: Path) -> None:
    """No baseline key in the summary, the table or the results document."""
    rows = [row for row in BASELINE_RUN if row["target"] != BASELINE]
    summary = summarize(rows, ("get_one",))
    settings = one_round_settings(tmp_path)
    project = BenchProject(tmp_path, "example_service", {}, packages={"fastapi": "1.0"})

    document = results_document(settings, Outcome(project=project), summary, "now")

    assert set(summary["get_one"]) == {"floor", "service", "ratios", "ratio"}
    assert "baseline" not in format_table(summary).lower()
    assert "baseline" not in document
    assert "baseline" not in document["settings"]


def test_the_results_document_names_the_baseline_and_its_environment(tmp_path: Path) -> None:
    settings = one_round_settings(tmp_path, baseline="HEAD~1", baseline_commit="0" * 40)
    outcome = Outcome(
        project=BenchProject(tmp_path, "example_service", {}, packages={"fastapi": "1.1"}),
        baseline=BenchProject(
            tmp_path / "baseline", "example_service", {}, 2.5, {"fastapi": "1.0"}
        ),
    )

    document = results_document(settings, outcome, summarize(BASELINE_RUN, ("get_one",)), "now")

    assert document["settings"]["baseline"] == {"ref": "HEAD~1", "commit": "0" * 40}
    assert document["baseline"]["project"] == str(tmp_path / "baseline")
    assert document["baseline"]["copier_copy_seconds"] == 2.5
    assert document["baseline"]["environment_differences"] == [
        "fastapi 1.1 (service) / 1.0 (baseline)"
    ]
    assert document["summary"]["get_one"]["versus_baseline"] == 0.9615


def test_the_service_and_the_baseline_take_turns_going_first() -> None:
    names = ("floor", "service", BASELINE)

    odd, even = target_order(1, names), target_order(2, names)

    assert odd.index("service") < odd.index(BASELINE)
    assert even.index(BASELINE) < even.index("service")


def test_the_baseline_limited_workload_expects_429s() -> None:
    record = {
        **measurement("limited", BASELINE, 1, 100, 50),
        "measured": {"requests": 100, "answers_429": 100},
    }

    assert _problems(record) == []
    assert _problems({**record, "measured": {"requests": 100, "answers_429": 10}}) == [
        "round 1, limited on the baseline: only 10 of 100 answers were 429"
    ]


def test_a_baseline_ref_is_resolved_to_a_commit_id() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()

    assert resolve_commit("HEAD") == head
    with pytest.raises(ProjectError, match="no such commit"):
        resolve_commit("no-such-ref-for-the-benchmark")
