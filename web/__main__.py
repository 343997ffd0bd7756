"""Command line: `python -m web migrate | seed | serve | worker |
storage-check [--remove-orphans] | tally-check [--repair] |
backup DIR | restore DIR | e-imza-demo [--out DIR] |
seed-bench PARTY COUNT | bundle-css | staff add|totp USERNAME`.

`serve` is what `make run` uses: it applies migrations, seeds demo data in development,
then starts uvicorn (graceful shutdown on SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import structlog
import uvicorn

from web.platform import db
from web.platform.logging import configure_logging, logging_config
from web.settings import Settings, get_settings


async def _migrate() -> None:
    from web.letters.reference_data import ensure_customs_bodies

    settings = get_settings()
    # Several instances may start at once: one migrates, the others wait and find it done.
    async with db.migration_lock(settings):
        await db.migrate(settings)
        await db.init_db(settings)
        try:
            await ensure_customs_bodies()
        finally:
            await db.close_db()


async def _seed(say: Callable[[str], object] = print) -> None:
    from web.devdata.demo_data import seed_demo_data

    settings = get_settings()
    if not settings.is_development:
        say("Demo data is seeded only with ENV=development.")
        return
    await db.init_db(settings)
    try:
        created = await seed_demo_data(settings)
        say(f"Demo data ready ({created} new records).")
    finally:
        await db.close_db()


async def _seed_bench(identifier: str, count: int, days: int | None = None) -> int:
    """Add `count` documents to the party with this FIN/VÖEN, spread evenly over the last
    `days` (three years when not given) — development only: the benchmarks' data at size,
    web/devdata/bench_data.py."""
    from models.identity import Party
    from web.devdata.bench_data import bench_party, seed_documents
    from web.platform.portal_time import today

    settings = get_settings()
    if not settings.is_development:
        print("Benchmark data is seeded only with ENV=development.")
        return 1
    await db.init_db(settings)
    try:
        party = await Party.get_or_none(identifier=identifier)
        _bench, person = await bench_party(identifier if party is None else "0000000000")
        spread = {} if days is None else {"spread_days": days}
        await seed_documents(party or _bench, person, count, today(), **spread)
        print(f"{count} documents added to party {identifier}.")
    finally:
        await db.close_db()
    return 0


async def _storage_check(remove: bool) -> int:
    """Report stored files no row points to (orphans), rows whose file is missing, and the
    temp files of interrupted uploads (web/storage/check.py)."""
    from web.storage.check import check
    from web.storage.configured import describe, storage_from_settings

    settings = get_settings()
    await db.init_db(settings)
    try:
        storage = storage_from_settings(settings)
        result = await check(storage, remove=remove)
    finally:
        await db.close_db()
    report = result.report
    print(
        f"Storage {describe(storage)}: {len(report.orphans)} orphan(s), "
        f"{len(report.missing)} missing file(s), {len(report.recoverable)} recoverable, "
        f"{len(report.interrupted)} interrupted upload(s) ({report.interrupted_bytes} bytes), "
        f"{report.in_progress} upload(s) in progress."
    )
    for key in report.orphans:
        print(f"  orphan       {key}{'  (removed)' if key in result.removed else ''}")
    for key in report.missing:
        print(f"  missing      {key}")
    for key in report.recoverable:
        print(f"  recoverable  {key}{'  (moved into place)' if key in result.recovered else ''}")
    for name in report.interrupted:
        removed = f"tmp/{name}" in result.removed
        print(f"  interrupted  tmp/{name}{'  (removed)' if removed else ''}")
    if not remove and (report.orphans or report.interrupted or report.recoverable):
        print(
            "Run again with --remove-orphans to delete orphans and interrupted uploads and to "
            "move recoverable files into place (missing files are only reported)."
        )
    return 1 if report.missing else 0 if remove or report.ok else 1


async def _tally_check(repair: bool) -> int:
    """Compare the documents' day tallies with a fresh count (web/documents/tally.py)."""
    from web.documents.tally import differences, rebuild

    await db.init_db(get_settings())
    try:
        found = await differences()
        for item in found:
            print(
                f"  party {item.party_id} {item.day}: tallied {item.tallied}, "
                f"counted {item.counted} (documents, of them mistaken)"
            )
        print(f"Document tallies: {len(found)} day(s) differ from the documents.")
        if found and repair:
            await rebuild()
            left = await differences()
            print(f"Rebuilt from the documents: {len(left)} day(s) differ now.")
            return 1 if left else 0
    finally:
        await db.close_db()
    if found:
        print("Run again with --repair to rebuild the tallies from the documents.")
    return 1 if found else 0


# backup/restore copy the local disk's files; a bucket is backed up by its own means.
OBJECT_STORAGE_BACKUP = (
    "STORAGE_URL names object storage: back the bucket up with its versioning or replication "
    "and the database with pg_dump (docs/deploy.md); backup/restore cover the local disk only."
)


def _backup(directory: Path) -> int:
    from web.storage.backup import BackupError, backup

    if get_settings().storage_url:
        print(OBJECT_STORAGE_BACKUP)
        return 1
    try:
        result = asyncio.run(backup(get_settings(), directory))
    except BackupError as error:
        print(f"Backup failed: {error}")
        return 1
    print(
        f"Backup of the {result.database_kind} database and {result.files} file(s) "
        f"({result.bytes} bytes) written to {result.directory}."
    )
    if result.asan_demo_ca_from is not None:
        print(
            f"It holds the Asan İmza demo CA from ASAN_DEMO_CA_DIR={result.asan_demo_ca_from} "
            "(outside DATA_DIR): restore with the same ASAN_DEMO_CA_DIR set to put it back there."
        )
    return 0


