"""Versioned static URLs (content hash in the query) and Subresource Integrity values."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
STATIC_PREFIX = "/static"
# Files are addressed by content hash, so browsers may keep them for a year.
STATIC_CACHE_SECONDS = 365 * 24 * 3600


def _file(path: str) -> Path:
    resolved = (STATIC_DIR / path).resolve()
    if not resolved.is_relative_to(STATIC_DIR):
        raise ValueError(f"{path!r} is outside static/")
    return resolved


@cache
def static_url(path: str) -> str:
    digest = hashlib.sha256(_file(path).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{path}?v={digest}"


@cache
def sri(path: str) -> str:
    digest = hashlib.sha384(_file(path).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")
