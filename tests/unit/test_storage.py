"""File storage: streaming limits, type by content, names, atomic commit, batches, checks."""

from __future__ import annotations

import hashlib
import os
import struct
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from web.storage.batch import UploadBatch, iter_chunks
from web.storage.check import StorageReport, check_storage, remove_orphans
from web.storage.local_disk import LocalDiskStorage
from web.storage.names import MAX_FILENAME_BYTES, sanitize_filename
from web.storage.protocol import (
    KEY_RE,
    InvalidKey,
    RejectCode,
    StagedFile,
    StorageBackend,
    UploadRejected,
)
from web.storage.quota import QuotaExceeded, check_quota

# ---------------------------------------------------------------- fixtures: real small files


def make_pdf() -> bytes:
    """A minimal, valid one-page PDF with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_png() -> bytes:
    """A valid 1×1 grey PNG (signature, IHDR, IDAT, IEND with CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    """SOI + JFIF APP0 header + EOI: the bytes a JPEG starts and ends with."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


PDF = make_pdf()
PNG = make_png()
JPEG = make_jpeg()
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


class Source:
    """An async chunk stream that records how many chunks were pulled from it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.pulled = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None
        self.pulled += 1
        return chunk


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def pdf_of_size(size: int) -> bytes:
    return (b"%PDF-1.7\n" + b"x" * size)[:size]


def endless(first: bytes, filler: bytes) -> Iterable[bytes]:
    yield first
    while True:
        yield filler


@pytest.fixture
def storage(tmp_path: Path) -> LocalDiskStorage:
    return LocalDiskStorage(tmp_path / "uploads", chunk_size=16)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def read_all(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


# ---------------------------------------------------------------- stage: types


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (PDF, "invoice.pdf", "application/pdf"),
        (PDF, "INVOICE.PDF", "application/pdf"),
        (PNG, "scan.png", "image/png"),
        (PNG, "scan.PnG", "image/png"),
        (JPEG, "photo.jpg", "image/jpeg"),
        (JPEG, "photo.JPEG", "image/jpeg"),
    ],
)
async def test_allowed_types_are_staged(storage, data, filename, content_type):
    staged = await storage.stage(Source(split(data, 7)), filename=filename, max_bytes=10_000)
    assert staged.content_type == content_type
    assert staged.size == len(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.original_name == filename
    assert KEY_RE.match(staged.key)
    assert staged.temp_path == storage.root / "tmp" / f"{staged.key}.part"
    assert staged.temp_path.read_bytes() == data
    assert staged.temp_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (HTML, "invoice.pdf", RejectCode.WRONG_TYPE),
        (EXE, "invoice.pdf", RejectCode.WRONG_TYPE),
        (b"just text", "notes.pdf", RejectCode.WRONG_TYPE),
        (PNG, "invoice.pdf", RejectCode.TYPE_MISMATCH),
        (PDF, "scan.png", RejectCode.TYPE_MISMATCH),
        (JPEG, "scan.png", RejectCode.TYPE_MISMATCH),
        (PDF, "invoice.exe", RejectCode.WRONG_TYPE),
        (PDF, "invoice.html", RejectCode.WRONG_TYPE),
        (PDF, "invoice", RejectCode.WRONG_TYPE),
        (PDF, "invoice.pdf.exe", RejectCode.WRONG_TYPE),
    ],
)
async def test_refused_types_leave_nothing(storage, data, filename, code):
    with pytest.raises(UploadRejected) as caught:
        await storage.stage(Source(split(data, 64)), filename=filename, max_bytes=10_000)
    assert caught.value.code == code
    assert caught.value.code == code.value  # plain string for the web layer
    assert caught.value.filename == filename
    assert files_under(storage.root) == []


