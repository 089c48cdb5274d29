"""Every generated OpenAPI document passes Redocly CLI's and Spectral's rules without a finding.

The linters run in the generated project, so they read its own configuration (`redocly.yaml`,
`.redocly.lint-ignore.yaml`, `.spectral.yaml`), where each rule it turns off says why.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.harness import OPENAPI_LINTERS, QUIET_REDOCLY, OpenApiLinters, Project, clean_env, run

if TYPE_CHECKING:
    from pathlib import Path

DOCUMENT = "docs/openapi.json"
SPECTRAL_SEVERITIES = {0: "error", 1: "warning", 2: "info", 3: "hint"}


def lint(project: Project, command: list[str | Path], step: str) -> str:
    result = run(
        [str(part) for part in command],
        cwd=project.path,
        step=f"{step} (py{project.answers['python_version']})",
        timeout=180,
        env=clean_env(QUIET_REDOCLY),
        check=False,
    )
    assert result.stdout.strip(), f"{step} printed no report:\n{result.stderr}"
    return result.stdout


def test_redocly_recommended_rules_pass(project: Project, openapi_linters: OpenApiLinters) -> None:
    report = json.loads(
        lint(project, [openapi_linters.redocly, "lint", "--format=json", DOCUMENT], "redocly lint")
    )
    problems = [
        f"{problem['severity']} {problem['ruleId']}: {problem['message']} "
        f"at {', '.join(location['pointer'] for location in problem['location'])}"
        for problem in report["problems"]
        if not problem.get("ignored")
    ]

    assert problems == []
    assert report["totals"]["errors"] == report["totals"]["warnings"] == 0


def test_spectral_oas_rules_pass(project: Project, openapi_linters: OpenApiLinters) -> None:
    assert "spectral:oas" in (project.path / ".spectral.yaml").read_text(encoding="utf-8")

    results = json.loads(
        lint(
            project,
            [openapi_linters.spectral, "lint", "--format=json", "--quiet", DOCUMENT],
            "spectral lint",
        )
    )
    findings = [
        f"{SPECTRAL_SEVERITIES[result['severity']]} {result['code']}: {result['message']} "
        f"at {'.'.join(map(str, result['path']))}"
        for result in results
    ]

    assert findings == []


def test_make_lint_openapi_uses_the_tested_versions(project: Project) -> None:
    makefile = (project.path / "Makefile").read_text(encoding="utf-8")

    for package, version in OPENAPI_LINTERS.items():
        assert f"{package}@{version}\n" in makefile
    assert "lint-openapi:" in makefile
