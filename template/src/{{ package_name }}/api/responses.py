"""Responses built from a schema up front, for routes that need the bytes they send."""

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel

JSON_MEDIA_TYPE = "application/json"


def representation(
    model: BaseModel, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        content=model.model_dump_json(),
        status_code=status,
        media_type=JSON_MEDIA_TYPE,
        headers=headers,
    )
