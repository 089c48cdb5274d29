"""Benchmark a generated service against the floor app: `python -m bench [options]`.

Generates a project (or takes --project), starts a throwaway PostgreSQL, the service and the
floor app, drives each workload with wrk against both in every round, and prints per
workload the service's throughput as a fraction of the floor's. A mongo project runs on a
throwaway MongoDB-wire server; its PostgreSQL variant (same answers) is generated and serves
the floor's table, and its single-item reads and creates are measured in the same rounds,
so the run also reports the mongo service's throughput as a fraction of the variant's.
With --baseline REF, the project is generated again, with the same answers, from the template
at git ref REF, and measured on every workload in the same rounds, on the same servers: the
run reports the service's throughput as a fraction of that baseline's, paired round by round.
Exits 1 when an answer was not 2xx, a socket error occurred, an acknowledged create was not
stored or a server died.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench.api_client import ApiError
from bench.database import DatabaseError
from bench.load import WORKLOADS, LoadError, ensure_wrk
from bench.processes import ServerDiedError
from bench.project import ProjectError, resolve_commit
from bench.report import (
    environment_differences,
    format_table,
    results_document,
    summarize,
    write_results,
)
from bench.run import Outcome, Settings, run
from tests.harness import REPO_ROOT
from tests.mongo_server import MongoUnavailableError
from tests.postgres_server import PostgresUnavailableError
from tests.redis_server import RedisUnavailableError

BUILD_DIR = REPO_ROOT / "build" / "bench"
FULL = {"items": 1000, "warmup": 2.0, "duration": 10.0, "rounds": 2}
QUICK = {"items": 200, "warmup": 0.5, "duration": 1.5, "rounds": 2}
EXPECTED_ERRORS = (
    ApiError,
    DatabaseError,
    LoadError,
    MongoUnavailableError,
    PostgresUnavailableError,
    ProjectError,
    RedisUnavailableError,
    ServerDiedError,
)


def _answer(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--answer",
        metavar="KEY=VALUE",
        type=_answer,
        action="append",
        default=[],
        help="an answer for copier copy, passed as --data (repeatable); defaults otherwise",
    )
    source.add_argument(
        "--project",
        type=Path,
        metavar="PATH",
        help="benchmark this generated project instead of generating one (uv sync runs "
        "there only when it has no .venv)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also generate the project, with the same answers, from the template at this git "
        "ref (a commit, tag or branch; HEAD is the last commit, without uncommitted changes) and "
        "measure it in the same rounds: the report gives the service's ratio to it",
    )
    parser.add_argument(
        "--items",
        type=_positive_int,
        metavar="N",
        help=f"items seeded before the runs ({FULL['items']})",
    )
    parser.add_argument(
        "--connections", type=_positive_int, default=32, metavar="N", help="wrk connections (32)"
    )
    parser.add_argument(
        "--warmup",
        type=_seconds,
        metavar="SECONDS",
        help=f"seconds of load before each measurement, not counted ({FULL['warmup']:g})",
    )
    parser.add_argument(
        "--duration",
        type=_seconds,
        metavar="SECONDS",
        help=f"seconds of each measurement ({FULL['duration']:g})",
    )
    parser.add_argument(
        "--rounds",
        type=_positive_int,
        metavar="N",
        help=f"rounds over all workloads ({FULL['rounds']})",
    )
    parser.add_argument(
        "--workload",
        choices=WORKLOADS,
        action="append",
        help="run only this workload (repeatable; all by default)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run: " + ", ".join(f"{key} {value:g}" for key, value in QUICK.items()),
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the JSON results file (build/bench/results-<UTC timestamp>.json)",
    )
    args = parser.parse_args(argv)
    if args.duration == 0:
        parser.error("--duration must be more than 0")
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if not {0, 1} <= os.sched_getaffinity(0):
        print(
            "The benchmark pins the servers to CPU 0 and wrk to CPU 1, but this process may "
            f"only use CPUs {sorted(os.sched_getaffinity(0))}.",
            file=sys.stderr,
        )
        return 2
    try:
        wrk = ensure_wrk()
        baseline_commit = resolve_commit(args.baseline) if args.baseline is not None else None
    except (LoadError, ProjectError) as error:
        print(error, file=sys.stderr)
        return 2
    started_at = datetime.now(UTC).replace(microsecond=0)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    run_dir = BUILD_DIR / f"run-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    output = args.output or BUILD_DIR / f"results-{stamp}.json"
    settings = Settings(
        answers=dict(args.answer),
        project=args.project,
        items=args.items,
        connections=args.connections,
        warmup=args.warmup,
        duration=args.duration,
        rounds=args.rounds,
        workloads=tuple(name for name in WORKLOADS if name in (args.workload or WORKLOADS)),
        run_dir=run_dir,
        wrk=wrk,
        baseline=args.baseline,
        baseline_commit=baseline_commit,
    )
    print(f"Logs and item ids go to {run_dir}", flush=True)
    started = time.monotonic()
    outcome = Outcome()
    try:
        run(settings, outcome)
    except EXPECTED_ERRORS as error:
        outcome.failures.append(str(error))
        print(f"\nThe benchmark stopped: {error}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("\nInterrupted: every process the benchmark started is stopped.", file=sys.stderr)
        return 130

    summary = summarize(outcome.measurements, settings.workloads)
    write_results(output, results_document(settings, outcome, summary, started_at.isoformat()))
    print()
    if summary:
        label = (
            f"the template at {args.baseline} ({baseline_commit[:12]})"
            if baseline_commit is not None
            else None
        )
        print(format_table(summary, label))
        print()
    if outcome.project and outcome.baseline:
        for difference in environment_differences(
            outcome.project.packages, outcome.baseline.packages
        ):
            print(f"note: the environments differ: {difference}")
    if outcome.project and outcome.project.copy_seconds is not None:
        print(f"copier copy: {outcome.project.copy_seconds:.1f}s")
    if outcome.baseline and outcome.baseline.copy_seconds is not None:
        print(f"copier copy (baseline): {outcome.baseline.copy_seconds:.1f}s")
    print(f"total wall time: {time.monotonic() - started:.1f}s")
    print(f"results: {output}")
    if outcome.failures:
        print("\nFAILED:", file=sys.stderr)
        for failure in outcome.failures:
            print(f"- {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
