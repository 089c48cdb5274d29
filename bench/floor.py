"""The floor: the benchmarked operations with nothing between HTTP and PostgreSQL.

A raw ASGI app (no framework, no validation library, no ORM) over one asyncpg pool of 20
connections, rendering with orjson. asyncpg prepares each statement once per connection and
reuses it (its statement cache), and every write runs in autocommit. It reads and writes the
`items` table that the generated project's migrations created, in the same database as the
service, so the gap between the two is what the service's layers cost.

It runs on the generated project's own uvicorn, uvloop, httptools and asyncpg, plus orjson:

    BENCH_FLOOR_DSN=postgresql://postgres@127.0.0.1:5432/bench \\
    uv run --no-sync --with orjson python -m uvicorn --app-dir <template repository> \\
        bench.floor:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID, uuid4

import asyncpg
import orjson

from bench import FLOOR_DSN_VARIABLE

POOL_SIZE = 20
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_BODY_BYTES = 1_048_576
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_QUANTITY = 1_000_000
STATUSES = frozenset({"active", "archived"})
FIELDS = frozenset({"name", "description", "status", "quantity"})

SELECT_ONE = """
    SELECT id, name, description, status, quantity, version, created_at, updated_at
    FROM items WHERE id = $1
"""
SELECT_FIRST_PAGE = """
    SELECT id, name, description, status, quantity, version, created_at, updated_at
    FROM items ORDER BY created_at DESC, id DESC LIMIT $1
"""
SELECT_NEXT_PAGE = """
    SELECT id, name, description, status, quantity, version, created_at, updated_at
    FROM items WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT $3
"""
INSERT = """
    INSERT INTO items (id, name, description, status, quantity, version, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, 1, $6, $6)
"""
INSERT_OWNED = """
    INSERT INTO items
        (id, name, description, status, quantity, version, created_at, updated_at, owner_id)
    VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7)
"""
"""For a project generated with authentication, whose items have an owner."""
FLOOR_OWNER = "floor"
HAS_OWNER_COLUMN = """
    SELECT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_name = 'items' AND column_name = 'owner_id'
    )
"""

Response = tuple[int, bytes, list[tuple[bytes, bytes]]]
JSON_HEADER = (b"content-type", b"application/json")


def _json(value: object) -> bytes:
    # OPT_UTC_Z writes UTC as `Z`, as the service does: 2026-12-03T21:35:27.123456Z.
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


def _error(status: int, detail: str) -> Response:
    return status, _json({"detail": detail}), []


class _Database:
    pool: asyncpg.Pool
    insert: str = INSERT
    owner: tuple[str, ...] = ()
    """The create statement and its owner argument: the floor's items have an owner when the
    service's do, so that both write the same row."""


_database = _Database()


