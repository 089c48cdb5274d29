"""From measurements to the summary table on stdout and the JSON results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.run import Outcome, Settings

TARGETS = ("floor", "service")
POSTGRES_VARIANT = "postgres"
"""A mongo project's PostgreSQL variant, measured on some workloads as a third target."""
BASELINE = "baseline"
"""The project generated from the template at --baseline REF, measured on every workload."""
BUSY_CLIENT = 0.9
"""Above this share of one CPU, wrk may have limited the rate it measured."""


def summarize(measurements: list[dict[str, Any]], workloads: tuple[str, ...]) -> dict[str, Any]:
    """Per workload and target: means over rounds (RSS: the largest), errors summed.

    The ratio is service/floor requests per second, computed within each round (both
    targets measured minutes apart at most) and then averaged over the rounds. Where a mongo
    project's PostgreSQL variant was measured too, `versus_postgres` is service/variant
    requests per second, computed the same way.

    Where a baseline was measured (--baseline REF), `baseline_ratio` is baseline/floor and
    `versus_baseline` service/baseline requests per second, both computed within each round and
    averaged; `cpu_versus_baseline` is the service's mean CPU per request over the baseline's.
    """
    summary: dict[str, Any] = {}
    for workload in workloads:
        rows = [row for row in measurements if row["workload"] == workload]
        by_target = {name: [row for row in rows if row["target"] == name] for name in TARGETS}
        if not all(by_target.values()):
            continue
        entry: dict[str, Any] = {name: _target_summary(by_target[name]) for name in TARGETS}
        ratios = _ratios(by_target["service"], by_target["floor"])
        entry["ratios"] = [round(ratio, 4) for ratio in ratios]
        entry["ratio"] = round(statistics.fmean(ratios), 4) if ratios else None
        variant = [row for row in rows if row["target"] == POSTGRES_VARIANT]
        if variant:
            entry[POSTGRES_VARIANT] = _target_summary(variant)
            versus = _ratios(by_target["service"], variant)
            entry["versus_postgres_ratios"] = [round(ratio, 4) for ratio in versus]
            entry["versus_postgres"] = round(statistics.fmean(versus), 4) if versus else None
        baseline = [row for row in rows if row["target"] == BASELINE]
        if baseline:
            entry.update(_baseline_summary(by_target["service"], baseline, by_target["floor"]))
        summary[workload] = entry
    return summary


def _baseline_summary(
    service: list[dict[str, Any]], baseline: list[dict[str, Any]], floor: list[dict[str, Any]]
) -> dict[str, Any]:
    """The baseline's numbers, and the service's over the baseline's, paired round by round."""

    def mean(ratios: list[float]) -> float | None:
        return round(statistics.fmean(ratios), 4) if ratios else None

    to_floor, versus = _ratios(baseline, floor), _ratios(service, baseline)
    summary = _target_summary(baseline)
    service_cpu = _target_summary(service)["cpu_us_per_request"]
    return {
        BASELINE: summary,
        "baseline_ratios": [round(ratio, 4) for ratio in to_floor],
        "baseline_ratio": mean(to_floor),
        "versus_baseline_ratios": [round(ratio, 4) for ratio in versus],
        "versus_baseline": mean(versus),
        "cpu_versus_baseline": round(service_cpu / summary["cpu_us_per_request"], 4)
        if summary["cpu_us_per_request"]
        else None,
    }


def _ratios(measured: list[dict[str, Any]], reference: list[dict[str, Any]]) -> list[float]:
    """Requests per second of `measured` over `reference`, one ratio per round both ran."""
    ratios = []
    for reference_row in reference:
        row = next((row for row in measured if row["round"] == reference_row["round"]), None)
        if row and reference_row["requests_per_second"]:
            ratios.append(row["requests_per_second"] / reference_row["requests_per_second"])
    return ratios


