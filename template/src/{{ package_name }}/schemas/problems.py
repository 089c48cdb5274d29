"""RFC 9457 problem details, the body of every error response."""

from pydantic import BaseModel, Field


class Problem(BaseModel):
    type: str = Field(
        description="URI naming the error type.", examples=["urn:problem-type:item_not_found"]
    )
    title: str = Field(description="Short summary of the error type.")
    status: int = Field(description="HTTP status code of this response.")
    detail: str = Field(description="Explanation of this occurrence, meant for people.")
    code: str = Field(
        description="Stable machine-readable error code.", examples=["item_not_found"]
    )
    request_id: str = Field(description="Id of the request, also sent as X-Request-ID.")


class FieldError(BaseModel):
    field: str = Field(description="Where the bad value is, e.g. `body.name` or `query.limit`.")
    message: str
    type: str = Field(description="Validation error type, e.g. `string_too_long`.")


class ValidationProblem(Problem):
    errors: list[FieldError]