@pytest.mark.parametrize("data", [HTML, EXE])
async def test_wrong_content_is_refused_after_the_first_chunk(storage, data):
    source = Source(endless(data[:64], b"A" * 64))  # would never end if read on
    with pytest.raises(UploadRejected) as caught:
        await storage.stage(source, filename="invoice.pdf", max_bytes=10**9)
    assert caught.value.code == RejectCode.WRONG_TYPE
    assert source.pulled == 1


async def test_signature_split_over_tiny_chunks_is_recognised(storage):
    staged = await storage.stage(Source(split(PNG, 1)), filename="a.png", max_bytes=10_000)
    assert staged.content_type == "image/png"
    assert staged.temp_path.read_bytes() == PNG


async def test_a_prefix_of_a_signature_alone_is_not_a_file(storage):
    with pytest.raises(UploadRejected) as caught:
        await storage.stage(Source([b"%PD"]), filename="a.pdf", max_bytes=100)
    assert caught.value.code == RejectCode.WRONG_TYPE


@pytest.mark.parametrize("chunks", [[], [b""], [b"", b""]])
async def test_empty_file_is_refused(storage, chunks):
    with pytest.raises(UploadRejected) as caught:
        await storage.stage(Source(chunks), filename="empty.pdf", max_bytes=100)
    assert caught.value.code == RejectCode.EMPTY_FILE
    assert caught.value.filename == "empty.pdf"
    assert files_under(storage.root) == []


async def test_network_chunks_are_written_in_mib_writes_hashed_as_written(storage, monkeypatch):
    """64 KiB chunks (what the server hands over) become 1 MiB writes: one thread hand-off
    per MiB, not per chunk; the hash, computed beside the writes, is of the whole file."""
    from web.storage import local_disk

    data = pdf_of_size(4 * local_disk.WRITE_BYTES + 100)
    writes: list[int] = []
    real_write = local_disk.os.write

    def counting_write(fd, buffer):
        writes.append(len(buffer))
        return real_write(fd, buffer)

    monkeypatch.setattr(local_disk.os, "write", counting_write)
    hinted: list[tuple[int, int]] = []
    real_fadvise = local_disk.os.posix_fadvise

    def recording_fadvise(fd, offset, length, advice):
        hinted.append((offset, length))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(local_disk.os, "posix_fadvise", recording_fadvise)
    real_fsync = local_disk.os.fsync

    def recording_fsync(fd):
        hinted.append("fsync")
        return real_fsync(fd)

    monkeypatch.setattr(local_disk.os, "fsync", recording_fsync)
    staged = await storage.stage(
        Source(split(data, 64 * 1024)), filename="a.pdf", max_bytes=len(data)
    )
    assert writes == [local_disk.WRITE_BYTES] * 4 + [100]
    # Writeback of each write is started as it is written (Linux), so fsync waits for less.
    mib = local_disk.WRITE_BYTES
    # Then, the file fsynced and its pages clean, they are dropped from the page cache.
    assert hinted == [(i * mib, mib) for i in range(4)] + [(4 * mib, 100), "fsync", (0, 0)]
    assert staged.temp_path.read_bytes() == data
    assert staged.sha256 == hashlib.sha256(data).hexdigest()


async def test_staging_memory_does_not_grow_with_the_files_size(tmp_path):
    """The write buffer is allocated once and reused: the peak for 50 MiB is the peak for
    5 MiB (a buffer grown afresh per MiB let the allocator hold two, creeping with size)."""
    import tracemalloc

    storage = LocalDiskStorage(tmp_path / "uploads")
    chunk = 64 * 1024

    async def stream(total: int):
        pattern = b"%PDF-1.7\n" + bytes(chunk - 9)
        for start in range(0, total, chunk):
            yield bytes(pattern[: min(chunk, total - start)])  # a fresh object, like a read

    async def peak(total: int) -> int:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        staged = await storage.stage(stream(total), filename="a.pdf", max_bytes=total)
        await storage.discard(staged)
        return tracemalloc.get_traced_memory()[1] - baseline

    await peak(1024 * 1024)  # warm: thread pool, imports
    tracemalloc.start()
    try:
        small, large = await peak(5 * 1024 * 1024), await peak(50 * 1024 * 1024)
    finally:
        tracemalloc.stop()
    assert large - small < 128 * 1024, (small, large)
    assert large < 2 * 1024 * 1024  # one buffer and a chunk, not the file


