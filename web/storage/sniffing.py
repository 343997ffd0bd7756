"""Type by content: the name's extension must be on the allow-list *and* the first bytes
must carry the matching signature, at offset 0.

Decision: a small explicit table (`SIGNATURES`) rather than puremagic. For three types it is
clearer, reviewable at a glance, and stricter: puremagic knows hundreds of formats and ranks
candidate matches by confidence (`%PDF` also maps to `.fdf`; `\\r\\n%PDF` counts as a PDF),
and raises when it knows nothing; we want "starts with exactly these bytes" and nothing
else. The type is decided from the first bytes (at most `SNIFF_BYTES`), before anything is
written, so an HTML page or an `MZ` executable named `.pdf` is refused after its first chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from web.storage.protocol import RejectCode, UploadRejected


@dataclass(frozen=True)
class FileType:
    content_type: str
    signature: bytes
    extensions: frozenset[str]


PDF = FileType("application/pdf", b"%PDF-", frozenset({".pdf"}))
JPEG = FileType("image/jpeg", b"\xff\xd8\xff", frozenset({".jpg", ".jpeg"}))
PNG = FileType("image/png", b"\x89PNG\r\n\x1a\n", frozenset({".png"}))

# The allow-list. A signature must match at offset 0.
SIGNATURES: tuple[FileType, ...] = (PDF, JPEG, PNG)
SNIFF_BYTES = max(len(t.signature) for t in SIGNATURES)
_BY_EXTENSION = {ext: t for t in SIGNATURES for ext in t.extensions}
ALLOWED_EXTENSIONS = frozenset(_BY_EXTENSION)


def type_for_extension(filename: str) -> FileType | None:
    """The allowed type the name's extension claims (case-insensitive), or None."""
    return _BY_EXTENSION.get(Path(filename).suffix.lower())


def undecided(head: bytes) -> bool:
    """True while `head` is a strict prefix of some signature: more bytes could still match."""
    return any(len(head) < len(t.signature) and t.signature.startswith(head) for t in SIGNATURES)


def sniff(head: bytes) -> FileType | None:
    """The allowed type whose signature `head` starts with, or None."""
    for file_type in SIGNATURES:
        if head.startswith(file_type.signature):
            return file_type
    return None


def claimed_type(name: str) -> FileType:
    """The type a (sanitized) name claims; `wrong_type` when its extension is not allowed."""
    claimed = type_for_extension(name)
    if claimed is None:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise UploadRejected(
            RejectCode.WRONG_TYPE, name, f"{name!r}: extension not one of {allowed}"
        )
    return claimed


def check_type(head: bytes, claimed: FileType, name: str) -> FileType:
    """The type the first bytes show, which must be the one the name claims."""
    detected = sniff(head)
    if detected is None:
        raise UploadRejected(
            RejectCode.WRONG_TYPE, name, f"{name!r} is not a PDF, JPEG or PNG file"
        )
    if detected is not claimed:
        raise UploadRejected(
            RejectCode.TYPE_MISMATCH,
            name,
            f"{name!r} contains {detected.content_type}, not {claimed.content_type}",
            detected=detected.content_type,
            claimed=claimed.content_type,
        )
    return detected
