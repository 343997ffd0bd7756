"""Imported before `python -m web serve` (`server_place(preload=...)`): an upload's temp
file is removed half a second late, as when the thread that removes it waits for a busy CPU.

A cancelled upload removes its temp file in a thread before it logs and answers 503; when
that took longer than the rest of the shutdown, the process ended first (the flake of
tests/integration/test_shutdown.py). This makes that timing certain instead of rare."""

from __future__ import annotations

import time
from pathlib import Path

from web.storage.local_disk import LocalDiskStorage

DELAY_SECONDS = 0.5
_remove_staged = LocalDiskStorage._remove_staged


def _slow_remove_staged(self: LocalDiskStorage, key: str, temp_path: Path) -> None:
    time.sleep(DELAY_SECONDS)  # in the thread `asyncio.to_thread` runs it in
    _remove_staged(self, key, temp_path)


LocalDiskStorage._remove_staged = _slow_remove_staged
