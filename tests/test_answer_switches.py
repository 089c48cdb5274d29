"""Switching answers on a project whose database holds rows: the rows stay, migrations go on.

A switch is what `make update DATA='auth=jwt'` does to the files: the project becomes the one
the new answers generate. So the tests migrate one database with the projects of a sequence of
answers, in turn, as a team switching back and forth would, and check the rows after each
step, with PostgreSQL (Alembic) and with MongoDB (the project's `migrate` command). The cache
answer changes nothing in the database: its switches need only the files.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.harness import FULL_MATRIX_ENV, Project, clean_env, with_database
from tests.releases import releases, tagged_clone
from tests.test_generated import (
    asyncpg_dsn,
    database,
    drop_mongo_database,
    mongo_schema,
    uv_run,
)
from tests.test_update_releases import copy_at, update_to

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from subprocess import CompletedProcess

    from pymongo.database import Database

pytestmark = pytest.mark.slow

AUTH_SEQUENCE = ("none", "jwt", "api_key", "none", "oidc", "jwt")
"""Every kind of switch of the auth answer: from none to a mode, between modes, and back to
none."""
CONTINUED = {("none", "jwt"), ("jwt", "api_key"), ("api_key", "none"), ("none", "oidc")}
"""Switches after which the database is at a revision the new answers do not have."""
OWNER = "bob"
ITEMS_AFTER_THE_SEQUENCE = {
    "made under none (0)": "alice",
    "made under jwt (1)": OWNER,
    "made under api_key (2)": OWNER,
    "made under none (3)": "",
    "made under oidc (4)": OWNER,
    "made under jwt (5)": OWNER,
}
"""Each item the sequence adds, one per step, with its owner at the end, on either database:
the first given to alice by `assign-owner`, the one made under none after it left ownerless."""

_SQL_SCRIPT = """
import asyncio, json, sys
import asyncpg

