"""One benchmark run: set everything up, measure every round, tear everything down."""

from __future__ import annotations

import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bench.api_client import seed_items
from bench.database import BASELINE_DATABASE_NAME, BenchDatabase, BenchMongoDatabase
from bench.load import LoadError, LoadResult, run_wrk
from bench.processes import cpu_seconds, rss_megabytes
from bench.project import (
    Authentication,
    BenchProject,
    ensure_environment,
    generate,
    generate_baseline,
    generate_variant,
    issue_credential,
    migrate,
    open_project,
    prepare_authentication,
)
from bench.servers import TINY_RATE_LIMIT, Target, service_env, start_floor, start_service
from tests.harness import with_database
from tests.mongo_server import ThrowawayMongo, server_version
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
    baseline: str | None = None
    """--baseline as given: the git ref of the template whose project is measured alongside."""
    baseline_commit: str | None = None
    """The commit id `baseline` names."""

    def as_dict(self) -> dict[str, Any]:
        settings = {
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
        if self.baseline is not None:
            settings["baseline"] = {"ref": self.baseline, "commit": self.baseline_commit}
        return settings


@dataclass
class Outcome:
    """Everything a run learned, complete or not; the report is built from it."""

    project: BenchProject | None = None
    postgres_variant: BenchProject | None = None
    """For a mongo project: the project generated with the same answers but database=postgres."""
    baseline: BenchProject | None = None
    """With --baseline: the project generated with the same answers from the template at REF."""
    postgres_bin_dir: str | None = None
    mongo_server: str | None = None
    seed_seconds: float | None = None
    ready_seconds: dict[str, float] = field(default_factory=dict)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


POSTGRES_VARIANT = "postgres"
"""The target name of a mongo project's PostgreSQL variant."""
COMPARED_WORKLOADS = ("get_one", "create")
"""The workloads a mongo project's run also measures on its PostgreSQL variant."""
BASELINE = "baseline"
"""The target name of the project generated from the template at --baseline REF."""
SERVICES = ("service", BASELINE)
"""The targets that are a generated service: their rate limit answers the `limited` workload."""
BASELINE_REDIS_DATABASE = 1
"""The baseline's cache lives in another database of the same Redis server (the service's is 0),
so that neither reads what the other stored."""


@dataclass
class Deployment:
    """A service under load with what it runs on: its store, its caller's credential and the
    ids of the items seeded into its store."""

    target: Target
    store: BenchDatabase | BenchMongoDatabase
    authorization: str | None
    ids_file: Path


def target_order(
    round_number: int, names: tuple[str, ...] = ("floor", "service")
) -> tuple[str, ...]:
    """Floor first in odd rounds, last in even ones, so that no target always goes first (nor
    the service always before the baseline)."""
    return names if round_number % 2 else names[::-1]


def run(settings: Settings, outcome: Outcome) -> None:
    """Fill `outcome` as the run goes, so that a failure still leaves what was measured.

    A mongo project runs on a throwaway MongoDB-wire server. Its floor stays the raw
    PostgreSQL app, which needs the items table: the project's PostgreSQL variant (same
    answers, database=postgres) provides it, and is measured too on `get_one` and `create`,
    so the run reports the two variants side by side.

    With a baseline (--baseline REF), the project generated from the template at REF with the
    same answers runs beside the service: on the same database server (a database of its own),
    with the same settings, credential kind and Redis server, pinned to the same CPU, and it
    is measured on every workload in the same rounds.
    """
    project = _prepare_project(settings, outcome)
    mongo = project.answers.get("database") == "mongo"
    if mongo:
        print("Generating the PostgreSQL variant for the floor and the comparison ...", flush=True)
        outcome.postgres_variant = generate_variant(
            settings.run_dir / "postgres-variant", project, database=POSTGRES_VARIANT
        )
        ensure_environment(outcome.postgres_variant)
    baseline = _prepare_baseline(settings, outcome, project)
    relational = outcome.postgres_variant or project

    with ExitStack() as stack:
        postgres = ThrowawayPostgres()
        stack.callback(postgres.stop)
        postgres.start()
        outcome.postgres_bin_dir = str(postgres.bin_dir)
        database = BenchDatabase(postgres)
        database.create()
        authentication = prepare_authentication(project, stack, settings.run_dir)
        extra_env, baseline_env = _services_env(project, stack, authentication)

        store: BenchDatabase | BenchMongoDatabase = database
        baseline_store: BenchDatabase | BenchMongoDatabase = BenchDatabase(
            postgres, BASELINE_DATABASE_NAME
        )
        if mongo:
            server = ThrowawayMongo()
            stack.callback(server.stop)
            server.start()
            outcome.mongo_server = f"SecantusDB {server_version()}"
            store = BenchMongoDatabase(server)
            baseline_store = BenchMongoDatabase(server, BASELINE_DATABASE_NAME)
        deployer = _Deployer(settings, outcome, stack, authentication, extra_env)
        deployments = {"service": deployer.deploy(project, store)}
        if baseline is not None:
            if isinstance(baseline_store, BenchDatabase):
                baseline_store.create()
            deployments[BASELINE] = replace(deployer, extra_env=baseline_env).deploy(
                baseline, baseline_store, BASELINE
            )
        if mongo:
            deployments[POSTGRES_VARIANT] = deployer.deploy(relational, database, POSTGRES_VARIANT)
        service = deployments["service"]
        floor = start_floor(relational, database.asyncpg_dsn, settings.run_dir / "floor.log")
        stack.callback(floor.process.stop)
        deployments["floor"] = Deployment(
            floor,
            database,
            service.authorization,
            deployments[POSTGRES_VARIANT if mongo else "service"].ids_file,
        )
        outcome.ready_seconds = {name: d.target.ready_seconds for name, d in deployments.items()}
        limited = deployments
        if "limited" in settings.workloads:
            services = {"service": project} | ({BASELINE: baseline} if baseline else {})
            limited = _rate_limited(
                settings,
                stack,
                deployments,
                services,
                {**authentication.service_env, **TINY_RATE_LIMIT},
            )
        _measure_rounds(settings, outcome, deployments, limited)


def _services_env(
    project: BenchProject, stack: ExitStack, authentication: Authentication
) -> tuple[dict[str, str], dict[str, str]]:
    """The settings the service and the baseline get on top of `service_env`: what their
    credential needs and, for `cache=redis`, a throwaway Redis server (a database each)."""
    service = {**authentication.service_env}
    baseline = {**authentication.service_env}
    if project.answers.get("cache") == "redis":
        redis = ThrowawayRedis()
        stack.callback(redis.stop)
        redis.start()
        service["REDIS__URL"] = redis.url
        baseline["REDIS__URL"] = with_database(redis.url, str(BASELINE_REDIS_DATABASE))
    return service, baseline


def _prepare_baseline(
    settings: Settings, outcome: Outcome, project: BenchProject
) -> BenchProject | None:
    """With --baseline, the project generated again from the template at that commit."""
    if settings.baseline_commit is None:
        return None
    print(
        f"Generating the baseline from the template at {settings.baseline} "
        f"({settings.baseline_commit[:12]}) ...",
        flush=True,
    )
    outcome.baseline = generate_baseline(
        settings.run_dir / "baseline", project, settings.baseline_commit
    )
    print(f"copier copy (baseline) took {outcome.baseline.copy_seconds:.1f}s", flush=True)
    ensure_environment(outcome.baseline)
    return outcome.baseline


def _rate_limited(
    settings: Settings,
    stack: ExitStack,
    deployments: dict[str, Deployment],
    services: dict[str, BenchProject],
    env: dict[str, str],
) -> dict[str, Deployment]:
    """The deployments for the `limited` workload: each service (by target name) replaced by a
    second process of it on the same store, started with `env` (the tiny rate limit)."""
    limited = dict(deployments)
    for name, project in services.items():
        deployment = deployments[name]
        log = settings.run_dir / f"{name}-limited.log"
        target = start_service(project, deployment.store.url, log, env)
        stack.callback(target.process.stop)
        target.name = name
        if name == BASELINE:
            target.process.name = "the baseline service (rate-limited)"
        limited[name] = replace(deployment, target=target)
    return limited


def _prepare_project(settings: Settings, outcome: Outcome) -> BenchProject:
    if settings.project is None:
        print("Generating the project (copier copy) ...", flush=True)
        outcome.project = generate(settings.run_dir / "project", settings.answers)
        print(f"copier copy took {outcome.project.copy_seconds:.1f}s", flush=True)
    else:
        outcome.project = open_project(settings.project)
    ensure_environment(outcome.project)
    print(f"Project: {outcome.project.path} (package {outcome.project.package})", flush=True)
    return outcome.project


@dataclass(frozen=True)
class _Deployer:
    """What every service of a run shares: the settings, the credential's source, Redis."""

    settings: Settings
    outcome: Outcome
    stack: ExitStack
    authentication: Authentication
    extra_env: dict[str, str]

    def deploy(
        self,
        project: BenchProject,
        store: BenchDatabase | BenchMongoDatabase,
        name: str = "service",
    ) -> Deployment:
        """Migrate the store, start the service on it, issue its caller's credential, seed it."""
        run_dir = self.settings.run_dir
        env = {**service_env(store.url), **self.extra_env}
        migrate(project, env)
        target = start_service(project, store.url, run_dir / f"{name}.log", self.extra_env)
        target.name = name
        if name == BASELINE:
            target.process.name = "the baseline service"
        self.stack.callback(target.process.stop)
        authorization = issue_credential(project, env, self.authentication, target.port)
        started = time.monotonic()
        ids = seed_items(target.port, self.settings.items, authorization)
        seconds = time.monotonic() - started
        if name == "service":
            self.outcome.seed_seconds = seconds
        ids_file = run_dir / ("item-ids.txt" if name == "service" else f"item-ids-{name}.txt")
        ids_file.write_text("".join(f"{item_id}\n" for item_id in ids), encoding="utf-8")
        print(f"Seeded {len(ids)} items into the {name} in {seconds:.1f}s", flush=True)
        return Deployment(target, store, authorization, ids_file)


def _measure_rounds(
    settings: Settings,
    outcome: Outcome,
    deployments: dict[str, Deployment],
    limited: dict[str, Deployment],
) -> None:
    names = tuple(
        name for name in ("floor", "service", BASELINE, POSTGRES_VARIANT) if name in deployments
    )
    nonce = secrets.token_hex(4)
    for round_number in range(1, settings.rounds + 1):
        for workload in settings.workloads:
            serving = limited if workload == "limited" else deployments
            for name in target_order(round_number, names):
                if name == POSTGRES_VARIANT and workload not in COMPARED_WORKLOADS:
                    continue
                deployment = serving[name]
                script_args = _script_args(workload, deployment.ids_file, nonce, name, round_number)
                record = measure(
                    settings,
                    deployment.target,
                    deployment.store,
                    workload,
                    script_args,
                    authorization=deployment.authorization,
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
    database: BenchDatabase | BenchMongoDatabase,
    workload: str,
    script_args: dict[str, tuple[str, ...]],
    *,
    authorization: str | None = None,
) -> dict[str, Any]:
    """Warm up, then measure one workload on one target; checks that the server survived.
    `authorization` goes with every request; `database` is the store the target runs on."""
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

    database_pid = database.server_pid()
    server_cpu, database_cpu = cpu_seconds(target.process.pid), cpu_seconds(database_pid)
    measured = _wrk(
        settings,
        target,
        workload,
        settings.duration,
        script_args["measured"],
        authorization=authorization,
    )
    server_cpu = cpu_seconds(target.process.pid) - server_cpu
    database_cpu = cpu_seconds(database_pid) - database_cpu
    target.process.check_alive()

    requests = max(measured.requests, 1)
    throttled = measured.answers_429 + (warmup.answers_429 if warmup else 0)
    expected_429 = throttled if workload == "limited" and target.name in SERVICES else 0
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
    if record["workload"] == "limited" and record["target"] in SERVICES:
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
