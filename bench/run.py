"""One benchmark run: set everything up, measure every round, tear everything down."""

from __future__ import annotations

import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.api_client import seed_items
from bench.database import BenchDatabase
from bench.load import LoadError, LoadResult, run_wrk
from bench.processes import cpu_seconds, rss_megabytes
from bench.project import (
    BenchProject,
    ensure_environment,
    generate,
    issue_credential,
    migrate,
    open_project,
    prepare_authentication,
)
from bench.servers import TINY_RATE_LIMIT, Target, service_env, start_floor, start_service
from tests.postgres_server import ThrowawayPostgres
from tests.redis_server import ThrowawayRedis

if TYPE_CHECKING:
    from pathlib import Path

LOAD_CPUS = "1"


@dataclass(frozen=True)
class Settings:
    answers: dict[str, str]
    project: Path | None
    items: int
    connections: int
    warmup: float
    duration: float
    rounds: int
    workloads: tuple[str, ...]
    run_dir: Path
    wrk: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project) if self.project else None,
            "items": self.items,
            "connections": self.connections,
            "warmup_seconds": self.warmup,
            "duration_seconds": self.duration,
            "rounds": self.rounds,
            "workloads": list(self.workloads),
            "wrk_threads": 1,
            "server_cpus": "0",
            "load_cpus": LOAD_CPUS,
            "run_dir": str(self.run_dir),
        }


@dataclass
class Outcome:
    """Everything a run learned, complete or not; the report is built from it."""

    project: BenchProject | None = None
    postgres_bin_dir: str | None = None
    seed_seconds: float | None = None
    ready_seconds: dict[str, float] = field(default_factory=dict)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def target_order(round_number: int) -> tuple[str, str]:
    """Floor first in odd rounds, service first in even ones, so neither always goes first."""
    return ("floor", "service") if round_number % 2 else ("service", "floor")


def run(settings: Settings, outcome: Outcome) -> None:
    """Fill `outcome` as the run goes, so that a failure still leaves what was measured."""
    if settings.project is None:
        print("Generating the project (copier copy) ...", flush=True)
        outcome.project = generate(settings.run_dir / "project", settings.answers)
        print(f"copier copy took {outcome.project.copy_seconds:.1f}s", flush=True)
    else:
        outcome.project = open_project(settings.project)
    project = outcome.project
    ensure_environment(project)
    print(f"Project: {project.path} (package {project.package})", flush=True)

    with ExitStack() as stack:
        postgres = ThrowawayPostgres()
        stack.callback(postgres.stop)
        postgres.start()
        outcome.postgres_bin_dir = str(postgres.bin_dir)
        database = BenchDatabase(postgres)
        database.create()
        authentication = prepare_authentication(project, stack, settings.run_dir)
        extra_env = {**authentication.service_env}
        if project.answers.get("cache") == "redis":
            redis = ThrowawayRedis()
            stack.callback(redis.stop)
            redis.start()
            extra_env["REDIS__URL"] = redis.url
        env = {**service_env(database.url), **extra_env}
        migrate(project, env)

        service = start_service(project, database.url, settings.run_dir / "service.log", extra_env)
        stack.callback(service.process.stop)
        authorization = issue_credential(project, env, authentication, service.port)
        started = time.monotonic()
        ids = seed_items(service.port, settings.items, authorization)
        outcome.seed_seconds = time.monotonic() - started
        ids_file = settings.run_dir / "item-ids.txt"
        ids_file.write_text("".join(f"{item_id}\n" for item_id in ids), encoding="utf-8")
        print(f"Seeded {len(ids)} items in {outcome.seed_seconds:.1f}s", flush=True)

        floor = start_floor(project, database.asyncpg_dsn, settings.run_dir / "floor.log")
        stack.callback(floor.process.stop)
        targets = {"floor": floor, "service": service}
        outcome.ready_seconds = {name: target.ready_seconds for name, target in targets.items()}
        limited_targets = targets
        if "limited" in settings.workloads:
            limited = start_service(
                project,
                database.url,
                settings.run_dir / "service-limited.log",
                {**authentication.service_env, **TINY_RATE_LIMIT},
            )
            stack.callback(limited.process.stop)
            limited_targets = {"floor": floor, "service": limited}

        nonce = secrets.token_hex(4)
        for round_number in range(1, settings.rounds + 1):
            for workload in settings.workloads:
                serving = limited_targets if workload == "limited" else targets
                for name in target_order(round_number):
                    script_args = _script_args(workload, ids_file, nonce, name, round_number)
                    record = measure(
                        settings,
                        serving[name],
                        database,
                        workload,
                        script_args,
                        authorization=authorization,
                    )
                    record = {"round": round_number, **record}
                    outcome.measurements.append(record)
                    outcome.failures.extend(_problems(record))
                    _print_progress(record, settings.rounds)


