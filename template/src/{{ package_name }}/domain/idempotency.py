"""Records that let a retried create return its first response."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IdempotencyScope:
    """Who sent which key to which operation: keys never cross operations or callers."""

    operation: str
    principal: str
    key: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response to a request, as it is replayed: status, JSON body, chosen headers."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    scope: IdempotencyScope
    fingerprint: str
    expires_at: datetime
    response: StoredResponse | None = None
