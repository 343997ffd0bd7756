"""Command line: `python -m web migrate | seed | serve | storage-check [--remove-orphans]`.

`serve` is what `make run` uses: it applies migrations, seeds demo data in development,
then starts uvicorn (graceful shutdown on SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import asyncio
import os

import uvicorn

from web.platform import db
from web.settings import get_settings


async def _migrate() -> None:
    from web.letters.reference_data import ensure_customs_bodies

    settings = get_settings()
    await db.migrate(settings)
    await db.init_db(settings)
    try:
        await ensure_customs_bodies()
    finally:
        await db.close_db()


async def _seed() -> None:
    from web.devdata.demo_data import seed_demo_data

    settings = get_settings()
    if not settings.is_development:
        print("Demo data is seeded only with ENV=development.")
        return
    await db.init_db(settings)
    try:
        created = await seed_demo_data(settings)
        print(f"Demo data ready ({created} new records).")
    finally:
        await db.close_db()


async def _storage_check(remove: bool) -> int:
    """Report stored files no row points to (orphans) and rows whose file is missing."""
    from web.storage.backend import LocalDiskStorage
    from web.storage.check import check

    settings = get_settings()
    await db.init_db(settings)
    try:
        result = await check(LocalDiskStorage(settings.upload_dir), remove=remove)
    finally:
        await db.close_db()
    report = result.report
    print(
        f"Storage {settings.upload_dir}: {len(report.orphans)} orphan(s), "
        f"{len(report.missing)} missing file(s)."
    )
    for key in report.orphans:
        print(f"  orphan   {key}{'  (removed)' if key in result.removed else ''}")
    for key in report.missing:
        print(f"  missing  {key}")
    if report.orphans and not remove:
        print("Run again with --remove-orphans to delete them (missing files are only reported).")
    return 0 if report.ok or (not report.missing and result.removed) else 1


def _serve() -> None:
    settings = get_settings()
    asyncio.run(_migrate())
    if settings.is_development:
        asyncio.run(_seed())
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    print(f"e-Gömrük is serving on http://{host}:{port}")
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # our middleware logs each request with its id
        proxy_headers=False,
        timeout_graceful_shutdown=10,
        log_level="warning",
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m web", description="e-Gömrük portal")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed", help="load demo data (development only)")
    sub.add_parser("serve", help="migrate, seed (development) and serve")
    check = sub.add_parser("storage-check", help="compare stored files with the database")
    check.add_argument(
        "--remove-orphans", action="store_true", help="delete files that no row points to"
    )
    args = parser.parse_args()
    if args.command == "migrate":
        asyncio.run(_migrate())
    elif args.command == "seed":
        asyncio.run(_seed())
    elif args.command == "storage-check":
        raise SystemExit(asyncio.run(_storage_check(args.remove_orphans)))
    else:
        _serve()


if __name__ == "__main__":
    main()