# ---------------------------------------------------------------- stage: size limits


async def test_exactly_the_limit_passes(storage):
    data = pdf_of_size(300)
    staged = await storage.stage(Source(split(data, 10)), filename="a.pdf", max_bytes=300)
    assert staged.size == 300
    assert staged.temp_path.read_bytes() == data


async def test_one_byte_over_fails_without_reading_on(storage):
    data = pdf_of_size(301)
    chunks = [*split(data, 10), *([b"x" * 10] * 1000)]  # 1000 more chunks behind the limit
    source = Source(chunks)
    with pytest.raises(UploadRejected) as caught:
        await storage.stage(source, filename="big.pdf", max_bytes=300)
    assert caught.value.code == RejectCode.TOO_LARGE
    assert caught.value.filename == "big.pdf"
    assert caught.value.params["limit_bytes"] == 300
    # 30 chunks hold exactly 300 bytes; the 31st brings byte 301, and nothing after it is read.
    assert source.pulled == 31
    assert files_under(storage.root) == []


async def test_endless_stream_stops_at_the_limit(storage):
    source = Source(endless(b"%PDF-1.7\n", b"y" * 1000))
    with pytest.raises(UploadRejected):
        await storage.stage(source, filename="a.pdf", max_bytes=5_000)
    assert source.pulled == 6


async def test_error_from_the_stream_removes_the_temp_file(storage):
    async def broken() -> AsyncIterator[bytes]:
        yield PDF[:32]
        yield PDF[32:64]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.stage(broken(), filename="a.pdf", max_bytes=10_000)
    assert files_under(storage.root) == []


# ---------------------------------------------------------------- filenames


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("C:\\Users\\leyla\\Desktop\\invoice.pdf", "invoice.pdf"),
        ("/abs/path/scan.png", "scan.png"),
        ("..", "document"),
        ("../", "document"),
        ("", "document"),
        (None, "document"),
        (".pdf", "document.pdf"),
        ("..pdf", "document.pdf"),
        ("a\x00b\x07c\x1b.pdf", "abc.pdf"),
        ("line\nbreak\ttab.pdf", "line break tab.pdf"),
        ("  spaced   out  .pdf  ", "spaced out.pdf"),
        ("invoice.pdf. . ", "invoice.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # bidi override spoofing removed
        ("Gömrük bəyannaməsi.pdf", "Gömrük bəyannaməsi.pdf"),
        ("e\u0301.pdf", "é.pdf"),  # NFC
        ("<b onclick='alert(1)'>bold.pdf", "<b onclick='alert(1)'>bold.pdf"),
        ('"><svg onload=alert(1)>.pdf', '"><svg onload=alert(1)>.pdf'),
        ("<script>x</script>.pdf", "script>.pdf"),  # `/` is a path separator, even in markup
        ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
        ("&amp;<b>.jpg", "&amp;<b>.jpg"),
    ],
)
def test_sanitize_filename(raw, clean):
    assert sanitize_filename(raw) == clean


def test_long_name_is_shortened_keeping_the_extension():
    name = sanitize_filename("a" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) == MAX_FILENAME_BYTES
    assert name == "a" * 251 + ".pdf"


def test_long_multibyte_name_is_cut_on_a_character_boundary():
    name = sanitize_filename("ə" * 300 + ".pdf")  # 2 bytes each
    assert name.endswith(".pdf")
    assert len(name.encode()) <= MAX_FILENAME_BYTES
    assert set(name.removesuffix(".pdf")) == {"ə"}
    assert len(name) == 125 + 4


