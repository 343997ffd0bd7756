"""Backup and restore: `python -m web backup DIR` and `python -m web restore DIR`.

A backup is consistent because of the order and the commit protocol: the database is
dumped first (SQLite's online backup API; `pg_dump` on a snapshot exported from a
REPEATABLE READ transaction, in which the same storage keys are read), then exactly the
files that dump names are copied. Files are made durable before the rows naming them
commit (`web/storage/batch.py`) and are never deleted while a row names them, so every one
of them is there to copy, however many uploads run meanwhile. Uploads that commit after
the dump are simply not in this backup (their files are not copied either).

Layout of DIR::

    manifest.json            written last: a backup without it is incomplete
    database.sqlite3 | database.pgdump
    files/ab/cd/<key>        the stored files the dump names
    data/secret_key          DATA_DIR's generated secret key, when there is one
    data/asan-demo-ca/…      the Asan İmza demo CA, when there is one (from ASAN_DEMO_CA_DIR
                             when that is set, wherever it is; restored there too)
    data/e-imza-demo-ca/…    the Elektron imza demo CA, when there is one

The manifest lists every file with its size and SHA-256. `restore` checks all of them
before it writes anything, refuses a place that is not empty (a database with tables, a
storage with files), then restores files first and the database last, so an interrupted
restore never has rows without their files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from web.settings import Settings
from web.storage.check import KEY_COLUMNS
from web.storage.local_disk import LocalDiskStorage, fsync_dir, make_dirs_durable
from web.storage.protocol import validate_key

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "database.sqlite3"
POSTGRES_DUMP = "database.pgdump"
# Under DATA_DIR, copied when present: the development secret key and the demo CAs (their
# certificates are in phones' simulators and in browsers: a new CA would not match them).
DATA_EXTRAS = ("secret_key", "asan-demo-ca", "e-imza-demo-ca")
ASAN_CA = "asan-demo-ca"  # may live outside DATA_DIR (ASAN_DEMO_CA_DIR, shared by instances)
COPY_CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """A backup or restore that cannot be done safely (the message says why)."""


@dataclass
class Manifest:
    database_kind: str
    database_file: str
    entries: dict[str, dict[str, int | str]] = field(default_factory=dict)  # path -> size, sha
    keys: list[str] = field(default_factory=list)
    created_at: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT_VERSION,
                "created_at": self.created_at,
                "database": {"kind": self.database_kind, "file": self.database_file},
                "keys": self.keys,
                "entries": self.entries,
            },
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.is_file():
            raise BackupError(f"{directory} holds no {MANIFEST}: not a complete backup")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            raise BackupError(f"unknown backup format {data.get('format')!r}")
        return cls(
            database_kind=data["database"]["kind"],
            database_file=data["database"]["file"],
            entries=data["entries"],
            keys=data["keys"],
            created_at=data["created_at"],
        )


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    database_kind: str
    files: int
    bytes: int
    # The Asan İmza demo CA copied from ASAN_DEMO_CA_DIR outside DATA_DIR (None: not so).
    asan_demo_ca_from: Path | None = None


# --------------------------------------------------------------------------- copying


def _copy_durably(source: Path, target: Path) -> tuple[int, str]:
    """Copy `source` to `target` (through a temp name, fsynced); return (size, sha256)."""
    digest = hashlib.sha256()
    size = 0
    temp = target.with_name(target.name + ".copying")
    with source.open("rb") as reader, temp.open("wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    os.chmod(temp, 0o600)
    os.replace(temp, target)
    return size, digest.hexdigest()


def _sha256_of(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _file_path(key: str) -> str:
    validate_key(key)
    return f"files/{key[:2]}/{key[2:4]}/{key}"


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite://"))


def _key_queries() -> list[str]:
    return [
        f'SELECT "{column}" FROM "{model._meta.db_table}"'  # noqa: S608 - names from our models
        for model, column in KEY_COLUMNS
    ]


def _postgres_url(settings: Settings) -> str:
    return "postgresql://" + settings.database_url.split("://", 1)[1]


def pg_tool_connection(settings: Settings) -> tuple[str, dict[str, str]]:
    """(`--dbname` without the password, the child's environment with PGPASSWORD): a
    password on the command line is readable by every local user in the process list."""
    parts = urlsplit(_postgres_url(settings))
    env = dict(os.environ)
    if parts.password is None:
        return parts.geturl(), env
    env["PGPASSWORD"] = unquote(parts.password)
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}")), env


# --------------------------------------------------------------------------- backup


def _dump_sqlite(settings: Settings, target: Path) -> list[str]:
    source_path = _sqlite_path(settings)
    if not source_path.is_file():
        raise BackupError(f"no database at {source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dump = sqlite3.connect(target)
    try:
        source.backup(dump)  # one consistent snapshot, while the portal keeps writing
        keys = [row[0] for query in _key_queries() for row in dump.execute(query)]
    finally:
        dump.close()
        source.close()
    os.chmod(target, 0o600)
    return keys


async def _dump_postgres(settings: Settings, target: Path) -> list[str]:
    import asyncpg

    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (Debian: postgresql-client)")
    connection = await asyncpg.connect(_postgres_url(settings))
    try:
        transaction = connection.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
        keys = [row[0] for query in _key_queries() for row in await connection.fetch(query)]
        dbname, env = pg_tool_connection(settings)
        process = await asyncio.create_subprocess_exec(
            "pg_dump",
            f"--snapshot={snapshot}",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
            f"--dbname={dbname}",
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        _, error = await process.communicate()
        await transaction.rollback()
    finally:
        await connection.close()
    if process.returncode != 0:
        raise BackupError(f"pg_dump failed: {error.decode(errors='replace').strip()}")
    return keys


def _copy_files_and_extras(
    settings: Settings, directory: Path, keys: list[str], manifest: Manifest
) -> None:
    storage_root = settings.upload_dir
    missing = []
    for key in sorted(set(keys)):
        relative = _file_path(key)
        source = storage_root / relative.removeprefix("files/")
        target = directory / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            size, sha = _copy_durably(source, target)
        except FileNotFoundError:
            missing.append(key)
            continue
        manifest.entries[relative] = {"size": size, "sha256": sha}
    if missing:
        raise BackupError(
            f"{len(missing)} file(s) the database names are missing from storage "
            f"(run `python -m web storage-check`): {', '.join(missing[:5])}"
        )
    for name in DATA_EXTRAS:
        source = _extra_place(name, settings.data_dir, settings.asan_demo_ca_dir)
        sources = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else []
        if source.is_file():
            sources = [source]
        for path in sources:
            relative = f"data/{name}/{path.relative_to(source).as_posix()}".removesuffix("/.")
            target = directory / relative
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            size, sha = _copy_durably(path, target)
            manifest.entries[relative] = {"size": size, "sha256": sha}


def _extra_place(name: str, data_dir: Path, asan_demo_ca_dir: Path | None) -> Path:
    """Where DATA_EXTRAS' `name` lives: under DATA_DIR, but the Asan İmza demo CA wherever
    ASAN_DEMO_CA_DIR says (the instances' signatures and the phones' simulators trust it)."""
    if name == ASAN_CA and asan_demo_ca_dir is not None:
        return asan_demo_ca_dir
    return data_dir / name


def _outside(path: Path, data_dir: Path) -> bool:
    return not path.resolve().is_relative_to(data_dir.resolve())


async def backup(settings: Settings, directory: Path) -> BackupResult:
    """Database first, then the files it names, the secret key and the demo CA, then the
    manifest (see the module docstring)."""
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new directory")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    if settings.uses_sqlite:
        database_file = SQLITE_DUMP
        keys = await asyncio.to_thread(_dump_sqlite, settings, directory / database_file)
    else:
        database_file = POSTGRES_DUMP
        keys = await _dump_postgres(settings, directory / database_file)
    kind = "sqlite" if settings.uses_sqlite else "postgres"
    manifest = Manifest(kind, database_file, keys=sorted(set(keys)), created_at=created_at)
    size, sha = await asyncio.to_thread(_sha256_of, directory / database_file)
    manifest.entries[database_file] = {"size": size, "sha256": sha}
    await asyncio.to_thread(_copy_files_and_extras, settings, directory, keys, manifest)
    temp = directory / (MANIFEST + ".tmp")
    temp.write_text(manifest.to_json(), encoding="utf-8")
    os.chmod(temp, 0o600)
    with temp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, directory / MANIFEST)
    fsync_dir(directory)
    total = sum(int(e["size"]) for p, e in manifest.entries.items() if p.startswith("files/"))
    ca = settings.asan_demo_ca_dir
    ca_outside = ca.is_dir() and _outside(ca, settings.data_dir)
    return BackupResult(directory, kind, len(manifest.keys), total, ca if ca_outside else None)


# --------------------------------------------------------------------------- restore


def _verify(directory: Path, manifest: Manifest, *, check_keys: bool = True) -> None:
    for relative, entry in manifest.entries.items():
        path = directory / relative
        if not path.is_file():
            raise BackupError(f"the backup lacks {relative}")
        if _sha256_of(path) != (entry["size"], entry["sha256"]):
            raise BackupError(f"{relative} does not match its checksum: the backup is damaged")
    if check_keys and sorted(_file_path(k) for k in manifest.keys) != sorted(
        p for p in manifest.entries if p.startswith("files/")
    ):
        raise BackupError("the manifest's keys and files do not agree")


async def _database_is_empty(settings: Settings) -> bool:
    if settings.uses_sqlite:
        path = _sqlite_path(settings)
        if not path.exists() or path.stat().st_size == 0:
            return True
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    import asyncpg

    connection = await asyncpg.connect(_postgres_url(settings))
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    return tables == 0


def _restore_files(directory: Path, manifest: Manifest, storage: LocalDiskStorage) -> None:
    for key in manifest.keys:
        final = storage.path_for(key)
        temp = storage.temp_dir / f"{key}.restoring"
        _copy_durably(directory / _file_path(key), temp)
        make_dirs_durable(final.parent, storage.root)
        os.replace(temp, final)
        fsync_dir(final.parent)


def restore_data_extras(
    directory: Path, data_dir: Path, asan_demo_ca_dir: Path | None = None
) -> None:
    """Put the backup's secret key and demo CAs into DATA_DIR (the Asan İmza one into
    `asan_demo_ca_dir`, ASAN_DEMO_CA_DIR, when set). Run before the settings are loaded: in
    development, loading them generates a secret key when there is none."""
    directory = directory.resolve()
    manifest = Manifest.read(directory)
    extras = {p: e for p, e in manifest.entries.items() if p.startswith("data/")}
    _verify(directory, replace(manifest, entries=extras), check_keys=False)
    _restore_extras(directory, manifest, data_dir, asan_demo_ca_dir)


def _restore_extras(
    directory: Path, manifest: Manifest, data_dir: Path, asan_demo_ca_dir: Path | None
) -> None:
    for relative in manifest.entries:
        if not relative.startswith("data/"):
            continue
        name, _, inside = relative.removeprefix("data/").partition("/")
        place = _extra_place(name, data_dir, asan_demo_ca_dir)
        target = place / inside if inside else place
        source = directory / relative
        if target.exists():
            if _sha256_of(target) != _sha256_of(source):
                raise BackupError(f"{target} exists and differs from the backup's: not replaced")
            continue
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _copy_durably(source, target)


async def _restore_database(settings: Settings, directory: Path, manifest: Manifest) -> None:
    dump = directory / manifest.database_file
    if settings.uses_sqlite:
        target = _sqlite_path(settings)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)  # empty (checked): an empty file or none at all
        await asyncio.to_thread(_copy_durably, dump, target)
        fsync_dir(target.parent)
        return
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed (Debian: postgresql-client)")
    dbname, env = pg_tool_connection(settings)
    process = await asyncio.create_subprocess_exec(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={dbname}",
        str(dump),
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, error = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_restore failed: {error.decode(errors='replace').strip()}")


async def restore(settings: Settings, directory: Path) -> BackupResult:
    """Restore a backup into an empty place: check, files, secret key and CA, database."""
    directory = directory.resolve()
    manifest = Manifest.read(directory)
    kind = "sqlite" if settings.uses_sqlite else "postgres"
    if manifest.database_kind != kind:
        raise BackupError(
            f"the backup holds a {manifest.database_kind} database; DATABASE_URL is {kind}"
        )
    await asyncio.to_thread(_verify, directory, manifest)
    if not await _database_is_empty(settings):
        raise BackupError("the database is not empty: restore into an empty database")
    storage = LocalDiskStorage(settings.upload_dir)
    async for _key in storage.list_keys():
        raise BackupError(f"{settings.upload_dir} already holds files: restore into an empty place")
    await asyncio.to_thread(_restore_files, directory, manifest, storage)
    await asyncio.to_thread(
        _restore_extras, directory, manifest, settings.data_dir, settings.asan_demo_ca_dir
    )
    await _restore_database(settings, directory, manifest)
    total = sum(int(e["size"]) for p, e in manifest.entries.items() if p.startswith("files/"))
    return BackupResult(directory, kind, len(manifest.keys), total)
