"""Small guards shared by several routes."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next_path(candidate: str | None, default: str = "/") -> str:
    """Accept only a same-origin absolute path (no scheme, host, or `//` trick)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return default
    if "\\" in candidate or any(ord(ch) < 32 for ch in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