@pytest.mark.parametrize(
    "raw", ["../../etc/passwd.pdf", "..\\..\\x.pdf", "<b>bold</b>.pdf", "x" * 300 + ".pdf"]
)
async def test_stage_keeps_only_the_sanitized_name(storage, raw):
    staged = await storage.stage(Source([PDF]), filename=raw, max_bytes=10_000)
    assert staged.original_name == sanitize_filename(raw)
    assert "/" not in staged.original_name and "\\" not in staged.original_name
    assert staged.original_name.endswith(".pdf")
    # The stored name is the server's, never the user's.
    stored = await storage.commit(staged)
    assert files_under(storage.root) == [storage.path_for(stored.key)]


# ---------------------------------------------------------------- commit, discard, read


async def test_commit_moves_into_a_sharded_place(storage):
    staged = await storage.stage(Source(split(PDF, 100)), filename="a.pdf", max_bytes=10_000)
    stored = await storage.commit(staged)
    final = storage.root / staged.key[:2] / staged.key[2:4] / staged.key
    assert not staged.temp_path.exists()
    assert final.read_bytes() == PDF
    assert stored.key == staged.key
    assert (stored.size, stored.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert (stored.content_type, stored.original_name) == ("application/pdf", "a.pdf")
    assert await storage.exists(stored.key)
    assert await read_all(await storage.open(stored.key)) == PDF
    chunks = [chunk async for chunk in await storage.open(stored.key)]
    assert chunks[0] == PDF[:16]
    assert {len(chunk) for chunk in chunks[:-1]} == {16}  # chunk_size of the fixture
    # Committing again is harmless; discarding after the commit keeps the file.
    assert await storage.commit(staged) == stored
    await storage.discard(staged)
    assert final.read_bytes() == PDF


async def test_commit_is_a_rename_of_the_same_file(storage):
    staged = await storage.stage(Source([PNG]), filename="a.png", max_bytes=10_000)
    inode = staged.temp_path.stat().st_ino
    await storage.commit(staged)
    assert storage.path_for(staged.key).stat().st_ino == inode  # moved, not copied


async def test_nothing_is_visible_before_commit(storage):
    staged = await storage.stage(Source([PDF]), filename="a.pdf", max_bytes=10_000)
    assert not await storage.exists(staged.key)
    assert [key async for key in storage.list_keys()] == []
    with pytest.raises(FileNotFoundError):
        await storage.open(staged.key)


async def test_discard_removes_the_temp_file_and_is_idempotent(storage):
    staged = await storage.stage(Source([PDF]), filename="a.pdf", max_bytes=10_000)
    assert staged.temp_path.exists()
    await storage.discard(staged)
    assert not staged.temp_path.exists()
    await storage.discard(staged)
    assert files_under(storage.root) == []
    with pytest.raises(FileNotFoundError):
        await storage.commit(staged)


async def test_forged_temp_path_is_refused(storage, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    staged = await storage.stage(Source([PDF]), filename="a.pdf", max_bytes=10_000)
    forged = StagedFile(**{**staged.__dict__, "temp_path": victim})
    with pytest.raises(InvalidKey):
        await storage.discard(forged)
    with pytest.raises(InvalidKey):
        await storage.commit(forged)
    assert victim.read_text() == "keep me"


async def test_delete(storage):
    staged = await storage.stage(Source([JPEG]), filename="a.jpg", max_bytes=10_000)
    await storage.commit(staged)
    await storage.delete(staged.key)
    assert not await storage.exists(staged.key)
    await storage.delete(staged.key)  # already gone: fine


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "..",
        "",
        "ab/cd",
        "/etc/passwd",
        "0" * 31,
        "0" * 33,
        "A" * 32,
        "0" * 31 + "/",
        "0" * 32 + "\n",
        "tmp/" + "0" * 32 + ".part",
    ],
)
async def test_keys_are_validated_before_any_path(storage, key):
    for call in (storage.open, storage.delete, storage.exists, storage.modified_at):
        with pytest.raises(InvalidKey):
            await call(key)
    with pytest.raises(InvalidKey):
        storage.path_for(key)