def _script_args(
    workload: str, ids_file: Path, nonce: str, target: str, round_number: int
) -> dict[str, tuple[str, ...]]:
    """The Lua script's arguments for the warm-up and the measured phase."""
    if workload in ("get_one", "limited"):
        return {"warmup": (str(ids_file),), "measured": (str(ids_file),)}
    if workload == "create":
        prefix = f"bench-{nonce}-{target}-r{round_number}"
        return {"warmup": (f"{prefix}-warmup",), "measured": (f"{prefix}-measured",)}
    return {"warmup": (), "measured": ()}


def measure(
    settings: Settings,
    target: Target,
    database: BenchDatabase,
    workload: str,
    script_args: dict[str, tuple[str, ...]],
    *,
    authorization: str | None = None,
) -> dict[str, Any]:
    """Warm up, then measure one workload on one target; checks that the server survived.
    `authorization` goes with every request, to both targets."""
    rows_before = database.count_items() if workload == "create" else None
    warmup: LoadResult | None = None
    if settings.warmup > 0:
        warmup = _wrk(
            settings,
            target,
            workload,
            settings.warmup,
            script_args["warmup"],
            authorization=authorization,
        )
        target.process.check_alive()

    postgres_pid = database.server_pid()
    server_cpu, database_cpu = cpu_seconds(target.process.pid), cpu_seconds(postgres_pid)
    measured = _wrk(
        settings,
        target,
        workload,
        settings.duration,
        script_args["measured"],
        authorization=authorization,
    )
    server_cpu = cpu_seconds(target.process.pid) - server_cpu
    database_cpu = cpu_seconds(postgres_pid) - database_cpu
    target.process.check_alive()

    requests = max(measured.requests, 1)
    throttled = measured.answers_429 + (warmup.answers_429 if warmup else 0)
    expected_429 = throttled if workload == "limited" and target.name == "service" else 0
    record: dict[str, Any] = {
        "workload": workload,
        "target": target.name,
        "requests": measured.requests,
        "requests_per_second": round(measured.requests_per_second, 1),
        "p50_ms": measured.p50_us / 1000,
        "p99_ms": measured.p99_us / 1000,
        "non_2xx": measured.non_2xx + (warmup.non_2xx if warmup else 0) - expected_429,
        "answers_429": throttled,
        "socket_errors": measured.socket_errors + (warmup.socket_errors if warmup else 0),
        "cpu_us_per_request": round(server_cpu * 1e6 / requests, 1),
        "database_cpu_us_per_request": round(database_cpu * 1e6 / requests, 1),
        "rss_mb": round(rss_megabytes(target.process.pid), 1),
        "client_cpu_share": round(measured.client_cpu_seconds / (measured.duration_us / 1e6), 3)
        if measured.duration_us
        else None,
        "measured": measured.as_dict(),
        "warmup": warmup.as_dict() if warmup else None,
    }
    if rows_before is not None:
        stored = database.count_items() - rows_before
        acknowledged = measured.answers_2xx + (warmup.answers_2xx if warmup else 0)
        record["creates"] = {"acknowledged": acknowledged, "stored": stored}
    return record


def _wrk(
    settings: Settings,
    target: Target,
    workload: str,
    seconds: float,
    args: tuple[str, ...],
    *,
    authorization: str | None,
) -> LoadResult:
    try:
        return run_wrk(
            settings.wrk,
            workload,
            target.base_url,
            connections=settings.connections,
            seconds=seconds,
            script_args=args,
            cpus=LOAD_CPUS,
            authorization=authorization,
        )
    except LoadError:
        # wrk fails when it cannot connect: say so if the server is the reason.
        target.process.check_alive(grace=2)
        raise


def _problems(record: dict[str, Any]) -> list[str]:
    where = f"round {record['round']}, {record['workload']} on the {record['target']}"
    problems = []
    if record["non_2xx"]:
        problems.append(f"{where}: {record['non_2xx']} answers were not 2xx")
    if record["workload"] == "limited" and record["target"] == "service":
        answered, throttled = record["measured"]["requests"], record["measured"]["answers_429"]
        if throttled < answered - 1:
            problems.append(f"{where}: only {throttled} of {answered} answers were 429")
    if record["socket_errors"]:
        problems.append(f"{where}: {record['socket_errors']} socket errors or timeouts")
    if record["requests"] == 0:
        problems.append(f"{where}: no request completed")
    creates = record.get("creates")
    if creates and creates["stored"] < creates["acknowledged"]:
        problems.append(
            f"{where}: {creates['acknowledged']} creates were acknowledged but only "
            f"{creates['stored']} rows were stored"
        )
    return problems


def _print_progress(record: dict[str, Any], rounds: int) -> None:
    line = (
        f"round {record['round']}/{rounds}  {record['workload']:<8} {record['target']:<8}"
        f"{record['requests_per_second']:>10.1f} req/s  p50 {record['p50_ms']:.2f} ms  "
        f"p99 {record['p99_ms']:.2f} ms  {record['cpu_us_per_request']:.0f} us CPU/req"
    )
    if record["non_2xx"] or record["socket_errors"]:
        line += f"  non-2xx {record['non_2xx']}, socket errors {record['socket_errors']}"
    if "creates" in record:
        line += f"  stored {record['creates']['stored']}/{record['creates']['acknowledged']}"
    print(line, flush=True)
