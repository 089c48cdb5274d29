"""Keyset pagination values shared by every listing."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from uuid import UUID

SortValue = str | int | datetime
"""Types a listing may sort by; each has an exact text form inside a cursor."""

FilterT = TypeVar("FilterT")
SortT = TypeVar("SortT", bound="SortOrder")
EntityT = TypeVar("EntityT")


class SortOrder(StrEnum):
    """Base for a resource's orderings: `name` sorts ascending by a field, `-name` descending.

    Every ordering ends with the id as tie-breaker, so positions are unique.
    """

    @property
    def field(self) -> str:
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


@dataclass(frozen=True, slots=True)
class Keyset:
    """Position after which the next page starts: the sort value and id of the last entity."""

    value: SortValue
    id: UUID


@dataclass(frozen=True)
class PageQuery(Generic[FilterT, SortT]):
    """What a repository lists: at most `limit` entities matching `filter`, after `after`."""

    filter: FilterT
    sort: SortT
    limit: int
    after: Keyset | None = None


@dataclass(frozen=True)
class Page(Generic[EntityT]):
    items: list[EntityT]
    next_cursor: str | None