async def main(url: str, statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        results = []
        for statement in json.loads(statements):
            rows = await connection.fetch(statement)
            results.append([dict(row) for row in rows])
        print(json.dumps(results, default=str))
    finally:
        await connection.close()

asyncio.run(main(*sys.argv[1:]))
"""


def postgres_answers(auth: str) -> dict[str, str]:
    return {
        "project_name": "Switching Service",
        "python_version": "3.12",
        "database": "postgres",
        "auth": auth,
        "cache": "none",
    }


@pytest.fixture
def switch_database(generate, pg_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database that every project of the sequence migrates in turn."""
    helper = generate(postgres_answers("none"))
    name = f"foundry_switch_{secrets.token_hex(4)}"
    database(helper, pg_admin_url, "create", name)
    yield with_database(pg_admin_url, name)
    database(helper, pg_admin_url, "drop", name)


def sql(project: Project, url: str, *statements: str) -> list[list[dict[str, object]]]:
    result = uv_run(
        project,
        "python",
        "-c",
        _SQL_SCRIPT,
        asyncpg_dsn(url),
        json.dumps(statements),
        what="sql",
        timeout=60,
    )
    return json.loads(result.stdout)


def migrate(project: Project, url: str) -> str:
    env = clean_env({"DATABASE__URL": url, "LOG__LEVEL": "WARNING"})
    result = uv_run(
        project, "alembic", "upgrade", "heads", what="alembic upgrade", timeout=120, env=env
    )
    return result.stderr


def items(project: Project, url: str) -> dict[str, str | None]:
    """Each item's name, with its owner when the table has owners."""
    columns = {
        row["column_name"]
        for row in sql(
            project,
            url,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'items'",
        )[0]
    }
    if "owner_id" in columns:
        rows = sql(project, url, "SELECT name, owner_id FROM items ORDER BY name")[0]
        return {str(row["name"]): str(row["owner_id"]) for row in rows}
    rows = sql(project, url, "SELECT name FROM items ORDER BY name")[0]
    return {str(row["name"]): None for row in rows}


def tables(project: Project, url: str) -> set[str]:
    rows = sql(
        project,
        url,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    )[0]
    return {str(row["table_name"]) for row in rows}


def add_item(project: Project, url: str, name: str, owner: str | None) -> None:
    """Insert an item the way the service does: with its owner, or naming none (auth=none)."""
    columns = "id, name, description, status, quantity, version, created_at, updated_at"
    values = f"gen_random_uuid(), '{name}', NULL, 'active', 1, 1, now(), now()"
    if owner is not None:
        columns, values = f"{columns}, owner_id", f"{values}, '{owner}'"
    sql(project, url, f"INSERT INTO items ({columns}) VALUES ({values}) RETURNING id")  # noqa: S608


def test_auth_switches_keep_the_items_and_migrate(
    generate: Callable[..., Project], switch_database: str
) -> None:
    url = switch_database
    previous = None
    for step, auth in enumerate(AUTH_SEQUENCE):
        project = generate(postgres_answers(auth))
        log = migrate(project, url)
        assert ("continuing from" in log) == ((previous, auth) in CONTINUED), log
        add_item(project, url, f"made under {auth} ({step})", None if auth == "none" else OWNER)

        assert len(items(project, url)) == step + 1
        if (previous, auth) == ("none", "jwt"):
            assert items(project, url)["made under none (0)"] == ""
            result = uv_run(
                project,
                "python",
                "-m",
                project.package_name,
                "assign-owner",
                "--owner",
                "alice",
                what="assign-owner",
                timeout=60,
                env=clean_env({"DATABASE__URL": url, "LOG__LEVEL": "WARNING"}),
            )
            assert "Items without an owner given to alice: 1" in result.stdout
        previous = auth

    assert items(project, url) == ITEMS_AFTER_THE_SEQUENCE
    assert {"users", "refresh_tokens", "api_keys", "items"} <= tables(project, url)
    stamped = sql(project, url, "SELECT version_num FROM alembic_version")[0]
    assert [row["version_num"] for row in stamped] == ["0004"]


# --- MongoDB ------------------------------------------------------------------------------

OWNED_ITEM_INDEXES = {
    "owner_id_name": True,
    "owner_id_created_at__id": False,
    "owner_id_name__id": False,
    "owner_id_status_created_at__id": False,
    "owner_id_status_name__id": False,
    "created_at__id": False,
    "name__id": False,
    "status_created_at__id": False,
    "status_name__id": False,
}
UNOWNED_ITEM_INDEXES = {
    "name": True,
    "created_at__id": False,
    "name__id": False,
    "status_created_at__id": False,
    "status_name__id": False,
}
AUTH_COLLECTIONS: dict[str, dict[str, dict[str, bool]]] = {
    "none": {},
    "oidc": {},
    "jwt": {
        "users": {"email": True, "created_at__id": False},
        "refresh_tokens": {"token_hash": True, "family_id": False, "user_id": False},
    },
    "api_key": {"api_keys": {"lookup": True, "created_at__id": False}},
}
"""The collections each auth answer adds, with their indexes (name: unique) besides `_id_`.
A switch to other answers leaves them as they are, data included."""
IDEMPOTENCY_INDEXES = {"operation_principal_key": True, "expires_at": False}
AUTH_MIGRATIONS = {"none": set(), "oidc": set(), "jwt": {4}, "api_key": {5}}
"""The template's migration ids of each auth answer besides 1 (items) and 2 (idempotency)."""
RIVAL = "carol"
"""Another owner, whose item named like one of OWNER's makes the switch to none refuse."""
UP_TO_DATE = "No pending migrations: the database is up to date."


def mongo_answers(auth: str) -> dict[str, str]:
    return {**postgres_answers(auth), "database": "mongo"}


@pytest.fixture
def mongo_switch_database(mongo_url: str) -> Iterator[str]:
    """The DATABASE__URL of an empty MongoDB database that every project of the sequence
    migrates in turn (MongoDB creates it with its first write)."""
    name = f"foundry_switch_{secrets.token_hex(4)}"
    yield with_database(mongo_url, name)
    drop_mongo_database(mongo_url, name)


@contextmanager
def mongo_database(url: str) -> Iterator[Database[dict[str, Any]]]:
    """The database `url` names, read and written with the client options of the service:
    UUIDs as binary subtype 4, dates in UTC."""
    from pymongo import MongoClient  # noqa: PLC0415 - only the MongoDB test needs it

    client: MongoClient[dict[str, Any]] = MongoClient(
        url, uuidRepresentation="standard", tz_aware=True, serverSelectionTimeoutMS=10_000
    )
    try:
        yield client.get_default_database()
    finally:
        client.close()


def mongo_command(
    project: Project, url: str, *args: str, check: bool = True
) -> CompletedProcess[str]:
    """`python -m <package> <args>`, what `make migrate` and `make assign-owner` run."""
    return uv_run(
        project,
        "python",
        "-m",
        project.package_name,
        *args,
        what=f"{args[0]} (mongo)",
        timeout=120,
        env=clean_env({"DATABASE__URL": url, "LOG__LEVEL": "WARNING"}),
        check=check,
    )


def mongo_migrate(project: Project, url: str) -> list[int]:
    """Run the project's `migrate`; return the ids of the migrations it applied."""
    output = mongo_command(project, url, "migrate").stdout
    applied = [int(found) for found in re.findall(r"^Applied migration (\d+):", output, re.M)]
    assert applied or UP_TO_DATE in output, output
    return applied


def add_mongo_item(url: str, name: str, owner: str | None) -> None:
    """Insert an item as the service stores it: with its owner, or without the field
    (auth=none). The collection's validator checks it."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    document: dict[str, Any] = {"_id": uuid.uuid4()}
    if owner is not None:
        document["owner_id"] = owner
    document.update(
        name=name,
        description=None,
        status="active",
        quantity=1,
        version=1,
        created_at=now,
        updated_at=now,
    )
    with mongo_database(url) as db:
        db["items"].insert_one(document)


ItemOwner = tuple[str, str | None]
"""An item's name and owner, None for an item without the owner field (made under none)."""


def listing(pairs: Iterable[ItemOwner]) -> list[ItemOwner]:
    return sorted(pairs, key=lambda pair: (pair[0], pair[1] is not None, pair[1] or ""))


def mongo_items(url: str) -> list[ItemOwner]:
    """Every item's name and owner."""
    with mongo_database(url) as db:
        return listing((doc["name"], doc.get("owner_id")) for doc in db["items"].find())


def mongo_indexes(url: str) -> dict[str, dict[str, bool]]:
    """Each collection's indexes but `_id_`, each with whether it is unique."""
    with mongo_database(url) as db:
        return {
            name: {
                index: bool(info.get("unique", False))
                for index, info in db[name].index_information().items()
                if index != "_id_"
            }
            for name in db.list_collection_names()
        }


def recorded_migrations(url: str) -> set[object]:
    with mongo_database(url) as db:
        return {record["_id"] for record in db["schema_migrations"].find({}, {"_id": 1})}


def items_require_owners(url: str) -> bool:
    with mongo_database(url) as db:
        options = db["items"].options()
    return "owner_id" in options["validator"]["$jsonSchema"]["required"]


def refused_switch_to_none(project: Project, url: str) -> None:
    """Items of two owners share a name: the unowned items' unique index on names cannot be
    built, so `migrate` stops, naming the duplicates, and changes no index, only the items'
    validator, which lets the service of the new answers create items without an owner; once
    one of the duplicates is deleted it goes through."""
    before = mongo_schema(url)
    assert items_require_owners(url)
    refused = mongo_command(project, url, "migrate", check=False)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    message = refused.stderr
    assert "the current answers need the unique index 'name' on 'items' (name)" in message
    assert f"name 'made under api_key (2)' (2 documents; owner_id '{OWNER}', '{RIVAL}')" in message
    assert "Items of different owners share these names" in message
    after = mongo_schema(url)
    assert not items_require_owners(url)
    for schema in (before, after):
        schema["items"] = {**schema["items"], "options": "the validator of the answers"}
    assert after == before, "the refused migrate changed more than the items' validator"

    with mongo_database(url) as db:
        deleted = db["items"].delete_one({"name": "made under api_key (2)", "owner_id": RIVAL})
    assert deleted.deleted_count == 1


def test_mongo_auth_switches_keep_the_items_and_migrate(
    generate: Callable[..., Project], mongo_switch_database: str
) -> None:
    """The same sequence with MongoDB: after each project's `migrate`, the items are all there
    with their owners (the empty one for those made under none, until `assign-owner`), the
    collections of every answer met so far keep their indexes, items have the indexes and
    validator of their kind, `schema_migrations` holds the template's ids, and a second
    `migrate` changes nothing. Back to none, the items of two owners that share a name stop
    `migrate` until one of them is deleted."""
    url = mongo_switch_database
    expected: dict[str, str | None] = {}
    collections: dict[str, dict[str, bool]] = {"idempotency_keys": IDEMPOTENCY_INDEXES}
    migrations: set[object] = set()
    previous = None
    for step, auth in enumerate(AUTH_SEQUENCE):
        project = generate(mongo_answers(auth))
        owned = auth != "none"
        if (previous, auth) == ("api_key", "none"):
            refused_switch_to_none(project, url)
        wanted = {1, 2} | AUTH_MIGRATIONS[auth]

        assert mongo_migrate(project, url) == sorted(wanted - migrations)
        migrations |= wanted
        if owned:
            expected = {name: "" if owner is None else owner for name, owner in expected.items()}
        assert mongo_items(url) == listing(expected.items()), f"after the switch to {auth}"

        made = f"made under {auth} ({step})"
        add_mongo_item(url, made, OWNER if owned else None)
        expected[made] = OWNER if owned else None
        if (previous, auth) == ("none", "jwt"):
            assert expected["made under none (0)"] == ""
            given = mongo_command(project, url, "assign-owner", "--owner", "alice").stdout
            assert "Items without an owner given to alice: 1." in given
            expected["made under none (0)"] = "alice"
        rivals = [(made, RIVAL)] if auth == "api_key" else []
        for name, owner in rivals:
            add_mongo_item(url, name, owner)
        assert mongo_items(url) == listing([*expected.items(), *rivals])

        collections |= AUTH_COLLECTIONS[auth]
        collections["items"] = OWNED_ITEM_INDEXES if owned else UNOWNED_ITEM_INDEXES
        indexes = mongo_indexes(url)
        assert {name: indexes.get(name) for name in collections} == collections, auth
        assert items_require_owners(url) == owned
        assert recorded_migrations(url) == migrations

        migrated = mongo_schema(url)
        assert mongo_migrate(project, url) == [], f"a second migrate under {auth} applied some"
        assert mongo_schema(url) == migrated, f"a second migrate under {auth} changed something"
        previous = auth

    assert mongo_items(url) == listing(ITEMS_AFTER_THE_SEQUENCE.items())
    assert recorded_migrations(url) == {1, 2, 4, 5}
    assert {"users", "refresh_tokens", "api_keys", "items", "schema_migrations"} <= set(
        mongo_indexes(url)
    )


def test_the_cache_answer_changes_no_migration(generate: Callable[..., Project]) -> None:
    """cache none -> memory -> redis -> none needs no database step: every cache answer
    ships the same migrations."""
    rendered = []
    for cache in ("none", "memory", "redis"):
        project = generate({**postgres_answers("jwt"), "cache": cache}, skip_tasks=True)
        versions = project.path / "migrations" / "versions"
        rendered.append({path.name: path.read_bytes() for path in sorted(versions.glob("*.py"))})

    assert rendered[0] == rendered[1] == rendered[2]


def assignments(path: Path) -> dict[str, object]:
    """The module-level constants of a Python file, as literals."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            try:
                found[node.target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def revisions(project: Path) -> dict[str, tuple[object, str]]:
    """Each revision id of the project's migrations, with the one it revises and its file."""
    found = {}
    for path in (project / "migrations" / "versions").glob("*.py"):
        constants = assignments(path)
        found[str(constants["revision"])] = (constants["down_revision"], path.name)
    return found


def test_revision_ids_are_unique_across_every_answer(generate: Callable[..., Project]) -> None:
    """A revision id names one migration under every answer, and env.py knows each one, so a
    database migrated under other answers always finds its way."""
    seen: dict[str, tuple[object, str]] = {}
    for auth in ("none", "api_key", "jwt", "oidc"):
        project = generate(postgres_answers(auth), skip_tasks=True)
        for revision, (down, name) in revisions(project.path).items():
            assert seen.setdefault(revision, (down, name)) == (down, name), (auth, revision)
    listed = assignments(project.path / "migrations" / "env.py")["TEMPLATE_REVISIONS"]

    assert listed == {revision: down for revision, (down, _) in seen.items()}


@pytest.fixture(scope="module")
def template_with_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tagged_clone(tmp_path_factory.mktemp("template") / "foundry")


LEGACY_DATABASES = [("api_key", "0005")]
"""The answer whose revision id changed; FOUNDRY_FULL_MATRIX=1 adds one whose id did not."""
if os.environ.get(FULL_MATRIX_ENV) == "1":
    LEGACY_DATABASES.append(("jwt", "0004"))


@pytest.mark.parametrize(("auth", "head"), LEGACY_DATABASES)
def test_a_database_of_the_latest_release_migrates_after_the_update(
    auth: str,
    head: str,
    template_with_releases: Path,
    switch_database: str,
    tmp_path: Path,
) -> None:
    """Release 0.5.0 stamped both the api keys and the users revision 0004; an api_key
    database of that release continues as 0005 and keeps its keys."""
    latest = releases()[-1]
    answers = postgres_answers(auth)
    path = copy_at(template_with_releases, latest.version, answers, tmp_path / "project")
    project = Project(path=path, answers=answers)
    project.state["package_name"] = next(p.name for p in (path / "src").iterdir() if p.is_dir())
    env = clean_env({"DATABASE__URL": switch_database, "LOG__LEVEL": "WARNING"})
    uv_run(
        project,
        "alembic",
        "upgrade",
        "head",
        what="alembic upgrade (old release)",
        timeout=120,
        env=env,
    )
    add_item(project, switch_database, "made before the update", OWNER)
    if auth == "api_key":
        uv_run(
            project,
            "python",
            "-m",
            project.package_name,
            "create-api-key",
            "--name",
            "ci",
            what="create-api-key",
            timeout=60,
            env=env,
        )

    update_to(path, None)
    migrate(project, switch_database)

    stamped = sql(project, switch_database, "SELECT version_num FROM alembic_version")[0]
    assert [row["version_num"] for row in stamped] == [head]
    assert items(project, switch_database) == {"made before the update": OWNER}
    if auth == "api_key":
        keys = sql(project, switch_database, "SELECT name FROM api_keys")[0]
        assert [row["name"] for row in keys] == ["ci"]
