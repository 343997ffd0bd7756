"""Password guessing is slowed per user name AND per source address, never by a lock anyone
can set off (NIST SP 800-63B §5.2.2, "rate limiting (throttling)").

Two counters of failed sign-ins, kept in a store (memory, or Redis with several workers):

- per (user name, address): the first PAIR_FREE_FAILURES failures cost nothing; after that
  each failure makes that address wait 1, 2, 4 … seconds, up to PAIR_MAX_DELAY, before the
  next try for that user name. An attacker's address slows itself down, not the owner's;
- per user name, from every address together: after ACCOUNT_FREE_FAILURES failures each
  further one makes every address wait ACCOUNT_DELAY before the next try. This slows a
  guessing botnet to a crawl, and costs the owner at most a few seconds.

Both are keyed by the user name as typed (normalised), whether or not such an account
exists, so throttling tells nobody which user names are real. A successful sign-in clears
both counters. Counters are forgotten FORGET_AFTER after the last failure.

Behind it, `accounts.authenticate` keeps NIST's hard ceiling: MAX_FAILED_ATTEMPTS (100)
consecutive failures pause the account for LOCK_DURATION. From one address the throttle
lets through one guess per PAIR_MAX_DELAY, so reaching it takes about a day.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from litestar.stores.base import Store

from models.identity import normalize_username
from web.platform.middleware import limit_key

STORE_NAME = "sign_in_throttle"
PAIR_FREE_FAILURES = 5
PAIR_MAX_DELAY = 15 * 60.0
ACCOUNT_FREE_FAILURES = 20
ACCOUNT_DELAY = 5.0
FORGET_AFTER = 24 * 3600


@dataclass
class _Counter:
    failures: int = 0
    wait_until: float = 0.0


def _key(kind: str, *parts: str) -> str:
    # Hashed: user names and addresses are not kept in the store in clear.
    return f"{kind}:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class SignInThrottle:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        name = normalize_username(username)
        return _key("pair", name, limit_key(address)), _key("account", name)

    async def _read(self, key: str) -> _Counter:
        raw = await self._store.get(key)
        if not raw:
            return _Counter()
        try:
            return _Counter(**json.loads(raw))
        except (ValueError, TypeError):
            return _Counter()

    async def _write(self, key: str, counter: _Counter) -> None:
        await self._store.set(key, json.dumps(counter.__dict__), expires_in=FORGET_AFTER)

    async def wait_seconds(self, username: str, address: str, *, now: float) -> int:
        """Whole seconds this address must wait before trying this user name (0: go ahead)."""
        until = max([(await self._read(key)).wait_until for key in self._keys(username, address)])
        return max(0, math.ceil(until - now))

    async def failed(self, username: str, address: str, *, now: float) -> None:
        pair_key, account_key = self._keys(username, address)
        pair = await self._read(pair_key)
        pair.failures += 1
        if pair.failures > PAIR_FREE_FAILURES:
            delay = min(PAIR_MAX_DELAY, 2.0 ** (pair.failures - PAIR_FREE_FAILURES - 1))
            pair.wait_until = now + delay
        await self._write(pair_key, pair)
        account = await self._read(account_key)
        account.failures += 1
        if account.failures > ACCOUNT_FREE_FAILURES:
            account.wait_until = now + ACCOUNT_DELAY
        await self._write(account_key, account)

    async def succeeded(self, username: str, address: str) -> None:
        for key in self._keys(username, address):
            await self._store.delete(key)