def _target_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str) -> float:
        return round(statistics.fmean(row[key] for row in rows), 3)

    result: dict[str, Any] = {
        "rounds": len(rows),
        "requests_per_second": round(statistics.fmean(r["requests_per_second"] for r in rows), 1),
        "p50_ms": mean("p50_ms"),
        "p99_ms": mean("p99_ms"),
        "cpu_us_per_request": round(mean("cpu_us_per_request"), 1),
        "database_cpu_us_per_request": round(mean("database_cpu_us_per_request"), 1),
        "rss_mb": max(row["rss_mb"] for row in rows),
        "client_cpu_share": max(row["client_cpu_share"] or 0 for row in rows),
        "non_2xx": sum(row["non_2xx"] for row in rows),
        "socket_errors": sum(row["socket_errors"] for row in rows),
    }
    creates = [row["creates"] for row in rows if "creates" in row]
    if creates:
        result["creates"] = {
            "acknowledged": sum(c["acknowledged"] for c in creates),
            "stored": sum(c["stored"] for c in creates),
        }
    return result


def format_table(summary: dict[str, Any], baseline_label: str | None = None) -> str:
    """The summary as a table, with a mongo project's comparison with its PostgreSQL variant
    and, given `baseline_label` (e.g. `the template at HEAD (bf048557)`), the paired comparison
    with the baseline under it."""
    header = (
        "workload",
        "floor req/s",
        "service req/s",
        "ratio",
        "floor p50/p99 ms",
        "service p50/p99 ms",
        "floor CPU us/req",
        "service CPU us/req",
        "non-2xx",
        "RSS MB floor/service",
    )
    rows = [header]
    for workload, entry in summary.items():
        floor, service = entry["floor"], entry["service"]
        errors = sum(entry[name]["non_2xx"] + entry[name]["socket_errors"] for name in TARGETS)
        non_2xx = floor["non_2xx"] + service["non_2xx"]
        rows.append(
            (
                workload,
                f"{floor['requests_per_second']:.0f}",
                f"{service['requests_per_second']:.0f}",
                f"{entry['ratio']:.3f}" if entry["ratio"] is not None else "-",
                f"{floor['p50_ms']:.2f} / {floor['p99_ms']:.2f}",
                f"{service['p50_ms']:.2f} / {service['p99_ms']:.2f}",
                f"{floor['cpu_us_per_request']:.0f}",
                f"{service['cpu_us_per_request']:.0f}",
                str(non_2xx) if errors == non_2xx else f"{non_2xx} (+{errors - non_2xx} socket)",
                f"{floor['rss_mb']:.0f} / {service['rss_mb']:.0f}",
            )
        )
    lines = _aligned(rows)
    for workload, entry in summary.items():
        for name in (*TARGETS, BASELINE) if BASELINE in entry else TARGETS:
            share = entry[name]["client_cpu_share"]
            if share > BUSY_CLIENT:
                lines.append(
                    f"note: wrk used {share:.0%} of its CPU in {workload} on the {name}, so that "
                    "rate may be wrk's limit rather than the server's"
                )
        if "creates" in entry["floor"]:
            lines.append("")
            lines.append(
                f"{workload}: rows stored / creates acknowledged: "
                + ", ".join(
                    f"{name} {entry[name]['creates']['stored']} / "
                    f"{entry[name]['creates']['acknowledged']}"
                    for name in (*TARGETS, BASELINE, POSTGRES_VARIANT)
                    if name in entry
                )
            )
    compared = {workload: entry for workload, entry in summary.items() if POSTGRES_VARIANT in entry}
    if compared:
        lines.append("")
        lines.append(
            "The mongo service against its PostgreSQL variant (same answers, same rounds):"
        )
        for workload, entry in compared.items():
            variant = entry[POSTGRES_VARIANT]
            versus = entry["versus_postgres"]
            lines.append(
                f"  {workload}: {entry['service']['requests_per_second']:.0f} vs "
                f"{variant['requests_per_second']:.0f} req/s, ratio "
                + (f"{versus:.3f}" if versus is not None else "-")
                + f"; p50/p99 {variant['p50_ms']:.2f} / {variant['p99_ms']:.2f} ms on PostgreSQL"
            )
    if baseline_label is not None and any(BASELINE in entry for entry in summary.values()):
        lines.append("")
        lines.append(
            f"The service against the baseline, {baseline_label}, with the same answers, in the "
            "same rounds (service/baseline paired within each round):"
        )
        lines.extend(_baseline_table(summary))
    return "\n".join(lines)


