"""Jinja filters and globals used by copier.yml and the template files.

Copier loads this module through ``copier_template_extensions``; the functions are plain
Python so that ``tests/test_extensions.py`` can exercise them without rendering anything.

Validation functions return an error sentence, or an empty string when the value is
acceptable: that is the contract of a Copier ``validator:``.
"""

from __future__ import annotations

import datetime
import keyword
import re
import secrets
import sys
import unicodedata
from typing import TYPE_CHECKING

from jinja2.ext import Extension

if TYPE_CHECKING:
    from jinja2 import Environment

PROJECT_NAME_MAX_LENGTH = 40
AUTHOR_NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254

# Import names of the generated service's dependencies: a package with one of these names
# would shadow the library it depends on.
DEPENDENCY_IMPORT_NAMES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "asyncpg",
        "coverage",
        "fastapi",
        "httpx",
        "hatchling",
        "mypy",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "pytest_asyncio",
        "pytest_cov",
        "ruff",
        "sqlalchemy",
        "starlette",
        "uvicorn",
    }
)

# Soft keywords of every supported Python version (``type`` became one in 3.12).
SOFT_KEYWORDS = frozenset({"_", "case", "match", "type"})

# ``sys.stdlib_module_names`` leaves out the regression-test package.
EXTRA_STDLIB_NAMES = frozenset({"test"})

# Top-level folders of the generated project that tools import or collect by name.
RESERVED_PACKAGE_NAMES = frozenset({"migrations", "src", "tests", "docs"})

_ALLOWED_NAME_PUNCTUATION = frozenset(" -_.")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9._%+-]+@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+$")
_UNSAFE_TEXT = frozenset('"\\`')


def _ascii_fold(text: str) -> str:
    """Strip accents so that "Café" becomes "Cafe"; characters without an ASCII form drop out."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def to_slug(project_name: str) -> str:
    """Distribution and repository name: lower case words joined by hyphens."""
    return _SEPARATORS.sub("-", _ascii_fold(project_name).lower()).strip("-")


def to_package_name(project_name: str) -> str:
    """Python import name: the slug with underscores."""
    return to_slug(project_name).replace("-", "_")


def project_name_error(project_name: object) -> str:
    """Explain why a project name cannot be used, or return "" when it can."""
    if not isinstance(project_name, str) or not project_name.strip():
        return "The project name must not be empty."
    name = project_name
    if name != name.strip():
        return "The project name must not start or end with spaces."
    if len(name) > PROJECT_NAME_MAX_LENGTH:
        return (
            f"The project name must be at most {PROJECT_NAME_MAX_LENGTH} characters long; "
            f"this one has {len(name)}."
        )
    for char in name:
        if not (char.isalnum() or char in _ALLOWED_NAME_PUNCTUATION):
            return (
                "The project name may only contain letters, digits, spaces, hyphens, "
                f"underscores and dots; {char!r} is not allowed because the name is written "
                "into Python, TOML and YAML files."
            )
    slug = to_slug(name)
    if not any(char.isalpha() for char in slug):
        return (
            "The project name must contain at least one ASCII letter (accented letters "
            "count), because the package name is derived from it."
        )
    if not _PEP508_NAME.match(slug):
        return f"The project name gives {slug!r}, which is not a valid Python distribution name."
    package = to_package_name(name)
    if slug[0].isdigit():
        return (
            "The project name must start with a letter, because the Python package name "
            f"{package!r} derived from it would otherwise start with a digit."
        )
    if keyword.iskeyword(package) or package in SOFT_KEYWORDS:
        return (
            f"The project name gives the package name {package!r}, which is a Python "
            "keyword and cannot be imported; choose another name."
        )
    if package in sys.stdlib_module_names or package in EXTRA_STDLIB_NAMES:
        return (
            f"The project name gives the package name {package!r}, which is a module of "
            "the Python standard library and would shadow it; choose another name."
        )
    if package in DEPENDENCY_IMPORT_NAMES:
        return (
            f"The project name gives the package name {package!r}, which is a library the "
            "generated service depends on and would shadow it; choose another name."
        )
    if package in RESERVED_PACKAGE_NAMES:
        return (
            f"The project name gives the package name {package!r}, which is already a "
            "folder of the generated project; choose another name."
        )
    return ""


def _plain_text_error(what: str, value: object, max_length: int, *, required: bool) -> str:
    if not isinstance(value, str):
        return f"The {what} must be text."
    text = value.strip()
    if not text:
        return f"The {what} must not be empty." if required else ""
    if len(text) > max_length:
        return f"The {what} must be at most {max_length} characters long; this one has {len(text)}."
    if any(unicodedata.category(char) == "Cc" for char in value):
        return f"The {what} must fit on one line without tabs or other control characters."
    if any(char in _UNSAFE_TEXT for char in text):
        return (
            f"The {what} must not contain double quotes, backslashes or backticks, because "
            "it is written verbatim into TOML, YAML and Markdown files."
        )
    return ""


def description_error(description: object) -> str:
    """Explain why a project description cannot be used, or return ""."""
    return _plain_text_error(
        "project description", description, DESCRIPTION_MAX_LENGTH, required=True
    )


def author_name_error(author_name: object) -> str:
    """Explain why an author name cannot be used, or return ""."""
    return _plain_text_error("author name", author_name, AUTHOR_NAME_MAX_LENGTH, required=True)


def email_error(email: object) -> str:
    """Explain why an e-mail address cannot be used, or return ""."""
    if not isinstance(email, str) or not email.strip():
        return "The author e-mail address must not be empty; it goes into the package metadata."
    address = email.strip()
    if len(address) > EMAIL_MAX_LENGTH:
        return f"The author e-mail address must be at most {EMAIL_MAX_LENGTH} characters long."
    if address != email:
        return "The author e-mail address must not start or end with spaces."
    if not _EMAIL.match(address):
        return (
            f"{address!r} does not look like an e-mail address; expected something like "
            "name@example.com, with no spaces or quotes."
        )
    return ""


def random_secret(nbytes: int = 48) -> str:
    """A URL-safe random string, different on every call (about 1.3 characters per byte)."""
    return secrets.token_urlsafe(nbytes)


def current_year() -> int:
    return datetime.datetime.now(tz=datetime.UTC).year


FILTERS = {
    "to_slug": to_slug,
    "to_package_name": to_package_name,
    "project_name_error": project_name_error,
    "description_error": description_error,
    "author_name_error": author_name_error,
    "email_error": email_error,
}


class FoundryExtension(Extension):
    """Registers the filters above and the ``random_secret()`` / ``current_year`` globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.globals["random_secret"] = random_secret
        environment.globals["current_year"] = current_year()
