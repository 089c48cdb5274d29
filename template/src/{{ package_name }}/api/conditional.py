"""Conditional requests: entity tags carry a resource's version, If-Match guards changes."""

from typing import Annotated

from fastapi import Header

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=256,
        description='ETag of the version the change is based on, e.g. `"3"`; `*` matches any.',
    ),
]

NEVER_MATCHES = -1
"""A version no resource has: what a tag that cannot match asks for."""


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header asks for; None when any version will do.

    Weak or unknown tags can never match, as RFC 9110 requires for If-Match.
    """
    if if_match is None or if_match.strip() == "*":
        return None
    for tag in if_match.split(","):
        value = tag.strip()
        if len(value) > 2 and value[0] == value[-1] == '"' and value[1:-1].isdigit():
            return int(value[1:-1])
    return NEVER_MATCHES
