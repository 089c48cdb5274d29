"""Response headers the API sends, each declared once under `components/headers`.

Routes name the headers of their own responses with `documented(...)`; the OpenAPI builder
adds the ones every response carries, so generated clients get a type for each of them.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    name: str
    description: str
    schema: dict[str, Any]
    required: bool = True

    def definition(self) -> dict[str, Any]:
        return {"description": self.description, "required": self.required, "schema": self.schema}

    def reference(self) -> dict[str, str]:
        return {"$ref": f"#/components/headers/{self.name}"}


REQUEST_ID = ResponseHeader(
    "X-Request-ID",
    "Id of this request: the client's own `X-Request-ID` when it is safe to log, else a new "
    "one. Logs and problem bodies carry it too.",
    {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$", "examples": ["5f0c2d9e8b7a4c1d"]},
)
ETAG = ResponseHeader(
    "ETag",
    "Version of the resource as a strong entity tag; send it in `If-Match` to change or "
    "delete only that version.",
    {"type": "string", "examples": ['"1"']},
)
LOCATION = ResponseHeader(
    "Location",
    "Path of the created resource.",
    {
        "type": "string",
        "format": "uri-reference",
        "examples": ["/items/0b7e6c52-3f7c-4a8e-9a55-2f1c8d2a9b10"],
    },
)
IDEMPOTENCY_REPLAYED = ResponseHeader(
    "Idempotency-Replayed",
    "`true` when this response repeats the outcome of an earlier request with the same "
    "`Idempotency-Key`; absent on the first one.",
    {"type": "string", "enum": ["true"]},
    required=False,
)
RETRY_AFTER = ResponseHeader(
    "Retry-After",
    "Seconds to wait before sending the request again.",
    {"type": "integer", "minimum": 0, "examples": [5]},
)
ALLOW = ResponseHeader(
    "Allow",
    "The methods the path supports.",
    {"type": "string", "examples": ["GET, POST"]},
)

RESPONSE_HEADERS = (REQUEST_ID, ETAG, LOCATION, IDEMPOTENCY_REPLAYED, RETRY_AFTER, ALLOW)


def documented(*headers: ResponseHeader) -> dict[str, dict[str, str]]:
    """The `headers` of an OpenAPI response that sends these headers."""
    return {header.name: header.reference() for header in headers}
