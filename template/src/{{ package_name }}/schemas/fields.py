"""Field types shared by every resource's request and response models."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

VISIBLE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f\ufeff][^\x00-\x1f\x7f-\x9f]*$"
r"""One line of text with at least one visible character and no control characters (C0 or C1).

Written so that every regular-expression engine that reads it agrees: the service's, and
JSON Schema's (ECMA-262) in clients and fuzzers. Their `\s` differ on U+0085, a C1 control
excluded here anyway, and on U+FEFF, excluded by name."""

NO_NUL = r"^[^\x00]*$"
"""Any text but the NUL character, which PostgreSQL cannot store."""


def _json_integer(value: object) -> object:
    """Accept what JSON Schema calls an integer (`3`, `3.0`), refuse booleans and strings."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JSON_INTEGER = BeforeValidator(_json_integer)
"""An integer as JSON Schema means it: `3` and `3.0` are, `true` and `"3"` are not.

Place it after the field's `Field(strict=True, ...)`, so its bounds stay in the schema."""


_RFC3339_EXPECTED = "must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z"


def _parse_rfc3339(value: object) -> object:
    """Only ISO 8601 text is a timestamp here: pydantic would also read a JSON number such as
    `0.5` as seconds since the epoch, which the OpenAPI document (a `date-time` string) rules
    out."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(_RFC3339_EXPECTED)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(_RFC3339_EXPECTED) from exc


def _as_utc(value: datetime) -> datetime:
    """`value` in UTC. A valid timestamp whose UTC form falls just outside the years 1 to 9999
    (`0001-01-01T00:00:00+05:00`) becomes the nearest instant that fits: as a filter bound or an
    expiry it selects exactly what the exact instant would."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (
            datetime.min.replace(tzinfo=UTC)
            if value.year == 1
            else datetime.max.replace(tzinfo=UTC)
        )


UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_parse_rfc3339), AfterValidator(_as_utc)]
"""A timestamp with an explicit offset, normalised to UTC."""


def _document_without_null(schema: dict[str, Any]) -> None:
    """Drop the null branch from a field's schema: it may be left out, but not sent as null."""
    options = [option for option in schema.pop("anyOf") if option.get("type") != "null"]
    schema.update(options[0])


NOT_NULL = Field(json_schema_extra=_document_without_null)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATE_EXPECTED = "must be an ISO 8601 date such as 2026-01-31"


def _parse_iso_date(value: object) -> object:
    """Only `YYYY-MM-DD` text is a date here: pydantic would also read a number as a date."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(_ISO_DATE_EXPECTED)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(_ISO_DATE_EXPECTED) from exc


IsoDate = Annotated[date, BeforeValidator(_parse_iso_date)]
"""A calendar day, as `YYYY-MM-DD` text."""

_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def decimal_text(value: object) -> object:
    """A decimal travels as JSON text (`"12.50"`), which keeps every digit a number would
    round; the field's own pattern and bounds then apply."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not _DECIMAL_TEXT.match(value):
        raise ValueError('must be a decimal number written as a string, such as "12.50"')
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("must be a decimal number written as a string") from exc
