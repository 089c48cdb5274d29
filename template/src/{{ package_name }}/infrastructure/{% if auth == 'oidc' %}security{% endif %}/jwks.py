"""The identity provider's signing keys, found through its discovery document and cached.

One `JwksCache` per process serves every request. It fetches the key set when it has none or
when the set is older than its TTL, and again for a token signed by a key it does not know,
but at most once per cooldown, so that tokens with made-up key ids cannot make the service
hammer the provider. Concurrent requests that need a fetch share one. When a fetch fails, the
last key set that was fetched keeps serving, for as long as the provider stays unreachable.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from jwt import PyJWK, PyJWTError

logger = logging.getLogger(__name__)

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
"""The JWK key type each family of signature algorithms verifies with."""


class KeysUnavailableError(Exception):
    """The signing keys cannot be fetched, and none that would do are cached."""


class UnknownKeyError(Exception):
    """The token names a key that the provider does not publish."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A public key the provider signs tokens with."""

    key: Any
    """The key in the form PyJWT verifies with."""
    key_type: str
    algorithm: str | None
    """The one algorithm the key is for, when the provider says so."""

    def fits(self, algorithm: str) -> bool:
        """Whether a signature made with `algorithm` can have been made with this key."""
        if self.algorithm is not None:
            return self.algorithm == algorithm
        return _KEY_TYPES.get(algorithm[:2]) == self.key_type


KeySet = Mapping[str | None, SigningKey]
"""Signing keys by key id (`None` for a key published without one)."""


def parse_key_set(document: object) -> KeySet:
    """The signature keys of a JWK set this service can use; other members are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("the JWK set has no `keys` list")
    keys: dict[str | None, SigningKey] = {}
    for member in document["keys"]:
        if not isinstance(member, dict) or member.get("use", "sig") != "sig":
            continue
        if member.get("kty") not in _KEY_TYPES.values():
            continue  # symmetric keys never verify a token here, whatever the provider says
        try:
            parsed = PyJWK.from_dict(member)
        except (PyJWTError, ValueError, TypeError, KeyError):
            continue  # an algorithm or a curve this service does not support
        kid = member.get("kid")
        algorithm = member.get("alg")
        keys[kid if isinstance(kid, str) else None] = SigningKey(
            parsed.key, member["kty"], algorithm if isinstance(algorithm, str) else None
        )
    if not keys:
        raise ValueError("the JWK set has no signature key this service can use")
    return keys


class JwksCache:
    """The provider's current key set, kept fresh within the limits given."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        issuer: str,
        discovery_url: str,
        ttl_seconds: float,
        unknown_kid_cooldown_seconds: float,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._issuer = issuer
        self._discovery_url = discovery_url
        self._ttl = ttl_seconds
        self._cooldown = unknown_kid_cooldown_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._keys: KeySet | None = None
        self._fresh_until = -math.inf
        self._refetch_after = -math.inf
        self._fetching: asyncio.Task[bool] | None = None

    async def get(self, kid: str | None) -> SigningKey:
        """The key with id `kid`; raises `UnknownKeyError` when the provider has none, and
        `KeysUnavailableError` when the keys cannot be fetched to find out."""
        refreshed: bool | None = None
        if self._keys is None or self._clock() >= self._fresh_until:
            refreshed = await self._refresh()
        key = self._find(kid)
        if key is None and refreshed is None and self._clock() >= self._refetch_after:
            self._refetch_after = self._clock() + self._cooldown
            refreshed = await self._refresh()
            key = self._find(kid)
        if key is not None:
            return key
        if refreshed is False:
            raise KeysUnavailableError("the key set could not be fetched again")
        raise UnknownKeyError(kid)

    async def close(self) -> None:
        """Stop a fetch still under way."""
        if self._fetching is not None:
            self._fetching.cancel()

    def _find(self, kid: str | None) -> SigningKey | None:
        keys = self._keys or {}
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))
        return keys.get(kid)

    async def _refresh(self) -> bool:
        """Fetch the key set once for every caller waiting now; whether the fetch succeeded.

        Raises `KeysUnavailableError` when it failed and no key set is cached."""
        if self._fetching is None:
            self._fetching = asyncio.create_task(self._fetch())
            self._fetching.add_done_callback(self._fetched)
        return await asyncio.shield(self._fetching)

    def _fetched(self, task: "asyncio.Task[bool]") -> None:
        self._fetching = None
        if not task.cancelled():
            task.exception()  # each waiter gets it; nobody need wait for it to be collected

    async def _fetch(self) -> bool:
        try:
            keys = await self._download()
        except (httpx.HTTPError, TimeoutError, ValueError) as exc:
            logger.warning(
                "could not fetch the identity provider's signing keys",
                extra={"error": f"{type(exc).__name__}: {exc}", "cached": self._keys is not None},
            )
            self._fresh_until = self._clock() + min(self._cooldown, self._ttl)
            if self._keys is None:
                raise KeysUnavailableError("the signing keys cannot be fetched") from exc
            return False
        now = self._clock()
        self._keys = keys
        self._fresh_until = now + self._ttl
        self._refetch_after = now + self._cooldown
        return True

    async def _download(self) -> KeySet:
        discovery = await self._get_json(self._discovery_url)
        if discovery.get("issuer") != self._issuer:
            raise ValueError(
                f"the discovery document names the issuer {discovery.get('issuer')!r}, "
                f"not {self._issuer!r}"
            )
        jwks_uri = discovery.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise ValueError("the discovery document has no usable jwks_uri")
        if self._issuer.startswith("https://") and not jwks_uri.startswith("https://"):
            raise ValueError("the discovery document's jwks_uri is not an https:// URL")
        return parse_key_set(await self._get_json(jwks_uri))

    async def _get_json(self, url: str) -> dict[str, Any]:
        async with asyncio.timeout(self._timeout):
            response = await self._client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer with a JSON object")
        return document
