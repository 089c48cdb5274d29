"""Errors the business rules raise, grouped by category.

The API maps each category to one HTTP status in `api/errors.py`. A resource declares its own
errors as subclasses of a category, each with a stable `code`, and never edits that mapping.
"""


class DomainError(Exception):
    """Base for expected failures; `code` is stable and documented for API clients."""

    code = "domain_error"
    title = "Request cannot be processed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidRequestError(DomainError):
    """The request is well formed but cannot be acted on as it stands."""

    code = "invalid_request"
    title = "Invalid request"


class NotFoundError(DomainError):
    """The resource does not exist, or is not visible to the caller."""

    code = "not_found"
    title = "Not found"

    def __init__(self, resource: str, resource_id: object) -> None:
        super().__init__(f"No {resource} with id {resource_id} exists.")
        self.resource = resource
        self.resource_id = resource_id


class ConflictError(DomainError):
    """The request contradicts the current state: a taken name, a reused key."""

    code = "conflict"
    title = "Conflict"


class PreconditionFailedError(DomainError):
    """The resource changed since the version the request was based on."""

    code = "precondition_failed"
    title = "Precondition failed"

    def __init__(self, resource: str, resource_id: object, current_version: int) -> None:
        super().__init__(
            f"The {resource} {resource_id} has changed since it was read; it is now at version "
            f"{current_version}. Fetch it again and retry with its new ETag."
        )
        self.resource = resource
        self.resource_id = resource_id
        self.current_version = current_version


class UnprocessableError(DomainError):
    """The request is well formed but names something that cannot be used; `field` says where
    (422)."""

    code = "unprocessable"
    title = "Unprocessable request"

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.field = field


class ReferenceNotFoundError(UnprocessableError):
    """A field names a row that does not exist or that the caller may not see; which of the
    two is never said."""

    code = "reference_not_found"
    title = "Referenced resource not found"

    def __init__(self, field: str, resource: str) -> None:
        super().__init__(f"`{field}` names nothing in {resource} that you can use.", field)


class HasDependentsError(ConflictError):
    """A row that others still refer to cannot be deleted."""

    code = "has_dependents"
    title = "Still referenced"

    def __init__(self, resource: str, resource_id: object, dependents: str) -> None:
        super().__init__(
            f"The {resource} {resource_id} is still referred to by {dependents}; delete or "
            "change those first."
        )


class InvalidCursorError(InvalidRequestError):
    code = "invalid_cursor"
    title = "Invalid pagination cursor"


class IdempotencyKeyMismatchError(ConflictError):
    code = "idempotency_key_mismatch"
    title = "Idempotency key reused with a different request"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request."
        )


class IdempotencyKeyInUseError(ConflictError):
    code = "idempotency_key_in_use"
    title = "Idempotency key in use"

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is being processed. Retry after it completes."
        )
