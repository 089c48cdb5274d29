"""The item entity and the values used to create, change and query items."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict
from uuid import UUID


class ItemStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class ItemSort(StrEnum):
    """Orderings the list endpoint offers; each is backed by an index."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    NAME = "name"
    NAME_DESC = "-name"

    @property
    def field(self) -> str:
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


@dataclass(frozen=True, slots=True)
class Item:
    id: UUID
    name: str
    description: str | None
    status: ItemStatus
    quantity: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def first_version(cls, item_id: UUID, new: "NewItem", now: datetime) -> "Item":
        """The item as it is stored on creation: version 1, created and updated `now`."""
        return cls(
            id=item_id,
            name=new.name,
            description=new.description,
            status=new.status,
            quantity=new.quantity,
            version=1,
            created_at=now,
            updated_at=now,
        )

    def sort_value(self, sort: ItemSort) -> Any:
        return getattr(self, sort.field)


@dataclass(frozen=True, slots=True)
class NewItem:
    name: str
    description: str | None = None
    status: ItemStatus = ItemStatus.ACTIVE
    quantity: int = 0


class ItemChanges(TypedDict, total=False):
    """The fields a partial update sets; absent keys stay as they are."""

    name: str
    description: str | None
    status: ItemStatus
    quantity: int


@dataclass(frozen=True, slots=True)
class ItemFilter:
    status: ItemStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Keyset:
    """Position after which the next page starts: the sort value and id of the last item."""

    value: Any
    id: UUID


@dataclass(frozen=True, slots=True)
class ItemQuery:
    filter: ItemFilter
    sort: ItemSort
    limit: int
    after: Keyset | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Item]
    next_cursor: str | None