def _item(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["id"] = str(item["id"])
    return item


def _encode_cursor(row: asyncpg.Record) -> str:
    position = f"{row['created_at'].isoformat()}|{row['id']}".encode()
    return urlsafe_b64encode(position).rstrip(b"=").decode("ascii")


def _decode_cursor(cursor: str) -> tuple[datetime, UUID] | None:
    try:
        text = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, item_id = text.split("|")
        return datetime.fromisoformat(created_at), UUID(item_id)
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        return None


async def get_item(raw_id: str) -> Response:
    try:
        item_id = UUID(raw_id)
    except ValueError:
        return _error(404, "No item has this id.")
    row = await _database.pool.fetchrow(SELECT_ONE, item_id)
    if row is None:
        return _error(404, "No item has this id.")
    return 200, _json(_item(row)), [(b"etag", b'"%d"' % row["version"])]


async def list_items(query_string: bytes) -> Response:
    query = parse_qs(query_string.decode("latin-1"))
    try:
        limit = int(query.get("limit", [DEFAULT_LIMIT])[0])
    except ValueError:
        return _error(422, "limit must be an integer.")
    if not 1 <= limit <= MAX_LIMIT:
        return _error(422, f"limit must be between 1 and {MAX_LIMIT}.")
    if "cursor" in query:
        position = _decode_cursor(query["cursor"][0])
        if position is None:
            return _error(400, "The cursor is malformed.")
        rows = await _database.pool.fetch(SELECT_NEXT_PAGE, *position, limit + 1)
    else:
        rows = await _database.pool.fetch(SELECT_FIRST_PAGE, limit + 1)
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > limit else None
    return 200, _json({"items": [_item(row) for row in page], "next_cursor": next_cursor}), []


def _invalid(body: object) -> str | None:
    """What is wrong with a create request's body, or None."""
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    if unknown := set(body) - FIELDS:
        return f"Unknown fields: {', '.join(sorted(unknown))}."
    name = body.get("name")
    if not (isinstance(name, str) and name.strip() and len(name) <= MAX_NAME_LENGTH):
        return f"name must be a string of 1 to {MAX_NAME_LENGTH} characters, not all blank."
    description = body.get("description")
    if description is not None and not (
        isinstance(description, str) and len(description) <= MAX_DESCRIPTION_LENGTH
    ):
        return f"description must be null or a string of at most {MAX_DESCRIPTION_LENGTH}."
    if "\x00" in name or (description and "\x00" in description):
        return "Text may not contain the NUL character."
    if body.get("status", "active") not in STATUSES:
        return f"status must be one of {', '.join(sorted(STATUSES))}."
    quantity = body.get("quantity", 0)
    if type(quantity) is not int or not 0 <= quantity <= MAX_QUANTITY:
        return f"quantity must be an integer from 0 to {MAX_QUANTITY}."
    return None


async def create_item(raw_body: bytes) -> Response:
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        return _error(400, "The body is not valid JSON.")
    problem = _invalid(body)
    if problem is not None:
        return _error(422, problem)
    now = datetime.now(UTC)
    item = {
        "id": uuid4(),
        "name": body["name"],
        "description": body.get("description"),
        "status": body.get("status", "active"),
        "quantity": body.get("quantity", 0),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    try:
        await _database.pool.execute(
            _database.insert,
            item["id"],
            item["name"],
            item["description"],
            item["status"],
            item["quantity"],
            now,
            *_database.owner,
        )
    except asyncpg.UniqueViolationError:
        return _error(409, "An item with this name already exists.")
    headers = [(b"location", f"/items/{item['id']}".encode()), (b"etag", b'"1"')]
    return 201, _json(item), headers


async def _read_body(receive: Any) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY_BYTES."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(scope: dict[str, Any], receive: Any) -> Response:
    method, path = scope["method"], scope["path"]
    if path == "/items":
        if method == "GET":
            return await list_items(scope["query_string"])
        if method == "POST":
            body = await _read_body(receive)
            if body is None:
                return _error(413, "The body is too large.")
            return await create_item(body)
        return _error(405, "Method not allowed.")
    if path.startswith("/items/"):
        if method == "GET":
            return await get_item(path.removeprefix("/items/"))
        return _error(405, "Method not allowed.")
    if path == "/health/live":
        return 200, b'{"status":"ok"}', []
    return _error(404, "Not found.")


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                _database.pool = await asyncpg.create_pool(
                    os.environ[FLOOR_DSN_VARIABLE], min_size=POOL_SIZE, max_size=POOL_SIZE
                )
                if await _database.pool.fetchval(HAS_OWNER_COLUMN):
                    _database.insert, _database.owner = INSERT_OWNED, (FLOOR_OWNER,)
            except (KeyError, OSError, asyncpg.PostgresError) as error:
                await send({"type": "lifespan.startup.failed", "message": repr(error)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _database.pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    status, body, headers = await _respond(scope, receive)
    headers = [JSON_HEADER, (b"content-length", b"%d" % len(body)), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