def _baseline_table(summary: dict[str, Any]) -> list[str]:
    def ratio(value: float | None) -> str:
        return f"{value:.3f}" if value is not None else "-"

    rows = [
        (
            "workload",
            "service/floor",
            "baseline/floor",
            "service/baseline",
            "per round",
            "CPU us/req service/baseline",
        )
    ]
    for workload, entry in summary.items():
        if BASELINE not in entry:
            continue
        service_cpu = entry["service"]["cpu_us_per_request"]
        baseline_cpu = entry[BASELINE]["cpu_us_per_request"]
        rows.append(
            (
                workload,
                ratio(entry["ratio"]),
                ratio(entry["baseline_ratio"]),
                ratio(entry["versus_baseline"]),
                " ".join(f"{value:.3f}" for value in entry["versus_baseline_ratios"]) or "-",
                f"{service_cpu:.0f} / {baseline_cpu:.0f} ({ratio(entry['cpu_versus_baseline'])})",
            )
        )
    return ["  " + line for line in _aligned(rows)]


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """The rows as lines of columns, the first left-aligned, the others right-aligned, with a
    rule under the header."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def environment_differences(candidate: dict[str, str], baseline: dict[str, str]) -> list[str]:
    """The server stack's packages whose versions differ between the two environments, e.g.
    `fastapi 0.165.0 (service) / 0.164.2 (baseline)`: they move the ratio too."""
    return [
        f"{name} {candidate.get(name, 'absent')} (service) / {baseline.get(name, 'absent')} "
        "(baseline)"
        for name in sorted(set(candidate) | set(baseline))
        if candidate.get(name) != baseline.get(name)
    ]


def machine_info(settings: Settings) -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or None,
    )
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": _first_line([settings.wrk, "--version"]),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _first_line(command: list[str]) -> str | None:
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def results_document(
    settings: Settings, outcome: Outcome, summary: dict[str, Any], started_at: str
) -> dict[str, Any]:
    project, variant = outcome.project, outcome.postgres_variant
    document: dict[str, Any] = {
        "format": 1,
        "started_at": started_at,
        "answers": project.answers if project else settings.answers,
        "project": str(project.path) if project else None,
        "package": project.package if project else None,
        "copier_copy_seconds": round(project.copy_seconds, 2)
        if project and project.copy_seconds is not None
        else None,
        "machine": machine_info(settings),
        "software": {
            "project_environment": project.packages if project else {},
            "postgres_bin_dir": outcome.postgres_bin_dir,
            "mongo_server": outcome.mongo_server,
            "postgres_variant": str(variant.path) if variant else None,
            "postgres_variant_environment": variant.packages if variant else None,
        },
        "settings": settings.as_dict(),
        "seed_seconds": round(outcome.seed_seconds, 2) if outcome.seed_seconds else None,
        "ready_seconds": {name: round(value, 2) for name, value in outcome.ready_seconds.items()},
        "measurements": outcome.measurements,
        "summary": summary,
        "failures": outcome.failures,
        "passed": not outcome.failures,
    }
    if settings.baseline is not None:
        baseline = outcome.baseline
        document["baseline"] = {
            "ref": settings.baseline,
            "commit": settings.baseline_commit,
            "project": str(baseline.path) if baseline else None,
            "copier_copy_seconds": round(baseline.copy_seconds, 2)
            if baseline and baseline.copy_seconds is not None
            else None,
            "environment": baseline.packages if baseline else {},
            "environment_differences": environment_differences(
                project.packages if project else {}, baseline.packages if baseline else {}
            )
            if baseline
            else [],
        }
    return document


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
