"""The items API over HTTP, against the real database."""

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def create(
    client: httpx.AsyncClient, name: str = "Anvil", **fields: object
) -> httpx.Response:
    response = await client.post("/items", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    return response


async def test_create_returns_the_item_with_location_and_etag(client: httpx.AsyncClient) -> None:
    response = await create(client, "Anvil", description="Heavy", quantity=3)
    item = response.json()

    assert item["name"] == "Anvil"
    assert item["status"] == "active"
    assert item["version"] == 1
    assert response.headers["location"] == f"/items/{item['id']}"
    assert response.headers["etag"] == '"1"'


async def test_get_returns_the_item_and_its_etag(client: httpx.AsyncClient) -> None:
    item = (await create(client)).json()

    response = await client.get(f"/items/{item['id']}")

    assert response.status_code == 200
    assert response.json() == item
    assert response.headers["etag"] == '"1"'


async def test_unknown_item_is_a_404_problem(client: httpx.AsyncClient) -> None:
    item_id = uuid4()
    response = await client.get(f"/items/{item_id}")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "item_not_found"
    assert body["type"] == "urn:problem-type:item_not_found"
    assert str(item_id) in body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]


async def test_duplicate_name_is_a_409_problem(client: httpx.AsyncClient) -> None:
    await create(client)

    response = await client.post("/items", json={"name": "Anvil"})

    assert response.status_code == 409
    assert response.json()["code"] == "item_name_conflict"


async def test_idempotent_retry_returns_the_first_response(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "order-7"}
    first = await client.post("/items", json={"name": "Anvil"}, headers=headers)
    retry = await client.post("/items", json={"name": "Anvil"}, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert retry.headers["content-type"] == first.headers["content-type"]
    for header in ("location", "etag"):
        assert retry.headers[header] == first.headers[header]
    assert retry.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    listing = await client.get("/items")
    assert len(listing.json()["items"]) == 1


async def test_replay_is_the_first_response_after_the_item_changed_or_went(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "order-8"}
    first = await client.post("/items", json={"name": "Anvil"}, headers=headers)
    location = first.headers["location"]

    await client.patch(location, json={"quantity": 9})
    after_change = await client.post("/items", json={"name": "Anvil"}, headers=headers)
    await client.delete(location)
    after_delete = await client.post("/items", json={"name": "Anvil"}, headers=headers)

    for replay in (after_change, after_delete):
        assert replay.status_code == 201
        assert replay.content == first.content
        assert replay.headers["etag"] == '"1"'
        assert replay.headers["location"] == location


async def test_the_same_body_with_a_new_key_is_a_new_create(client: httpx.AsyncClient) -> None:
    first = await client.post("/items", json={"name": "Anvil"}, headers={"Idempotency-Key": "a"})
    second = await client.post("/items", json={"name": "Anvil"}, headers={"Idempotency-Key": "b"})

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["code"] == "item_name_conflict"


async def test_a_failed_create_leaves_its_key_unused(client: httpx.AsyncClient) -> None:
    await create(client, "Anvil")
    headers = {"Idempotency-Key": "order-9"}

    refused = await client.post("/items", json={"name": "Anvil"}, headers=headers)
    taken = (await client.get("/items")).json()["items"][0]
    await client.delete(f"/items/{taken['id']}")
    retried = await client.post("/items", json={"name": "Anvil"}, headers=headers)

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert "idempotency-replayed" not in retried.headers


async def test_key_reused_with_another_body_is_a_409_problem(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "order-7"}
    await client.post("/items", json={"name": "Anvil"}, headers=headers)

    response = await client.post("/items", json={"name": "Hammer"}, headers=headers)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_mismatch"


async def test_patch_changes_given_fields_and_bumps_the_etag(client: httpx.AsyncClient) -> None:
    item = (await create(client, description="Heavy")).json()

    response = await client.patch(
        f"/items/{item['id']}",
        json={"quantity": 4, "description": None},
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200
    changed = response.json()
    assert (changed["quantity"], changed["description"], changed["name"]) == (4, None, "Anvil")
    assert changed["version"] == 2
    assert response.headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ['"1"', 'W/"2"', "garbage"])
async def test_stale_or_unusable_if_match_is_a_412_problem(
    client: httpx.AsyncClient, if_match: str
) -> None:
    item = (await create(client)).json()
    await client.patch(f"/items/{item['id']}", json={"quantity": 1})

    response = await client.patch(
        f"/items/{item['id']}", json={"quantity": 2}, headers={"If-Match": if_match}
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"


async def test_if_match_star_accepts_any_version(client: httpx.AsyncClient) -> None:
    item = (await create(client)).json()

    response = await client.patch(
        f"/items/{item['id']}", json={"status": "archived"}, headers={"If-Match": "*"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "archived"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"name": None}, "body.name"),
        ({"quantity": -1}, "body.quantity"),
        ({"quantity": True}, "body.quantity"),
        ({"unknown": 1}, "body.unknown"),
    ],
)
async def test_invalid_patch_is_a_422_problem_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    item = (await create(client)).json()

    response = await client.patch(f"/items/{item['id']}", json=body)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert field in [error["field"] for error in problem["errors"]]


