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


# --- Resources (`make resource NAME=... FIELDS=...`) -------------------------------------

RESOURCE_NAME_MAX_LENGTH = 40
RESERVED_RESOURCE_NAMES = frozenset(
    {
        "api_keys",
        "auth",
        "custom",
        "docs",
        "health",
        "idempotency",
        "idempotency_keys",
        "items",
        "metrics",
        "openapi",
        "redoc",
        "refresh_tokens",
        "resources",
        "schema_migrations",
        "users",
    }
)
"""Paths, tables and modules the service already has under another meaning."""
RESERVED_FIELD_NAMES = frozenset(
    {
        "created_after",
        "created_at",
        "created_before",
        "cursor",
        "id",
        "limit",
        "owner_id",
        "sort",
        "updated_at",
        "version",
    }
)
"""Fields every resource has, and the listing's own query parameters."""
FIELD_TYPES = ("str", "text", "int", "decimal", "bool", "date", "datetime", "uuid", "enum", "ref")
FIELD_FLAGS = ("unique", "sort", "filter")
SORTABLE_TYPES = ("str", "int", "datetime")
_SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_FIELD_HEAD = re.compile(
    r"^(?P<name>[^:\s]+):(?P<type>[a-z]+)(?:\((?P<args>[^()]*)\))?(?P<optional>\?)?"
    r"(?:=(?P<default>\S+))?$"
)
_BOUND = re.compile(r"^(?P<op>>=|<=)(?P<value>-?\d+(?:\.\d+)?)$")
_RANGE = re.compile(r"^(?P<low>\d*)\.\.(?P<high>\d*)$")
_INTEGER = re.compile(r"^-?\d+$")
_INTEGER_RANGE = re.compile(r"^(-?\d*)\.\.(-?\d*)$")
_PRECISION_SCALE = re.compile(r"^\s*(\d+)\s*,\s*(\d+)\s*$")
_DECIMAL = re.compile(r"^-?\d+(?:\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STR_DEFAULT_BOUNDS = (1, 200)
TEXT_DEFAULT_BOUNDS = (0, 2000)
MAX_TEXT_LENGTH = 10_000
MAX_DECIMAL_PRECISION = 38


class FieldSpecError(ValueError):
    """A field spec that cannot be used; the message is one sentence for the user."""


def singular(name: str) -> str:
    """The singular of a plural resource name: `categories` -> `category`, `boxes` -> `box`,
    `widgets` -> `widget`."""
    if name.endswith("ies") and len(name) > 3:
        return name[:-3] + "y"
    if name.endswith(("sses", "shes", "ches", "xes", "zes")):
        return name[:-2]
    return name[:-1]


def resource_name_error(name: object) -> str:
    """Explain why a resource name cannot be used, or return "" when it can."""
    if not isinstance(name, str) or not name:
        return "The resource name must not be empty: give its plural, such as `widgets`."
    if not _SNAKE_CASE.match(name):
        return (
            f"The resource name {name!r} must be lower case letters, digits and single "
            "underscores, starting with a letter (it names a module, a table and a path)."
        )
    if len(name) > RESOURCE_NAME_MAX_LENGTH:
        return f"The resource name must be at most {RESOURCE_NAME_MAX_LENGTH} characters long."
    if not name.endswith("s") or name.endswith("ss") or len(name) < 3:
        return (
            f"The resource name {name!r} must be a plural ending in `s`, such as `widgets`: "
            "it is the collection's path, and its singular names one row."
        )
    if keyword.iskeyword(name) or name in SOFT_KEYWORDS:
        return f"The resource name {name!r} is a Python keyword; choose another name."
    if name in RESERVED_RESOURCE_NAMES:
        return f"The resource name {name!r} is already used by the service; choose another name."
    if keyword.iskeyword(singular(name)):
        return f"The singular of {name!r} is a Python keyword; choose another name."
    return ""


def _split_fields(spec: str) -> list[str]:
    """The comma-separated parts of a spec, leaving commas inside parentheses alone."""
    parts, depth, current = [], 0, []
    for char in spec:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise FieldSpecError("The fields have a `)` without its `(`.")
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth:
        raise FieldSpecError("The fields have a `(` that is never closed.")
    parts.append("".join(current).strip())
    return parts


def _number(text: str, where: str, *, integer: bool) -> int | str:
    if integer:
        if not _INTEGER.match(text):
            raise FieldSpecError(f"{where}: {text!r} is not a whole number.")
        return int(text)
    if not _DECIMAL.match(text):
        raise FieldSpecError(f"{where}: {text!r} is not a number.")
    return text


def parse_field(part: str, position: int) -> dict[str, object]:
    """One field of a spec, as the resource template renders it."""
    where = f"Field {position} `{part}`"
    tokens = part.split()
    if not tokens:
        raise FieldSpecError(f"Field {position} is empty: remove the extra comma.")
    head = _FIELD_HEAD.match(tokens[0])
    if head is None:
        raise FieldSpecError(
            f"{where} must start with `name:type`, such as `title:str(1..200)` or `due:date?`."
        )
    name, kind, args = head["name"], head["type"], head["args"]
    if not _SNAKE_CASE.match(name) or keyword.iskeyword(name) or name in SOFT_KEYWORDS:
        raise FieldSpecError(
            f"{where}: {name!r} must be a lower-case snake_case name that is not a keyword."
        )
    if name in RESERVED_FIELD_NAMES:
        raise FieldSpecError(f"{where}: every resource already has {name!r}; choose another name.")
    if kind not in FIELD_TYPES:
        raise FieldSpecError(
            f"{where}: {kind!r} is not a type; use one of {', '.join(FIELD_TYPES)}."
        )
    field: dict[str, object] = {
        "name": name,
        "type": kind,
        "nullable": bool(head["optional"]),
        "min_length": None,
        "max_length": None,
        "minimum": None,
        "maximum": None,
        "precision": None,
        "scale": None,
        "choices": [],
        "default": None,
        "references": None,
        "unique": False,
        "sort": False,
        "filter": False,
    }
    if args is not None and kind not in _ARGUMENTS:
        raise FieldSpecError(f"{where}: `{kind}` takes no arguments in parentheses.")
    if kind in _ARGUMENTS:
        _ARGUMENTS[kind](field, args, where)
    for token in tokens[1:]:
        _modifier(field, token, where)
    _check(field, where)
    if head["default"] is not None:
        field["default"] = _default(kind, head["default"], field, where)
    return field


def _text_arguments(field: dict[str, object], args: str | None, where: str) -> None:
    low, high = STR_DEFAULT_BOUNDS if field["type"] == "str" else TEXT_DEFAULT_BOUNDS
    if args is not None:
        bounds = _RANGE.match(args.strip())
        if bounds is None:
            raise FieldSpecError(f"{where}: write the length as `(min..max)`, such as `(1..200)`.")
        low = int(bounds["low"]) if bounds["low"] else 0
        high = int(bounds["high"]) if bounds["high"] else high
    if not 0 <= low <= high <= MAX_TEXT_LENGTH or high == 0:
        raise FieldSpecError(
            f"{where}: the length bounds must satisfy 0 <= min <= max <= {MAX_TEXT_LENGTH}, "
            "with max at least 1."
        )
    field["min_length"], field["max_length"] = low, high


def _integer_arguments(field: dict[str, object], args: str | None, where: str) -> None:
    if args is None:
        return
    bounds = _INTEGER_RANGE.match(args.strip())
    if bounds is None:
        raise FieldSpecError(f"{where}: write the range as `(min..max)`, such as `(0..100)`.")
    field["minimum"] = int(bounds[1]) if bounds[1] else None
    field["maximum"] = int(bounds[2]) if bounds[2] else None


def _decimal_arguments(field: dict[str, object], args: str | None, where: str) -> None:
    numbers = _PRECISION_SCALE.match(args or "")
    if numbers is None:
        raise FieldSpecError(
            f"{where}: write a decimal as `decimal(precision,scale)`, such as `decimal(12,2)`."
        )
    precision, scale = int(numbers[1]), int(numbers[2])
    if not 1 <= precision <= MAX_DECIMAL_PRECISION or scale > precision:
        raise FieldSpecError(
            f"{where}: the precision must be 1 to {MAX_DECIMAL_PRECISION} and the scale at "
            "most the precision."
        )
    field["precision"], field["scale"] = precision, scale


def _enum_arguments(field: dict[str, object], args: str | None, where: str) -> None:
    values = [value.strip() for value in (args or "").split(",")]
    if not args or not all(_SNAKE_CASE.match(value) for value in values):
        raise FieldSpecError(
            f"{where}: list the values as `enum(a,b)`, each lower-case snake_case."
        )
    if len(set(values)) != len(values):
        raise FieldSpecError(f"{where}: a value of the enum is listed twice.")
    field["choices"] = values


def _reference_arguments(field: dict[str, object], args: str | None, where: str) -> None:
    target = (args or "").strip()
    if not _SNAKE_CASE.match(target):
        raise FieldSpecError(f"{where}: name the resource it refers to, such as `ref(items)`.")
    field["references"] = target
    field["filter"] = True


_ARGUMENTS = {
    "str": _text_arguments,
    "text": _text_arguments,
    "int": _integer_arguments,
    "decimal": _decimal_arguments,
    "enum": _enum_arguments,
    "ref": _reference_arguments,
}
"""How each type that takes arguments in parentheses reads them."""


def _modifier(field: dict[str, object], token: str, where: str) -> None:
    if token in FIELD_FLAGS:
        field[token] = True
        return
    bound = _BOUND.match(token)
    if bound is None:
        raise FieldSpecError(
            f"{where}: {token!r} is not understood; after the type come `>=N`, `<=N`, "
            f"{', '.join(f'`{flag}`' for flag in FIELD_FLAGS)}."
        )
    if field["type"] not in {"int", "decimal"}:
        raise FieldSpecError(f"{where}: `{token}` applies to `int` and `decimal` fields only.")
    value = _number(bound["value"], where, integer=field["type"] == "int")
    field["minimum" if bound["op"] == ">=" else "maximum"] = value


def _check(field: dict[str, object], where: str) -> None:
    low, high = field["minimum"], field["maximum"]
    if low is not None and high is not None and float(str(low)) > float(str(high)):
        raise FieldSpecError(f"{where}: the lower bound is above the upper bound.")
    if field["nullable"] and (field["sort"] or field["unique"]):
        raise FieldSpecError(
            f"{where}: an optional field cannot be `sort` or `unique` (rows without a value "
            "have no place in the order and no value to compare)."
        )
    if field["type"] == "enum" and field["nullable"]:
        raise FieldSpecError(
            f"{where}: an `enum` field cannot be optional; give it a default value instead."
        )
    if field["sort"] and field["type"] not in SORTABLE_TYPES:
        raise FieldSpecError(
            f"{where}: `sort` is offered on {', '.join(SORTABLE_TYPES)} fields, whose values "
            "a pagination cursor carries exactly."
        )
    if field["type"] == "text" and (field["sort"] or field["unique"] or field["filter"]):
        raise FieldSpecError(
            f"{where}: a `text` field cannot be sorted, filtered or unique; use `str`."
        )


def _default(kind: str, text: str, field: dict[str, object], where: str) -> object:
    if kind in {"str", "text"}:
        length = len(text)
        if not int(str(field["min_length"])) <= length <= int(str(field["max_length"])):
            raise FieldSpecError(f"{where}: the default {text!r} has a length outside the bounds.")
        return text
    if kind == "enum":
        choices = field["choices"]
        if not isinstance(choices, list) or text not in choices:
            raise FieldSpecError(f"{where}: the default {text!r} is not one of the enum's values.")
        return text
    if kind == "bool":
        if text not in {"true", "false"}:
            raise FieldSpecError(f"{where}: a `bool` default is `true` or `false`.")
        return text == "true"
    if kind in {"int", "decimal"}:
        value = _number(text, where, integer=kind == "int")
        low, high = field["minimum"], field["maximum"]
        if (low is not None and float(value) < float(str(low))) or (
            high is not None and float(value) > float(str(high))
        ):
            raise FieldSpecError(f"{where}: the default {text} is outside the bounds.")
        return value
    if kind == "date" and _DATE.match(text):
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return text
    raise FieldSpecError(f"{where}: a `{kind}` field cannot have the default {text!r}.")


def parse_fields(spec: object) -> list[dict[str, object]]:
    """Every field of a spec such as `title:str(1..200) unique sort, due:date?`; raises
    FieldSpecError naming the first bad part."""
    if not isinstance(spec, str) or not spec.strip():
        raise FieldSpecError(
            "Give at least one field, such as `title:str(1..200) unique sort, due:date?`."
        )
    fields = [parse_field(part, position) for position, part in enumerate(_split_fields(spec), 1)]
    seen: set[str] = set()
    for field in fields:
        if field["name"] in seen:
            raise FieldSpecError(f"The field {field['name']!r} is given twice.")
        seen.add(str(field["name"]))
    return fields


def fields_error(spec: object) -> str:
    """Explain why a fields spec cannot be used, or return "" when it can."""
    try:
        parse_fields(spec)
    except FieldSpecError as error:
        return str(error)
    return ""


_PYTHON_TYPES = {
    "str": "str",
    "text": "str",
    "int": "int",
    "decimal": "Decimal",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
    "uuid": "UUID",
    "ref": "UUID",
}
_KINDS = {
    "str": "TEXT",
    "text": "TEXT",
    "int": "INTEGER",
    "decimal": "DECIMAL",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "uuid": "UUID",
    "enum": "CHOICE",
    "ref": "UUID",
}
_SQL_TYPES = {
    "int": "sa.Integer()",
    "bool": "sa.Boolean()",
    "date": "sa.Date()",
    "uuid": "sa.Uuid()",
    "ref": "sa.Uuid()",
}
_BSON_TYPES = {
    "str": ("string",),
    "text": ("string",),
    "int": ("int", "long"),
    "decimal": ("decimal",),
    "bool": ("bool",),
    "date": ("date",),
    "datetime": ("date",),
    "uuid": ("binData",),
    "ref": ("binData",),
}


def camel(name: str) -> str:
    """`order_line` -> `OrderLine`."""
    return "".join(part.capitalize() for part in name.split("_"))


def _python_default(field: dict[str, object], enum_class: str) -> str:
    default, kind = field["default"], field["type"]
    if default is None:
        return "None"
    if kind == "enum":
        return f"{enum_class}.{str(default).upper()}"
    if kind == "decimal":
        return f'Decimal("{default}")'
    if kind == "date":
        year, month, day = (int(part) for part in str(default).split("-"))
        return f"date({year}, {month}, {day})"
    return repr(default)


def _decimal_pattern(field: dict[str, object]) -> str:
    """The JSON text a decimal field accepts: its digits before and after the point, and a
    sign only when its bounds allow a negative value."""
    scale = int(str(field["scale"]))
    whole = max(int(str(field["precision"])) - scale, 1)
    fraction = rf"(\.\d{{1,{scale}}})?" if scale else ""
    minimum = field["minimum"]
    sign = "" if minimum is not None and float(str(minimum)) >= 0 else "-?"
    return rf"^{sign}\d{{1,{whole}}}{fraction}$"


def resource_model(name: str, spec: str, owned: object = False) -> dict[str, object]:
    """What the resource template renders from: names, and each field with its Python type,
    declaration kind, storage types and default, so the templates only loop."""
    one = singular(name)
    fields = parse_fields(spec)
    for field in fields:
        enum_class = camel(one) + camel(str(field["name"]))
        kind = str(field["type"])
        python = enum_class if kind == "enum" else _PYTHON_TYPES[kind]
        field["python"] = python
        field["annotation"] = f"{python} | None" if field["nullable"] else python
        field["kind"] = _KINDS[kind]
        field["enum_class"] = enum_class
        field["constant"] = str(field["name"]).upper()
        field["required"] = not field["nullable"] and field["default"] is None
        field["default_python"] = _python_default(field, enum_class)
        field["pattern"] = _decimal_pattern(field) if kind == "decimal" else None
        for bound in ("minimum", "maximum"):
            value = field[bound]
            field[f"{bound}_python"] = (
                None if value is None else f'Decimal("{value}")' if kind == "decimal" else value
            )
        field["enum_members"] = [(value.upper(), value) for value in field["choices"]]  # type: ignore[attr-defined]
        if kind in {"str", "enum"}:
            length = field["max_length"] or max(len(value) for value in field["choices"])  # type: ignore[attr-defined]
            field["sql"] = "sa.Text()" if kind == "text" else f"sa.String({length})"
        elif kind == "text":
            field["sql"] = "sa.Text()"
        elif kind == "decimal":
            field["sql"] = f"sa.Numeric({field['precision']}, {field['scale']})"
        elif kind == "datetime":
            field["sql"] = "UTCDateTime()"
        else:
            field["sql"] = _SQL_TYPES[kind]
        types = list(_BSON_TYPES.get(kind, ()))
        if field["nullable"]:
            types.append("null")
        field["bson"] = (
            None
            if not types
            else f'"{types[0]}"'
            if len(types) == 1
            else "[" + ", ".join(f'"{bson}"' for bson in types) + "]"
        )
    partition = ["owner_id"] if owned else []
    indexes = [[*partition, "created_at", "id"]] + ([["created_at", "id"]] if partition else [])
    indexes += [[*partition, str(f["name"]), "id"] for f in fields if f["sort"] and not f["unique"]]
    indexes += [[str(f["name"]), "created_at", "id"] for f in fields if f["filter"]]
    checks = []
    for field in fields:
        column = field["name"]
        if field["minimum"] is not None:
            checks.append((f"{column}_minimum", f"{column} >= {field['minimum']}"))
        if field["maximum"] is not None:
            checks.append((f"{column}_maximum", f"{column} <= {field['maximum']}"))
        if field["type"] == "enum":
            values = ", ".join(f"'{value}'" for value in field["choices"])  # type: ignore[attr-defined]
            checks.append((f"{column}_known", f"{column} IN ({values})"))
    uniques = [[*partition, str(f["name"])] for f in fields if f["unique"]]
    mongo = [["_id" if key == "id" else key for key in index] for index in indexes]
    return {
        "name": name,
        "singular": one,
        "camel": camel(one),
        "constant": f"{one.upper()}_RESOURCE",
        "owned": bool(owned),
        "fields": fields,
        "enums": [field for field in fields if field["type"] == "enum"],
        "sorts": [field for field in fields if field["sort"]],
        "filters": [field for field in fields if field["filter"]],
        "unique": [field for field in fields if field["unique"]],
        "references": [field for field in fields if field["references"]],
        "types": sorted({str(field["type"]) for field in fields}),
        "sql_indexes": indexes,
        "sql_uniques": uniques,
        "sql_checks": checks,
        "mongo_indexes": mongo,
        "mongo_uniques": uniques,
    }


def _name_order(name: str) -> tuple[int, str, str]:
    """Ruff's isort order of the names in one import: constants, classes, then the rest."""
    group = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return group, name.lower(), name


def first_party_imports(imports: list[tuple[str, list[str]]]) -> str:
    """`from <module> import (...)` statements sorted as ruff's isort sorts them, each exploded
    with a trailing comma (which ruff keeps), so the block is formatted whatever the names'
    lengths. Statements of the same module are merged."""
    merged: dict[str, set[str]] = {}
    for module, names in imports:
        merged.setdefault(module, set()).update(names)
    lines = []
    for module in sorted(merged):
        names = sorted(merged[module], key=_name_order)
        lines.append(f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")")
    return "\n".join(lines)


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
    "resource_name_error": resource_name_error,
    "fields_error": fields_error,
    "parse_fields": parse_fields,
    "singular": singular,
    "camel": camel,
    "resource_model": resource_model,
    "first_party_imports": first_party_imports,
}


class FoundryExtension(Extension):
    """Registers the filters above and the ``random_secret()`` / ``current_year`` globals."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.globals["random_secret"] = random_secret
        environment.globals["current_year"] = current_year()
