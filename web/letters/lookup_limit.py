"""How many letter lookups one person, and one client address, may make a minute.

Both must be under the limit, so neither many accounts from one address nor one account
from many addresses can guess numbers. Counted with the app's rate limiter
(`web/platform/rate_limits.py`: an exact moving window, atomic, memory or Redis). A lookup costs at
most two store round trips (one when the person is already over); lookups are outside the
general limit, which is far higher.
"""

from __future__ import annotations

from limits import RateLimitItemPerMinute

from web.platform.middleware import limit_key
from web.platform.rate_limits import RateLimits


async def allow_lookup(limits: RateLimits, *, person_id: int, address: str, limit: int) -> bool:
    item = RateLimitItemPerMinute(limit)
    if not await limits.hit(item, "lookup-person", str(person_id), exact=True):
        return False  # the address is not counted then: one round trip
    return await limits.hit(item, "lookup-address", limit_key(address), exact=True)
