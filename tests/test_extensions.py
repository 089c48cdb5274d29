"""Unit tests for extensions/foundry.py: name derivation, validators and globals."""

from __future__ import annotations

import datetime
import keyword

import pytest
import yaml
from jinja2 import Environment

from extensions.foundry import (
    AUTHOR_NAME_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    PROJECT_NAME_MAX_LENGTH,
    FieldSpecError,
    FoundryExtension,
    author_name_error,
    current_year,
    description_error,
    email_error,
    fields_error,
    parse_fields,
    project_name_error,
    random_secret,
    resource_name_error,
    singular,
    to_package_name,
    to_slug,
)
from tests.harness import REPO_ROOT

VALID_PROJECT_NAMES = [
    "Example Service",
    "orders",
    "Orders API",
    "billing-api",
    "billing_api",
    "Billing API v2",
    "a",
    "Café Crème",
    "x" * PROJECT_NAME_MAX_LENGTH,
    "Inventory 2000",
    "service.name",
    "My HTTP Service",
    "Typing Service",
    "Test Harness",
]


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("Example Service", "example-service", "example_service"),
        ("example", "example", "example"),
        ("Billing API v2", "billing-api-v2", "billing_api_v2"),
        ("  Padded   Name  ", "padded-name", "padded_name"),
        ("snake_case_name", "snake-case-name", "snake_case_name"),
        ("kebab-case-name", "kebab-case-name", "kebab_case_name"),
        ("Dotted.Name", "dotted-name", "dotted_name"),
        ("Café Crème", "cafe-creme", "cafe_creme"),
        ("Zürich Orders", "zurich-orders", "zurich_orders"),
        ("ALL CAPS", "all-caps", "all_caps"),
        ("Mixed--separators__here", "mixed-separators-here", "mixed_separators_here"),
        ("-leading and trailing-", "leading-and-trailing", "leading_and_trailing"),
        ("", "", ""),
    ],
)
def test_slug_and_package_name(project_name: str, slug: str, package: str) -> None:
    assert to_slug(project_name) == slug
    assert to_package_name(project_name) == package


def test_package_name_is_an_identifier_for_every_valid_name() -> None:
    for name in VALID_PROJECT_NAMES:
        assert to_package_name(name).isidentifier(), name


@pytest.mark.parametrize("project_name", VALID_PROJECT_NAMES)
def test_valid_project_names(project_name: str) -> None:
    assert project_name_error(project_name) == ""


@pytest.mark.parametrize(
    ("project_name", "expected"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (None, "must not be empty"),
        (" Leading", "must not start or end with spaces"),
        ("Trailing ", "must not start or end with spaces"),
        ("x" * (PROJECT_NAME_MAX_LENGTH + 1), f"at most {PROJECT_NAME_MAX_LENGTH} characters"),
        ("3D Printer", "must start with a letter"),
        ("1st Service", "must start with a letter"),
        ("2048", "at least one ASCII letter"),
        ("---", "at least one ASCII letter"),
        ("___", "at least one ASCII letter"),
        ("服务", "at least one ASCII letter"),
        ("Service!", "'!' is not allowed"),
        ('Quote "Service"', "is not allowed"),
        ("Back\\slash", "is not allowed"),
        ("Tom & Jerry", "'&' is not allowed"),
        ("Orders/API", "'/' is not allowed"),
        ("Tab\tName", "is not allowed"),
        ("test", "standard library"),
        ("typing", "standard library"),
        ("Typing", "standard library"),
        ("json", "standard library"),
        ("HTTP", "standard library"),
        ("Logging", "standard library"),
        ("email", "standard library"),
        ("class", "Python keyword"),
        ("Import", "Python keyword"),
        ("Async", "Python keyword"),
        ("match", "Python keyword"),
        ("type", "Python keyword"),
        ("FastAPI", "depends on"),
        ("SQLAlchemy", "depends on"),
        ("pydantic-settings", "depends on"),
        ("Alembic", "depends on"),
        ("tests", "already a folder"),
        ("Migrations", "already a folder"),
    ],
)
def test_invalid_project_names(project_name: str | None, expected: str) -> None:
    error = project_name_error(project_name)
    assert expected in error
    assert error.endswith(".")
    assert error[0].isupper()