async def test_list_keys(storage):
    keys = set()
    for data, name in ((PDF, "a.pdf"), (PNG, "b.png"), (JPEG, "c.jpg")):
        keys.add(
            (
                await storage.commit(
                    await storage.stage(Source([data]), filename=name, max_bytes=10_000)
                )
            ).key
        )
    await storage.stage(Source([PDF]), filename="staged-only.pdf", max_bytes=10_000)
    (storage.root / "ab").mkdir(exist_ok=True)
    (storage.root / "ab" / "README").write_text("not a key")
    assert {key async for key in storage.list_keys()} == keys


def test_root_inside_static_is_refused():
    from web.platform.static_assets import STATIC_DIR

    with pytest.raises(ValueError, match="static"):
        LocalDiskStorage(STATIC_DIR / "uploads")


def test_local_disk_storage_is_a_storage_backend(storage):
    assert isinstance(storage, StorageBackend)


async def test_iter_chunks_reads_an_upload_file_in_pieces(storage):
    class FakeUpload:
        def __init__(self, data: bytes) -> None:
            self.data = data
            self.reads = []

        async def read(self, size: int = -1) -> bytes:
            self.reads.append(size)
            chunk, self.data = self.data[:size], self.data[size:]
            return chunk

    upload = FakeUpload(PDF)
    staged = await storage.stage(iter_chunks(upload, 100), filename="a.pdf", max_bytes=10_000)
    assert staged.temp_path.read_bytes() == PDF
    assert set(upload.reads) == {100}


# ---------------------------------------------------------------- batches


async def test_batch_exit_without_commit_leaves_nothing(storage):
    async with UploadBatch(storage) as batch:
        await batch.add(Source([PDF]), filename="a.pdf")
        await batch.add(Source([PNG]), filename="b.png")
        assert len(files_under(storage.root)) == 2
    assert files_under(storage.root) == []


async def test_batch_error_discards_everything(storage):
    class DatabaseError(Exception):
        pass

    with pytest.raises(DatabaseError):
        async with UploadBatch(storage) as batch:
            await batch.add(Source([PDF]), filename="a.pdf")
            await batch.add(Source([JPEG]), filename="b.jpg")
            raise DatabaseError("insert failed")
    assert files_under(storage.root) == []


async def test_batch_rejected_file_discards_the_others(storage):
    with pytest.raises(UploadRejected) as caught:
        async with UploadBatch(storage) as batch:
            await batch.add(Source([PDF]), filename="a.pdf")
            await batch.add(Source([HTML]), filename="evil.pdf")
    assert (caught.value.code, caught.value.filename) == ("wrong_type", "evil.pdf")
    assert files_under(storage.root) == []


async def test_batch_commit_all(storage):
    async with UploadBatch(storage) as batch:
        first = await batch.add(Source([PDF]), filename="a.pdf")
        second = await batch.add(Source([PNG]), filename="b.png")
        assert batch.total_bytes == len(PDF) + len(PNG)
        stored = await batch.commit_all()
    assert [f.key for f in stored] == [first.key, second.key]
    assert files_under(storage.root) == sorted(
        [storage.path_for(first.key), storage.path_for(second.key)]
    )
    assert await batch.commit_all() == stored
    with pytest.raises(RuntimeError):
        await batch.add(Source([PDF]), filename="c.pdf")


async def test_batch_commit_is_all_or_nothing(storage):
    """Files are moved into place before their rows commit: when one move fails, the ones
    already moved are removed again and the error reaches the caller's transaction."""
    async with UploadBatch(storage) as batch:
        first = await batch.add(Source([PDF]), filename="a.pdf")
        second = await batch.add(Source([PNG]), filename="b.png")
        second.temp_path.unlink()  # the move of this one will fail
        with pytest.raises(FileNotFoundError):
            await batch.commit_all()
        assert not batch.committed
    assert files_under(storage.root) == []
    report = await check_storage(storage, set())
    assert report.ok, report
    assert not await storage.exists(first.key)


