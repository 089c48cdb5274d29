"""Each answer to `auth` generates its own mode and nothing of the others.

The words below belong to one mode each; a generated project may use only its own mode's. So
a project without authentication carries no auth code, setting, dependency or paragraph, and
switching modes leaves nothing of another behind. The migrations are the exception: their
job is to carry a database migrated under one answer to another, so they know what the other
answers created.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch

from tests.harness import CHOICES, Combination, Project
from tests.test_render import relative, text_files

ANY_AUTH = "any"
"""The words every mode with authentication uses, and a project without it must not."""

MODE_WORDS: dict[str, re.Pattern[str]] = {
    ANY_AUTH: re.compile(
        r"authenticat|\bauthoriz|\bbearer\b|www-authenticate|credential|\bowner|"
        r"insufficient_scope|\bprincipals\b|items:(?:read|write)",
        re.IGNORECASE,
    ),
    "api_key": re.compile(r"\bapi[_ -]?keys?\b|x-api-key", re.IGNORECASE),
    "jwt": re.compile(r"pwdlib|argon2|refresh_tokens?\b|create-user", re.IGNORECASE),
    "oidc": re.compile(r"\boidc\b|\bjwks\b|openid|identity provider", re.IGNORECASE),
}

SKIPPED_FILES = frozenset({"uv.lock"})
"""The lock file names every package of the environment, dependencies of tools included."""
MIGRATION_FILES = (
    "migrations/versions/*_items_without_owners.py",
    "src/*/infrastructure/mongo/migrations.py",
    "tests/integration/test_mongo_migrations.py",
)
"""What migrates a database across auth answers, and its tests."""


def _forbidden(auth: str) -> dict[str, re.Pattern[str]]:
    own = {auth} if auth == "none" else {auth, ANY_AUTH}
    return {mode: words for mode, words in MODE_WORDS.items() if mode not in own}


def test_every_mode_has_its_words() -> None:
    assert set(CHOICES["auth"]) - {"none"} <= set(MODE_WORDS)


def test_a_project_holds_nothing_of_the_other_auth_modes(
    project: Project, combination: Combination
) -> None:
    found = []
    forbidden = _forbidden(combination.auth)
    for path, text in text_files(project):
        if path.name in SKIPPED_FILES or any(
            fnmatch(relative(project, path), pattern) for pattern in MIGRATION_FILES
        ):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for mode, words in forbidden.items():
                match = words.search(line)
                if match:
                    found.append(f"{relative(project, path)}:{number}: {match[0]!r} ({mode})")
    assert not found, "words of another auth mode:\n" + "\n".join(found)
