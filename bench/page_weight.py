"""First-load weight of every page: HTML plus every stylesheet and script it links,
gzip-compressed as the server sends them. Budget: 60 KB a page, htmx included.

Run: `python -m bench.page_weight` (uses a temporary DATA_DIR and SQLite).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import tempfile

BUDGET_BYTES = 60 * 1024
PAGES = [
    "/",
    "/services",
    "/agencies/dgk",
    "/agencies/dgk/services/clearance-documents",
    "/agencies/dgk/services/letter-tracking",
    "/documents",
    "/letters",
    "/login",
    "/login/asan",
    "/login/password",
    "/simulator/asan-imza/",
    "/no-such-page",
]
# Pages behind sign-in, measured as the demo user who sees them.
SIGNED_IN_PAGES = [
    ("vetendas2", "/documents"),
    ("vetendas2", "/documents/obligation"),
    ("vetendas2", "/documents/new"),
    ("mufettis", "/officer/documents?party=1234567891"),
    ("admin", "/admin/audit"),
    ("vetendas2", "/letters"),
    ("vetendas2", "/letters/mine"),
    ("vetendas2", "/letters/new"),
    ("vetendas2", "/letters/notifications"),
    ("katib", "/registry"),
    ("katib", "/registry/new"),
    ("admin", "/registry/bodies"),
]
_ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


async def measure(client, path: str) -> dict[str, int]:
    """Compressed bytes of the page and each linked asset (favicons and print CSS included)."""
    headers = {"accept-encoding": "gzip"}
    page = await client.get(path, headers=headers)
    sizes = {path: page.num_bytes_downloaded}  # bytes on the wire, before decoding
    for asset in sorted(set(_ASSET.findall(page.text))):
        response = await client.get(asset.replace("&amp;", "&"), headers=headers)
        sizes[asset] = response.num_bytes_downloaded
    return sizes


async def run() -> list[tuple[str, int]]:
    from litestar.testing import AsyncTestClient

    from bench.support import sign_in
    from web.app import create_app
    from web.devdata.demo_data import seed_demo_data
    from web.platform import db
    from web.settings import get_settings

    settings = get_settings()
    await db.migrate(settings)
    await db.init_db(settings)
    await seed_demo_data(settings)
    await db.close_db()
    results = []
    async with AsyncTestClient(app=create_app(settings)) as client:
        for path in PAGES:
            sizes = await measure(client, path)
            results.append((path, sum(sizes.values())))
        for username, path in SIGNED_IN_PAGES:
            await sign_in(client, username)
            sizes = await measure(client, path)
            results.append((f"{path} ({username})", sum(sizes.values())))
    return results


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="egomruk-bench-"))
    results = asyncio.run(run())
    worst = max(total for _, total in results)
    print(f"{'page':50} {'first load (gzip)':>18} {'of budget':>10}")
    for path, total in results:
        print(f"{path:50} {total / 1024:15.1f} KB {total / BUDGET_BYTES:9.0%}")
    print(f"heaviest page: {worst / 1024:.1f} KB = {worst / BUDGET_BYTES:.0%} of the 60 KB budget")
    return 0 if worst <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
