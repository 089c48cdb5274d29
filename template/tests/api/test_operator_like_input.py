"""Input shaped like a query operator (`{"$ne": null}`, `$where`) is refused by the request
models or stored and matched as the text it is: no request value ever becomes part of a query
other than as a value, whichever database serves it."""

import httpx
import pytest

pytestmark = pytest.mark.integration

OPERATOR = {"$ne": None}
OPERATOR_TEXT = '{"$ne": null}'


@pytest.mark.parametrize(
    "body",
    [
        {"name": OPERATOR},
        {"name": "Anvil", "description": OPERATOR},
        {"name": "Anvil", "status": {"$in": ["active", "archived"]}},
        {"name": "Anvil", "quantity": {"$gt": 0}},
        {"name": "Anvil", "$where": "sleep(1000)"},
    ],
)
async def test_an_operator_in_a_create_body_is_refused(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await client.post("/items", json=body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert (await client.get("/items")).json()["items"] == []


async def test_an_operator_in_a_change_is_refused(client: httpx.AsyncClient) -> None:
    created = (await client.post("/items", json={"name": "Anvil"})).json()

    for changes in ({"name": OPERATOR}, {"status": {"$ne": "active"}}, {"$set": {"name": "x"}}):
        response = await client.patch(f"/items/{created['id']}", json=changes)
        assert response.status_code == 422, changes

    assert (await client.get(f"/items/{created['id']}")).json() == created


@pytest.mark.parametrize(
    "query",
    [
        {"status": OPERATOR_TEXT},
        {"status[$ne]": "archived", "status": '{"$ne": "archived"}'},
        {"created_after": '{"$gt": ""}'},
        {"created_before": "$where"},
        {"sort": '{"$natural": 1}'},
        {"limit": '{"$gt": 0}'},
    ],
)
async def test_an_operator_in_a_list_filter_is_refused(
    client: httpx.AsyncClient, query: dict[str, str]
) -> None:
    response = await client.get("/items", params=query)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


async def test_an_operator_in_an_id_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/items/%7B%22%24ne%22%3A%20null%7D")

    assert response.status_code == 422


async def test_operator_like_text_is_stored_and_matched_literally(
    client: httpx.AsyncClient,
) -> None:
    created = await client.post(
        "/items", json={"name": OPERATOR_TEXT, "description": "$where: this.quantity > 0"}
    )
    other = await client.post("/items", json={"name": "$ne"})
    assert (created.status_code, other.status_code) == (201, 201)

    read = (await client.get(created.headers["location"])).json()
    same_name = await client.post("/items", json={"name": OPERATOR_TEXT})
    listed = (await client.get("/items", params={"sort": "name"})).json()["items"]

    assert (read["name"], read["description"]) == (OPERATOR_TEXT, "$where: this.quantity > 0")
    assert same_name.status_code == 409
    assert sorted(item["name"] for item in listed) == sorted([OPERATOR_TEXT, "$ne"])