def test_every_lower_case_keyword_is_rejected() -> None:
    for word in filter(str.islower, keyword.kwlist):
        assert "keyword" in project_name_error(word), word


@pytest.mark.parametrize(
    "email",
    [
        "team@example.com",
        "first.last@example.co.uk",
        "first+tag@sub.example.org",
        "o.brien@example.com",
        "x@a-b.io",
        "UPPER@EXAMPLE.COM",
    ],
)
def test_valid_emails(email: str) -> None:
    assert email_error(email) == ""


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("", "must not be empty"),
        (None, "must not be empty"),
        ("plainaddress", "does not look like an e-mail address"),
        ("@example.com", "does not look like an e-mail address"),
        ("team@", "does not look like an e-mail address"),
        ("team@localhost", "does not look like an e-mail address"),
        ("team@@example.com", "does not look like an e-mail address"),
        ("team name@example.com", "does not look like an e-mail address"),
        ('"quoted"@example.com', "does not look like an e-mail address"),
        ("team@-example.com", "does not look like an e-mail address"),
        ("team@example..com", "does not look like an e-mail address"),
        (" team@example.com", "must not start or end with spaces"),
        ("a" * 250 + "@example.com", "at most 254 characters"),
    ],
)
def test_invalid_emails(email: str | None, expected: str) -> None:
    error = email_error(email)
    assert expected in error
    assert error.endswith(".")


@pytest.mark.parametrize(
    ("check", "max_length"),
    [(description_error, DESCRIPTION_MAX_LENGTH), (author_name_error, AUTHOR_NAME_MAX_LENGTH)],
)
class TestPlainText:
    def test_accepts_ordinary_text(self, check, max_length) -> None:
        assert check("Keeps track of orders, refunds & invoices (v2).") == ""
        assert check("Zoë O'Connor") == ""
        assert check("x" * max_length) == ""

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("", "must not be empty"),
            ("   ", "must not be empty"),
            (42, "must be text"),
            ("two\nlines", "fit on one line"),
            ("tab\tseparated", "fit on one line"),
            ('the "best" one', "double quotes"),
            ("C:\\path", "backslashes"),
            ("`code`", "backticks"),
        ],
    )
    def test_rejects(self, check, max_length, value: object, expected: str) -> None:
        del max_length
        assert expected in check(value)

    def test_rejects_long_text(self, check, max_length) -> None:
        assert f"at most {max_length} characters" in check("x" * (max_length + 1))


