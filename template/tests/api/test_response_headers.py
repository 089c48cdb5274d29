"""The headers the OpenAPI document declares are the ones the service sends."""

import re
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.integration


def check_headers(document: dict[str, Any], method: str, path: str, sent: httpx.Response) -> None:
    """Every required header of the documented response is sent, and every one sent fits."""
    response = document["paths"][path][method]["responses"][str(sent.status_code)]
    for name, reference in response["headers"].items():
        declared = document["components"]["headers"][reference["$ref"].rsplit("/", 1)[-1]]
        value = sent.headers.get(name)
        if value is None:
            assert not declared["required"], f"{method} {path} {sent.status_code} lacks {name}"
            continue
        schema = declared["schema"]
        if "pattern" in schema:
            assert re.fullmatch(schema["pattern"], value), (name, value)
        if "enum" in schema:
            assert value in schema["enum"], (name, value)
        if schema["type"] == "integer":
            assert value.isdigit(), (name, value)


async def test_item_lifecycle_sends_the_documented_headers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    document = app.openapi()
    key = {"Idempotency-Key": f"key-{uuid4()}"}

    created = await client.post("/items", json={"name": "Anvil"}, headers=key)
    replayed = await client.post("/items", json={"name": "Anvil"}, headers=key)
    item_path = created.headers["location"]
    fetched = await client.get(item_path)
    updated = await client.patch(item_path, json={"quantity": 2}, headers={"If-Match": '"1"'})
    stale = await client.delete(item_path, headers={"If-Match": '"1"'})
    deleted = await client.delete(item_path)
    missing = await client.get(item_path)
    listed = await client.get("/items", params={"limit": 1})
    invalid = await client.get("/items", params={"limit": 0})

    exchanges = [
        ("post", "/items", created, 201),
        ("post", "/items", replayed, 201),
        ("get", "/items/{item_id}", fetched, 200),
        ("patch", "/items/{item_id}", updated, 200),
        ("delete", "/items/{item_id}", stale, 412),
        ("delete", "/items/{item_id}", deleted, 204),
        ("get", "/items/{item_id}", missing, 404),
        ("get", "/items", listed, 200),
        ("get", "/items", invalid, 422),
    ]
    assert [sent.status_code for _, _, sent, _ in exchanges] == [
        status for _, _, _, status in exchanges
    ]
    for method, path, sent, _ in exchanges:
        check_headers(document, method, path, sent)
    assert "idempotency-replayed" not in created.headers
    assert replayed.headers["idempotency-replayed"] == "true"
    assert fetched.headers["etag"] == '"1"'
    assert updated.headers["etag"] == '"2"'


async def test_health_probes_send_the_documented_headers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    document = app.openapi()

    for path in ("/health/live", "/health/ready"):
        sent = await client.get(path)

        assert sent.status_code == 200
        check_headers(document, "get", path, sent)
