"""Times as MongoDB stores them.

A BSON date counts milliseconds, while the service's clock has microseconds. The repositories
therefore truncate every time they store to the millisecond and return it truncated, so an
entity comes back from a write exactly as it reads back later: a POST's body equals the next
GET's body, and a cursor built from a returned entity names a stored value.

A bound given with microseconds is turned into the millisecond bound that selects the same
stored values: `stored > t` holds exactly when `stored > floor(t)`, and `stored < t` exactly
when `stored <= floor(t)` if `t` has a fraction of a millisecond, since every stored value is
a whole millisecond.
"""

from datetime import datetime


def stored(moment: datetime) -> datetime:
    """`moment` truncated to the millisecond, as a BSON date holds it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def stored_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else stored(moment)


def after(moment: datetime) -> dict[str, datetime]:
    """The condition `> moment` on stored times."""
    return {"$gt": stored(moment)}


def before(moment: datetime) -> dict[str, datetime]:
    """The condition `< moment` on stored times."""
    floor = stored(moment)
    return {"$lt": floor} if floor == moment else {"$lte": floor}
