"""How many letter lookups one person, and one client address, may make a minute.

Both must be under the limit, so neither many accounts from one address nor one account
from many addresses can guess numbers. Counted with the app's rate limiter
(`web/platform/rate_limits.py`: an exact moving window, atomic, memory or Redis). Lookups are
outside the general limit, which is far higher. Both counts, and the session's write-back when
one is due (`seen`), are one store round trip (`RateLimits.hit_both`): with the session's read,
a lookup costs two (issue 12).
"""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from litestar import Request

from web.identity import sessions
from web.platform.middleware import limit_key
from web.platform.rate_limits import RateLimits


async def allow_lookup(
    limits: RateLimits,
    *,
    person_id: int,
    address: str,
    limit: int,
    request: Request | None = None,
) -> bool:
    """Count one lookup; False when over the limit. With `request`, its session's pending
    write-back goes in the same round trip."""
    item = RateLimitItemPerMinute(limit)
    write = sessions.pending_write(request) if request is not None else None
    allowed, written = await limits.hit_both(
        item,
        ("lookup-person", str(person_id)),
        ("lookup-address", limit_key(address)),
        write=write,
    )
    if write is not None:
        sessions.settle_write(request, write, bool(written))
    return allowed
