"""A rate limit storage that fails, for the tests of failing open."""

from limits.aio.storage import MemoryStorage


class FailingStorage(MemoryStorage):
    """A storage whose every window operation fails, as Redis does when it is unreachable."""

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        raise ConnectionError("storage unreachable")

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        raise ConnectionError("storage unreachable")