def _restore(directory: Path) -> int:
    from web.settings import data_dir_from_environment
    from web.storage.backup import BackupError, restore, restore_data_extras

    if os.environ.get("STORAGE_URL"):  # not get_settings(): it could make a secret key
        print(OBJECT_STORAGE_BACKUP)
        return 1
    try:
        # The secret key first: loading the settings would otherwise generate a new one.
        asan_ca = os.environ.get("ASAN_DEMO_CA_DIR")
        restore_data_extras(
            directory, data_dir_from_environment(), Path(asan_ca) if asan_ca else None
        )
        result = asyncio.run(restore(get_settings(), directory))
    except BackupError as error:
        print(f"Restore failed: {error}")
        return 1
    print(
        f"Restored the {result.database_kind} database and {result.files} file(s) "
        f"({result.bytes} bytes) from {result.directory}. Next: `python -m web storage-check`, "
        "then start the portal (it applies newer migrations)."
    )
    return 0


def _e_imza_demo(out: str | None) -> int:
    from web.devdata.e_imza_demo import DEMO_P12_PASSWORD, write_demo_certificates

    settings = get_settings()
    if not settings.is_development:
        print("Demo certificates are never made in production.")
        return 1
    made = write_demo_certificates(settings, Path(out) if out else None)
    print(f"Demo Elektron imza certificates in {made.directory}:")
    print(f"  CA bundle (E_IMZA_CA_FILE, nginx ssl_client_certificate): {made.ca_file}")
    print(f"  CRL (E_IMZA_CRL_FILES): {made.crl_file}")
    for label, path in made.files.items():
        print(f"  {label:<24} {path}")
    print(f"PKCS#12 passphrase: {DEMO_P12_PASSWORD} (see the README to import one into a browser)")
    return 0


def _serve() -> None:
    """Migrate (once, under the migration lock), seed in development, then serve. Every
    line this writes is a JSON log record, like the workers' own."""
    settings = get_settings()
    configure_logging(settings.log_level)
    log = structlog.get_logger("egomruk.serve")
    for warning in settings.startup_warnings:
        log.warning("settings_warning", message=warning)
    asyncio.run(_migrate())
    if settings.is_development:
        asyncio.run(_seed(say=lambda message: log.info("seed", message=message)))
    run_server(settings)


def run_server(settings: Settings, app_factory: str = "web.app:create_served_app") -> None:
    """uvicorn with our JSON logging in every process (tests pass a factory with probes)."""
    configure_logging(settings.log_level)
    structlog.get_logger("egomruk.serve").info(
        "serving", url=f"http://{settings.host}:{settings.port}", workers=settings.workers
    )
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,  # our middleware logs each request with its id
        proxy_headers=False,
        # Running requests (a slow upload) get this long after SIGTERM; then uvicorn cancels
        # them (an upload then logs "upload interrupted by shutdown", web/storage/receiving.py)
        # and ends the process after the app's shutdown, which waits for them to unwind.
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        log_config=logging_config(settings.log_level),
        log_level=settings.log_level.lower(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m web", description="e-Gömrük portal")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed", help="load demo data (development only)")
    sub.add_parser("serve", help="migrate, seed (development) and serve")
    sub.add_parser("worker", help="the outbox worker: e-mail notices, background jobs")
    check = sub.add_parser("storage-check", help="compare stored files with the database")
    check.add_argument(
        "--remove-orphans", action="store_true", help="delete files that no row points to"
    )
    tally = sub.add_parser("tally-check", help="compare the documents' day tallies with a count")
    tally.add_argument("--repair", action="store_true", help="rebuild them from the documents")
    backup = sub.add_parser("backup", help="copy the database and its files into a new directory")
    backup.add_argument("directory", type=Path)
    restore = sub.add_parser("restore", help="restore a backup into an empty place")
    restore.add_argument("directory", type=Path)
    demo = sub.add_parser("e-imza-demo", help="demo Elektron imza certificates (development)")
    demo.add_argument("--out", help="directory for the files (default DATA_DIR/e-imza-demo)")
    bench = sub.add_parser("seed-bench", help="documents at size for the benchmarks (development)")
    bench.add_argument("party", help="FIN or VÖEN of the party (made when missing)")
    bench.add_argument("count", type=int)
    bench.add_argument("--days", type=int, help="spread them over the last DAYS (default 3 years)")
    sub.add_parser("bundle-css", help="write static/css/app.css from the base and component sheets")
    from web.identity import staff_command  # its parser, and the command when asked

    staff_command.add_arguments(sub)
    args = parser.parse_args()
    if args.command == "migrate":
        asyncio.run(_migrate())
    elif args.command == "seed":
        asyncio.run(_seed())
    elif args.command == "worker":
        from web.worker import run_worker

        asyncio.run(run_worker(get_settings()))
    elif args.command == "backup":
        raise SystemExit(_backup(args.directory))
    elif args.command == "restore":
        raise SystemExit(_restore(args.directory))
    elif args.command == "e-imza-demo":
        raise SystemExit(_e_imza_demo(args.out))
    elif args.command == "staff":
        raise SystemExit(staff_command.run(args))
    elif args.command == "seed-bench":
        raise SystemExit(asyncio.run(_seed_bench(args.party, args.count, args.days)))
    elif args.command == "bundle-css":
        from web.platform.css_bundle import BUNDLE, write

        print(f"{BUNDLE} {'written' if write() else 'already up to date'}.")
    elif args.command == "tally-check":
        raise SystemExit(asyncio.run(_tally_check(args.repair)))
    elif args.command == "storage-check":
        raise SystemExit(asyncio.run(_storage_check(args.remove_orphans)))
    else:
        _serve()


if __name__ == "__main__":
    main()