def test_random_secret_is_long_urlsafe_and_fresh() -> None:
    secrets = {random_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(secret) >= 64
        assert secret.replace("-", "").replace("_", "").isalnum()


def test_current_year() -> None:
    assert current_year() == datetime.datetime.now(tz=datetime.UTC).year


def test_extension_registers_filters_and_globals() -> None:
    env = Environment(extensions=[FoundryExtension], autoescape=True)
    rendered = env.from_string(
        "{{ name | to_slug }} {{ name | to_package_name }} [{{ name | project_name_error }}] "
        "[{{ 'x' | email_error }}] [{{ 'ok' | description_error }}] "
        "[{{ 'ok' | author_name_error }}] {{ current_year }} {{ random_secret() | length }}"
    ).render(name="Example Service")
    assert rendered.startswith("example-service example_service [] [")
    assert "does not look like an e-mail address" in rendered
    assert rendered.endswith(f"[] [] {current_year()} 64")


def test_copier_yml_defaults_pass_their_own_validators() -> None:
    """Copier does not validate defaults, so check them here, in question order."""
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    env = Environment(extensions=[FoundryExtension], autoescape=False)  # noqa: S701 - plain text
    answers: dict[str, object] = {"_copier_conf": {"answers_file": ".copier-answers.yml"}}
    for name, spec in questions.items():
        if name.startswith("_"):
            continue
        when = spec.get("when")
        if isinstance(when, str) and env.from_string(when).render(**answers) != "True":
            continue  # asked only for a resource added to a project
        default = spec.get("default")
        if isinstance(default, str):
            default = env.from_string(default).render(**answers)
        answers[name] = default
        if "validator" in spec:
            error = env.from_string(spec["validator"]).render(**answers)
            assert error.strip() == "", f"default of {name!r} is refused: {error}"
    assert answers["project_slug"] == "example-service"
    assert answers["package_name"] == "example_service"


ISSUE_WIDGETS = (
    "title:str(1..200) unique sort, price:decimal(12,2) >=0, due:date?, "
    "status:enum(open,closed)=open filter, item_id:ref(items)"
)
ISSUE_GADGETS = "label:str(1..50), widget_id:ref(widgets)?"


def test_the_documented_field_specs_parse() -> None:
    title, price, due, status, item_id = parse_fields(ISSUE_WIDGETS)
    assert (title["type"], title["min_length"], title["max_length"]) == ("str", 1, 200)
    assert (title["unique"], title["sort"], title["nullable"]) == (True, True, False)
    assert (price["type"], price["precision"], price["scale"], price["minimum"]) == (
        "decimal",
        12,
        2,
        "0",
    )
    assert (due["type"], due["nullable"], due["default"]) == ("date", True, None)
    assert (status["choices"], status["default"], status["filter"]) == (
        ["open", "closed"],
        "open",
        True,
    )
    assert (item_id["type"], item_id["references"], item_id["filter"]) == ("ref", "items", True)
    label, widget_id = parse_fields(ISSUE_GADGETS)
    assert (label["max_length"], widget_id["references"], widget_id["nullable"]) == (
        50,
        "widgets",
        True,
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", "Give at least one field"),
        ("title", "Field 1 `title` must start with `name:type`"),
        ("Title:str", "must be a lower-case snake_case name"),
        ("class:str", "must be a lower-case snake_case name that is not a keyword"),
        ("id:uuid", "every resource already has 'id'"),
        ("x:float", "'float' is not a type"),
        ("a:str(1..10), a:int", "The field 'a' is given twice"),
        ("a:str(5..1)", "the length bounds must satisfy"),
        ("a:str(1-10)", "write the length as `(min..max)`"),
        ("a:int(1..x)", "write the range as `(min..max)`"),
        ("a:decimal", "write a decimal as `decimal(precision,scale)`"),
        ("a:decimal(2,3)", "the scale at most the precision"),
        ("a:enum()", "list the values as `enum(a,b)`"),
        ("a:enum(x,x)", "listed twice"),
        ("a:ref()", "name the resource it refers to"),
        ("a:date(1)", "`date` takes no arguments"),
        ("a:int >=x", "'>=x' is not understood"),
        ("a:str >=1", "applies to `int` and `decimal` fields only"),
        ("a:int >=5 <=1", "the lower bound is above the upper bound"),
        ("a:str? sort", "an optional field cannot be `sort` or `unique`"),
        ("a:text unique", "a `text` field cannot be sorted"),
        ("a:int(0..10)=11", "the default 11 is outside the bounds"),
        ("a:enum(x,y)=z", "is not one of the enum's values"),
        ("a:bool=yes", "a `bool` default is `true` or `false`"),
        ("a:date=2026-13-01", "cannot have the default '2026-13-01'"),
        ("a:str(1..10),", "Field 2 is empty"),
        ("a:enum(x,y", "never closed"),
        (
            "title:str(1..200) unique sort, price:decimal(12,2) >=x",
            "Field 2 `price:decimal(12,2) >=x`",
        ),
    ],
)
def test_bad_field_specs_name_the_bad_part_in_one_sentence(spec: str, expected: str) -> None:
    error = fields_error(spec)
    assert expected in error
    assert error.count(". ") == 0 or error.endswith(".")
    with pytest.raises(FieldSpecError):
        parse_fields(spec)


@pytest.mark.parametrize(
    ("name", "singular_name"),
    [
        ("widgets", "widget"),
        ("categories", "category"),
        ("boxes", "box"),
        ("order_lines", "order_line"),
    ],
)
def test_valid_resource_names_and_their_singulars(name: str, singular_name: str) -> None:
    assert resource_name_error(name) == ""
    assert singular(name) == singular_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "must not be empty"),
        ("Widgets", "must be lower case"),
        ("widget", "must be a plural ending in `s`"),
        ("glass", "must be a plural ending in `s`"),
        ("items", "already used by the service"),
        ("users", "already used by the service"),
        ("x" * 40 + "s", "at most 40 characters"),
    ],
)
def test_bad_resource_names_are_refused(name: str, expected: str) -> None:
    assert expected in resource_name_error(name)