async def test_batch_too_many_files(storage):
    async with UploadBatch(storage, max_files=2) as batch:
        await batch.add(Source([PDF]), filename="a.pdf")
        await batch.add(Source([PDF]), filename="b.pdf")
        source = Source([PDF])
        with pytest.raises(UploadRejected) as caught:
            await batch.add(source, filename="c.pdf")
        assert (caught.value.code, caught.value.filename) == ("too_many_files", "c.pdf")
        assert source.pulled == 0
        assert len(batch.staged) == 2


async def test_batch_per_file_limit(storage):
    async with UploadBatch(storage, max_file_bytes=100, max_total_bytes=1000) as batch:
        await batch.add(Source([pdf_of_size(100)]), filename="ok.pdf")
        with pytest.raises(UploadRejected) as caught:
            await batch.add(Source(split(pdf_of_size(101), 10)), filename="big.pdf")
        assert (caught.value.code, caught.value.filename) == ("too_large", "big.pdf")
        assert batch.total_bytes == 100  # the batch is still usable


async def test_batch_total_limit_is_enforced_while_streaming(storage):
    async with UploadBatch(storage, max_file_bytes=100, max_total_bytes=250) as batch:
        await batch.add(Source([pdf_of_size(100)]), filename="a.pdf")
        await batch.add(Source([pdf_of_size(100)]), filename="b.pdf")
        source = Source(split(pdf_of_size(100), 10))
        with pytest.raises(UploadRejected) as caught:
            await batch.add(source, filename="c.pdf")
        assert (caught.value.code, caught.value.filename) == ("batch_too_large", "c.pdf")
        assert source.pulled == 6  # 50 bytes left in the batch: stopped at byte 51
        await batch.add(Source([pdf_of_size(50)]), filename="d.pdf")  # exactly fills it
        assert batch.total_bytes == 250
        with pytest.raises(UploadRejected) as caught:
            await batch.add(Source([b"%PDF-"]), filename="e.pdf")
        assert caught.value.code == "batch_too_large"


def test_batch_defaults():
    batch = UploadBatch(object())  # type: ignore[arg-type]
    assert (batch.max_files, batch.max_file_bytes, batch.max_total_bytes) == (
        10,
        10_000_000,
        50_000_000,
    )


# ---------------------------------------------------------------- quota


def test_check_quota():
    check_quota(used_bytes=900, incoming_bytes=100, quota_bytes=1000)  # exactly full: fine
    with pytest.raises(QuotaExceeded) as caught:
        check_quota(used_bytes=900, incoming_bytes=101, quota_bytes=1000)
    assert caught.value.code == "quota_exceeded"
    assert isinstance(caught.value, UploadRejected)
    assert caught.value.params == {"used_bytes": 900, "incoming_bytes": 101, "quota_bytes": 1000}
    with pytest.raises(ValueError):
        check_quota(-1, 0, 10)


# ---------------------------------------------------------------- consistency check


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