async def test_rename_to_a_taken_name_is_a_409_problem(client: httpx.AsyncClient) -> None:
    await create(client, "Anvil")
    hammer = (await create(client, "Hammer")).json()

    response = await client.patch(f"/items/{hammer['id']}", json={"name": "Anvil"})

    assert response.status_code == 409


async def test_delete_removes_the_item(client: httpx.AsyncClient) -> None:
    item = (await create(client)).json()

    stale = await client.delete(f"/items/{item['id']}", headers={"If-Match": '"9"'})
    deleted = await client.delete(f"/items/{item['id']}", headers={"If-Match": '"1"'})
    again = await client.delete(f"/items/{item['id']}")

    assert (stale.status_code, deleted.status_code, again.status_code) == (412, 204, 404)
    assert deleted.content == b""


async def test_list_pages_through_everything_once(client: httpx.AsyncClient) -> None:
    names = [f"item-{index}" for index in range(5)]
    for name in names:
        await create(client, name)

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2, "sort": "name"}
    while True:
        page = (await client.get("/items", params=params)).json()
        seen.extend(item["name"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == names


async def test_list_filters_by_status(client: httpx.AsyncClient) -> None:
    await create(client, "kept")
    await create(client, "old", status="archived")

    response = await client.get("/items", params={"status": "archived"})

    assert [item["name"] for item in response.json()["items"]] == ["old"]


async def test_list_filters_by_creation_time(client: httpx.AsyncClient) -> None:
    first = (await create(client, "first")).json()
    await create(client, "second")

    after = await client.get("/items", params={"created_after": first["created_at"]})
    before = await client.get("/items", params={"created_before": first["created_at"]})

    assert [item["name"] for item in after.json()["items"]] == ["second"]
    assert before.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"sort": "quantity"}, "query.sort"),
        ({"status": "lost"}, "query.status"),
        ({"created_after": "2026-01-01T00:00:00"}, "query.created_after"),
        ({"created_before": "0.5"}, "query.created_before"),
    ],
)
async def test_bad_list_parameters_are_422_problems(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    response = await client.get("/items", params=params)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_bounds_beyond_the_supported_years_select_as_the_exact_instant_would(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post("/items", json={"name": "Anvil"})).json()
    params = {
        "created_after": "0001-01-01T00:00:00+05:00",
        "created_before": "9999-12-31T23:59:59-05:00",
    }

    response = await client.get("/items", params=params)

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [created["id"]]


@pytest.mark.parametrize("name", ["\u0085", "a\u0085b", "\ufeff", "\u009f"])
async def test_names_without_a_visible_character_or_with_c1_controls_are_refused(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.post("/items", json={"name": name})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["body.name"]


async def test_bad_cursor_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/items", params={"cursor": "not-a-cursor"})

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "a\u0000b"},
        {"name": "x" * 201},
        {"name": "ok", "quantity": 1.5},
        {"name": "ok", "quantity": False},
        {"name": "ok", "quantity": "3"},
        {"name": "ok", "description": "nul\u0000"},
        {"name": "ok", "id": "chosen"},
    ],
)
async def test_invalid_create_is_a_422_problem(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/items", json=body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


async def test_whole_number_written_as_float_is_an_integer(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "Anvil", "quantity": 4.0})

    assert response.status_code == 201
    assert response.json()["quantity"] == 4


async def test_body_that_is_not_utf8_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_oversized_body_is_a_413_problem(client: httpx.AsyncClient) -> None:
    body = b'{"name": "big", "description": "' + b"x" * 1_100_000 + b'"}'

    response = await client.post(
        "/items", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "content_too_large"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_oversized_body_without_length_is_a_413_problem(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "big", "description": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    response = await client.post(
        "/items", content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "content_too_large"


async def test_malformed_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/items", content=b'{"name": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
