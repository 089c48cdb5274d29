"""The harness's own HTTP calls: readiness polling and seeding, stdlib only, to 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.processes import ManagedProcess

HOST = "127.0.0.1"
SEED_DESCRIPTION = "Seeded by the benchmark so that reads have rows to find and list."


class ApiError(RuntimeError):
    """A server did not become ready, or refused a seeding request."""


def wait_until_ready(server: ManagedProcess, port: int, path: str, timeout: float = 60) -> float:
    """Poll `path` until it answers 200; the seconds it took. Fails early if the server exits."""
    started = time.monotonic()
    last = "no answer yet"
    while time.monotonic() - started < timeout:
        server.check_alive()
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                return time.monotonic() - started
            last = f"HTTP {response.status}"
        except OSError as error:
            last = str(error)
        finally:
            connection.close()
        time.sleep(0.1)
    raise ApiError(
        f"{server.name}: {path} did not answer 200 within {timeout:.0f}s (last: {last}); "
        f"the end of its log ({server.log}):\n{server.log_tail()}"
    )


def log_in(port: int, email: str, password: str) -> str:
    """An access token from the service's JSON login (`POST /auth/login`)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        body = json.dumps({"email": email, "password": password})
        connection.request(
            "POST", "/auth/login", body=body, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise ApiError(
            f"POST /auth/login answered {response.status}: {answer[:500].decode(errors='replace')}"
        )
    return str(json.loads(answer)["access_token"])


def seed_items(port: int, count: int, authorization: str | None = None) -> list[str]:
    """Create `count` items through POST /items on one keep-alive connection; their ids."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    ids = []
    try:
        for number in range(1, count + 1):
            body = {
                "name": f"seed-{number:05d}",
                "description": SEED_DESCRIPTION,
                "quantity": number % 1000,
            }
            connection.request("POST", "/items", body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 201:
                raise ApiError(
                    f"Seeding item {number}: POST /items answered {response.status}: "
                    f"{answer[:500].decode(errors='replace')}"
                )
            ids.append(json.loads(answer)["id"])
    finally:
        connection.close()
    return ids
