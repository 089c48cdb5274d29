"""Errors the business rules raise. The API layer maps each `code` to an HTTP status."""

from uuid import UUID


class DomainError(Exception):
    """Base for expected failures; `code` is stable and documented for API clients."""

    code = "domain_error"
    title = "Request cannot be processed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ItemNotFoundError(DomainError):
    code = "item_not_found"
    title = "Item not found"

    def __init__(self, item_id: UUID) -> None:
        super().__init__(f"No item with id {item_id} exists.")
        self.item_id = item_id


class ItemNameConflictError(DomainError):
    code = "item_name_conflict"
    title = "Item name already in use"

    def __init__(self, name: str) -> None:
        super().__init__(f"An item named {name!r} already exists.")
        self.name = name


class PreconditionFailedError(DomainError):
    code = "precondition_failed"
    title = "Precondition failed"

    def __init__(self, item_id: UUID, current_version: int) -> None:
        super().__init__(
            f"Item {item_id} has changed since it was read; it is now at version "
            f"{current_version}. Fetch it again and retry with its new ETag."
        )
        self.current_version = current_version


class InvalidCursorError(DomainError):
    code = "invalid_cursor"
    title = "Invalid pagination cursor"


class IdempotencyKeyMismatchError(DomainError):
    code = "idempotency_key_mismatch"
    title = "Idempotency key reused with a different request"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body. "
            "Use a new key for a new request."
        )


class IdempotencyKeyInUseError(DomainError):
    code = "idempotency_key_in_use"
    title = "Idempotency key in use"

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is being processed. Retry after it completes."
        )