async def test_check_storage_finds_orphans_missing_and_interrupted_uploads(storage):
    kept = await storage.commit(
        await storage.stage(Source([PDF]), filename="a.pdf", max_bytes=10_000)
    )
    orphan = await storage.commit(
        await storage.stage(Source([PNG]), filename="b.png", max_bytes=10_000)
    )
    fresh_orphan = await storage.commit(
        await storage.stage(Source([PNG]), filename="c.png", max_bytes=10_000)
    )
    interrupted = await storage.stage(Source([PDF]), filename="d.pdf", max_bytes=10_000)
    storage._release(interrupted.key)  # as if its process had died: nobody holds it
    receiving = await storage.stage(Source([PDF]), filename="e.pdf", max_bytes=10_000)
    (storage.root / "tmp" / "unrelated.txt").write_text("not ours")
    age(storage.path_for(kept.key), 7200)
    age(storage.path_for(orphan.key), 7200)
    age(interrupted.temp_path, 5)  # seconds old is enough: no live upload holds it
    age(receiving.temp_path, 7200)  # however old, an upload holding it is in progress
    missing_key = "f" * 32

    report = await check_storage(storage, {kept.key, missing_key})
    assert report.orphans == [orphan.key]
    assert report.missing == [missing_key]
    assert report.interrupted == [f"{interrupted.key}.part"]
    assert report.interrupted_bytes == len(PDF)
    assert report.in_progress == 1
    assert not report.ok
    # Too young to judge: its row may be committing right now.
    assert fresh_orphan.key not in report.orphans

    removed = await remove_orphans(storage, report)
    assert removed == [orphan.key, f"tmp/{interrupted.key}.part"]
    assert not await storage.exists(orphan.key)
    assert not interrupted.temp_path.exists()
    assert await storage.exists(kept.key)
    assert await storage.exists(fresh_orphan.key)
    assert receiving.temp_path.exists()
    assert (storage.root / "tmp" / "unrelated.txt").exists()

    await storage.discard(receiving)
    after = await check_storage(storage, {kept.key, fresh_orphan.key})
    assert after == StorageReport()
    assert after.ok


async def test_a_file_a_row_names_is_never_removed_and_a_temp_one_is_recovered(storage):
    """The former commit order could leave a row whose file was still in the temp folder;
    storage-check deleted that only copy as a stale temp file."""
    named = await storage.stage(Source([PDF]), filename="a.pdf", max_bytes=10_000)
    storage._release(named.key)
    age(named.temp_path, 7200)
    stored = await storage.commit(
        await storage.stage(Source([PNG]), filename="b.png", max_bytes=10_000)
    )
    age(storage.path_for(stored.key), 7200)

    report = await check_storage(storage, {named.key})
    assert report.recoverable == [named.key]
    assert report.missing == [] and report.interrupted == []
    # A row committed after the report was made still protects its file.
    assert await remove_orphans(storage, report, still_known={named.key, stored.key}) == []
    assert named.temp_path.exists() and await storage.exists(stored.key)

    await storage.recover_temp(f"{named.key}.part")
    assert storage.path_for(named.key).read_bytes() == PDF
    assert (await check_storage(storage, {named.key, stored.key})).ok


async def test_check_storage_min_age_zero_reports_everything_unknown(storage):
    stored = await storage.commit(
        await storage.stage(Source([PDF]), filename="a.pdf", max_bytes=10_000)
    )
    report = await check_storage(storage, set(), min_age=0, now=time.time() + 1)
    assert report.orphans == [stored.key]


async def test_remove_orphans_refuses_bad_entries(storage):
    with pytest.raises(InvalidKey):
        await remove_orphans(storage, StorageReport(orphans=["../../etc/passwd"]))
    with pytest.raises(InvalidKey):
        await remove_orphans(storage, StorageReport(interrupted=["../../secret.part"]))


async def test_a_stage_on_the_way_to_object_storage_keeps_its_pages_cached(tmp_path, monkeypatch):
    """Object storage reads its staged file back at once to upload it: no drop there."""
    from web.storage import local_disk

    hinted: list = []
    real_fadvise = local_disk.os.posix_fadvise

    def recording_fadvise(fd, offset, length, advice):
        hinted.append((offset, length))
        return real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(local_disk.os, "posix_fadvise", recording_fadvise)
    staging = LocalDiskStorage(tmp_path / "staging", keep_staged_cached=True)
    data = pdf_of_size(100)
    await staging.stage(Source(split(data, 64)), filename="a.pdf", max_bytes=len(data))
    assert hinted == [(0, 100)]  # the write's own hint only, no (0, 0) after the fsync
